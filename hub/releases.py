"""Software releases the hub offers its kiosks: `tdp hub release FILE`, the newest one in each
heartbeat answer, its bytes for download, and how many kiosks run each version.

Owns the `releases` table (migration 0005). Only the version number, file name, size and
SHA-256 go on the wire (hub/contract.py); kiosks check both before they install anything.
"""
from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from packaging.version import InvalidVersion, Version

from . import db
from .admin import record
from .contract import RELEASE_FIELDS, RELEASE_FILENAME_RE, RELEASE_MAX_BYTES
from .errors import Conflict, InvalidInput, NotFound, TooLarge

releases = sa.Table(
    "releases", db.metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("version", sa.String(40), nullable=False, unique=True),
    sa.Column("filename", sa.String(200), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("content", sa.LargeBinary, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("actor", sa.String(80), nullable=False, server_default=""),
)


def version_of(filename: str) -> Version:
    match = RELEASE_FILENAME_RE.match(filename)
    if not match:
        raise InvalidInput(f"{filename}: not a tdp-kiosk wheel or sdist (tdp_kiosk-VERSION-….whl or .tar.gz)")
    try:
        return Version(match["version"])
    except InvalidVersion:
        raise InvalidInput(f"{filename}: {match['version']!r} is not a version number") from None


def add(engine: Engine, path: str | Path, *, actor: str = "cli") -> dict:
    """Offer the package at `path` to every kiosk; returns its wire description."""
    path = Path(path)
    version = version_of(path.name)
    try:
        size = path.stat().st_size
        if size > RELEASE_MAX_BYTES:
            raise TooLarge(f"{path.name}: {size} bytes; a release is at most {RELEASE_MAX_BYTES} bytes")
        content = path.read_bytes()
    except FileNotFoundError:
        raise NotFound(f"{path}: file not found") from None
    if not content.startswith((b"PK\x03\x04", b"\x1f\x8b")):
        raise InvalidInput(f"{path.name}: not a zip (wheel) or gzip (sdist) file")
    row = {"version": str(version), "filename": path.name, "sha256": hashlib.sha256(content).hexdigest(),
           "size": len(content)}
    with db.write(engine) as conn:
        if conn.execute(sa.select(releases.c.id).where(releases.c.version == str(version))).first():
            raise Conflict(f"version {version} was already released")
        conn.execute(releases.insert().values(**row, content=content, created_at=db.now(), actor=actor[:80]))
        record(conn, actor, "release.add", row)
    return row


def offered(engine: Engine) -> dict | None:
    """The newest release (by version number), as sent to kiosks; None when there is none."""
    with db.read(engine) as conn:
        rows = conn.execute(sa.select(*(releases.c[f] for f in RELEASE_FIELDS))).mappings().all()
    if not rows:
        return None
    return dict(max(rows, key=lambda r: Version(r["version"])))


def content(engine: Engine, version: str) -> tuple[str, bytes]:
    """(file name, bytes) of one release."""
    with db.read(engine) as conn:
        row = conn.execute(sa.select(releases.c.filename, releases.c.content)
                           .where(releases.c.version == version)).first()
    if row is None:
        raise NotFound(f"no release {version!r}")
    return row.filename, row.content


def listed(engine: Engine) -> list[dict]:
    with db.read(engine) as conn:
        rows = conn.execute(sa.select(*(releases.c[f] for f in RELEASE_FIELDS), releases.c.created_at)
                            .order_by(releases.c.id.desc())).mappings().all()
    return [dict(r) for r in rows]


def versions_in_use(kiosks: list[dict]) -> list[tuple[str, int]]:
    """(version, kiosk count) from kiosk views (admin.list_kiosks), newest version first."""
    def key(item):
        try:
            return (1, Version(item[0]))
        except InvalidVersion:
            return (0, Version("0"))
    counts = Counter(((k.get("heartbeat") or {}).get("version") or "?") for k in kiosks if not k.get("revoked"))
    return sorted(counts.items(), key=key, reverse=True)
