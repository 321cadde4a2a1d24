"""Requests (dossiers, hồ sơ) handed in at the kiosk: tracking codes, a status lifecycle, SMS on change.

Lifecycle (anything else is refused with the allowed next steps):
    received ──> forwarded ──> result_ready ──> picked_up
        │            │  ^
        │            v  │ (documents brought in, sent up again)
        │      needs_more_documents
        └──────────┴──────┴──> rejected        (from received, forwarded or needs_more_documents)
picked_up and rejected are final. Every change (creation included) writes a dossier_events row
(when, by whom, note) and queues an SMS to the resident through the outbox, all in ONE
transaction: either the change, its history and its SMS are stored, or nothing is.

Citizen IDs are stored for the ward but only ever leave this module masked ("********1234").
"""
from __future__ import annotations

import re
import sqlite3
import tomllib
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

from sms.outbox import enqueue
from sms.storage import Database, Migration

from kiosk.directory import phone as phones
from kiosk.dossiers import procedures as catalogue_module
from kiosk.dossiers import tracking
from kiosk.clock import utc_stamp
from kiosk.errors import InvalidInput, NotFound
from kiosk.text import clean
from kiosk import clock

MIGRATIONS = [
    Migration("0001_dossiers", """
        CREATE TABLE dossiers (
            id INTEGER PRIMARY KEY,
            code TEXT NOT NULL UNIQUE,
            procedure_code TEXT NOT NULL,
            procedure_name TEXT NOT NULL DEFAULT '',
            full_name TEXT NOT NULL,
            phone TEXT NOT NULL,
            citizen_id TEXT,
            notes TEXT NOT NULL DEFAULT '',
            channel TEXT NOT NULL CHECK (channel IN ('kiosk', 'home', 'sms', 'in_person')),
            online INTEGER NOT NULL CHECK (online IN (0, 1)),
            status TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            appointment_date TEXT,
            volunteer TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX dossiers_phone ON dossiers(phone);
        CREATE INDEX dossiers_status ON dossiers(status);
        CREATE INDEX dossiers_created ON dossiers(created_at);
        CREATE TABLE dossier_events (
            id INTEGER PRIMARY KEY,
            dossier_id INTEGER NOT NULL REFERENCES dossiers(id) ON DELETE CASCADE,
            status TEXT NOT NULL,
            at TEXT NOT NULL,
            "by" TEXT NOT NULL DEFAULT '',
            note TEXT NOT NULL DEFAULT '',
            sms_id INTEGER
        );
        CREATE INDEX dossier_events_dossier ON dossier_events(dossier_id);
    """),
]

STATUSES = ("received", "forwarded", "needs_more_documents", "result_ready", "picked_up", "rejected")
TRANSITIONS = {
    "received": ("forwarded", "rejected"),
    "forwarded": ("needs_more_documents", "result_ready", "rejected"),
    "needs_more_documents": ("forwarded", "rejected"),
    "result_ready": ("picked_up",),
    "picked_up": (),
    "rejected": (),
}
STATUS_LABELS = {
    "received": "Đã tiếp nhận", "forwarded": "Đã chuyển phường", "needs_more_documents": "Cần bổ sung giấy tờ",
    "result_ready": "Đã có kết quả", "picked_up": "Đã trả kết quả", "rejected": "Không giải quyết",
}
CHANNELS = ("kiosk", "home", "sms", "in_person")
# Kiosk, home-visit and SMS requests are keyed into the national portal by a volunteer (online);
# a paper dossier handed in at the ward desk is not. The report's 80 % target counts `online`.
ONLINE_BY_CHANNEL = {"kiosk": 1, "home": 1, "sms": 1, "in_person": 0}
TEMPLATES_PATH = Path(__file__).resolve().parents[1] / "data" / "sms_templates.toml"
_PLACEHOLDER = re.compile(r"{(\w*)}")
_CODE_ATTEMPTS = 20


class InvalidTransition(InvalidInput):
    """A status change the lifecycle does not allow from the dossier's current status."""


class InvalidCitizenId(InvalidInput):
    """Not a 12-digit citizen ID (CCCD/căn cước) nor a 9-digit old ID card (CMND)."""


@dataclass
class Event:
    status: str
    at: str
    by: str
    note: str


@dataclass
class Dossier:
    """A request as stored; `citizen_id` is private: show `masked_citizen_id` instead."""
    id: int
    code: str
    procedure_code: str
    procedure_name: str
    full_name: str
    phone: str
    citizen_id: str | None
    notes: str
    channel: str
    online: int
    status: str
    created_at: str
    updated_at: str
    appointment_date: str | None
    volunteer: str
    events: list[Event] = field(default_factory=list)

    @property
    def masked_citizen_id(self) -> str:
        return masked_citizen_id(self.citizen_id)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    def public(self) -> dict:
        """Everything safe to show or print: citizen ID masked, phone masked."""
        return {
            "code": self.code, "procedure_code": self.procedure_code, "procedure_name": self.procedure_name,
            "full_name": self.full_name, "phone": phones.masked(self.phone),
            "citizen_id": self.masked_citizen_id, "notes": self.notes, "channel": self.channel,
            "online": bool(self.online), "status": self.status, "status_label": self.status_label,
            "created_at": self.created_at, "updated_at": self.updated_at,
            "appointment_date": self.appointment_date, "volunteer": self.volunteer,
            "next_statuses": list(TRANSITIONS.get(self.status, ())),
            "history": [vars(e) for e in self.events],
        }


def validate_citizen_id(raw: object) -> str | None:
    """Digits of a CCCD (12) or CMND (9) with spaces/dots removed; None when empty."""
    text = re.sub(r"[\s.\-]", "", clean(raw))
    if not text:
        return None
    if not text.isdigit() or len(text) not in (9, 12):
        raise InvalidCitizenId(
            f"citizen ID must be 12 digits (căn cước/CCCD) or 9 digits (CMND), got {len(text)} characters")
    return text


def masked_citizen_id(citizen_id: str | None) -> str:
    """'001234561234' → '********1234'; '' when there is none."""
    if not citizen_id:
        return ""
    return "*" * (len(citizen_id) - 4) + citizen_id[-4:]


def add_working_days(start: date, days: int) -> date:
    """The date `days` working days (Monday-Friday) after `start`; 0 → start, or the next Monday.

    Public holidays are not known to the kiosk; staff move the date by hand when one falls inside.
    """
    day = start
    while day.weekday() >= 5:
        day += timedelta(days=1)
    for _ in range(days):
        day += timedelta(days=1)
        while day.weekday() >= 5:
            day += timedelta(days=1)
    return day


@lru_cache(maxsize=4)
def load_templates(path: str | None = None) -> dict[str, str]:
    """Per-status SMS texts from sms_templates.toml, checked: every status, known placeholders only."""
    file = Path(path) if path else TEMPLATES_PATH
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InvalidInput(f"{file}: cannot read SMS templates: {exc}") from None
    section = raw.get("dossier", {})
    missing = [s for s in STATUSES if not isinstance(section.get(s), str) or not clean(section.get(s))]
    if missing:
        raise InvalidInput(f"{file}: [dossier] needs a text for {', '.join(missing)}")
    for status, text in section.items():
        unknown = set(_PLACEHOLDER.findall(text)) - {"code", "date"}
        if unknown:
            raise InvalidInput(f"{file}: [dossier] {status}: unknown placeholder {{{sorted(unknown)[0]}}} "
                               "(use {code} or {date})")
    return {s: clean(section[s]) for s in STATUSES}


def sms_text(status: str, code: str, appointment_date: str | None, templates: dict | None = None) -> str:
    templates = templates or load_templates()
    return templates[status].format(code=code, date=clock.display_date(appointment_date) or "-")


def _row_to_dossier(row: dict) -> Dossier:
    return Dossier(**{k: row[k] for k in Dossier.__dataclass_fields__ if k != "events"})


def _events(db: Database, dossier_id: int) -> list[Event]:
    return [Event(**r) for r in db.query(
        'SELECT status, at, "by" AS by, note FROM dossier_events WHERE dossier_id = ? ORDER BY id',
        (dossier_id,))]


def _record(conn: sqlite3.Connection, db: Database, dossier_id: int, code: str, phone: str, status: str,
            appointment_date: str | None, at: str, by: str, note: str) -> None:
    """One history row and its SMS, inside the caller's transaction."""
    cursor = conn.execute('INSERT INTO dossier_events (dossier_id, status, at, "by", note) VALUES (?, ?, ?, ?, ?)',
                          (dossier_id, status, at, by, note))
    event_id = cursor.lastrowid
    # The event id is in the key: a dossier can pass through a status twice (documents missing
    # twice), and each pass must reach the resident; a retried call with the same event cannot.
    sms_id = enqueue(db, phone, sms_text(status, code, appointment_date), priority="normal",
                     key=f"dossier:{code}:{status}:{event_id}", source="dossier")
    conn.execute("UPDATE dossier_events SET sms_id = ? WHERE id = ?", (sms_id, event_id))


def create(db: Database, *, procedure_code: str, full_name: str, phone: str, citizen_id: str | None = None,
           notes: str = "", channel: str = "kiosk", volunteer: str = "", by: str = "",
           prefix: str = tracking.DEFAULT_PREFIX, timezone: str = "Asia/Ho_Chi_Minh",
           catalogue: catalogue_module.Catalogue | None = None, today: date | None = None) -> Dossier:
    """Record a new request in status `received`, with its first event and SMS; return it.

    The appointment date is the procedure's `processing_days` working days after `today` (local).
    """
    procedure = (catalogue or catalogue_module.default()).get(procedure_code)
    name = clean(full_name)
    if not name:
        raise InvalidInput("the resident's full name is empty")
    e164 = phones.normalise(phone)
    cid = validate_citizen_id(citizen_id)
    channel = clean(channel).lower().replace("-", "_")
    if channel not in CHANNELS:
        raise InvalidInput(f"channel must be one of {', '.join(CHANNELS)}, got '{channel}'")
    received_on = today or clock.local_today(timezone)
    appointment = add_working_days(received_on, procedure.processing_days).isoformat()
    stamp = utc_stamp()
    with db.transaction() as conn:
        for _ in range(_CODE_ATTEMPTS):
            code = tracking.new_code(prefix, received_on)
            if conn.execute("SELECT 1 FROM dossiers WHERE code = ?", (code,)).fetchone() is None:
                break
        else:
            raise InvalidInput(f"no free tracking code left for {received_on:%m/%Y}; widen the serial")
        cursor = conn.execute(
            """INSERT INTO dossiers (code, procedure_code, procedure_name, full_name, phone, citizen_id, notes,
                   channel, online, status, created_at, updated_at, appointment_date, volunteer)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'received', ?, ?, ?, ?)""",
            (code, procedure.code, procedure.name, name, e164, cid, clean(notes), channel,
             ONLINE_BY_CHANNEL[channel], stamp, stamp, appointment, clean(volunteer)))
        _record(conn, db, cursor.lastrowid, code, e164, "received", appointment, stamp,
                clean(by) or clean(volunteer), "")
    return get(db, code, prefix)


def _resolve(db: Database, raw_code: str, prefix: str) -> str:
    """The stored code for what someone typed, or an error with a "did you mean"."""
    try:
        code = tracking.parse(raw_code, prefix)
    except tracking.InvalidTrackingCode as exc:
        existing = [c for c in tracking.corrections(raw_code, prefix)
                    if db.scalar("SELECT 1 FROM dossiers WHERE code = ?", (c,))]
        if existing:
            raise tracking.InvalidTrackingCode(f"{exc} (did you mean {', '.join(existing[:3])}?)") from None
        raise
    if db.scalar("SELECT 1 FROM dossiers WHERE code = ?", (code,)) is None:
        raise NotFound(f"no dossier with code {code} (không có hồ sơ mã {code})")
    return code


def get(db: Database, raw_code: str, prefix: str = tracking.DEFAULT_PREFIX) -> Dossier:
    """The dossier with its history; the code may be typed loosely (see tracking.parse)."""
    code = _resolve(db, raw_code, prefix)
    dossier = _row_to_dossier(db.query_one("SELECT * FROM dossiers WHERE code = ?", (code,)))
    dossier.events = _events(db, dossier.id)
    return dossier


def update_status(db: Database, raw_code: str, status: str, *, by: str = "", note: str = "",
                  prefix: str = tracking.DEFAULT_PREFIX) -> Dossier:
    """Move a dossier to `status` if the lifecycle allows it; record the event and queue the SMS."""
    wanted = clean(status).lower().replace("-", "_")
    if wanted not in STATUSES:
        raise InvalidInput(f"unknown status '{status}' (one of {', '.join(STATUSES)})")
    code = _resolve(db, raw_code, prefix)
    stamp = utc_stamp()
    with db.transaction() as conn:
        row = conn.execute("SELECT id, status, phone, appointment_date FROM dossiers WHERE code = ?",
                           (code,)).fetchone()
        dossier_id, current, phone, appointment = row
        allowed = TRANSITIONS[current]
        if wanted not in allowed:
            after = f"allowed next: {', '.join(allowed)}" if allowed else f"{current} is final"
            raise InvalidTransition(f"{code} is {current}; cannot change it to {wanted} ({after})")
        conn.execute("UPDATE dossiers SET status = ?, updated_at = ? WHERE id = ?", (wanted, stamp, dossier_id))
        _record(conn, db, dossier_id, code, phone, wanted, appointment, stamp, clean(by), clean(note))
    return get(db, code, prefix)


def list_dossiers(db: Database, *, status: str | None = None, phone: str | None = None,
                  limit: int = 500) -> list[Dossier]:
    """Newest first, optionally only one status and/or one resident's phone (without history)."""
    where, params = [], []
    if status:
        wanted = clean(status).lower().replace("-", "_")
        if wanted not in STATUSES:
            raise InvalidInput(f"unknown status '{status}' (one of {', '.join(STATUSES)})")
        where.append("status = ?")
        params.append(wanted)
    if phone:
        where.append("phone = ?")
        params.append(phones.normalise(phone))
    sql = "SELECT * FROM dossiers" + (" WHERE " + " AND ".join(where) if where else "")
    rows = db.query(sql + " ORDER BY id DESC LIMIT ?", (*params, limit))
    return [_row_to_dossier(r) for r in rows]


_CODE_SHAPED = re.compile(r"[A-Z0-9-]{1,16}")


def status_reply(db: Database, sender: str, raw_code: str, prefix: str = tracking.DEFAULT_PREFIX) -> str:
    """Reply to an "HS <code>" SMS. Only the phone that handed the dossier in learns its status."""
    # Never the sender's own words: a spoofed sender would make the ward's SIM say anything.
    shown = clean(raw_code).upper()
    shown = f" {shown}" if _CODE_SHAPED.fullmatch(shown) else ""
    try:
        dossier = get(db, raw_code, prefix)
    except (InvalidInput, NotFound):
        return f"Không tìm thấy hồ sơ{shown}. Kiểm tra lại mã trên giấy biên nhận."
    if dossier.phone != phones.normalise(sender):
        return f"Không tìm thấy hồ sơ{shown}. Kiểm tra lại mã trên giấy biên nhận."
    when = f" Hẹn trả: {clock.display_date(dossier.appointment_date)}." if dossier.status in ("received", "forwarded") else ""
    return f"Hồ sơ {dossier.code}: {dossier.status_label}.{when}"
