"""The systemd units pass `systemd-analyze verify` inside a scratch root that looks like the image."""
from __future__ import annotations

import configparser
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT

UNITS = ROOT / "provisioning" / "systemd"
NAMES = ["tdp-gateway.service", "tdp-kiosk.service", "tdp-sync.service", "tdp-firstboot.service",
         "tdp-remind.service", "tdp-remind.timer", "tdp-backup.service", "tdp-backup.timer",
         "tdp-upgrade.service", "tdp-upgrade.timer"]
SYSTEM_UNITS = Path("/usr/lib/systemd/system")

pytestmark = pytest.mark.skipif(shutil.which("systemd-analyze") is None or not SYSTEM_UNITS.is_dir(),
                                reason="needs systemd-analyze (Debian package systemd)")


@pytest.fixture
def image_root(tmp_path) -> Path:
    """A root with the distribution's units, ours in /etc/systemd/system and the programs they run."""
    root = tmp_path / "root"
    shutil.copytree(SYSTEM_UNITS, root / "usr/lib/systemd/system", symlinks=True)
    (root / "etc/systemd/system").mkdir(parents=True)
    for name in NAMES:
        shutil.copy(UNITS / name, root / "etc/systemd/system" / name)
    for program in ("opt/tdp/.venv/bin/tdp", "opt/tdp/provisioning/firstboot"):
        path = root / program
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("#!/bin/sh\n")
        path.chmod(0o755)
    return root


def verify(root: Path, *names: str) -> subprocess.CompletedProcess:
    return subprocess.run(["systemd-analyze", "verify", f"--root={root}", *names],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "SYSTEMD_LOG_COLOR": "0"})


def test_units_verify_clean(image_root):
    result = verify(image_root, *NAMES)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "" and result.stderr.strip() == "", result.stdout + result.stderr


def test_verify_catches_a_broken_unit(image_root):
    """Guards the check itself: a typo and a missing program must be reported."""
    broken = image_root / "etc/systemd/system/tdp-gateway.service"
    broken.write_text(broken.read_text().replace("Restart=always", "Restrat=always"))
    (image_root / "opt/tdp/.venv/bin/tdp").unlink()
    result = verify(image_root, "tdp-gateway.service")
    output = result.stdout + result.stderr
    assert "Unknown key 'Restrat'" in output
    assert "/opt/tdp/.venv/bin/tdp" in output and result.returncode != 0


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read(UNITS / name)
    return parser


@pytest.mark.parametrize("name", ["tdp-gateway.service", "tdp-kiosk.service", "tdp-sync.service"])
def test_daemons_restart_always_with_a_watchdog_on_journald(name):
    service = unit(name)["Service"]
    assert service["Type"] == "notify"
    assert service["Restart"] == "always"
    assert int(service["WatchdogSec"]) > 0
    assert service["StandardOutput"] == "journal"
    assert service["User"] == "tdp"
    assert service["ExecStart"].startswith("/opt/tdp/.venv/bin/tdp ")


def test_kiosk_runs_unprivileged_on_kmsdrm():
    text = (UNITS / "tdp-kiosk.service").read_text()
    service = unit("tdp-kiosk.service")["Service"]
    assert set(service["SupplementaryGroups"].split()) >= {"video", "input", "render"}
    for setting in ("XDG_RUNTIME_DIR=/run/tdp-kiosk", "KIVY_WINDOW=sdl2", "SDL_VIDEODRIVER=kmsdrm"):
        assert setting in text
    gateway = (UNITS / "tdp-gateway.service").read_text()
    assert "KIVY" not in gateway and "SDL_" not in gateway and "tty" not in gateway.lower()


def test_firstboot_runs_before_the_daemons():
    firstboot = unit("tdp-firstboot.service")
    assert firstboot["Service"]["Type"] == "oneshot"
    before = firstboot["Unit"]["Before"].split()
    assert {"tdp-gateway.service", "tdp-kiosk.service", "tdp-sync.service"} <= set(before)
