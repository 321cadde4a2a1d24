"""Encrypted, crash-safe backups of the one SQLite store: take, verify, restore (rotation and
destinations: backup_places; the file format and keys: backup_file).

A backup is a consistent online snapshot (SQLite's backup API, one step, so writers in other
processes keep going under WAL), checked with `PRAGMA integrity_check`, compressed and sealed
with AES-256-GCM under a key derived by scrypt from a passphrase. Crash safety: the plaintext
snapshot lives only in the data directory (never on the stick), the sealed file is written as
`.NAME.partial`, fsynced, renamed and its folder fsynced; a kill at any point leaves the live
store untouched, the previous backups whole, and only stray temp files, which the next run
removes. Sizes: bytes; times: UTC.
"""
from __future__ import annotations

import json
import os
import re
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

from kiosk import __version__
from kiosk.appliance import backup_places
from kiosk.appliance.backup_file import (  # the file-level API is used as backup.NAME too
    MAGIC,
    SUFFIX,
    KEY_NAME,
    STATE_NAME,
    MARKER_NAME,
    STICK_FOLDER,
    NAME_RE,
    KINDS,
    BackupError,
    BackupInfo,
    generate_passphrase,
    key_path,
    read_passphrase,
    ensure_passphrase,
    seal,
    unseal,
    read_header,
    read_backup,
    info_of,
    own_like_folder,
    fsync_dir,
    integrity,
    counts,
    snapshot,
    remove_stale,
    _write_sealed,
)

__all__ = ["MAGIC", "SUFFIX", "KEY_NAME", "MARKER_NAME", "STICK_FOLDER", "NAME_RE", "KINDS", "BackupError", "BackupInfo",
           "generate_passphrase", "key_path", "read_passphrase", "read_header", "info_of", "own_like_folder",
           "fsync_dir", "integrity", "counts", "snapshot", "take", "record_good", "last_good", "verify", "restore",
           "close_out"]


# --- the operations ----------------------------------------------------------------------------

def _stamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def take(config, kind: str = "manual", *, destination: Path | None = None, now: datetime | None = None) -> dict:
    """Take one backup of the live store; returns what was done (file, counts, key file, rotation)."""
    if kind not in KINDS:
        raise BackupError(f"unknown backup kind {kind!r} (one of {', '.join(KINDS)})")
    store = Path(config.storage.path).expanduser()
    data_dir = store.parent
    place = backup_places.destination(config) if destination is None else backup_places.Place(destination, "folder")
    try:
        if not place.folder.is_dir():
            place.folder.mkdir(parents=True)
            own_like_folder(place.folder)      # made by sudo or the upgrade: still the nightly run's
    except OSError as exc:
        raise BackupError(f"cannot use backup folder {place.folder}: {exc.strerror}") from None
    remove_stale(data_dir)
    remove_stale(place.folder)
    if not store.is_file():
        raise BackupError(f"store {store} not found: nothing to back up")
    passphrase, key_file, key_created = ensure_passphrase(config)
    moment = now or datetime.now(timezone.utc)
    plain = data_dir / f".tdp-snapshot-{os.getpid()}.sqlite3"
    try:
        snapshot(store, plain)
        verdict = integrity(plain)
        if verdict != "ok":
            raise BackupError(f"the snapshot of {store} failed its integrity check ({verdict}); the previous "
                              f"backups are kept: run `tdp doctor`")
        header = {"format": 1, "kiosk": config.site.kiosk_name, "created": moment.astimezone(timezone.utc)
                  .isoformat(timespec="seconds"), "kind": kind, "version": __version__, "counts": counts(plain)}
        safe_kiosk = re.sub(r"[^A-Za-z0-9_.-]", "-", config.site.kiosk_name)[:64] or "kiosk"
        name = f"tdp-{safe_kiosk}-{_stamp(moment)}-{kind}{SUFFIX}"
        try:
            written = _write_sealed(place.folder, name, lambda: seal(plain.read_bytes(), passphrase, header))
        except OSError as exc:
            raise BackupError(f"cannot write the backup to {place.folder}: {exc.strerror}") from None
    finally:
        plain.unlink(missing_ok=True)
    own_like_folder(written)
    removed = backup_places.rotate(place.folder, config.backup.daily, config.backup.weekly, keep={written})
    result = {"file": str(written), "bytes": written.stat().st_size, "destination": place.kind,
              "folder": str(place.folder), "created": header["created"], "kind": kind, "counts": header["counts"],
              "integrity": "ok", "key_file": str(key_file), "key_created": key_created,
              "removed": [str(p) for p in removed]}
    record_good(data_dir, result)
    return result


def record_good(data_dir: Path, result: dict) -> None:
    """Remember the last good backup for `tdp doctor` (beside the store: the stick may be unplugged)."""
    state = {"last_good": {k: result[k] for k in ("file", "created", "bytes", "destination", "kind")}}
    path = data_dir / STATE_NAME
    temporary = path.with_name(f".{path.name}.new")
    temporary.write_text(json.dumps(state, indent=1) + "\n", encoding="utf-8")
    own_like_folder(temporary)
    os.replace(temporary, path)


def last_good(data_dir: Path) -> dict | None:
    try:
        state = json.loads((data_dir / STATE_NAME).read_text(encoding="utf-8"))
        entry = state["last_good"]
        datetime.fromisoformat(entry["created"])
        return entry
    except (OSError, ValueError, KeyError, TypeError):
        return None


def verify(config, file: Path | None = None) -> dict:
    """Decrypt `file` (default: the newest backup), check its checksum and integrity; row counts."""
    if file is None:
        found = backup_places.list_backups(config)
        if not found:
            raise BackupError("no backup found: take one with `tdp backup now`")
        file = Path(found[0].path)
    passphrase = read_passphrase(key_path(config))
    header, plaintext = unseal(read_backup(file), passphrase, str(file))
    data_dir = Path(config.storage.path).expanduser().parent
    data_dir.mkdir(parents=True, exist_ok=True)
    plain = data_dir / f".tdp-restore-{os.getpid()}.sqlite3"
    try:
        plain.write_bytes(plaintext)
        verdict = integrity(plain)
        found_counts = counts(plain) if verdict == "ok" else {}
    finally:
        plain.unlink(missing_ok=True)
    if verdict != "ok":
        raise BackupError(f"{file}: the restored database fails its integrity check ({verdict})")
    return {"file": str(file), "ok": True, "created": header.get("created"), "kiosk": header.get("kiosk"),
            "version": header.get("version"), "kind": header.get("kind"), "counts": found_counts}


def restore(config, file: Path, *, passphrase: str | None = None, keep_previous: bool = True) -> dict:
    """Replace the store with the backup in `file`; the store must not be open in another process.

    The store in place before is kept as `NAME.before-restore-STAMP` (nothing is ever lost), and
    the restored store is brought up to this version's schema.
    """
    from kiosk.appliance.store import open_store
    store = Path(config.storage.path).expanduser()
    store.parent.mkdir(parents=True, exist_ok=True)
    header, plaintext = unseal(read_backup(file), passphrase or read_passphrase(key_path(config)), str(file))
    plain = store.parent / f".tdp-restore-{os.getpid()}.sqlite3"
    kept = None
    try:
        with open(plain, "wb") as handle:
            handle.write(plaintext)
            handle.flush()
            os.fsync(handle.fileno())
        verdict = integrity(plain)
        if verdict != "ok":
            raise BackupError(f"{file}: the backup fails its integrity check ({verdict}); the store is unchanged")
        own_like_folder(plain)
        if store.exists():
            close_out(store)
            if keep_previous:
                kept = store.with_name(f"{store.name}.before-restore-{_stamp(datetime.now(timezone.utc))}")
                os.link(store, kept)
        os.replace(plain, store)
        for suffix in ("-wal", "-shm", "-journal"):
            Path(f"{store}{suffix}").unlink(missing_ok=True)
        fsync_dir(store.parent)
    finally:
        plain.unlink(missing_ok=True)
    database = open_store(store)
    try:
        migrated = database.applied_migrations()
        restored_counts = {t: database.scalar(f'SELECT COUNT(*) FROM "{t}"') for t in header.get("counts", {})}
    finally:
        database.close()
    return {"file": str(file), "store": str(store), "created": header.get("created"), "kiosk": header.get("kiosk"),
            "counts": restored_counts, "previous": str(kept) if kept else None, "migrations": len(migrated)}


def close_out(store: Path) -> None:
    """Fold the WAL into the file and make sure no other process has the store open.

    Leaving WAL mode needs the only connection: SQLite refuses while any other process holds the
    store, which is exactly when a restore would lose that process's writes.
    """
    conn = sqlite3.connect(store, timeout=2)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        mode = conn.execute("PRAGMA journal_mode = DELETE").fetchone()[0]
    except sqlite3.OperationalError as exc:
        raise BackupError(f"the store {store} is in use ({exc}): stop the services first "
                          f"(sudo systemctl stop tdp-kiosk tdp-gateway tdp-sync)") from None
    finally:
        conn.close()
    if mode != "delete":
        raise BackupError(f"the store {store} is in use by another process: stop the services first "
                          f"(sudo systemctl stop tdp-kiosk tdp-gateway tdp-sync)")
