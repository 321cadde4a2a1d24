"""`tdp upgrade` with real wheels of test versions built from this tree, installed beside the running one.

Only the service manager stands in for systemd: it records stops and starts and, on each start,
runs the `tdp` that `current` points to, which is what systemd would start.
"""
from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.appliance import backup, config as config_module
from kiosk.appliance.upgrade import Upgrade, UpgradeError
from kiosk.directory import residents
from tests.conftest import ROOT

TABLES = ("households", "residents", "consent_log", "relay_audit")
GOOD = ['Migration("0002_upgrade_probe", "CREATE TABLE upgrade_probe (id INTEGER PRIMARY KEY)")']
BROKEN = ['Migration("0002_rewrite_addresses", "UPDATE households SET address = \'mất dữ liệu\'")',
          'Migration("0003_broken", "ALTER TABLE no_such_table ADD COLUMN x INTEGER")']


def build_wheel(work: Path, name: str, version: str, migrations: list[str]) -> Path:
    """A real wheel of this tree as `version`, with `migrations` appended to kiosk.sync's."""
    source = work / f"src-{name}"
    for part in ("kiosk", "sms", "hardware", "hub"):
        shutil.copytree(ROOT / part, source / part, ignore=shutil.ignore_patterns("__pycache__"))
    setup = (ROOT / "setup.py").read_text(encoding="utf-8")
    (source / "setup.py").write_text(re.sub(r'version="[^"]+"', f'version="{version}"', setup), encoding="utf-8")
    init = source / "kiosk" / "__init__.py"
    init.write_text(re.sub(r'__version__ = "[^"]+"', f'__version__ = "{version}"', init.read_text()))
    sync = source / "kiosk" / "sync.py"
    text = sync.read_text(encoding="utf-8")
    start = text.index("MIGRATIONS = [")
    end = text.index("\n]\n", start)
    sync.write_text(text[:end] + "".join(f"\n    {m}," for m in migrations) + text[end:], encoding="utf-8")
    dist = work / f"dist-{name}"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "-w", str(dist), str(source)], check=True, capture_output=True, timeout=300)
    (wheel,) = dist.glob("tdp_kiosk-*.whl")
    return wheel


@pytest.fixture(scope="module")
def wheels(tmp_path_factory) -> dict[str, Path]:
    work = tmp_path_factory.mktemp("wheels")
    return {"good": build_wheel(work, "good", "0.2.0", GOOD), "broken": build_wheel(work, "broken", "0.2.0", BROKEN)}


class OfflineInstaller:
    """pip-installs the real wheel (no dependencies, no index) into VERSION/lib; bin/tdp runs it with this
    interpreter, whose site-packages already hold the dependencies."""

    def install(self, package: Path, target: Path) -> None:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                        "--target", str(target / "lib"), str(package)], check=True, capture_output=True, timeout=300)
        write_launcher(target, '"$here/lib"')


def write_launcher(target: Path, pythonpath: str) -> None:
    launcher = target / "bin" / "tdp"
    launcher.parent.mkdir(parents=True, exist_ok=True)
    launcher.write_text(f'#!/bin/sh\nhere=$(cd "$(dirname "$0")/.." && pwd)\nPYTHONPATH={pythonpath} '
                        f'exec {sys.executable} -P -m kiosk "$@"\n')
    launcher.chmod(0o755)


class Services:
    """Stands in for systemd: each start runs `current`'s tdp, as the units would; `refuse` fails the
    start of one version (a unit that never sends READY=1)."""

    def __init__(self, current: Path, refuse: str | None = None):
        self.current, self.refuse, self.log = current, refuse, []

    def stop(self, units):
        self.log.append(("stop", tuple(units)))

    def start(self, units):
        answer = subprocess.run([str(self.current / "bin" / "tdp"), "--version"], capture_output=True, text=True,
                                timeout=60).stdout.strip()
        self.log.append(("start", answer))
        if self.refuse and answer.endswith(self.refuse):
            raise UpgradeError("tdp-kiosk.service: no READY=1 within TimeoutStartSec")

    @property
    def running(self) -> list[str]:
        return [answer for what, answer in self.log if what == "start"]


@pytest.fixture
def appliance(config_path, tmp_path, store):
    """A kiosk running 0.1.0 (this tree) from versions/0.1.0 through the `current` symlink, with ward data."""
    versions, current = tmp_path / "opt/tdp/versions", tmp_path / "opt/tdp/.venv"
    write_launcher(versions / "0.1.0", str(ROOT))
    current.symlink_to(versions / "0.1.0")
    config_path.write_text(config_path.read_text() + f'[upgrade]\nversions_dir = "{versions}"\ncurrent = "{current}"\n'
                           f'[backup]\nmedia_roots = []\n', encoding="utf-8")
    household = residents.add_household(store, "Số 3 ngõ 8 phố Hòa Bình", "Tổ 1")
    residents.upsert_resident(store, "Võ Thị Hạnh", "0903111222", household_id=household,
                              consent=residents.Consent(True, "kiosk", "màn hình"))
    with store.transaction() as conn:
        conn.execute("INSERT INTO relay_audit (at, sender, official, command, outcome, detail) "
                     "VALUES ('2026-12-01T08:00:00Z', '+84912345678', 'Trần Văn Bình', 'TB', 'accepted', '')")
    store.close()
    return config_module.load(config_path), current, versions


def dump(config) -> dict:
    conn = sqlite3.connect(config.storage.path)
    try:
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY id").fetchall() for t in TABLES}
    finally:
        conn.close()


def tables(config) -> set[str]:
    conn = sqlite3.connect(config.storage.path)
    try:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        conn.close()


def run_current(current: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(current / "bin" / "tdp"), *args], capture_output=True, text=True, timeout=120)


def test_a_version_whose_migration_fails_is_rolled_back_and_the_old_one_runs_with_its_data(appliance, wheels):
    config, current, versions = appliance
    before = dump(config)
    services = Services(current)
    with pytest.raises(UpgradeError) as failure:
        Upgrade(config, wheels["broken"], services, OfflineInstaller()).run()
    message = str(failure.value)
    assert "migrations of 0.2.0 failed" in message and "no_such_table" in message
    assert "rolled back to 0.1.0" in message and "store untouched" in message
    assert current.resolve() == versions / "0.1.0"
    assert services.running == ["tdp 0.1.0"]                      # the old version was started again
    assert dump(config) == before                                 # the first, committed migration is not in it
    assert backup.integrity(Path(config.storage.path)) == "ok"
    listed = run_current(current, "backup", "list", "--json")
    assert '"kind": "pre-upgrade"' in listed.stdout, listed.stderr
    old = run_current(current, "doctor", "--json")
    assert '"name": "store"' in old.stdout and "0.1.0" in run_current(current, "--version").stdout


def test_a_good_version_is_installed_migrated_and_started(appliance, wheels):
    config, current, versions = appliance
    before = dump(config)
    services = Services(current)
    report = Upgrade(config, wheels["good"], services, OfflineInstaller()).run()
    assert report["from"] == "0.1.0" and report["to"] == "0.2.0"
    assert report["migrations"] == ["kiosk.sync:0002_upgrade_probe"]
    assert current.resolve() == versions / "0.2.0" and services.running == ["tdp 0.2.0"]
    assert "upgrade_probe" in tables(config) and dump(config) == before
    assert (versions / "0.1.0" / "bin" / "tdp").exists()          # kept for the next rollback
    again = pytest.raises(UpgradeError, Upgrade(config, wheels["good"], Services(current), OfflineInstaller()).run)
    assert "not newer than the running 0.2.0" in str(again.value)


def test_a_new_version_that_does_not_start_brings_back_the_old_one_and_the_pre_upgrade_backup(appliance, wheels):
    config, current, versions = appliance
    before = dump(config)
    services = Services(current, refuse="0.2.0")
    with pytest.raises(UpgradeError) as failure:
        Upgrade(config, wheels["good"], services, OfflineInstaller()).run()
    assert "no READY=1" in str(failure.value) and "store restored from" in str(failure.value)
    assert services.running == ["tdp 0.2.0", "tdp 0.1.0"]
    assert current.resolve() == versions / "0.1.0"
    assert "upgrade_probe" not in tables(config) and dump(config) == before


def test_cli_refuses_what_is_not_a_package_in_one_line(tdp, appliance, tmp_path):
    bogus = tmp_path / "setup.exe"
    bogus.write_bytes(b"MZ")
    result = tdp("upgrade", bogus)
    assert result.code == 1 and "not a tdp-kiosk wheel or sdist" in result.err and "Traceback" not in result.err
    older = tmp_path / "tdp_kiosk-0.0.9-py3-none-any.whl"
    older.write_bytes(b"PK")
    assert "not newer than the running 0.1.0" in tdp("upgrade", older).err
