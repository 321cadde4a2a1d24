"""The backup file: its passphrase, its sealed format, the snapshot it is made from, and fsync.

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
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

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
        # bounded so a hostile file cannot make scrypt take more than 64 MiB (128 * n * r bytes)
        if not (isinstance(header, dict) and kdf["name"] == "scrypt" and 2**10 <= int(kdf["n"]) <= 2**18
                and 1 <= int(kdf["r"]) <= 16 and int(kdf["n"]) * int(kdf["r"]) <= 2**19 and 1 <= int(kdf["p"]) <= 4
                and isinstance(kdf["salt"], str) and isinstance(header.get("nonce"), str)):
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
    except (ValueError, KeyError, TypeError) as exc:
        raise BackupError(f"{where}: damaged backup ({exc})") from None
    decompressor = zlib.decompressobj()
    try:
        plaintext = decompressor.decompress(compressed, MAX_BACKUP_BYTES)
    except zlib.error as exc:
        raise BackupError(f"{where}: damaged backup content ({exc})") from None
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
