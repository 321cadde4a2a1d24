"""Help tickets: a resident asks for a volunteer; a volunteer helps and records the outcome.

A ticket comes from the kiosk ("Gọi tình nguyện viên" or the GPIO button), from an SMS
(`HOTRO <text>`), or from a volunteer planning a home visit to a vulnerable household. It gets a
short number for display ("017", counted per local day), is assigned to the least busy volunteer
on duty, and the volunteers on duty are told by SMS through the outbox (the team leaders when
nobody is on duty). It is closed with an outcome: the procedure, the channel, whether the dossier
was submitted online, and the minutes spent; the ward report counts those with SQL.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone

from sms.storage import Database, Migration

from kiosk.directory import phone as phones
from kiosk.volunteers import people as vols
from kiosk.appliance.config import Config
from kiosk.errors import InvalidInput, NotFound
from kiosk.text import clean, fold
from kiosk import clock
from kiosk.volunteers import duty

MIGRATIONS = [
    Migration("0001_help_tickets", """
        CREATE TABLE help_tickets (
            id INTEGER PRIMARY KEY,
            day TEXT NOT NULL,
            number INTEGER NOT NULL,
            source TEXT NOT NULL CHECK (source IN ('kiosk', 'sms', 'home_visit')),
            note TEXT NOT NULL DEFAULT '',
            requester_phone TEXT,
            address TEXT NOT NULL DEFAULT '',
            vulnerability TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'assigned', 'closed')),
            volunteer_id INTEGER REFERENCES volunteers(id) ON DELETE SET NULL,
            created_by INTEGER REFERENCES volunteers(id) ON DELETE SET NULL,
            created_at TEXT NOT NULL,
            assigned_at TEXT,
            closed_at TEXT,
            procedure TEXT,
            channel TEXT CHECK (channel IN ('online_kiosk', 'online_home', 'in_person')),
            submitted_online INTEGER,
            minutes INTEGER,
            UNIQUE (day, number)
        );
        CREATE INDEX help_tickets_created ON help_tickets(created_at);
        CREATE INDEX help_tickets_status ON help_tickets(status);
    """),
]

SOURCES = {"kiosk": "Tại kiosk", "sms": "Qua SMS (HOTRO)", "home_visit": "Thăm hộ yếu thế"}
CHANNELS = {"online_kiosk": "Trực tuyến tại kiosk", "online_home": "Trực tuyến tại nhà",
            "in_person": "Trực tiếp tại quầy"}
VULNERABILITIES = {"elderly": "Người cao tuổi", "disabled": "Người khuyết tật", "poor": "Hộ nghèo/cận nghèo"}
_VULNERABILITY_WORDS = {"elderly": "elderly", "nguoicaotuoi": "elderly", "caotuoi": "elderly",
                        "disabled": "disabled", "khuyettat": "disabled", "nguoikhuyettat": "disabled",
                        "poor": "poor", "honngheo": "poor", "hongheo": "poor", "ngheo": "poor", "cangheo": "poor"}
MAX_MINUTES = 12 * 60


def display_number(ticket: dict) -> str:
    """The number a resident sees and says: three digits, e.g. "017"."""
    return f"{ticket['number']:03d}"


def _vulnerability(raw: str | None) -> str:
    if not raw:
        return ""
    key = fold(raw)
    if key not in _VULNERABILITY_WORDS:
        raise InvalidInput(f"unknown vulnerable group '{raw}': use elderly, disabled or poor")
    return _VULNERABILITY_WORDS[key]


def create(db: Database, config: Config, source: str, *, note: str = "", phone: str | None = None,
           address: str = "", vulnerability: str | None = None, created_by: str | None = None,
           at: datetime | None = None) -> dict:
    """Open a ticket, assign it and notify; returns the ticket plus `notified` (national phones).

    source: kiosk | sms | home_visit. A home visit is created by a volunteer (`created_by`, name or
    phone) for a vulnerable household and is assigned to them without an SMS.
    """
    if source not in SOURCES:
        raise InvalidInput(f"unknown ticket source '{source}': use {', '.join(SOURCES)}")
    at = at or datetime.now(timezone.utc)
    requester = phones.normalise(phone) if phone else None
    if source == "sms" and not requester:
        raise InvalidInput("an SMS ticket needs the sender's phone")
    creator = vols.get_by_name_or_phone(db, created_by) if created_by else None
    if source == "home_visit":
        if creator is None:
            raise InvalidInput("a home visit ticket needs the volunteer who creates it (--by)")
        if not clean(address):
            raise InvalidInput("a home visit ticket needs the household's address")
        if not vulnerability:
            raise InvalidInput("a home visit is for a vulnerable household: give elderly, disabled or poor")
    day = clock.local_today(config.site.timezone, at).isoformat()
    stamp = clock.utc_stamp(at)
    with db.transaction() as conn:
        number = conn.execute("SELECT COALESCE(MAX(number), 0) + 1 FROM help_tickets WHERE day = ?", (day,)).fetchone()[0]
        ticket_id = conn.execute(
            "INSERT INTO help_tickets (day, number, source, note, requester_phone, address, vulnerability, created_by, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (day, number, source, clean(note)[:500], requester, clean(address), _vulnerability(vulnerability),
             creator["id"] if creator else None, stamp)).lastrowid
        if creator is not None:
            _assign(conn, ticket_id, creator["id"], stamp)
            notified = []
        else:
            notified = _assign_and_notify(db, conn, config, ticket_id, at)
    ticket = get(db, ticket_id)
    ticket["notified"] = notified
    return ticket


def from_sms(db: Database, config: Config, sender: str, text: str, at: datetime | None = None) -> dict:
    """A ticket for `HOTRO <text>` sent by `sender`; the keyword itself is dropped from the note."""
    note = re.sub(r"^\s*hotro\b[\s:,.-]*", "", clean(text), flags=re.IGNORECASE)
    return create(db, config, "sms", note=note, phone=sender, at=at)


def _assign(conn, ticket_id: int, volunteer_id: int, stamp: str) -> None:
    conn.execute("UPDATE help_tickets SET volunteer_id = ?, status = 'assigned', assigned_at = ? WHERE id = ?",
                 (volunteer_id, stamp, ticket_id))


def _assign_and_notify(db: Database, conn, config: Config, ticket_id: int, at: datetime) -> list[str]:
    from sms.outbox import enqueue

    present = duty.on_duty(db, at)
    stamp = clock.utc_stamp(at)
    assignee = None
    if present:
        busy = dict(conn.execute("SELECT volunteer_id, COUNT(*) FROM help_tickets WHERE status = 'assigned' "
                                 "GROUP BY volunteer_id").fetchall())
        # Someone physically checked in beats someone only rostered; then the least busy.
        assignee = min(present, key=lambda v: (not v["checked_in"], busy.get(v["id"], 0), v["id"]))
        _assign(conn, ticket_id, assignee["id"], stamp)
        recipients = present
    else:
        recipients = [v for v in vols.list_volunteers(db, active_only=True) if v["role"] == "leader"]
    ticket = _row(conn, ticket_id)
    text = _notice_text(ticket, assignee)
    for person in recipients:
        enqueue(db, person["phone"], text, priority="urgent", key=f"help-ticket:{ticket_id}:{person['id']}",
                source="help_ticket")
    return [phones.national(p["phone"]) for p in recipients]


def _notice_text(ticket: dict, assignee: dict | None) -> str:
    where = {"kiosk": "tại Nhà văn hóa (kiosk)",
             "sms": f"qua SMS từ {phones.national(ticket['requester_phone'] or '')}"}.get(ticket["source"], "")
    text = f"TDP: Phiếu hỗ trợ số {display_number(ticket)} {where}."
    if ticket["note"]:
        text += f" Nội dung: {ticket['note'][:80]}."
    text += f" Người nhận: {assignee['name']}." if assignee else " Chưa có ai trực, nhờ tổ trưởng bố trí."
    return text


def _row(conn, ticket_id: int) -> dict:
    cursor = conn.execute("SELECT * FROM help_tickets WHERE id = ?", (ticket_id,))
    row = cursor.fetchone()
    return dict(zip([d[0] for d in cursor.description], row))


def get(db: Database, ticket_id: int) -> dict:
    rows = _list(db, "t.id = ?", (ticket_id,))
    if not rows:
        raise NotFound(f"no help ticket #{ticket_id}")
    return rows[0]


def get_by_number(db: Database, ref: str) -> dict:
    """A ticket by its display number ("017", "17": the latest with that number, open ones first) or "#id"."""
    text = re.sub(r"^(số|so|no\.?)\s*", "", clean(ref), flags=re.IGNORECASE)
    if text.startswith("#") and text[1:].isdigit():
        return get(db, int(text[1:]))
    if not text.isdigit():
        raise InvalidInput(f"'{clean(ref)}' is not a ticket number: use the number shown, e.g. 017")
    row = db.query_one("SELECT id FROM help_tickets WHERE number = ? ORDER BY status = 'closed', created_at DESC, id DESC "
                       "LIMIT 1", (int(text),))
    if row is None:
        raise NotFound(f"no help ticket number {int(text):03d}")
    return get(db, row["id"])


def assign(db: Database, ref: str, name_or_phone: str, at: datetime | None = None) -> dict:
    """Give a ticket to a volunteer (or move it to another one); closed tickets are refused."""
    ticket, volunteer = get_by_number(db, ref), vols.get_by_name_or_phone(db, name_or_phone)
    if ticket["status"] == "closed":
        raise InvalidInput(f"ticket {display_number(ticket)} is already closed")
    if not volunteer["active"]:
        raise vols.VolunteerError(f"volunteer {volunteer['name']} is inactive")
    with db.transaction() as conn:
        _assign(conn, ticket["id"], volunteer["id"], clock.utc_stamp(at))
    return get(db, ticket["id"])


def close(db: Database, ref: str, *, procedure: str, channel: str, submitted_online: bool, minutes: int,
          volunteer: str | None = None, at: datetime | None = None) -> dict:
    """Close a ticket with its outcome. `volunteer` (name or phone) is who helped, if not the assignee."""
    ticket = get_by_number(db, ref)
    if ticket["status"] == "closed":
        raise InvalidInput(f"ticket {display_number(ticket)} is already closed")
    procedure = clean(procedure)
    if not procedure:
        raise InvalidInput("say which procedure the resident was helped with (--procedure)")
    if channel not in CHANNELS:
        raise InvalidInput(f"unknown channel '{channel}': use {', '.join(CHANNELS)}")
    if channel == "in_person" and submitted_online:
        raise InvalidInput("an in-person (at the counter) outcome cannot be submitted online")
    if not isinstance(minutes, int) or not 0 <= minutes <= MAX_MINUTES:
        raise InvalidInput(f"minutes must be a whole number from 0 to {MAX_MINUTES}")
    helper = vols.get_by_name_or_phone(db, volunteer) if volunteer else None
    if helper is None and ticket["volunteer_id"] is None:
        raise InvalidInput(f"ticket {display_number(ticket)} has no volunteer: say who helped (--volunteer)")
    with db.transaction() as conn:
        if helper is not None:
            _assign(conn, ticket["id"], helper["id"], ticket["assigned_at"] or clock.utc_stamp(at))
        conn.execute("UPDATE help_tickets SET status = 'closed', closed_at = ?, procedure = ?, channel = ?, "
                     "submitted_online = ?, minutes = ? WHERE id = ?",
                     (clock.utc_stamp(at), procedure, channel, int(bool(submitted_online)), minutes, ticket["id"]))
    return get(db, ticket["id"])


def list_tickets(db: Database, status: str | None = None, day: str | None = None) -> list[dict]:
    """Tickets, newest first; optionally only one status (open|assigned|closed) or one local day."""
    clauses, params = [], []
    if status:
        if status not in ("open", "assigned", "closed"):
            raise InvalidInput("status must be open, assigned or closed")
        clauses.append("t.status = ?")
        params.append(status)
    if day:
        clauses.append("t.day = ?")
        params.append(day)
    return _list(db, " AND ".join(clauses) or "1", params)


def _list(db: Database, where: str, params) -> list[dict]:
    rows = db.query(f"SELECT t.* FROM help_tickets t WHERE {where} ORDER BY t.created_at DESC, t.id DESC", params)
    names: dict[int, dict] = {}
    for row in rows:
        helper = row["volunteer_id"] and names.setdefault(row["volunteer_id"], vols.get(db, row["volunteer_id"]))
        row["volunteer_name"] = helper["name"] if helper else None
        row["volunteer_phone"] = helper["phone"] if helper else None
        row["display_number"] = display_number(row)
        row["submitted_online"] = None if row["submitted_online"] is None else bool(row["submitted_online"])
    return rows


def open_for(db: Database, phone: str, since: str) -> dict | None:
    """The newest ticket `phone` asked for at or after `since` (ISO UTC) that is not closed, or None."""
    row = db.query_one("SELECT id FROM help_tickets WHERE requester_phone = ? AND status != 'closed' "
                       "AND created_at >= ? ORDER BY id DESC LIMIT 1", (phone, since))
    return get(db, row["id"]) if row else None
