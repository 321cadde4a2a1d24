"""Requests residents make at the kiosk, and the dossier a volunteer files for them on the portal.

The kiosk takes no document: it records who needs which procedure, gives a code and an estimated
date, and a volunteer then files the dossier on the national portal (dichvucong.gov.vn) and
records the portal's dossier code, official appointment and where the result is collected.

Lifecycle (anything else is refused with the allowed next steps):
    received ──> forwarded ──> result_ready ──> picked_up
        │            │  ^
        │            v  │ (documents brought in, sent up again)
        │      needs_more_documents
        └──────────┴──────┴──> rejected        (from received, forwarded or needs_more_documents)
Recording the portal code moves a received request to forwarded. picked_up and rejected are
final. Every change (creation included) writes a dossier_events row (when, by whom, note) and
queues an SMS to the resident through the outbox, all in ONE transaction: either the change, its
history and its SMS are stored, or nothing is. Rejection needs a reason, a confirmation and a
volunteer whose desk role allows it (kiosk.volunteers.people.may_reject).

Citizen IDs are stored for the ward but only ever leave this module masked ("********1234").
"""
from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sms.outbox import enqueue
from sms.storage import Database, Migration

from kiosk.directory import phone as phones
from kiosk.dossiers import messages
from kiosk.dossiers import portal
from kiosk.dossiers import procedures as catalogue_module
from kiosk.dossiers import tracking
from kiosk.dossiers.workdays import add_working_days
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
    # The portal's dossier (issue 18): its code, the official appointment, where to collect the
    # result, when it was recorded, and which appointment the evening reminder was sent for.
    Migration("0002_dossiers_portal", """
        ALTER TABLE dossiers ADD COLUMN portal_code TEXT;
        ALTER TABLE dossiers ADD COLUMN official_appointment TEXT;
        ALTER TABLE dossiers ADD COLUMN collect_at TEXT NOT NULL DEFAULT '';
        ALTER TABLE dossiers ADD COLUMN portal_recorded_at TEXT;
        ALTER TABLE dossiers ADD COLUMN reminded_for TEXT;
        CREATE UNIQUE INDEX dossiers_portal_code ON dossiers(portal_code) WHERE portal_code IS NOT NULL;
        CREATE INDEX dossiers_official_appointment ON dossiers(official_appointment);
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
# Written from the resident's side; the deciding body may be the police or the land office.
STATUS_LABELS = {
    "received": "Đã ghi nhận yêu cầu", "forwarded": "Đã nộp lên cơ quan giải quyết",
    "needs_more_documents": "Cần bổ sung giấy tờ", "result_ready": "Đã có kết quả",
    "picked_up": "Đã nhận kết quả", "rejected": "Không được giải quyết",
}
# Where the official appointment reminder applies: the dossier is filed and not yet collected.
REMINDED_STATUSES = ("forwarded", "result_ready")
MAX_FILING_DAYS = 30
CHANNELS = ("kiosk", "home", "sms", "in_person")
# Kiosk, home-visit and SMS requests are keyed into the national portal by a volunteer (online);
# a paper dossier handed in at the ward desk is not. The report's 80 % target counts `online`.
ONLINE_BY_CHANNEL = {"kiosk": 1, "home": 1, "sms": 1, "in_person": 0}
_CODE_ATTEMPTS = 20


class InvalidTransition(InvalidInput):
    """A status change the lifecycle does not allow from the dossier's current status."""


class InvalidCitizenId(InvalidInput):
    """Not a 12-digit personal identification number (số định danh cá nhân, on the thẻ căn cước)."""


class NotAllowed(InvalidInput):
    """The change needs something the caller did not give: a reason, a confirmation or a role."""


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
    portal_code: str | None = None
    official_appointment: str | None = None
    collect_at: str = ""
    portal_recorded_at: str | None = None
    reminded_for: str | None = None
    events: list[Event] = field(default_factory=list)

    @property
    def best_appointment(self) -> str | None:
        """The official appointment once the portal gave one, else the kiosk's estimate."""
        return self.official_appointment or self.appointment_date

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
            "portal_code": self.portal_code, "official_appointment": self.official_appointment,
            "collect_at": self.collect_at, "portal_recorded_at": self.portal_recorded_at,
            "next_statuses": list(TRANSITIONS.get(self.status, ())),
            "history": [vars(e) for e in self.events],
        }


def validate_citizen_id(raw: object) -> str | None:
    """The 12 digits of a personal identification number, spaces/dots removed; None when empty.

    The 9-digit CMND stopped being valid on 31/12/2024 (Luật Căn cước 2023, Điều 46), so it is refused."""
    text = re.sub(r"[\s.\-]", "", clean(raw))
    if not text:
        return None
    if not text.isdigit() or len(text) != 12:
        raise InvalidCitizenId(
            f"the personal identification number has 12 digits (thẻ căn cước), got {len(text)} characters")
    return text


def masked_citizen_id(citizen_id: str | None) -> str:
    """'001234561234' → '********1234'; '' when there is none."""
    if not citizen_id:
        return ""
    return "*" * (len(citizen_id) - 4) + citizen_id[-4:]


def _row_to_dossier(row: dict) -> Dossier:
    return Dossier(**{k: row[k] for k in Dossier.__dataclass_fields__ if k != "events"})


def _events(db: Database, dossier_id: int) -> list[Event]:
    return [Event(**r) for r in db.query(
        'SELECT status, at, "by" AS by, note FROM dossier_events WHERE dossier_id = ? ORDER BY id',
        (dossier_id,))]


def _record(conn: sqlite3.Connection, db: Database, dossier_id: int, code: str, phone: str, status: str,
            at: str, by: str, note: str, sms: str, step: str) -> None:
    """One history row and its SMS, inside the caller's transaction."""
    cursor = conn.execute('INSERT INTO dossier_events (dossier_id, status, at, "by", note) VALUES (?, ?, ?, ?, ?)',
                          (dossier_id, status, at, by, note))
    event_id = cursor.lastrowid
    # The event id is in the key: a dossier can pass through a status twice (documents missing
    # twice), and each pass must reach the resident; a retried call with the same event cannot.
    sms_id = enqueue(db, phone, sms, priority="normal", key=f"dossier:{code}:{step}:{event_id}", source="dossier")
    conn.execute("UPDATE dossier_events SET sms_id = ? WHERE id = ?", (sms_id, event_id))


def estimated_date(received_on: date, procedure: catalogue_module.Procedure, filing_days: int) -> date:
    """The kiosk's estimate: the volunteer's filing delay plus the procedure's processing days,
    both in working days (public holidays and Tết skipped)."""
    if isinstance(filing_days, bool) or not isinstance(filing_days, int) or not 0 <= filing_days <= MAX_FILING_DAYS:
        raise InvalidInput(f"[requests] filing_days must be 0 to {MAX_FILING_DAYS} working days, got {filing_days!r}")
    return add_working_days(received_on, filing_days + procedure.processing_days)


def collect_place(dossier: Dossier, catalogue: catalogue_module.Catalogue | None = None) -> str:
    """Where the resident collects the result: what the volunteer recorded, else the procedure's place."""
    if dossier.collect_at:
        return dossier.collect_at
    try:
        return (catalogue or catalogue_module.default()).get(dossier.procedure_code).short_where
    except NotFound:
        return ""


def create(db: Database, *, procedure_code: str, full_name: str, phone: str, citizen_id: str | None = None,
           notes: str = "", channel: str = "kiosk", volunteer: str = "", by: str = "",
           prefix: str = tracking.DEFAULT_PREFIX, timezone: str = "Asia/Ho_Chi_Minh", filing_days: int = 1,
           catalogue: catalogue_module.Catalogue | None = None, today: date | None = None) -> Dossier:
    """Record a new request in status `received`, with its first event and SMS; return it.

    The estimated date is `filing_days` + the procedure's `processing_days` working days after
    `today` (local). A procedure the kiosk does not take (kiosk_request = false) is refused.
    """
    procedure = (catalogue or catalogue_module.default()).get(procedure_code)
    if not procedure.kiosk_request and channel == "kiosk":
        raise NotAllowed(f"{procedure.code} cannot be requested at the kiosk (it needs the resident in person); "
                         "ask a volunteer (nhờ tình nguyện viên hướng dẫn)")
    name = clean(full_name)
    if not name:
        raise InvalidInput("the resident's full name is empty")
    e164 = phones.normalise(phone)
    cid = validate_citizen_id(citizen_id)
    channel = clean(channel).lower().replace("-", "_")
    if channel not in CHANNELS:
        raise InvalidInput(f"channel must be one of {', '.join(CHANNELS)}, got '{channel}'")
    received_on = today or clock.local_today(timezone)
    appointment = estimated_date(received_on, procedure, filing_days).isoformat()
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
        _record(conn, db, cursor.lastrowid, code, e164, "received", stamp, clean(by) or clean(volunteer), "",
                messages.text("received", prefix=prefix, code=code, date=appointment), "received")
    return get(db, code, prefix)


def _resolve(db: Database, raw_code: str, prefix: str) -> str:
    """The stored kiosk code for what someone typed (a kiosk code or a portal dossier code),
    or an error with a "did you mean"."""
    if portal.looks_like(raw_code):
        official = portal.parse(raw_code)
        code = db.scalar("SELECT code FROM dossiers WHERE portal_code = ?", (official,))
        if code is None:
            raise NotFound(f"no request with portal code {official} (không có hồ sơ mã {official})")
        return code
    try:
        code = tracking.parse(raw_code, prefix)
    except tracking.InvalidTrackingCode as exc:
        typed = portal.compact(raw_code)
        if len(typed) >= portal.MIN_COMPACT:  # a portal code typed without its dots and dashes
            found = db.scalar("SELECT code FROM dossiers WHERE portal_code IS NOT NULL "
                              "AND REPLACE(REPLACE(portal_code, '.', ''), '-', '') = ?", (typed,))
            if found:
                return found
        existing = [c for c in tracking.corrections(raw_code, prefix)
                    if db.scalar("SELECT 1 FROM dossiers WHERE code = ?", (c,))]
        if existing:
            raise tracking.InvalidTrackingCode(f"{exc} (did you mean {', '.join(existing[:3])}?)",
                                               f"Mã chưa đúng. Có phải mã {' hoặc '.join(existing[:3])} không?") from None
        raise
    if db.scalar("SELECT 1 FROM dossiers WHERE code = ?", (code,)) is None:
        raise NotFound(f"no dossier with code {code} (không có hồ sơ mã {code})")
    return code


def get(db: Database, raw_code: str, prefix: str = tracking.DEFAULT_PREFIX) -> Dossier:
    """The dossier with its history; the kiosk code may be typed loosely (see tracking.parse),
    or the portal's dossier code given instead."""
    code = _resolve(db, raw_code, prefix)
    dossier = _row_to_dossier(db.query_one("SELECT * FROM dossiers WHERE code = ?", (code,)))
    dossier.events = _events(db, dossier.id)
    return dossier


def _parse_date(raw: str | None, what: str) -> str | None:
    if raw is None or not clean(raw):
        return None
    text = clean(raw)
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        pass
    try:
        return datetime.strptime(text, "%d/%m/%Y").date().isoformat()
    except ValueError:
        raise InvalidInput(f"{what} '{text}' is not a date (YYYY-MM-DD or dd/mm/yyyy)") from None


def record_portal(db: Database, raw_code: str, portal_code: str, *, appointment: str | None = None,
                  where: str = "", by: str = "", prefix: str = tracking.DEFAULT_PREFIX,
                  timezone: str = "Asia/Ho_Chi_Minh") -> Dossier:
    """Link the portal's dossier to the request: its code, the official appointment, where to collect.

    A received request becomes forwarded. The resident gets one SMS with the official code and
    date; recording the same values again changes nothing and sends nothing. A portal code already
    linked to another request is refused.
    """
    today = clock.local_today(timezone)
    official = portal.parse(portal_code, today=today)
    official_date = _parse_date(appointment, "the official appointment")
    if official_date and official_date < today.isoformat():
        raise InvalidInput(f"the official appointment {clock.display_date(official_date)} is in the past")
    place = clean(where)[:120]
    code = _resolve(db, raw_code, prefix)
    stamp = utc_stamp()
    with db.transaction() as conn:
        row = conn.execute("SELECT id, status, phone, portal_code, official_appointment, collect_at, appointment_date "
                           "FROM dossiers WHERE code = ?", (code,)).fetchone()
        dossier_id, current, phone, old_code, old_date, old_place, estimate = row
        if current not in ("received", "forwarded", "needs_more_documents"):
            raise InvalidTransition(f"{code} is {current}; a portal code is recorded before the result is ready")
        other = conn.execute("SELECT code FROM dossiers WHERE portal_code = ? AND id != ?",
                             (official, dossier_id)).fetchone()
        if other:
            raise InvalidInput(f"portal code {official} is already recorded for {other[0]}")
        official_date = official_date or old_date
        place = place or old_place
        if (old_code, old_date, old_place) == (official, official_date, place):
            return get(db, code, prefix)
        status = "forwarded" if current == "received" else current
        conn.execute("UPDATE dossiers SET portal_code = ?, official_appointment = ?, collect_at = ?, "
                     "portal_recorded_at = COALESCE(portal_recorded_at, ?), status = ?, updated_at = ? WHERE id = ?",
                     (official, official_date, place, stamp, status, stamp, dossier_id))
        note = f"Cổng DVC: {official}" + (f", hẹn {clock.display_date(official_date)}" if official_date else "")
        _record(conn, db, dossier_id, code, phone, status, stamp, clean(by), note,
                messages.text("portal", prefix=prefix, code=code, portal_code=official,
                              date=official_date or estimate), "portal")
    return get(db, code, prefix)


def requested_documents(procedure_code: str, chosen: list[str] | tuple[str, ...],
                        catalogue: catalogue_module.Catalogue | None = None) -> list[str]:
    """The documents a volunteer ticked, each one of the procedure's documents (by text or 1-based number)."""
    procedure = (catalogue or catalogue_module.default()).get(procedure_code)
    picked = []
    for item in chosen:
        text = clean(item)
        if text.isdigit() and 1 <= int(text) <= len(procedure.documents):
            picked.append(procedure.documents[int(text) - 1])
        elif text in procedure.documents:
            picked.append(text)
        else:
            numbered = "; ".join(f"{i}. {messages.short_document(d)}" for i, d in enumerate(procedure.documents, 1))
            raise InvalidInput(f"'{text}' is not one of {procedure.code}'s documents ({numbered})")
    return list(dict.fromkeys(picked))


def update_status(db: Database, raw_code: str, status: str, *, by: str = "", note: str = "",
                  documents: list[str] | tuple[str, ...] = (), confirmed: bool = False,
                  prefix: str = tracking.DEFAULT_PREFIX) -> Dossier:
    """Move a dossier to `status` if the lifecycle allows it; record the event and queue the SMS.

    needs_more_documents needs `documents` (ticked from the procedure's list) or a `note`, and
    the SMS names them. rejected needs a reason (`note`), `confirmed=True` and `by` naming a
    volunteer whose desk role may reject (kiosk.volunteers.people.may_reject).
    """
    wanted = clean(status).lower().replace("-", "_")
    if wanted not in STATUSES:
        raise InvalidInput(f"unknown status '{status}' (one of {', '.join(STATUSES)})")
    code = _resolve(db, raw_code, prefix)
    current = get(db, code, prefix)
    reason = clean(note)
    if wanted == "needs_more_documents":
        papers = [messages.short_document(d) for d in requested_documents(current.procedure_code, documents)]
        reason = "; ".join(papers + ([reason] if reason else []))
        if not reason:
            raise NotAllowed("say which documents are missing (tick them from the procedure's list, or a note)")
    if wanted == "rejected":
        from kiosk.volunteers import people  # the desk role lives with the volunteers
        if not reason:
            raise NotAllowed("a rejection needs a reason, which the resident receives")
        if not confirmed:
            raise NotAllowed("a rejection must be confirmed (--confirm)")
        if not people.may_reject(db, by):
            raise NotAllowed(f"'{clean(by) or '-'}' may not reject requests: only officials and senior volunteers")
    stamp = utc_stamp()
    with db.transaction() as conn:
        row = conn.execute("SELECT id, status, phone FROM dossiers WHERE code = ?", (code,)).fetchone()
        dossier_id, now_status, phone = row
        allowed = TRANSITIONS[now_status]
        if wanted not in allowed:
            after = f"allowed next: {', '.join(allowed)}" if allowed else f"{now_status} is final"
            raise InvalidTransition(f"{code} is {now_status}; cannot change it to {wanted} ({after})")
        conn.execute("UPDATE dossiers SET status = ?, updated_at = ? WHERE id = ?", (wanted, stamp, dossier_id))
        sms = messages.text(wanted, prefix=prefix, code=code, portal_code=current.portal_code or "",
                            date=current.best_appointment, note=reason, where=collect_place(current))
        _record(conn, db, dossier_id, code, phone, wanted, stamp, clean(by), reason, sms, wanted)
    return get(db, code, prefix)


def send_reminders(db: Database, *, prefix: str = tracking.DEFAULT_PREFIX, timezone: str = "Asia/Ho_Chi_Minh",
                   evening_hour: int = 18, now: datetime | None = None) -> list[str]:
    """Queue the evening reminder for every filed request whose official appointment is tomorrow.

    Does nothing before `evening_hour` (local). Safe to call every second from the gateway's
    housekeeping or from a timer: a request is reminded once per appointment date (the date is
    stored with the request and the SMS key holds it). Returns the codes reminded by this call.
    """
    local = clock.local_time(timezone, now or clock.utc_now())
    if local.hour < evening_hour:
        return []
    tomorrow = (local.date() + timedelta(days=1)).isoformat()
    wanted = ", ".join("?" for _ in REMINDED_STATUSES)
    due = db.query(f"SELECT code FROM dossiers WHERE official_appointment = ? AND status IN ({wanted}) "
                   "AND (reminded_for IS NULL OR reminded_for != ?)", (tomorrow, *REMINDED_STATUSES, tomorrow))
    reminded = []
    for row in due:
        dossier = get(db, row["code"], prefix)
        sms = messages.text("reminder", prefix=prefix, code=dossier.code, portal_code=dossier.portal_code or "",
                            date=tomorrow, where=collect_place(dossier))
        with db.transaction() as conn:
            claimed = conn.execute("UPDATE dossiers SET reminded_for = ? WHERE id = ? AND "
                                   "(reminded_for IS NULL OR reminded_for != ?)", (tomorrow, dossier.id, tomorrow))
            if claimed.rowcount:
                enqueue(db, dossier.phone, sms, priority="normal", key=f"dossier:{dossier.code}:reminder:{tomorrow}",
                        source="dossier")
                reminded.append(dossier.code)
    return reminded


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
    official = f" Mã Cổng DVC: {dossier.portal_code}." if dossier.portal_code else ""
    kind = "Hẹn" if dossier.official_appointment else "Hẹn dự kiến"
    when = (f" {kind}: {clock.display_date(dossier.best_appointment)}."
            if dossier.status in ("received", "forwarded") else "")
    return f"Hồ sơ {dossier.code}: {dossier.status_label}.{official}{when}"
