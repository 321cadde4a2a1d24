"""`tdp upgrade FILE`: install a newer version beside the running one, and roll back by itself.

Layout: `[upgrade] versions_dir`/<version>/ holds one installed version each (a venv with
bin/tdp); `[upgrade] current` (the path the systemd units run, /opt/tdp/.venv) is a symlink to
one of them, switched atomically (a new link renamed over the old). The steps:

1. install the package into versions_dir/<version> (marked complete once its `tdp --version` answers);
2. stop the services, take a pre-upgrade backup;
3. run the new version's migrations (`NEW/bin/tdp upgrade --migrate COPY`) on a copy of the store:
   the store's migrations commit one by one, so a failing one must not touch the live file;
   check the copy's integrity and swap it in (rename);
4. switch `current`, start the services (systemd waits for each one's READY=1), and run the new
   version's `tdp doctor --json`: its config and store checks must pass;
5. on any failure: stop the services, switch `current` back, restore the pre-upgrade backup when
   the store was swapped, start the old version, and raise an UpgradeError saying why.

The service manager, the installer and the runner of the new version's commands are parameters,
so tests install a real wheel without network and drive services without systemd.
"""
from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Protocol

from packaging.version import InvalidVersion, Version

from kiosk import __version__
from kiosk.appliance import backup
from kiosk.errors import TdpError

PACKAGE_RE = re.compile(r"^tdp[_-]kiosk-(?P<version>[0-9][0-9A-Za-z.+!-]*?)(-[^-]+-[^-]+-[^-]+\.whl|\.tar\.gz)$")
MAX_PACKAGE_BYTES = 200 * 2**20
STATE_NAME = "upgrade-state.json"
COMPLETE = ".tdp-installed"
STEP_TIMEOUT = 600


class UpgradeError(TdpError):
    """An upgrade was refused or rolled back; the message says which step failed and why."""


class Services(Protocol):
    def stop(self, units: list[str]) -> None: ...
    def start(self, units: list[str]) -> None: ...


class Installer(Protocol):
    def install(self, package: Path, target: Path) -> None: ...


class Systemd:
    """The real service manager. `systemctl start` of a Type=notify unit returns once it sent READY=1."""

    def stop(self, units: list[str]) -> None:
        subprocess.run(["systemctl", "stop", *units], capture_output=True, text=True, timeout=STEP_TIMEOUT)

    def start(self, units: list[str]) -> None:
        wanted = [u for u in units if _enabled(u)]
        if not wanted:
            return
        result = subprocess.run(["systemctl", "start", *wanted], capture_output=True, text=True, timeout=STEP_TIMEOUT)
        if result.returncode != 0:
            raise UpgradeError(f"services did not start: {' '.join(result.stderr.split())[:300]}")
        for unit in wanted:
            if subprocess.run(["systemctl", "is-active", "--quiet", unit], timeout=30).returncode != 0:
                raise UpgradeError(f"{unit} is not active after its start (see `journalctl -u {unit}`)")


def _enabled(unit: str) -> bool:
    return subprocess.run(["systemctl", "is-enabled", "--quiet", unit], timeout=30).returncode == 0


class VenvInstaller:
    """A fresh venv per version with the package and its dependencies installed by pip."""

    def __init__(self, python: str = sys.executable, pip_options: tuple[str, ...] = ()):
        self.python, self.pip_options = python, pip_options

    def install(self, package: Path, target: Path) -> None:
        _checked([self.python, "-m", "venv", str(target)], "create the venv")
        _checked([str(target / "bin" / "python"), "-m", "pip", "install", "--quiet", *self.pip_options,
                  str(package)], "pip install")


def _checked(command: list[str], what: str, env: dict | None = None) -> subprocess.CompletedProcess:
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=STEP_TIMEOUT, env=env)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UpgradeError(f"{what}: {exc}") from None
    if result.returncode != 0:
        lines = [line for line in (result.stderr or result.stdout).splitlines() if line.strip()]
        raise UpgradeError(f"{what} failed: {lines[-1].strip() if lines else f'exit {result.returncode}'}")
    return result


def package_version(package: Path) -> Version:
    match = PACKAGE_RE.match(package.name)
    if not match:
        raise UpgradeError(f"{package.name}: not a tdp-kiosk wheel or sdist (tdp_kiosk-VERSION-….whl, "
                           f"tdp_kiosk-VERSION.tar.gz)")
    try:
        return Version(match["version"])
    except InvalidVersion:
        raise UpgradeError(f"{package.name}: {match['version']!r} is not a version number") from None


def switch_link(link: Path, target: Path) -> None:
    """Point `link` at `target` atomically: a new symlink renamed over the old one."""
    temporary = link.with_name(f".{link.name}.new")
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(target)
    os.replace(temporary, link)
    backup.fsync_dir(link.parent)


@dataclass
class Upgrade:
    """One upgrade run; `run()` returns its report or raises UpgradeError after rolling back."""
    config: object
    package: Path
    services: Services = field(default_factory=Systemd)
    installer: Installer = field(default_factory=VenvInstaller)
    steps: list[str] = field(default_factory=list)

    @property
    def versions(self) -> Path:
        return Path(self.config.upgrade.versions_dir)

    @property
    def current(self) -> Path:
        return Path(self.config.upgrade.current)

    def _command(self, version_dir: Path, *args: str) -> list[str]:
        return [str(version_dir / "bin" / "tdp"), *args]

    def _env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        if self.config.source not in ("(built-in defaults)", "(dict)"):
            env["TDP_CONFIG"] = self.config.source
        return env

    def _adopt_factory_install(self) -> Path:
        """The running version's folder; the image's real /opt/tdp/.venv becomes versions/<version>."""
        if self.current.is_symlink():
            return self.current.resolve()
        if not self.current.is_dir():
            raise UpgradeError(f"{self.current} ([upgrade] current) is not an installed version")
        adopted = self.versions / __version__
        if adopted.exists():
            raise UpgradeError(f"{self.current} is a folder but {adopted} exists too: move one aside")
        # its scripts keep naming /opt/tdp/.venv/bin/python, which reaches them through the link
        # whenever it points back at them: exactly when this version runs again (a rollback)
        os.rename(self.current, adopted)
        self.current.symlink_to(adopted)
        return adopted

    def run(self) -> dict:
        package = self.package.resolve()
        if not package.is_file():
            raise UpgradeError(f"{self.package}: file not found")
        if package.stat().st_size > MAX_PACKAGE_BYTES:
            raise UpgradeError(f"{package.name}: larger than {MAX_PACKAGE_BYTES // 2**20} MiB")
        new_version = package_version(package)
        self.versions.mkdir(parents=True, exist_ok=True)
        with open(self.versions / ".upgrade.lock", "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise UpgradeError("another upgrade is running") from None
            old_dir = self._adopt_factory_install()
            old_version = Version(old_dir.name) if re.match(r"^\d", old_dir.name) else Version(__version__)
            if new_version <= old_version:
                raise UpgradeError(f"{package.name}: version {new_version} is not newer than the running {old_version}")
            return self._upgrade(package, new_version, old_dir, old_version)

    def _install(self, package: Path, version: Version) -> Path:
        """Install into versions/<version> itself (a venv's scripts name their folder, so it cannot be
        renamed afterwards); COMPLETE is written last, so a half install is never taken for one."""
        target = self.versions / str(version)
        if target.exists():
            shutil.rmtree(target)    # a failed earlier attempt at this version: never the running one
        self.installer.install(package, target)
        answer = _checked(self._command(target, "--version"), "the new version's `tdp --version`", self._env())
        if str(version) not in answer.stdout:
            raise UpgradeError(f"{package.name} installed but reports {answer.stdout.strip()!r}")
        (target / COMPLETE).write_text(datetime.now(timezone.utc).isoformat(timespec="seconds") + "\n")
        return target

    def _upgrade(self, package: Path, new_version: Version, old_dir: Path, old_version: Version) -> dict:
        new_dir = self._install(package, new_version)
        self.steps.append(f"installed {new_version} in {new_dir}")
        units = list(self.config.upgrade.services)
        store = Path(self.config.storage.path).expanduser()
        pre = None
        swapped = linked = False
        try:
            self.services.stop(units)
            self.steps.append("services stopped")
            pre = backup.take(self.config, "pre-upgrade")
            self.steps.append(f"pre-upgrade backup {pre['file']}")
            copy = store.with_name(f".tdp-upgrade-{new_version}.sqlite3")
            copy.unlink(missing_ok=True)
            backup.snapshot(store, copy)
            try:
                migrated = _checked(self._command(new_dir, "upgrade", "--migrate", str(copy), "--json"),
                                    f"migrations of {new_version}", self._env())
                verdict = backup.integrity(copy)
                if verdict != "ok":
                    raise UpgradeError(f"the migrated store fails its integrity check ({verdict})")
                backup.close_out(store)
                backup.own_like_folder(copy)
                os.replace(copy, store)
                swapped = True
                backup.fsync_dir(store.parent)
            finally:
                copy.unlink(missing_ok=True)
            applied = json.loads(migrated.stdout).get("applied", [])
            self.steps.append(f"{len(applied)} migration(s) applied")
            switch_link(self.current, new_dir)
            linked = True
            self.steps.append(f"{self.current} -> {new_dir}")
            self.services.start(units)
            self.steps.append("services started")
            self._check_health(new_dir)
            self.steps.append("tdp doctor: config and store ok")
        except (TdpError, OSError, ValueError) as exc:
            reason = f"{type(exc).__name__}: {exc}" if not isinstance(exc, TdpError) else str(exc)
            self._roll_back(units, old_dir, pre if swapped else None, linked)
            raise UpgradeError(f"upgrade to {new_version} failed ({reason}); rolled back to {old_version}"
                               + (f", store restored from {pre['file']}" if swapped and pre else ", store untouched")
                               ) from None
        record(self.versions, {"current": str(new_version), "previous": str(old_version),
                               "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                               "backup": pre["file"]})
        return {"ok": True, "from": str(old_version), "to": str(new_version), "backup": pre["file"],
                "migrations": applied, "steps": self.steps}

    def _check_health(self, version_dir: Path) -> None:
        result = subprocess.run(self._command(version_dir, "doctor", "--json"), capture_output=True, text=True,
                                timeout=STEP_TIMEOUT, env=self._env())
        try:
            checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
        except (ValueError, KeyError, TypeError):
            raise UpgradeError(f"the new version's `tdp doctor` gave no report: {result.stderr.strip()[-200:]}") from None
        for name in ("config", "store"):
            if checks.get(name, {}).get("status") == "fail":
                raise UpgradeError(f"tdp doctor: {checks[name]['en']}")

    def _roll_back(self, units: list[str], old_dir: Path, pre: dict | None, linked: bool) -> None:
        self.services.stop(units)
        if linked or self.current.resolve() != old_dir:
            switch_link(self.current, old_dir)
        self.steps.append(f"rolled back: {self.current} -> {old_dir}")
        if pre is not None:
            backup.restore(self.config, Path(pre["file"]))
            self.steps.append(f"store restored from {pre['file']}")
        try:
            self.services.start(units)
            self.steps.append("previous version started")
        except TdpError as exc:
            self.steps.append(f"previous version did not start either: {exc}")


def record(versions: Path, state: dict) -> None:
    path = versions / STATE_NAME
    temporary = path.with_name(f".{path.name}.new")
    temporary.write_text(json.dumps(state, indent=1) + "\n", encoding="utf-8")
    os.replace(temporary, path)


def status(config) -> dict:
    versions, current = Path(config.upgrade.versions_dir), Path(config.upgrade.current)
    installed = sorted((p.name for p in versions.iterdir() if (p / COMPLETE).is_file() or p == current.resolve()),
                       key=lambda v: Version(v) if re.match(r"^\d", v) else Version("0")) if versions.is_dir() else []
    try:
        last = json.loads((versions / STATE_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        last = None
    running = current.resolve().name if current.is_symlink() else __version__
    return {"running": running, "this": __version__, "installed": installed, "current": str(current), "last": last}
