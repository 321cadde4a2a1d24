"""Releases offered by the hub: fetched on a sync, installed at night by `tdp upgrade --pending`.

The offer (hub/contract.py RELEASE_FIELDS) is hostile input: its file name must be a tdp-kiosk
package name, its size is bounded, and the bytes must match its SHA-256 before they are kept in
DATA/releases/. DATA/release-pending.json says what waits; a version whose upgrade failed is
remembered there and not fetched or tried again (the hub must offer a newer one).
"""
from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime, time as clock_time, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from packaging.version import InvalidVersion, Version

from hub import contract
from kiosk import __version__
from kiosk.errors import TdpError

PENDING_NAME = "release-pending.json"


class ReleaseError(TdpError):
    """An offered release is malformed or does not match its checksum."""


def _pending_path(config) -> Path:
    return config.storage.data_dir / PENDING_NAME


def read_pending(config) -> dict:
    try:
        state = json.loads(_pending_path(config).read_text(encoding="utf-8"))
        return state if isinstance(state, dict) else {}
    except (OSError, ValueError):
        return {}


def _write_pending(config, state: dict) -> None:
    path = _pending_path(config)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.new")
    temporary.write_text(json.dumps(state, indent=1) + "\n", encoding="utf-8")
    os.replace(temporary, path)


def check_offer(offer) -> tuple[Version, dict]:
    if not isinstance(offer, dict) or set(contract.RELEASE_FIELDS) - set(offer):
        raise ReleaseError(f"release offer without {', '.join(contract.RELEASE_FIELDS)}")
    filename, digest, size = offer["filename"], offer["sha256"], offer["size"]
    match = contract.RELEASE_FILENAME_RE.match(filename) if isinstance(filename, str) else None
    if not match or len(filename) > 200:
        raise ReleaseError(f"release file name {str(filename)[:80]!r} is not a tdp-kiosk package")
    if not (isinstance(size, int) and 0 < size <= contract.RELEASE_MAX_BYTES):
        raise ReleaseError(f"release size {size!r} out of range")
    if not (isinstance(digest, str) and len(digest) == 64 and all(c in "0123456789abcdef" for c in digest)):
        raise ReleaseError("release sha256 is not 64 hex digits")
    try:
        version = Version(str(offer["version"]))
    except InvalidVersion:
        raise ReleaseError(f"release version {str(offer['version'])[:40]!r} is not a version number") from None
    if Version(match["version"]) != version:
        raise ReleaseError(f"release {version} comes in a file named for {match['version']}")
    return version, {"version": str(version), "filename": filename, "sha256": digest, "size": size}


def note_offer(client, config, offer) -> dict | None:
    """Fetch the offered release when it is newer than this version; returns the pending state."""
    if offer is None:
        return None
    version, clean = check_offer(offer)
    state = read_pending(config)
    if version <= Version(__version__) or str(version) in state.get("failed", {}):
        return None
    if state.get("pending", {}).get("sha256") == clean["sha256"]:
        return state
    content = client.download(f"{contract.RELEASE_PATH}/{version}", contract.RELEASE_MAX_BYTES)
    if len(content) != clean["size"] or hashlib.sha256(content).hexdigest() != clean["sha256"]:
        raise ReleaseError(f"release {version}: the download does not match its size and sha256")
    folder = config.storage.data_dir / "releases"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / clean["filename"]
    temporary = folder / f".{clean['filename']}.partial"
    with open(temporary, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, target)
    state["pending"] = {**clean, "file": str(target),
                        "fetched_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    _write_pending(config, state)
    return state


def in_night(config, moment: datetime) -> bool:
    local = moment.astimezone(ZoneInfo(config.site.timezone)).time()
    start, end = (clock_time.fromisoformat(config.upgrade.night_start), clock_time.fromisoformat(config.upgrade.night_end))
    return start <= local < end if start <= end else (local >= start or local < end)


def install_pending(config, *, now: datetime | None = None, upgrade=None) -> dict:
    """Install the pending release if it is night now; `upgrade(config, file)` runs it (tests inject)."""
    from kiosk.appliance.upgrade import Upgrade
    state = read_pending(config)
    pending = state.get("pending")
    if not pending:
        return {"installed": None, "message": "no release waiting"}
    moment = now or datetime.now(timezone.utc)
    if not in_night(config, moment):
        return {"installed": None, "pending": pending["version"],
                "message": f"release {pending['version']} waits for the night ({config.upgrade.night_start}-"
                           f"{config.upgrade.night_end})"}
    file = Path(pending["file"])
    run = upgrade or (lambda c, f: Upgrade(c, f).run())
    try:
        if hashlib.sha256(file.read_bytes()).hexdigest() != pending["sha256"]:
            raise ReleaseError(f"{file}: changed since it was fetched")
        report = run(config, file)
    except (TdpError, OSError) as exc:
        state.setdefault("failed", {})[pending["version"]] = str(exc)
        state.pop("pending", None)
        _write_pending(config, state)
        raise ReleaseError(f"release {pending['version']} not installed: {exc}") from None
    state.pop("pending", None)
    _write_pending(config, state)
    file.unlink(missing_ok=True)
    return {"installed": pending["version"], "report": report,
            "message": f"release {pending['version']} installed"}
