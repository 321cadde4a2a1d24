"""SD-card health facts for `tdp doctor`: read-only remounts, overlayroot, the card's write rate.

The kernel remounts ext4 read-only after an I/O error (errors=remount-ro, Raspberry Pi OS's
default): the first sign of a dying card. overlayroot keeps the root file system read-only with
writes in RAM, so the store must then be on a separate writable partition. The write rate is the
partition's sectors written since boot (/sys/dev/block/MAJ:MIN/stat, 512-byte sectors) over the
uptime: cheap cards wear out after some hundreds of full writes. Every path is a parameter so
tests use a scratch copy of /proc and /sys.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

SECTOR = 512
WRITE_WARN_BYTES_PER_DAY = 4 * 2**30      # several full rewrites of a small store per hour: something loops


@dataclass(frozen=True)
class Mount:
    device: str
    point: str
    fstype: str
    options: tuple[str, ...]

    @property
    def read_only(self) -> bool:
        return "ro" in self.options


def mounts(table: Path = Path("/proc/self/mounts")) -> list[Mount]:
    found = []
    try:
        lines = table.read_text().splitlines()
    except OSError:
        return found
    for line in lines:
        fields = line.split()
        if len(fields) >= 4:
            decode = lambda s: s.encode().decode("unicode_escape")  # noqa: E731 - "\040" is a space
            found.append(Mount(decode(fields[0]), decode(fields[1]), fields[2], tuple(fields[3].split(","))))
    return found


def mount_of(path: Path, table: list[Mount]) -> Mount | None:
    """The mount holding `path` (the longest mount point that is a prefix of it)."""
    resolved = str(path.resolve())
    best = None
    for mount in table:
        point = mount.point.rstrip("/") or "/"
        if resolved == point or resolved.startswith(point.rstrip("/") + "/") or point == "/":
            if best is None or len(point) >= len(best.point.rstrip("/") or "/"):
                best = mount
    return best


def overlayroot(table: list[Mount]) -> bool:
    """True when / is an overlay (overlayroot / raspi-config's overlay file system)."""
    root = next((m for m in reversed(table) if m.point == "/"), None)
    return root is not None and (root.fstype == "overlay" or "overlayroot" in root.device)


def write_rate(path: Path, sys_root: Path = Path("/sys"), uptime_file: Path = Path("/proc/uptime")) -> dict | None:
    """Bytes written to the partition holding `path` since boot and per day; None if unknown."""
    try:
        device = os.stat(path).st_dev
        stat = (sys_root / "dev/block" / f"{os.major(device)}:{os.minor(device)}" / "stat").read_text().split()
        uptime = float(uptime_file.read_text().split()[0])
        written = int(stat[6]) * SECTOR
    except (OSError, ValueError, IndexError):
        return None
    if uptime <= 0:
        return None
    return {"bytes_since_boot": written, "uptime_seconds": round(uptime),
            "bytes_per_day": round(written * 86400 / uptime)}


def same_device(a: Path, b: Path) -> bool:
    """True when `a` and `b` are on one file system (a dead card takes both)."""
    try:
        return os.stat(a).st_dev == os.stat(b).st_dev
    except OSError:
        return False
