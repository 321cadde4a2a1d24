"""What kiosks do through the API: authenticate, heartbeat, fetch notices, report counts and daily totals.

Handing out is one conditional UPDATE (`… WHERE state = 'pending'` RETURNING), so two hub
processes on one PostgreSQL database never hand one notice to one kiosk twice: the second UPDATE
re-checks the row after the first commits and no longer matches. A notice handed out but never
acknowledged (the reply was lost, the hub was killed) is handed again after a lease; the kiosk's
idempotency keys make that harmless.

Only counts and device health are accepted from kiosks: unknown heartbeat fields are dropped,
so nothing personal can end up on the hub even by mistake.
"""
from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from datetime import date

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from . import auth, db
from .contract import (ANSWER_CODE_RE, ANSWER_LIMIT, EVERYONE_CODE, GROUP_CODE_RE, GROUP_LIMIT, GROUP_NAME_LIMIT,
                       HEARTBEAT_NUMBERS, HEARTBEAT_TEXT, MAX_COUNT, MODEM_FIELDS, MODEM_LIMIT, REPORT_ANSWERS,
                       NOTICE_TEST_PHONE, REPORT_COUNTS, REPORT_DETAIL, REPORT_DETAIL_LIMIT,
                       REPORT_STATES)
from .admin import iso, record
from .errors import InvalidInput, NotFound, Unauthorized
from .settings import HubSettings

DAY_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
CANCEL_MEMORY_SECONDS = 7 * 24 * 3600


def authenticate(engine: Engine, token: str | None) -> dict:
    """The kiosk row {id, name, feed_version} for a bearer token; Unauthorized if wrong or revoked."""
    if not token:
        raise Unauthorized("missing kiosk token (Authorization: Bearer …)")
    k = db.kiosks
    with db.autocommit(engine).connect() as conn:
        row = conn.execute(sa.select(k.c.id, k.c.name, k.c.ward, k.c.feed_version, k.c.revoked_at)
                           .where(k.c.token_hash == auth.token_hash(token))).first()
    if row is None or row.revoked_at is not None:
        raise Unauthorized("unknown or revoked kiosk token")
    return {"id": row.id, "name": row.name, "ward": row.ward or None, "feed_version": row.feed_version}


class PollCache:
    """Answers idle polls from memory: token hash → kiosk {id, name, feed_version}.

    The whole cache is dropped whenever the hub-wide feed clock moves (a notice sent or cancelled,
    a token revoked, by any hub process); the clock is read at most every `check_seconds`. So an
    idle poll costs no database query at all, the database load of idle kiosks does not grow with
    their number, and a change reaches every process within `check_seconds`. Unknown tokens are
    never cached (each is checked against the database).
    """

    def __init__(self, engine: Engine, check_seconds: float = 0.5, max_entries: int = 200_000):
        self.engine, self.check_seconds, self.max_entries = engine, check_seconds, max_entries
        self._clock_value: int | None = None
        self._checked = float("-inf")
        self._entries: dict[str, dict] = {}
        self._lock = threading.Lock()
        self._event: asyncio.Event | None = None
        self._event_loop = None
        self._watcher = None

    def _refresh(self) -> None:
        moment = time.monotonic()
        if moment - self._checked < self.check_seconds:
            return
        with db.autocommit(self.engine).connect() as conn:
            value = conn.execute(sa.select(db.hub_state.c.value).where(db.hub_state.c.key == "feed_clock")).scalar()
        with self._lock:
            if value != self._clock_value or len(self._entries) > self.max_entries:
                self._entries.clear()
                self._clock_value = value
            self._checked = moment

    async def wait_for_change(self, timeout: float) -> bool:
        """Wait (seconds) until the feed clock moves; True if it did. For long polls.

        All waiting requests of this process share one Event and one watcher task that reads the
        clock every `check_seconds`, so thousands of waiting kiosks cost one query per period.
        """
        loop = asyncio.get_running_loop()
        if self._event is None or self._event_loop is not loop:
            self._event, self._event_loop = asyncio.Event(), loop
            self._watcher = loop.create_task(self._watch())
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
            return True
        except asyncio.TimeoutError:
            return False

    def stop_watching(self) -> None:
        """Cancel the long-poll watcher (at app shutdown)."""
        if self._watcher is not None:
            self._watcher.cancel()
            self._watcher, self._event, self._event_loop = None, None, None

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(max(self.check_seconds, 0.05))
            before = self._clock_value
            try:
                self._refresh()
            except sa.exc.SQLAlchemyError:
                continue  # the database is briefly unreachable: waiting polls simply time out
            if self._clock_value != before:
                event, self._event = self._event, asyncio.Event()
                event.set()

    def kiosk(self, token: str | None) -> dict:
        """Like authenticate(), from memory when nothing changed since it was last read."""
        self._refresh()
        key = auth.token_hash(token) if token else ""
        kiosk = self._entries.get(key)
        if kiosk is None:
            kiosk = authenticate(self.engine, token)
            with self._lock:
                self._entries[key] = kiosk
        return kiosk


def etag(kiosk: dict) -> str:
    return f'"v{kiosk["feed_version"]}"'


def fetch(engine: Engine, settings: HubSettings, kiosk: dict) -> dict:
    """Hand this kiosk its pending notices and tell it which of its notices were cancelled.

    Returns {"notices": [...], "cancelled": [ids], "server_time"}; every notice returned is
    marked fetched in the same transaction.
    """
    d, n = db.deliveries, db.notices
    moment = db.now()
    lease_end = moment - settings.handout_lease_seconds
    claimable = sa.and_(d.c.kiosk_id == kiosk["id"], sa.or_(
        d.c.state == "pending", sa.and_(d.c.state == "fetched", d.c.handed_at < lease_end)))
    with db.autocommit(engine).connect() as conn:
        waiting = conn.execute(sa.select(d.c.notice_id).where(claimable).limit(1)).first()
        cancelled = [r[0] for r in conn.execute(
            sa.select(d.c.notice_id).where(d.c.kiosk_id == kiosk["id"], d.c.state == "cancelled",
                                           d.c.updated_at > moment - CANCEL_MEMORY_SECONDS))]
    handed: list[dict] = []
    if waiting is not None:
        with db.write(engine) as conn:
            expired = sa.select(n.c.id).where(n.c.expires_at.is_not(None), n.c.expires_at < moment)
            conn.execute(d.update().where(claimable, d.c.notice_id.in_(expired))
                         .values(state="expired", updated_at=moment))
            ids = [r[0] for r in conn.execute(
                d.update().where(claimable).values(state="fetched", handed_at=moment, updated_at=moment,
                                                   handed_count=d.c.handed_count + 1).returning(d.c.notice_id))]
            if ids:
                rows = conn.execute(sa.select(n).where(n.c.id.in_(ids)).order_by(n.c.id)).mappings().all()
                handed = [{"id": r["id"], "text": r["text"], "urgent": bool(r["urgent"]),
                           "group": r["group_code"] or EVERYONE_CODE, "unaccented": bool(r["unaccented"]),
                           "created_at": iso(r["created_at"]), "expires_at": iso(r["expires_at"]),
                           "at": r["at_local"], "every": r["every"] or "", "ask": r["ask"] or "",
                           **({NOTICE_TEST_PHONE: r["test_phone"]} if r["test_phone"] else {})} for r in rows]
                record(conn, f"kiosk:{kiosk['name']}", "api.fetch", {"notices": ids}, ward=kiosk.get("ward"))
    return {"notices": handed, "cancelled": cancelled, "server_time": iso(moment)}


def _count(body: dict, key: str) -> int:
    value = body.get(key, 0)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < MAX_COUNT:
        raise InvalidInput(f"{key} must be a whole number ≥ 0, got {value!r}")
    return value


def _answers(value) -> dict:
    """A question's counts by answer code, checked: codes like C or K2, whole numbers, a few at most."""
    if value is None:
        return {}
    if not isinstance(value, dict) or len(value) > ANSWER_LIMIT:
        raise InvalidInput(f"answers must be at most {ANSWER_LIMIT} code: count pairs")
    for code in value:
        if not isinstance(code, str) or not ANSWER_CODE_RE.match(code):
            raise InvalidInput(f"answer code {code!r}: 1-3 capital letters or digits")
    return {code: _count(value, code) for code in value}


def report(engine: Engine, kiosk: dict, notice_id: int, body: dict) -> dict:
    """Record a kiosk's progress on one of its notices: state and recipient/sent/delivered/failed counts."""
    state = body.get("state")
    if state not in REPORT_STATES:
        raise InvalidInput(f"state must be one of {', '.join(REPORT_STATES)}, got {state!r}")
    counts = {key: _count(body, key) for key in REPORT_COUNTS}
    extra = {"answers": json.dumps(_answers(body.get(REPORT_ANSWERS)), sort_keys=True),
             "detail": str(body.get(REPORT_DETAIL) or "")[:REPORT_DETAIL_LIMIT]}
    d = db.deliveries
    moment = db.now()
    with db.write(engine) as conn:
        current = conn.execute(sa.select(d.c.state).where(d.c.notice_id == notice_id,
                                                          d.c.kiosk_id == kiosk["id"])).first()
        if current is None:
            raise NotFound(f"notice {notice_id} was not sent to this kiosk")
        # A cancellation made on the hub stands; the kiosk's counts still update.
        new_state = "cancelled" if current.state == "cancelled" else state
        conn.execute(d.update().where(d.c.notice_id == notice_id, d.c.kiosk_id == kiosk["id"])
                     .values(state=new_state, updated_at=moment, **counts, **extra))
        if new_state in ("done", "cancelled", "expired"):
            # The official's own number for a test send is kept only until that one SMS is through.
            conn.execute(db.notices.update().where(db.notices.c.id == notice_id, db.notices.c.test_phone.is_not(None))
                         .values(test_phone=""))
        record(conn, f"kiosk:{kiosk['name']}", "api.report", {"notice": notice_id, "state": new_state, **counts},
               ward=kiosk.get("ward"))
    return {"id": notice_id, "state": new_state, **counts}


def heartbeat(engine: Engine, settings: HubSettings, kiosk: dict, body: dict) -> dict:
    """Store the kiosk's health (whitelisted fields only) and mark it seen now."""
    clean: dict = {}
    for key, limit in HEARTBEAT_TEXT.items():
        if key in body:
            if not isinstance(body[key], str):
                raise InvalidInput(f"{key} must be text")
            clean[key] = body[key][:limit]
    for key in HEARTBEAT_NUMBERS:
        if key in body:
            value = body[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise InvalidInput(f"{key} must be a number ≥ 0")
            clean[key] = value
    if "modem" in body:
        if not isinstance(body["modem"], list) or not all(isinstance(m, dict) for m in body["modem"]):
            raise InvalidInput("modem must be a list of objects")
        plain = (str, int, float, bool, type(None))
        clean["modem"] = [{key: m[key] for key in MODEM_FIELDS if key in m and isinstance(m[key], plain)}
                          for m in body["modem"][:MODEM_LIMIT]]
    if "groups" in body:
        if not isinstance(body["groups"], list) or not all(isinstance(g, dict) for g in body["groups"]):
            raise InvalidInput("groups must be a list of objects")
        clean["groups"] = [{"code": str(g.get("code", ""))[:20].upper(), "name": str(g.get("name", ""))[:GROUP_NAME_LIMIT],
                            "consenting": g["consenting"] if isinstance(g.get("consenting"), int) else 0}
                           for g in body["groups"][:GROUP_LIMIT] if GROUP_CODE_RE.match(str(g.get("code", "")).upper())]
    k = db.kiosks
    moment = db.now()
    with db.write(engine) as conn:
        previous = conn.execute(sa.select(k.c.last_seen).where(k.c.id == kiosk["id"])).scalar()
        conn.execute(k.update().where(k.c.id == kiosk["id"]).values(
            last_seen=moment, heartbeat=json.dumps(clean, ensure_ascii=False)))
        if previous is None or moment - previous > settings.offline_after_seconds:
            record(conn, f"kiosk:{kiosk['name']}", "api.online", {"version": clean.get("version", "")},
                   ward=kiosk.get("ward"))
    return {"ok": True, "server_time": iso(moment), "heartbeat_seconds": settings.heartbeat_seconds}


def is_day(value) -> bool:
    """True for an ISO calendar day as text, exactly: "2026-01-31" (no spaces, no 2026-13-45)."""
    if not isinstance(value, str) or not DAY_RE.fullmatch(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def daily(engine: Engine, kiosk: dict, body: dict) -> dict:
    """Upsert daily totals: {"days": [{"day", "requests", "requests_online", "help_tickets", "sms_parts"}]}."""
    days = body.get("days")
    if not isinstance(days, list) or not days or len(days) > 62:
        raise InvalidInput("days must be a list of 1 to 62 daily totals")
    rows = []
    for entry in days:
        if not isinstance(entry, dict) or not is_day(entry.get("day")):
            raise InvalidInput("each day needs \"day\": \"YYYY-MM-DD\", a real calendar day without spaces")
        counts = {key: _count(entry, key) for key in ("requests", "requests_online", "help_tickets", "sms_parts")}
        if counts["requests_online"] > counts["requests"]:
            raise InvalidInput(f"{entry['day']}: requests_online is more than requests")
        rows.append((entry["day"], counts))
    s = db.daily_stats
    moment = db.now()
    with db.write(engine) as conn:
        for day, counts in rows:
            updated = conn.execute(s.update().where(s.c.kiosk_id == kiosk["id"], s.c.day == day)
                                   .values(updated_at=moment, **counts)).rowcount
            if not updated:
                conn.execute(s.insert().values(kiosk_id=kiosk["id"], day=day, updated_at=moment, **counts))
        record(conn, f"kiosk:{kiosk['name']}", "api.daily", {"days": [day for day, _ in rows]}, ward=kiosk.get("ward"))
    return {"ok": True, "days": len(rows)}
