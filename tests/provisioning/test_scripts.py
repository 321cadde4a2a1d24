"""Every shell script in provisioning/ and images/ passes shellcheck (warnings included)."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT

SOURCED_BY_PI_GEN = {"config", "EXPORT_IMAGE"}   # shell fragments pi-gen sources, no shebang


def shell_scripts() -> list[Path]:
    found = []
    for folder in (ROOT / "provisioning", ROOT / "images"):
        for path in sorted(folder.rglob("*")):
            if not path.is_file():
                continue
            head = path.read_bytes()[:64]
            if path.suffix == ".sh" or path.name in SOURCED_BY_PI_GEN or \
                    (head.startswith(b"#!") and (b"sh" in head.split(b"\n")[0])):
                found.append(path)
    return found


def test_the_scripts_are_found():
    names = {p.relative_to(ROOT).as_posix() for p in shell_scripts()}
    assert {"provisioning/firstboot", "images/build.sh", "images/stage-tdp/prerun.sh",
            "images/stage-tdp/00-install/00-run.sh", "images/stage-tdp/00-install/00-run-chroot.sh",
            "images/config", "images/stage-tdp/EXPORT_IMAGE"} <= names


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="needs shellcheck (Debian package shellcheck)")
@pytest.mark.parametrize("script", shell_scripts(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_shellcheck_clean(script):
    shell = ["--shell=bash"] if script.name in SOURCED_BY_PI_GEN else []   # else the shebang decides
    result = subprocess.run(["shellcheck", *shell, "--severity=style", "--format=gcc", str(script)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_executables_are_executable():
    for path in shell_scripts():
        if path.name not in SOURCED_BY_PI_GEN:
            assert path.stat().st_mode & 0o111, f"{path} is not executable"
