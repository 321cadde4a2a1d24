"""Secrets: kiosk tokens, official passwords (scrypt), login lockout, console sessions and CSRF tokens.

Kiosk and session tokens carry 256 random bits, so a plain SHA-256 of them is a safe thing to
store; passwords are low-entropy and get scrypt with a per-password salt.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from . import db
from .errors import InvalidInput, Unauthorized
from .settings import HubSettings

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 14, 8, 1
MIN_PASSWORD = 8


def new_token() -> str:
    """A fresh 256-bit secret, URL-safe (43 characters)."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What the database keeps of a token: its SHA-256 in hex."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def hash_password(password: str) -> str:
    """scrypt hash as `scrypt$N$r$p$salt$hash` (base64)."""
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"password too short: at least {MIN_PASSWORD} characters")
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    b64 = lambda raw: base64.b64encode(raw).decode()  # noqa: E731
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${b64(salt)}${b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """True if `password` matches the stored scrypt hash (constant-time comparison)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                                dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def login(engine: Engine, settings: HubSettings, login_name: str, password: str) -> dict:
    """Check a login; returns the official's row. Raises Unauthorized (with the lockout time if locked).

    Failures are counted per official; after `login_max_failures` in a row the account is locked
    for `lockout_minutes`, even for the right password, so guessing gets nowhere.
    """
    t = db.officials
    moment = db.now()
    with db.read(engine) as conn:
        row = conn.execute(sa.select(t).where(t.c.login == login_name.strip())).mappings().first()
    if row is None:
        # Spend the same time as a real check so logins cannot be probed by timing.
        verify_password(password, _DUMMY_HASH)
        raise Unauthorized("sai tên đăng nhập hoặc mật khẩu")
    if row["locked_until"] and row["locked_until"] > moment:
        minutes = max(1, round((row["locked_until"] - moment) / 60))
        raise Unauthorized(f"tài khoản tạm khóa do nhập sai nhiều lần; thử lại sau {minutes} phút")
    if not verify_password(password, row["password_hash"]):
        failures = row["failed_logins"] + 1
        locked = moment + settings.lockout_minutes * 60 if failures >= settings.login_max_failures else None
        with db.write(engine) as conn:
            conn.execute(t.update().where(t.c.id == row["id"]).values(
                failed_logins=0 if locked else failures, locked_until=locked))
        if locked:
            raise Unauthorized(f"nhập sai {failures} lần: tài khoản bị khóa {settings.lockout_minutes} phút")
        raise Unauthorized("sai tên đăng nhập hoặc mật khẩu")
    if row["failed_logins"] or row["locked_until"]:
        with db.write(engine) as conn:
            conn.execute(t.update().where(t.c.id == row["id"]).values(failed_logins=0, locked_until=None))
    return dict(row)


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
            .where(s.c.token_hash == token_hash(token))).mappings().first()
    if row is None or row["expires_at"] < db.now():
        return None
    return dict(row)


def close_session(engine: Engine, token: str | None) -> None:
    if token:
        with db.write(engine) as conn:
            conn.execute(db.sessions.delete().where(db.sessions.c.token_hash == token_hash(token)))


def csrf_ok(expected: str | None, given: str | None) -> bool:
    """Constant-time CSRF comparison; a missing token never matches."""
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))
