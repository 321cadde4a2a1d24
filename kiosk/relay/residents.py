"""Residents' SMS keywords, and the inbox handler that routes every incoming SMS.

    DK <tên>       ask to receive notices (pending until the group leader or the kiosk confirms)
    HUY / TUCHOI   stop receiving notices: immediate, always honoured
    HS <mã>        the status of a request (only to the phone that handed it in)
    HOTRO <nội dung>  ask for a volunteer: a help ticket, the volunteers on duty are texted
    TAMTRU <nội dung> temporary-residence declaration, forwarded to the area police officer
    anything else  forwarded to the residential-group leader, with the sender's name if known

Keyword routes beyond these are data: `[[relay.routes]]` in the config. Replies are short and
unaccented so they fit one SMS part, and a resident's number gets at most one automatic reply per
`reply_interval_seconds` however many messages it sends (a flood never becomes a reply storm).
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from sms import outbox
from sms.inbox import InboundMessage
from sms.storage import Database, Migration

from kiosk.directory import residents as directory
from kiosk.dossiers import lifecycle as dossiers
from kiosk.volunteers import help_tickets
from kiosk.directory import phone as phones
from kiosk.dossiers import tracking
from kiosk.appliance.config import Config, Route
from kiosk.directory.residents import Consent
from kiosk.errors import TdpError
from kiosk.relay.officials import Relay, Reply
from kiosk.text import clean, fold
from kiosk import clock

log = logging.getLogger(__name__)

MIGRATIONS = [
    Migration("0001_keywords", """
        CREATE TABLE pending_registrations (
            id INTEGER PRIMARY KEY,
            phone TEXT NOT NULL,
            full_name TEXT NOT NULL,
            requested_at TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'confirmed', 'rejected')),
            decided_at TEXT,
            decided_by TEXT
        );
        CREATE TABLE relay_replies (
            phone TEXT PRIMARY KEY,
            last_reply_at TEXT NOT NULL
        );
    """),
]

BUILT_IN_ROUTES = [Route("TAMTRU", "police", "TDP: Da chuyen khai bao tam tru cua ban den Cong an khu vuc.")]


def handle(db: Database, config: Config, message: InboundMessage, now: datetime | None = None) -> list[Reply]:
    """The replies and forwards one incoming SMS causes; state changes are stored as it goes."""
    relay = Relay(db, config, now)
    text = clean(message.text)
    if not text:
        return []
    if relay.is_command(text) and not _resident_huy(relay, message.sender, text):
        return relay.handle(message.sender, message.sender_type, text)
    if message.sender_type == "alphanumeric" or not phones.is_valid(message.sender):
        relay.audit(message.sender, "", "SMS", "ignored", "not a mobile number (alphanumeric or service)")
        return []
    sender = phones.normalise(message.sender)
    words = text.split()
    keyword = fold(words[0]).upper()
    rest = text[len(words[0]):].strip()
    if keyword == "DK":
        return _register(db, relay, sender, rest)
    if keyword in ("HUY", "TUCHOI"):
        return _withdraw(db, relay, sender)
    if keyword == "HS":
        return _status(db, config, relay, sender, rest)
    if keyword == "HOTRO":
        return _help(db, config, relay, sender, text)
    for route in [*config.relay.routes, *BUILT_IN_ROUTES]:
        if fold(route.keyword).upper() == keyword:
            return _forward(db, config, relay, sender, route, rest or text)
    return _forward(db, config, relay, sender, Route("", "leader", ""), text)


def _resident_huy(relay: Relay, sender: str, text: str) -> bool:
    """A bare HUY is a resident withdrawing consent, even from an official's phone."""
    words = text.split()
    return fold(words[0]).upper() == "HUY" and len(words) == 1


def _register(db, relay: Relay, sender: str, name: str) -> list[Reply]:
    name = clean(name)
    if not name:
        return [Reply(sender, "TDP: De dang ky nhan thong bao, nhan: DK <ho ten>. Vi du: DK Nguyen Van An")]
    with db.transaction() as conn:
        conn.execute("INSERT INTO pending_registrations (phone, full_name, requested_at) VALUES (?, ?, ?)",
                     (sender, name, clock.utc_stamp()))
    relay.audit(sender, "", "DK", "pending", name)
    replies = [Reply(sender, "TDP: Da nhan dang ky. To truong se xac nhan; ban cung co the xac nhan tai kiosk.")]
    leader = relay.leader_phone()
    if leader:
        replies.append(Reply(leader, f"TDP: {name} ({phones.national(sender)}) xin dang ky nhan thong bao. "
                                     "Xac nhan: tdp relay registrations"))
    return replies


def _withdraw(db, relay: Relay, sender: str) -> list[Reply]:
    resident = directory.find_resident_by_phone(db, sender)
    if resident is not None:
        directory.set_consent(db, sender, Consent(False, "sms", "SMS HUY/TUCHOI"))
    with db.transaction() as conn:
        conn.execute("UPDATE pending_registrations SET state = 'rejected', decided_at = ?, decided_by = 'sms' "
                     "WHERE phone = ? AND state = 'pending'", (clock.utc_stamp(), sender))
    relay.audit(sender, "", "HUY", "consent_withdrawn", "known resident" if resident else "unknown number")
    return [Reply(sender, "TDP: Ban se khong nhan thong bao nua. Muon nhan lai: nhan DK <ho ten>.")]


def _status(db, config: Config, relay: Relay, sender: str, code: str) -> list[Reply]:
    relay.audit(sender, "", "HS", "ok")
    if not clean(code):
        return [Reply(sender, "TDP: Nhan HS <ma ho so> (ma in tren giay bien nhan).")]
    prefix = tracking.prefix_for(config.site.residential_group)
    return [Reply(sender, dossiers.status_reply(db, sender, code, prefix))]


def _help(db, config: Config, relay: Relay, sender: str, text: str) -> list[Reply]:
    # One open ticket per number and hour: repeating HOTRO must not text the volunteers again.
    since = (relay.now - timedelta(hours=1)).isoformat(timespec="seconds")
    open_ticket = db.query_one("SELECT id FROM help_tickets WHERE requester_phone = ? AND status != 'closed' "
                               "AND created_at >= ? ORDER BY id DESC LIMIT 1", (sender, since))
    if open_ticket is not None:
        ticket = help_tickets.get(db, open_ticket["id"])
        relay.audit(sender, "", "HOTRO", "already_open", ticket["display_number"])
        return [Reply(sender, f"TDP: Ban da co phieu ho tro so {ticket['display_number']}. "
                              "Tinh nguyen vien se lien lac voi ban.")]
    ticket = help_tickets.from_sms(db, config, sender, text, at=relay.now)
    relay.audit(sender, "", "HOTRO", "ticket", ticket["display_number"])
    return [Reply(sender, f"TDP: Da nhan yeu cau ho tro, phieu so {ticket['display_number']}. "
                          "Tinh nguyen vien se lien lac voi ban.")]


def _forward(db, config: Config, relay: Relay, sender: str, route: Route, text: str) -> list[Reply]:
    target = {"police": config.relay.police_phone, "leader": config.relay.group_leader_phone}.get(
        route.forward_to, route.forward_to)
    resident = directory.find_resident_by_phone(db, sender)
    who = f"{resident['full_name']} ({phones.national(sender)})" if resident else phones.national(sender)
    label = fold(route.keyword).upper() or "Tin nhan"
    try:
        destination = phones.normalise(target)
    except phones.InvalidPhone:
        relay.audit(sender, "", label, "not_forwarded", f"no valid phone for {route.forward_to or 'leader'}")
        return [Reply(sender, "TDP: Da nhan tin nhan cua ban. Xin lien he truc tiep To truong.")]
    relay.audit(sender, "", label, "forwarded", route.forward_to or "leader")
    reply = route.reply or "TDP: Da chuyen tin nhan cua ban den To truong."
    return [Reply(destination, f"{label} tu {who}: {text}"), Reply(sender, reply)]


# -- the inbox handler ----------------------------------------------------------------------------

def make_handler(config: Config):
    """The function the SMS gateway calls for each incoming message (see sms.inbox)."""
    def relay_handler(db: Database, message: InboundMessage) -> None:
        try:
            replies = handle(db, config, message)
        except TdpError as exc:  # bad data in one SMS must not stop the inbox
            log.warning("relay: message %s from %s: %s", message.id, message.sender, exc)
            replies = []
        send(db, config, message, replies)
    return relay_handler


def send(db: Database, config: Config, message: InboundMessage, replies: list[Reply],
         now: datetime | None = None) -> int:
    """Queue replies with keys derived from the message, so a re-handled message queues nothing new.

    A resident's number gets at most one automatic reply, and causes at most one forward (to the
    leader or the police), per `reply_interval_seconds`: a flood never becomes an SMS storm on
    anyone's phone. What is not forwarded stays in the inbox (`tdp sms inbox`) and the audit log.
    Officials' replies and urgent alerts are never held (an official confirming with XN within a
    minute must hear back).
    """
    now = now or datetime.now(timezone.utc)
    officials = {phones.normalise(o.phone) for o in config.relay.officials if phones.is_valid(o.phone)}
    sender = _sender(message)
    queued = 0
    for index, reply in enumerate(replies):
        if reply.to in officials or reply.urgent:
            allowed = True
        elif reply.to == sender:
            allowed = _may_reply(db, config, sender, now)
        else:
            allowed = _may_reply(db, config, f"forward:{sender}", now)
        if not allowed:
            Relay(db, config, now).audit(sender, "", "SMS", "held", f"rate limit: nothing sent to {reply.to}")
            continue
        outbox.enqueue(db, reply.to, reply.text, priority="urgent" if reply.urgent else "normal",
                       key=f"sms-reply:{message.id}:{index}", max_parts=config.sms.max_parts, force=True,
                       source="relay")
        queued += 1
    return queued


def _sender(message: InboundMessage) -> str:
    return phones.normalise(message.sender) if phones.is_valid(message.sender) else message.sender


def _may_reply(db: Database, config: Config, phone: str, now: datetime) -> bool:
    """True (and the time recorded) unless this number got an automatic reply too recently."""
    window = timedelta(seconds=config.relay.reply_interval_seconds)
    with db.transaction() as conn:
        row = conn.execute("SELECT last_reply_at FROM relay_replies WHERE phone = ?", (phone,)).fetchone()
        if row and datetime.fromisoformat(row[0]) > now - window:
            return False
        conn.execute("INSERT OR REPLACE INTO relay_replies (phone, last_reply_at) VALUES (?, ?)",
                     (phone, now.isoformat(timespec="seconds")))
    return True


def pending_registrations(db: Database) -> list[dict]:
    return db.query("SELECT * FROM pending_registrations WHERE state = 'pending' ORDER BY id")


def confirm_registration(db: Database, registration_id: int, by: str) -> dict:
    """The group leader (or a volunteer at the kiosk) confirms a DK request: the resident now consents."""
    row = db.query_one("SELECT * FROM pending_registrations WHERE id = ? AND state = 'pending'", (registration_id,))
    if row is None:
        raise TdpError(f"no pending registration {registration_id}")
    with db.transaction() as conn:
        directory.upsert_resident(db, row["full_name"], row["phone"],
                                  consent=Consent(True, "sms", f"SMS DK confirmed by {clean(by)}"))
        conn.execute("UPDATE pending_registrations SET state = 'confirmed', decided_at = ?, decided_by = ? "
                     "WHERE id = ?", (clock.utc_stamp(), clean(by), registration_id))
    return directory.resident_by_phone(db, row["phone"])
