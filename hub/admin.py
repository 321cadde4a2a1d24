"""Admin operations on the hub: kiosks (add, revoke, list with online state), officials, audit log.

The `tdp hub …` CLI and the console call these; each write is one transaction together with its
audit record, so an action is either done and audited or neither.
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from . import auth, db
from .errors import Conflict, InvalidInput, NotFound
from .settings import HubSettings

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")
ROLES = ("ward", "group")


def iso(moment: float | None) -> str | None:
    """Unix seconds as ISO 8601 UTC text, or None."""
    if moment is None:
        return None
    return datetime.fromtimestamp(moment, timezone.utc).isoformat(timespec="seconds")


def record(conn: Connection, actor: str, action: str, detail: str | dict = "", *, ward: str | None = None) -> None:
    """Append one audit row (who, what, when, and the ward it concerns; None: hub-wide) inside the
    caller's transaction."""
    if isinstance(detail, dict):
        detail = json.dumps(detail, ensure_ascii=False, sort_keys=True)
    conn.execute(db.audit.insert().values(at=db.now(), actor=actor[:120], action=action[:60], detail=detail,
                                          ward=None if ward is None else ward[:120]))


def ward_of(conn: Connection, official: dict) -> str | None:
    """The ward an official's actions concern: their ward, a group leader's kiosk's ward, or None
    for a hub-wide official."""
    if official.get("role") == "group" and official.get("kiosk_id") is not None:
        return conn.execute(sa.select(db.kiosks.c.ward).where(db.kiosks.c.id == official["kiosk_id"])).scalar()
    return official.get("ward") or None


def is_hub_admin(official: dict) -> bool:
    """A ward official with no ward acts on every kiosk and manages the accounts."""
    return official.get("role") == "ward" and not official.get("ward")


def add_kiosk(engine: Engine, name: str, ward: str = "", *, sim_number: str = "", actor: str = "cli") -> dict:
    """Register a kiosk; returns {"name", "ward", "token"}. The token is shown once and stored hashed."""
    name = name.strip()
    if not NAME_RE.match(name):
        raise InvalidInput(f"kiosk name {name!r}: use letters, digits, '.', '_' or '-' (at most 80)")
    token = auth.new_token()
    with db.write(engine) as conn:
        if conn.execute(sa.select(db.kiosks.c.id).where(db.kiosks.c.name == name)).first():
            raise Conflict(f"kiosk {name} already exists (revoke-kiosk then add it again for a new token)")
        conn.execute(db.kiosks.insert().values(name=name, ward=ward.strip(), token_hash=auth.token_hash(token),
                                               created_at=db.now(), sim_number=sim_number.strip()))
        record(conn, actor, "kiosk.add", {"kiosk": name, "ward": ward.strip()}, ward=ward.strip() or None)
    return {"name": name, "ward": ward.strip(), "token": token}


def revoke_kiosk(engine: Engine, name: str, *, actor: str = "cli") -> dict:
    """Revoke a kiosk's token (its next request gets 401). Idempotent; the kiosk row and history stay."""
    with db.write(engine) as conn:
        row = _kiosk_row(conn, name)
        if row["revoked_at"] is None:
            # The hash is replaced so the old token can never match again, even if un-revoked by hand.
            conn.execute(db.kiosks.update().where(db.kiosks.c.id == row["id"]).values(
                revoked_at=db.now(), token_hash=auth.token_hash("revoked:" + auth.new_token())))
            db.tick_feed_clock(conn)
            record(conn, actor, "kiosk.revoke", {"kiosk": name}, ward=row["ward"] or None)
    return {"name": name, "revoked": True}


def _kiosk_row(conn: Connection, name: str) -> dict:
    row = conn.execute(sa.select(db.kiosks).where(db.kiosks.c.name == name.strip())).mappings().first()
    if row is None:
        known = [r[0] for r in conn.execute(sa.select(db.kiosks.c.name).order_by(db.kiosks.c.name).limit(20))]
        raise NotFound(f"no kiosk {name!r}; kiosks: {', '.join(known) or 'none yet'}")
    return dict(row)


def kiosk_by_name(engine: Engine, name: str) -> dict:
    with db.read(engine) as conn:
        return _kiosk_row(conn, name)


def is_online(row: dict, settings: HubSettings, moment: float | None = None) -> bool:
    """Online means a heartbeat within `offline_after_missed` heartbeat periods, and not revoked."""
    moment = db.now() if moment is None else moment
    return (row["revoked_at"] is None and row["last_seen"] is not None
            and moment - row["last_seen"] <= settings.offline_after_seconds)


def kiosk_view(row: dict, settings: HubSettings, moment: float | None = None) -> dict:
    """A kiosk as shown by `tdp hub kiosks --json` and the console."""
    try:
        heartbeat = json.loads(row["heartbeat"] or "{}")
    except ValueError:
        heartbeat = {}
    return {"name": row["name"], "ward": row["ward"], "online": is_online(row, settings, moment),
            "last_seen": iso(row["last_seen"]), "revoked": row["revoked_at"] is not None,
            "sim_number": row["sim_number"] or heartbeat.get("sim_number", ""), "heartbeat": heartbeat}


def list_kiosks(engine: Engine, settings: HubSettings, *, ward: str | None = None,
                kiosk_id: int | None = None) -> list[dict]:
    """Every kiosk (optionally of one ward or just one id), ordered by name."""
    query = sa.select(db.kiosks).order_by(db.kiosks.c.name)
    if ward:
        query = query.where(db.kiosks.c.ward == ward)
    if kiosk_id is not None:
        query = query.where(db.kiosks.c.id == kiosk_id)
    moment = db.now()
    with db.read(engine) as conn:
        rows = [dict(r) for r in conn.execute(query).mappings()]
    return [kiosk_view(r, settings, moment) for r in rows]


def add_official(engine: Engine, login: str, name: str, role: str, password: str, *, kiosk: str | None = None,
                 ward: str = "", actor: str = "cli") -> dict:
    """Create a console account. A group leader is bound to one kiosk; a ward official to a ward
    (empty ward: every kiosk on this hub)."""
    login, name, role = login.strip(), " ".join(name.split()), role.strip()
    if not NAME_RE.match(login):
        raise InvalidInput(f"login {login!r}: use letters, digits, '.', '_' or '-'")
    if not name:
        raise InvalidInput("official's name is empty")
    if role not in ROLES:
        raise InvalidInput(f"role must be ward or group, got {role!r}")
    if role == "group" and not kiosk:
        raise InvalidInput("a group leader needs --kiosk NAME (the kiosk of their group)")
    auth.check_password(password, login)
    password_hash = auth.hash_password(password)
    with db.write(engine) as conn:
        kiosk_row = _kiosk_row(conn, kiosk) if kiosk else None
        kiosk_id = kiosk_row["id"] if kiosk_row else None
        if conn.execute(sa.select(db.officials.c.id).where(db.officials.c.login == login)).first():
            raise Conflict(f"login {login} already exists")
        official_id = conn.execute(db.officials.insert().values(
            login=login, name=name, role=role, ward=ward.strip(), kiosk_id=kiosk_id,
            password_hash=password_hash, created_at=db.now())).inserted_primary_key[0]
        record(conn, actor, "official.add", {"login": login, "role": role, "kiosk": kiosk or ""},
               ward=(kiosk_row["ward"] if kiosk_row else ward.strip()) or None)
    return {"id": official_id, "login": login, "name": name, "role": role, "kiosk": kiosk, "ward": ward.strip()}


def visible_kiosks(engine: Engine, settings: HubSettings, official: dict) -> list[dict]:
    """Kiosks an official may target: a group leader's own; a ward official's ward (or all)."""
    if official["role"] == "group":
        return list_kiosks(engine, settings, kiosk_id=official["kiosk_id"])
    return list_kiosks(engine, settings, ward=official["ward"] or None)


def visible_kiosk_ids(engine: Engine, official: dict) -> set[int]:
    """Ids of the kiosks an official may target, in one query (see visible_kiosks)."""
    k = db.kiosks
    query = sa.select(k.c.id)
    if official["role"] == "group":
        query = query.where(k.c.id == official["kiosk_id"])
    elif official["ward"]:
        query = query.where(k.c.ward == official["ward"])
    with db.read(engine) as conn:
        return set(conn.execute(query).scalars())


def audit_log(engine: Engine, *, official: dict | None = None, limit: int = 200) -> list[dict]:
    """Newest audit rows first, with ISO times: all of them (CLI, hub-wide official), a ward
    official's ward only, or a group leader's own actions only."""
    a = db.audit
    query = sa.select(a).order_by(a.c.id.desc()).limit(limit)
    if official is not None and official["role"] == "group":
        query = query.where(a.c.actor == official["login"])
    elif official is not None and not is_hub_admin(official):
        query = query.where(a.c.ward == official["ward"])
    with db.read(engine) as conn:
        rows = conn.execute(query).mappings().all()
    return [{"at": iso(r["at"]), "actor": r["actor"], "action": r["action"], "detail": r["detail"],
             "ward": r["ward"]} for r in rows]


# --- account life cycle ------------------------------------------------------------------------
def _official_row(conn: Connection, login: str) -> dict:
    row = conn.execute(sa.select(db.officials).where(db.officials.c.login == str(login).strip())).mappings().first()
    if row is None:
        raise NotFound(f"no official {login!r} (tdp hub official list)", f"Không có tài khoản {login!r}")
    return dict(row)


def _account_change(engine: Engine, login: str, action: str, actor: str, change) -> dict:
    """Run `change(conn, row) -> detail` on an official in one transaction with its audit row."""
    with db.write(engine) as conn:
        row = _official_row(conn, login)
        detail = change(conn, row)
        record(conn, actor, action, {"login": row["login"], **detail}, ward=ward_of(conn, row))
    return {"login": row["login"], **detail}


def disable_official(engine: Engine, login: str, *, actor: str = "cli") -> dict:
    """Disable an account: no more logins, and every open session ends now."""
    def change(conn, row):
        if row["disabled_at"] is None:
            conn.execute(db.officials.update().where(db.officials.c.id == row["id"]).values(disabled_at=db.now()))
        auth.forget_devices(conn, row["id"])
        return {"disabled": True, "sessions_ended": auth.end_sessions(conn, row["id"])}
    return _account_change(engine, login, "official.disable", actor, change)


def enable_official(engine: Engine, login: str, *, actor: str = "cli") -> dict:
    """Let a disabled official log in again (with their existing password)."""
    def change(conn, row):
        conn.execute(db.officials.update().where(db.officials.c.id == row["id"]).values(disabled_at=None))
        return {"disabled": False}
    return _account_change(engine, login, "official.enable", actor, change)


def unlock_official(engine: Engine, login: str, *, actor: str = "cli") -> dict:
    """Lift an account's login lockout and forget its failed attempts."""
    return _account_change(engine, login, "official.unlock", actor,
                           lambda conn, row: {"was_locked": auth.unlock(conn, row["id"])})


def reset_password(engine: Engine, login: str, password: str, *, actor: str = "cli") -> dict:
    """Set a new password; every open session of the account ends and its lockout is lifted."""
    auth.check_password(password, login)
    password_hash = auth.hash_password(password)

    def change(conn, row):
        conn.execute(db.officials.update().where(db.officials.c.id == row["id"]).values(password_hash=password_hash))
        auth.unlock(conn, row["id"])
        auth.forget_devices(conn, row["id"])
        return {"sessions_ended": auth.end_sessions(conn, row["id"])}
    return _account_change(engine, login, "official.reset_password", actor, change)


def logout_official(engine: Engine, login: str, *, actor: str = "cli") -> dict:
    """End every console session of an official, on every browser."""
    return _account_change(engine, login, "official.logout", actor,
                           lambda conn, row: {"sessions_ended": auth.end_sessions(conn, row["id"])})


def list_officials(engine: Engine) -> list[dict]:
    """Every account with its role, scope, state (disabled, locked) and open sessions; no secrets."""
    o, k, s = db.officials, db.kiosks, db.sessions
    moment = db.now()
    open_sessions = (sa.select(sa.func.count()).select_from(s)
                     .where(s.c.official_id == o.c.id, s.c.expires_at > moment).scalar_subquery())
    with db.read(engine) as conn:
        rows = conn.execute(sa.select(o.c.id, o.c.login, o.c.name, o.c.role, o.c.ward, o.c.disabled_at,
                                      k.c.name.label("kiosk"), open_sessions.label("sessions"))
                            .select_from(o.outerjoin(k, k.c.id == o.c.kiosk_id)).order_by(o.c.login)).mappings().all()
        locks = {r["id"]: auth.locked_until(conn, r["id"]) for r in rows}
    return [{"login": r["login"], "name": r["name"], "role": r["role"], "ward": r["ward"], "kiosk": r["kiosk"],
             "disabled": r["disabled_at"] is not None, "locked_until": iso(locks[r["id"]]),
             "sessions": int(r["sessions"])} for r in rows]


def official_names(engine: Engine) -> dict[str, str]:
    """{login: full name} of every official, so the console says who did what by name."""
    o = db.officials
    with db.read(engine) as conn:
        return {r.login: r.name for r in conn.execute(sa.select(o.c.login, o.c.name))}
