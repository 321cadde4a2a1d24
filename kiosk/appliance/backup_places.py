"""Where backups go and how many stay: the USB stick when one is plugged in, else a folder.

A stick counts when it is mounted under one of `[backup] media_roots` (two levels deep, as
udisks and systemd-mount lay them out) and either carries the label `[backup] usb_label`
(/dev/disk/by-label) or has a `tdp-backup.marker` file at its top. Backups go to its
`tdp-backups/` folder. Rotation keeps the newest backup of each of the last `daily` days and of
each of the last `weekly` ISO weeks, the two newest pre-upgrade/pre-restore ones, and never the
file just written.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from kiosk.appliance.backup_file import MARKER_NAME, NAME_RE, STICK_FOLDER, SUFFIX, BackupError, BackupInfo, info_of

BY_LABEL = Path("/dev/disk/by-label")
SAFETY_KINDS = ("pre-upgrade", "pre-restore")
SAFETY_KEPT = 2


@dataclass(frozen=True)
class Place:
    folder: Path
    kind: str          # "usb" or "folder"


def _mounts() -> dict[str, str]:
    """Mount point -> device, from /proc/self/mounts (octal escapes decoded)."""
    found = {}
    try:
        for line in Path("/proc/self/mounts").read_text().splitlines():
            fields = line.split()
            if len(fields) >= 2:
                decode = lambda s: s.encode().decode("unicode_escape")  # noqa: E731 - "\040" is a space
                found[decode(fields[1])] = decode(fields[0])
    except OSError:
        pass
    return found


def _labelled_devices(label: str) -> set[str]:
    if not label:
        return set()
    path = BY_LABEL / label
    try:
        return {os.path.realpath(path)} if os.path.lexists(path) else set()
    except OSError:
        return set()


def find_stick(config) -> Path | None:
    """The mounted stick's top folder, or None."""
    devices = _labelled_devices(config.backup.usb_label)
    mounts = _mounts()
    for root in (Path(r) for r in config.backup.media_roots):
        if not root.is_dir():
            continue
        candidates = [root] + sorted(p for p in _children(root)) + sorted(q for p in _children(root) for q in _children(p))
        for candidate in candidates:
            if (candidate / MARKER_NAME).is_file():
                return candidate
            device = mounts.get(str(candidate))
            if device and os.path.realpath(device) in devices:
                return candidate
            if candidate.name == config.backup.usb_label and str(candidate) in mounts:
                return candidate
    return None


def _children(folder: Path) -> list[Path]:
    try:
        return [p for p in folder.iterdir() if p.is_dir() and not p.is_symlink()]
    except OSError:
        return []


def fallback_folder(config) -> Path:
    return Path(config.backup.folder).expanduser() if config.backup.folder else config.storage.data_dir / "backups"


def destination(config) -> Place:
    stick = find_stick(config)
    if stick is not None:
        return Place(stick / STICK_FOLDER, "usb")
    return Place(fallback_folder(config), "folder")


def folders(config) -> list[Path]:
    """Every folder backups may be in, the stick first."""
    stick = find_stick(config)
    found = ([stick / STICK_FOLDER] if stick else []) + [fallback_folder(config)]
    return [f for f in found if f.is_dir()]


def backups_in(folder: Path) -> list[BackupInfo]:
    """Backups in `folder`, newest first; files that are not backups are skipped."""
    found = []
    for path in folder.glob(f"tdp-*{SUFFIX}"):
        if not NAME_RE.match(path.name):
            continue
        try:
            found.append(info_of(path))
        except (BackupError, OSError):
            continue
    return sorted(found, key=lambda b: (b.created, b.path), reverse=True)


def list_backups(config) -> list[BackupInfo]:
    found = [b for folder in folders(config) for b in backups_in(folder)]
    return sorted(found, key=lambda b: (b.created, b.path), reverse=True)


def rotate(folder: Path, daily: int, weekly: int, keep: set[Path] = frozenset()) -> list[Path]:
    """Delete backups in `folder` beyond the rotation; returns the deleted files."""
    backups = backups_in(folder)
    kept: set[str] = {str(p) for p in keep}
    days, weeks, safety = [], [], 0
    for backup in backups:          # newest first
        moment = datetime.fromisoformat(backup.created)
        if backup.kind in SAFETY_KINDS:
            if safety < SAFETY_KEPT:
                kept.add(backup.path)
                safety += 1
            continue
        day, week = moment.date(), moment.isocalendar()[:2]
        if day not in days and len(days) < daily:
            days.append(day)
            kept.add(backup.path)
        if week not in weeks and len(weeks) < weekly:
            weeks.append(week)
            kept.add(backup.path)
    removed = []
    for backup in backups:
        if backup.path not in kept:
            Path(backup.path).unlink(missing_ok=True)
            removed.append(Path(backup.path))
    return removed
