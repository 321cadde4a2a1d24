"""Encrypted, crash-safe backups of the one SQLite store: take, list, verify, restore, rotate.

A backup is a consistent online snapshot (SQLite's backup API, one step, so writers in other
processes keep going under WAL), checked with `PRAGMA integrity_check`, compressed and sealed
with AES-256-GCM (`cryptography`) under a key derived by scrypt from a passphrase. The file's
header (JSON: when, which kiosk, which version, row counts, salt, nonce) is authenticated as
associated data, so `list` can show it without the key and nothing in it can be altered unseen.

Crash safety: the plaintext snapshot lives only in the data directory (never on the stick),
the sealed file is written as `.NAME.partial`, fsynced, renamed and its folder fsynced; a kill
at any point leaves the live store untouched, the previous backups whole, and only stray temp
files, which the next run removes. Sizes: bytes; times: UTC.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
import sqlite3
import zlib
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from kiosk import __version__
from kiosk.errors import TdpError

MAGIC = b"TDPBAK1\n"
SUFFIX = ".tdpbak"
MAX_HEADER = 64 * 1024
MAX_BACKUP_BYTES = 2 * 2**30           # refuse to read anything bigger: a stick is hostile input
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
KEY_NAME = "backup.key"
STATE_NAME = "backup-state.json"
MARKER_NAME = "tdp-backup.marker"
STICK_FOLDER = "tdp-backups"
NAME_RE = re.compile(r"^tdp-(?P<kiosk>[A-Za-z0-9_.-]{1,64})-(?P<stamp>\d{8}T\d{6}Z)-(?P<kind>[a-z-]{1,16})\.tdpbak$")
KINDS = ("nightly", "manual", "pre-upgrade", "pre-restore")
# Tables whose row counts go in the header: what an installer checks before restoring.
COUNTED = ("households", "residents", "consent_log", "dossiers", "dossier_events", "relay_audit",
           "volunteers", "outbox_messages")
PASSPHRASE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"   # no 0/o, 1/l/i: it is read off a slip


class BackupError(TdpError):
    """A backup cannot be taken, read, decrypted or restored; the message says why and what to do."""


@dataclass(frozen=True)
class BackupInfo:
    """One backup file and its (authenticated) header."""
    path: str
    kiosk: str
    created: str
    kind: str
    version: str
    bytes: int
    counts: dict

    def as_dict(self) -> dict:
        return asdict(self)


# --- keys --------------------------------------------------------------------------------------

def generate_passphrase(groups: int = 6) -> str:
    """A random passphrase of `groups` groups of 4 unambiguous characters (about 119 bits)."""
    return "-".join("".join(secrets.choice(PASSPHRASE_ALPHABET) for _ in range(4)) for _ in range(groups))


def key_path(config) -> Path:
    chosen = config.backup.passphrase_file
    return Path(chosen).expanduser() if chosen else config.storage.data_dir / KEY_NAME


def read_passphrase(path: Path) -> str:
    """The passphrase in `path` (first non-empty line, NFC, at most 1 KiB)."""
    import unicodedata
    try:
        with open(path, "rb") as handle:
            raw = handle.read(1025)
    except FileNotFoundError:
        raise BackupError(f"backup passphrase file {path} not found: restore it from the leader's slip "
                          f"(one line) or set [backup] passphrase_file") from None
    except OSError as exc:
        raise BackupError(f"cannot read backup passphrase file {path}: {exc.strerror}") from None
    if len(raw) > 1024:
        raise BackupError(f"{path} is not a passphrase file (over 1 KiB)")
    lines = [line.strip() for line in raw.decode("utf-8-sig", errors="strict").splitlines() if line.strip()]
    if not lines or len(lines[0]) < 8:
        raise BackupError(f"{path}: the passphrase must be one line of at least 8 characters")
    return unicodedata.normalize("NFC", lines[0])


def ensure_passphrase(config) -> tuple[str, Path, bool]:
    """(passphrase, its file, created now). Generates backup.key beside the store when no file is set."""
    path = key_path(config)
    if path.exists() or config.backup.passphrase_file:
        return read_passphrase(path), path, False
    path.parent.mkdir(parents=True, exist_ok=True)
    passphrase = generate_passphrase()
    temporary = path.with_name(f".{path.name}.new")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(passphrase + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    own_like_folder(path)
    fsync_dir(path.parent)
    return passphrase, path, True


def _derive(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))


# --- file format -------------------------------------------------------------------------------

def seal(plaintext: bytes, passphrase: str, header: dict) -> bytes:
    """MAGIC, a header line, then AES-GCM(zlib(plaintext)) with the header as associated data."""
    salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
    header = {**header, "kdf": {"name": "scrypt", "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P,
                                "salt": base64.b64encode(salt).decode()},
              "cipher": "AES-256-GCM", "nonce": base64.b64encode(nonce).decode(),
              "sha256": hashlib.sha256(plaintext).hexdigest(), "plain_bytes": len(plaintext)}
    line = json.dumps(header, sort_keys=True, ensure_ascii=True).encode() + b"\n"
    key = _derive(passphrase, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return MAGIC + line + AESGCM(key).encrypt(nonce, zlib.compress(plaintext, 6), MAGIC + line)


def read_header(data: bytes, where: str) -> tuple[dict, bytes, bytes]:
    """(header, the authenticated prefix, ciphertext) of a backup file's bytes."""
    if not data.startswith(MAGIC):
        raise BackupError(f"{where} is not a TDP backup file")
    end = data.find(b"\n", len(MAGIC), len(MAGIC) + MAX_HEADER)
    if end < 0:
        raise BackupError(f"{where}: damaged backup header")
    try:
        header = json.loads(data[len(MAGIC):end])
        kdf = header["kdf"]
        if not (isinstance(header, dict) and kdf["name"] == "scrypt" and 2**10 <= int(kdf["n"]) <= 2**20
                and 1 <= int(kdf["r"]) <= 32 and 1 <= int(kdf["p"]) <= 4):
            raise ValueError("unsupported key derivation")
    except (ValueError, KeyError, TypeError) as exc:
        raise BackupError(f"{where}: damaged backup header ({exc})") from None
    return header, data[:end + 1], data[end + 1:]


def unseal(data: bytes, passphrase: str, where: str) -> tuple[dict, bytes]:
    header, prefix, ciphertext = read_header(data, where)
    kdf = header["kdf"]
    try:
        key = _derive(passphrase, base64.b64decode(kdf["salt"]), int(kdf["n"]), int(kdf["r"]), int(kdf["p"]))
        compressed = AESGCM(key).decrypt(base64.b64decode(header["nonce"]), ciphertext, prefix)
    except InvalidTag:
        raise BackupError(f"{where}: wrong passphrase, or the file is damaged") from None
    except (ValueError, KeyError) as exc:
        raise BackupError(f"{where}: damaged backup ({exc})") from None
    decompressor = zlib.decompressobj()
    plaintext = decompressor.decompress(compressed, MAX_BACKUP_BYTES)
    if decompressor.unconsumed_tail or hashlib.sha256(plaintext).hexdigest() != header.get("sha256"):
        raise BackupError(f"{where}: the content does not match its checksum")
    return header, plaintext


def read_backup(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_BACKUP_BYTES:
            raise BackupError(f"{path}: {size} bytes is too large for a backup")
        return path.read_bytes()
    except FileNotFoundError:
        raise BackupError(f"backup {path} not found") from None
    except OSError as exc:
        raise BackupError(f"cannot read {path}: {exc.strerror}") from None


def info_of(path: Path) -> BackupInfo:
    """A backup's header, read without the key."""
    with open(path, "rb") as handle:
        head = handle.read(len(MAGIC) + MAX_HEADER)
    header, _, _ = read_header(head, str(path))
    return BackupInfo(str(path), str(header.get("kiosk", "")), str(header.get("created", "")),
                      str(header.get("kind", "")), str(header.get("version", "")), path.stat().st_size,
                      dict(header.get("counts", {})))


# --- snapshots ---------------------------------------------------------------------------------

def own_like_folder(path: Path) -> None:
    """Give a file made by root (sudo, the upgrade service) to the folder's owner, user tdp on the Pi."""
    if os.geteuid() == 0 and path.exists():
        folder = path.parent.stat()
        os.chown(path, folder.st_uid, folder.st_gid)


def fsync_dir(folder: Path) -> None:
    """Make a rename in `folder` durable (a power cut after it keeps the new name)."""
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def integrity(path: Path) -> str:
    """`PRAGMA integrity_check` of the SQLite file at `path`: "ok" or the first problems."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = conn.execute("PRAGMA integrity_check").fetchall()
    except sqlite3.DatabaseError as exc:
        return str(exc)
    finally:
        conn.close()
    return "; ".join(r[0] for r in rows[:5])


def counts(path: Path) -> dict:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        return {t: conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in COUNTED if t in names}
    finally:
        conn.close()


def snapshot(store: Path, target: Path) -> None:
    """Copy the live store to `target` in one backup step (a consistent read under WAL)."""
    if not store.is_file():
        raise BackupError(f"store {store} not found: nothing to back up")
    source = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=30)
    destination = sqlite3.connect(target)
    try:
        source.backup(destination)   # pages=-1: one step, so the copy is one moment of the store
        destination.execute("PRAGMA journal_mode = DELETE")
    except sqlite3.Error as exc:
        raise BackupError(f"cannot copy the store {store}: {exc}") from None
    finally:
        destination.close()
        source.close()


def remove_stale(folder: Path) -> None:
    """Temp files a killed backup or restore left behind."""
    for pattern in (".tdp-snapshot-*", ".tdp-restore-*", ".tdp-*.partial"):
        for stray in folder.glob(pattern):
            stray.unlink(missing_ok=True)


def _write_sealed(folder: Path, name: str, produce) -> Path:
    """Write `produce()`'s bytes as folder/name: partial file, fsync, rename, fsync the folder."""
    final, partial = folder / name, folder / f".{name}.partial"
    with open(partial, "wb") as handle:
        handle.write(produce())
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, final)
    fsync_dir(folder)
    return final


# --- the operations ----------------------------------------------------------------------------

def _stamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def take(config, kind: str = "manual", *, destination: Path | None = None, now: datetime | None = None) -> dict:
    """Take one backup of the live store; returns what was done (file, counts, key file, rotation)."""
    from kiosk.appliance import backup_places
    if kind not in KINDS:
        raise BackupError(f"unknown backup kind {kind!r} (one of {', '.join(KINDS)})")
    store = Path(config.storage.path).expanduser()
    data_dir = store.parent
    place = backup_places.find(config) if destination is None else backup_places.Place(destination, "folder")
    try:
        place.folder.mkdir(parents=True, exist_ok=True)
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
    from kiosk.appliance import backup_places
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
