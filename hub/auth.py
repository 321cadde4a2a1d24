"""Secrets: kiosk tokens, official passwords (scrypt), login lockout, console sessions and CSRF tokens.

Kiosk and session tokens carry 256 random bits, so a plain SHA-256 of them is a safe thing to
store; passwords are low-entropy and get scrypt with a per-password salt.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import math
import re
import secrets
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from . import db
from .errors import InvalidInput, Unauthorized
from .settings import HubSettings

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 14, 8, 1
MIN_PASSWORD = 10
COMMON_PASSWORDS = Path(__file__).resolve().parent / "common-passwords.txt"
_common: frozenset[str] | None = None


def check_password(password: str, login: str = "") -> None:
    """InvalidInput unless `password` is at least MIN_PASSWORD characters, not on the list of
    common passwords, not the login with digits added and not one or two characters repeated."""
    global _common
    if _common is None:
        _common = frozenset(line.strip().lower() for line in COMMON_PASSWORDS.read_text("utf-8").splitlines()
                            if line.strip() and not line.startswith("#"))
    folded = password.strip().lower()
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"password too short: at least {MIN_PASSWORD} characters",
                           f"Mật khẩu quá ngắn: ít nhất {MIN_PASSWORD} ký tự")
    letters = re.sub(r"[^a-z]", "", folded)
    if folded in _common or (login and letters == re.sub(r"[^a-z]", "", login.lower())) or len(set(folded)) < 3:
        raise InvalidInput("password too easy to guess (a common password, or the login in it): choose another",
                           "Mật khẩu quá dễ đoán (mật khẩu phổ biến hoặc chứa tên đăng nhập): hãy chọn mật khẩu khác")


def new_token() -> str:
    """A fresh 256-bit secret, URL-safe (43 characters)."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What the database keeps of a token: its SHA-256 in hex."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def hash_password(password: str) -> str:
    """scrypt hash as `scrypt$N$r$p$salt$hash` (base64); the caller has checked the password."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8", "surrogatepass"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    b64 = lambda raw: base64.b64encode(raw).decode()  # noqa: E731
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${b64(salt)}${b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """True if `password` matches the stored scrypt hash (constant-time comparison)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(password.encode("utf-8", "surrogatepass"), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                                dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


class LoginRefused(Unauthorized):
    """A refused console login. The message never says whether the login exists; `reason`
    ("address_locked", "account_locked", "wrong_password", "unknown_login") and `official`
    (the row, when the login exists) are for the audit log only."""

    def __init__(self, message: str, reason: str, official: dict | None = None):
        super().__init__(message)
        self.reason, self.official = reason, official


REFUSED = ("sai tên đăng nhập hoặc mật khẩu; sau nhiều lần sai, tài khoản bị tạm khóa: "
           "hãy thử lại sau hoặc nhờ quản trị viên mở khóa")
BACKOFF_DOUBLINGS = 6          # a lockout doubles with each repeat, up to 2**6 times the first
FORGET_LOCKOUTS_SECONDS = 24 * 3600
DEVICE_DAYS = 180              # a known-device cookie unused this long is forgotten


def source_key(address: str | None) -> str:
    """The throttle key of a client address: IPv4 as is, IPv6 by its /64 (one subscriber's block)."""
    text = (address or "").strip()
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return "addr:" + text[:60]
    if ip.version == 6 and ip.ipv4_mapped is not None:
        return "addr:" + str(ip.ipv4_mapped)
    if ip.version == 6:
        return "addr:" + str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return "addr:" + str(ip)


def account_key(official_id: int) -> str:
    return f"official:{official_id}"


def _upsert(conn: Connection):
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(db.login_throttle)


def _attempt(conn: Connection, key: str, limit: int, moment: float, window: float) -> float | None:
    """Count one attempt under `key` in one atomic upsert; None if it may go on to the password
    check, else when the key's lockout ends (Unix seconds).

    The count goes up before the (slow) password check, so concurrent guesses each see their own
    number and at most `limit` passwords are checked per lockout, whatever the concurrency."""
    t = db.login_throttle
    locked = sa.and_(t.c.locked_until.is_not(None), t.c.locked_until > moment)
    statement = _upsert(conn).values(key=key, failures=1, lockouts=0, locked_until=None, updated_at=moment)
    statement = statement.on_conflict_do_update(index_elements=[t.c.key], set_={
        "failures": sa.case((locked, t.c.failures), (t.c.updated_at < moment - window, 1),
                            else_=t.c.failures + 1),
        "lockouts": sa.case((t.c.updated_at < moment - FORGET_LOCKOUTS_SECONDS, 0), else_=t.c.lockouts),
        "updated_at": moment,
    }).returning(t.c.failures, t.c.locked_until)
    row = conn.execute(statement).one()
    if row.locked_until is not None and row.locked_until > moment:
        return row.locked_until
    if row.failures > limit:
        return _lock(conn, key, moment, window)
    return None


def _lock(conn: Connection, key: str, moment: float, base: float) -> float:
    """Lock `key` for `base` seconds doubled per earlier lockout; returns when it ends."""
    t = db.login_throttle
    backoff = sa.case(*((t.c.lockouts == n, base * 2 ** n) for n in range(BACKOFF_DOUBLINGS)),
                      else_=base * 2 ** BACKOFF_DOUBLINGS)
    conn.execute(t.update().where(t.c.key == key, sa.or_(t.c.locked_until.is_(None), t.c.locked_until <= moment))
                 .values(locked_until=moment + backoff, lockouts=t.c.lockouts + 1, failures=0))
    return conn.execute(sa.select(t.c.locked_until).where(t.c.key == key)).scalar() or moment + base


def _failed(conn: Connection, key: str, limit: int, moment: float, base: float) -> None:
    """After a wrong password: the attempt that reached the limit locks at once."""
    t = db.login_throttle
    if (conn.execute(sa.select(t.c.failures).where(t.c.key == key)).scalar() or 0) >= limit:
        _lock(conn, key, moment, base)


def login(engine: Engine, settings: HubSettings, login_name: str, password: str, source: str = "",
          device: str | None = None) -> dict:
    """Check a console login from client address `source`; returns the official's row or raises
    LoginRefused.

    Two budgets, each counted atomically before the password is checked: `login_max_failures`
    per source address and `account_max_failures` per account (larger, so a guesser locks their
    own address long before the account). `device` is the known-device cookie of a browser the
    official logged in from before: the account's lockout does not apply to it, so guesses from
    many addresses cannot keep the official out of their own phone.
    Each lockout lasts `lockout_minutes`, doubled for each repeat within a day. A disabled
    account, an unknown login, a locked account and a wrong password all get the same message.
    """
    moment = db.now()
    base = settings.lockout_minutes * 60
    address = source_key(source)
    with db.write(engine) as conn:
        until = _attempt(conn, address, settings.login_max_failures, moment, base)
    if until is not None:
        minutes = max(1, math.ceil((until - moment) / 60))
        raise LoginRefused(f"quá nhiều lần đăng nhập sai từ địa chỉ này; thử lại sau {minutes} phút",
                           "address_locked")
    t = db.officials
    with db.read(engine) as conn:
        row = conn.execute(sa.select(t).where(t.c.login == login_name.strip(), t.c.disabled_at.is_(None))
                           ).mappings().first()
    if row is None:
        # Spend the same time as a real check so logins cannot be probed by timing.
        verify_password(password, _DUMMY_HASH)
        _after_failure(engine, settings, [address], moment)
        raise LoginRefused(REFUSED, "unknown_login")
    account = account_key(row["id"])
    with db.write(engine) as conn:
        locked = _attempt(conn, account, settings.account_max_failures, moment, base)
        if locked is not None and _known_device(conn, row["id"], device, moment):
            locked = None
    if locked is not None:
        verify_password(password, _DUMMY_HASH)
        _after_failure(engine, settings, [address], moment)
        raise LoginRefused(REFUSED, "account_locked", dict(row))
    if not verify_password(password, row["password_hash"]):
        _after_failure(engine, settings, [address, account], moment)
        raise LoginRefused(REFUSED, "wrong_password", dict(row))
    lt = db.login_throttle
    with db.write(engine) as conn:
        conn.execute(lt.update().where(lt.c.key == account).values(failures=0, lockouts=0, locked_until=None))
        # Only this attempt is taken back: logging in to one's own account earns no extra guesses.
        conn.execute(lt.update().where(lt.c.key == address, lt.c.failures > 0).values(failures=lt.c.failures - 1))
        conn.execute(lt.delete().where(lt.c.updated_at < moment - FORGET_LOCKOUTS_SECONDS,
                                       sa.or_(lt.c.locked_until.is_(None), lt.c.locked_until < moment)))
    return dict(row)


def _known_device(conn: Connection, official_id: int, device: str | None, moment: float) -> bool:
    if not device:
        return False
    d = db.known_devices
    return bool(conn.execute(d.update().where(d.c.token_hash == token_hash(device), d.c.official_id == official_id)
                             .values(last_used=moment)).rowcount)


def remember_device(engine: Engine, official_id: int, device: str | None) -> str:
    """After a successful login: the browser's known-device token (the one it sent if still valid for
    this official, else a new one). Devices unused for DEVICE_DAYS are forgotten."""
    d = db.known_devices
    moment = db.now()
    with db.write(engine) as conn:
        if device and _known_device(conn, official_id, device, moment):
            return device
        fresh = new_token()
        conn.execute(d.insert().values(token_hash=token_hash(fresh), official_id=official_id, created_at=moment,
                                       last_used=moment))
        conn.execute(d.delete().where(d.c.last_used < moment - DEVICE_DAYS * 86400))
    return fresh


def forget_devices(conn: Connection, official_id: int) -> None:
    """Inside a write: the official's browsers are no longer known (new password, account disabled)."""
    conn.execute(db.known_devices.delete().where(db.known_devices.c.official_id == official_id))


def _after_failure(engine: Engine, settings: HubSettings, keys: list[str], moment: float) -> None:
    limits = {True: settings.login_max_failures, False: settings.account_max_failures}
    with db.write(engine) as conn:
        for key in keys:
            _failed(conn, key, limits[key.startswith("addr:")], moment, settings.lockout_minutes * 60)


def unlock(conn: Connection, official_id: int) -> bool:
    """Inside a write: lift an account's lockout and forget its failures; True if it was locked."""
    t = db.login_throttle
    was = conn.execute(sa.select(t.c.locked_until).where(t.c.key == account_key(official_id))).scalar()
    conn.execute(t.delete().where(t.c.key == account_key(official_id)))
    return bool(was and was > db.now())


def locked_until(conn: Connection, official_id: int) -> float | None:
    """When an account's lockout ends (Unix seconds), or None if it is not locked."""
    t = db.login_throttle
    until = conn.execute(sa.select(t.c.locked_until).where(t.c.key == account_key(official_id))).scalar()
    return until if until and until > db.now() else None


_DUMMY_HASH = "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="


def open_session(engine: Engine, settings: HubSettings, official_id: int) -> tuple[str, str]:
    """A new console session; returns (cookie token, CSRF token). Only the token's hash is stored."""
    token, csrf = new_token(), new_token()
    moment = db.now()
    with db.write(engine) as conn:
        conn.execute(db.sessions.delete().where(db.sessions.c.expires_at < moment))
        conn.execute(db.sessions.insert().values(
            token_hash=token_hash(token), official_id=official_id, csrf=csrf, created_at=moment,
            expires_at=moment + settings.session_hours * 3600))
    return token, csrf


def session_official(engine: Engine, token: str | None) -> dict | None:
    """The official (with the session's `csrf`) for a cookie token, or None if absent or expired."""
    if not token:
        return None
    s, o = db.sessions, db.officials
    with db.read(engine) as conn:
        row = conn.execute(
            sa.select(o, s.c.csrf, s.c.expires_at).join(s, s.c.official_id == o.c.id)
            .where(s.c.token_hash == token_hash(token), o.c.disabled_at.is_(None))).mappings().first()
    if row is None or row["expires_at"] < db.now():
        return None
    return dict(row)


def end_sessions(conn: Connection, official_id: int) -> int:
    """Inside a write: end every console session of an official (all browsers); returns how many."""
    return conn.execute(db.sessions.delete().where(db.sessions.c.official_id == official_id)).rowcount


def close_session(engine: Engine, token: str | None) -> None:
    if token:
        with db.write(engine) as conn:
            conn.execute(db.sessions.delete().where(db.sessions.c.token_hash == token_hash(token)))


def csrf_ok(expected: str | None, given: str | None) -> bool:
    """Constant-time CSRF comparison; a missing token never matches."""
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))
