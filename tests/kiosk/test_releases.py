"""A release offered on the hub (`tdp hub release`) reaches a kiosk on its next sync over a real socket,
waits for the night, and is handed to `tdp upgrade`; the console counts kiosks per version."""
from __future__ import annotations

import hashlib
import re
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from hub import admin, db as hub_db, releases as hub_releases
from hub.app import create_app
from hub.settings import HubSettings
from kiosk.appliance import config as config_module, releases
from kiosk.sync import Sync
from tests.hub.conftest import LiveHub

PASSWORD = "mat-khau-du-dai"


def wheel(folder: Path, version: str) -> Path:
    path = folder / f"tdp_kiosk-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("kiosk/__init__.py", f'__version__ = "{version}"\n')
    return path


@pytest.fixture
def hub(tmp_path):
    settings = HubSettings(database=f"sqlite:///{tmp_path / 'hubside' / 'hub.sqlite3'}", change_check_seconds=0)
    engine = hub_db.open_hub(settings.database)
    live = LiveHub(create_app(settings, engine)).start()
    live.settings, live.engine = settings, engine
    live.token = admin.add_kiosk(engine, "tdp1", "Phường Demo")["token"]
    yield live
    live.stop()
    engine.dispose()


@pytest.fixture
def kiosk(tmp_path, hub, store):
    config = config_module.from_dict({"storage": {"path": store.path}, "hub": {"url": hub.url, "token": hub.token}})
    return Sync(store, config), config


# 01:30 in Hanoi is 18:30 UTC the day before
NIGHT = datetime(2026, 12, 2, 18, 30, tzinfo=timezone.utc)
DAY = datetime(2026, 12, 3, 3, 0, tzinfo=timezone.utc)


def test_a_release_reaches_the_kiosk_on_sync_and_is_installed_at_night(hub, kiosk, tmp_path):
    sync, config = kiosk
    package = wheel(tmp_path, "0.2.0")
    offered = hub_releases.add(hub.engine, package)
    assert offered["sha256"] == hashlib.sha256(package.read_bytes()).hexdigest()
    sync.run_once()
    pending = releases.read_pending(config)["pending"]
    assert pending["version"] == "0.2.0" and Path(pending["file"]).read_bytes() == package.read_bytes()

    installed = []
    waiting = releases.install_pending(config, now=DAY, upgrade=lambda c, f: installed.append(f))
    assert installed == [] and "waits for the night" in waiting["message"]
    done = releases.install_pending(config, now=NIGHT, upgrade=lambda c, f: installed.append(f) or {"ok": True})
    assert installed == [Path(pending["file"])] and done["installed"] == "0.2.0"
    assert "pending" not in releases.read_pending(config)


def test_a_failed_upgrade_is_not_retried_every_night(hub, kiosk, tmp_path):
    sync, config = kiosk
    hub_releases.add(hub.engine, wheel(tmp_path, "0.2.0"))
    sync.run_once()

    def broken(c, f):
        raise releases.ReleaseError("migrations of 0.2.0 failed; rolled back to 0.1.0")
    with pytest.raises(releases.ReleaseError, match="rolled back to 0.1.0"):
        releases.install_pending(config, now=NIGHT, upgrade=broken)
    sync.run_once()
    assert "pending" not in releases.read_pending(config)
    assert "0.2.0" in releases.read_pending(config)["failed"]


def test_an_offer_that_does_not_match_its_bytes_is_dropped_and_sync_goes_on(hub, kiosk, tmp_path):
    sync, config = kiosk
    hub_releases.add(hub.engine, wheel(tmp_path, "0.2.0"))
    with hub_db.write(hub.engine) as conn:
        conn.execute(hub_releases.releases.update().values(sha256="0" * 64))
    summary = sync.run_once()
    assert summary is not None and "pending" not in releases.read_pending(config)
    assert not list((config.storage.data_dir / "releases").glob("*.whl"))


@pytest.mark.parametrize("offer, reason", [
    ({"version": "0.2.0", "filename": "../../etc/passwd", "sha256": "a" * 64, "size": 10}, "not a tdp-kiosk package"),
    ({"version": "0.3.0", "filename": "tdp_kiosk-0.2.0-py3-none-any.whl", "sha256": "a" * 64, "size": 10}, "named for"),
    ({"version": "0.2.0", "filename": "tdp_kiosk-0.2.0-py3-none-any.whl", "sha256": "a" * 64, "size": 10**12}, "size"),
    ({"version": "0.2.0"}, "without"),
])
def test_hostile_offers_are_refused(offer, reason):
    with pytest.raises(releases.ReleaseError, match=reason):
        releases.check_offer(offer)


def test_the_console_counts_kiosks_per_version_and_names_the_offered_release(hub, kiosk, tmp_path):
    sync, _ = kiosk
    sync.run_once()                                              # heartbeat: version 0.1.0
    admin.add_kiosk(hub.engine, "tdp2", "Phường Demo")
    hub_releases.add(hub.engine, wheel(tmp_path, "0.2.0"))
    admin.add_official(hub.engine, "phuong", "Lê Văn Phường", "ward", PASSWORD, ward="Phường Demo")
    with TestClient(create_app(hub.settings, hub.engine)) as client:
        page = client.get("/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        client.post("/login", data={"login": "phuong", "password": PASSWORD, "csrf": csrf})
        html = client.get("/kiosks").text
    assert "0.1.0: 1 kiosk" in html and "?: 1 kiosk" in html and "đang phát hành 0.2.0" in html


def test_tdp_hub_release_refuses_a_duplicate_and_a_non_package(tdp, tmp_path):
    package = wheel(tmp_path, "0.2.0")
    first = tdp("hub", "release", package, "--json")
    assert first.code == 0, first.err
    assert first.data["version"] == "0.2.0"
    again = tdp("hub", "release", package)
    assert again.code == 1 and "already released" in again.err
    fake = tmp_path / "tdp_kiosk-0.3.0-py3-none-any.whl"
    fake.write_text("not a zip")
    assert "not a zip" in tdp("hub", "release", fake).err
