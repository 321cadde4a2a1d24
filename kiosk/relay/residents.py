"""Residents' SMS keywords: what a text from anyone who is not an official (or an official's text
that is not a command) does.

    any way of saying stop   withdraw consent at once (kiosk.relay.stop_words); the leader is told
    DK <tên>       ask to receive notices (pending until the group leader or the kiosk confirms)
    HS <mã>        the status of a request (only to the phone that handed it in)
    HOTRO <nội dung>  ask for a volunteer: a help ticket, the volunteers on duty are texted
    TAMTRU <nội dung> temporary-residence declaration, forwarded to the area police officer
    anything else  forwarded to the residential-group leader, with the sender's name if known;
                   flagged when it might be a withdrawal the wording leaves uncertain

Keyword routes beyond these are data: `[[relay.routes]]` in the config. Replies are templates
from kiosk.relay.texts; kiosk.relay.router charges every reply to the sender's budget.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sms.storage import Database, Migration

from kiosk import clock
from kiosk.appliance.config import Config, Route
from kiosk.directory import phone as phones
from kiosk.directory import residents as directory
from kiosk.directory.residents import Consent
from kiosk.dossiers import lifecycle as dossiers
from kiosk.dossiers import tracking
from kiosk.errors import InvalidInput, NotFound, TdpError
from kiosk.notices import questions
from kiosk.relay import stop_words, texts
from kiosk.relay.officials import record
from kiosk.relay.texts import Reply
from kiosk.text import clean, fold
from kiosk.volunteers import help_tickets

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
    # The per-number reply limit moved to kiosk.relay.budget (relay_budget).
    Migration("0002_drop_relay_replies", "DROP TABLE relay_replies;"),
]

BUILT_IN_ROUTES = [Route("TAMTRU", "police", "TDP: Da chuyen khai bao tam tru cua ban den Cong an khu vuc.")]
MAX_NAME = 60


def handle(db: Database, config: Config, sender: str, text: str, now: datetime) -> list[Reply]:
    """The replies and forwards one resident's SMS causes (`sender` in E.164, `text` cleaned)."""
    if stop_words.classify(text) == "certain":
        return withdraw(db, config, sender, text, now)
    words = text.split()
    keyword = fold(words[0]).upper()
    rest = text[len(words[0]):].strip()
    if keyword == "DK":
        return _register(db, config, sender, rest, now)
    if keyword == "HS":
        return _status(db, config, sender, rest, now)
    if keyword == "HOTRO":
        return _help(db, config, sender, text, now)
    answer = questions.record_reply(db, sender, text, now)  # "C", "Có ạ": the reply to a question (--ask)
    if answer is not None:
        record(db, sender, "TRALOI", "ok", "counted", f"notice {answer.send_id}: {answer.code}", at=now)
        return [Reply(sender, texts.ANSWER_COUNTED.format(code=answer.code, label=texts.bounded(fold(answer.label).upper(), 30)))]
    for route in [*config.relay.routes, *BUILT_IN_ROUTES]:
        if fold(route.keyword).upper() == keyword:
            return _forward(db, config, sender, route, rest or text, now)
    if stop_words.classify(text) == "uncertain":
        return _forward(db, config, sender, Route("", "leader", ""), text, now, maybe_withdrawal=True)
    return _forward(db, config, sender, Route("", "leader", ""), text, now)


def leader_phone(config: Config) -> str | None:
    try:
        return phones.normalise(config.relay.group_leader_phone)
    except phones.InvalidPhone:
        return None


def _who(db, sender: str) -> str:
    resident = directory.find_resident_by_phone(db, sender)
    if resident is None:
        return phones.national(sender)
    return f"{texts.bounded(resident['full_name'], 40)} ({phones.national(sender)})"


def withdraw(db, config: Config, sender: str, text: str, now: datetime) -> list[Reply]:
    """Consent withdrawn at once, pending DK requests rejected, logged with the words used."""
    phrase = stop_words.phrase(text)
    with db.transaction() as conn:
        resident = directory.find_resident_by_phone(db, sender)
        if resident is not None:
            directory.set_consent(db, sender, Consent(False, "sms", f"SMS '{phrase}'"))
        conn.execute("UPDATE pending_registrations SET state = 'rejected', decided_at = ?, decided_by = 'sms' "
                     "WHERE phone = ? AND state = 'pending'", (clock.utc_stamp(), sender))
        record(db, sender, "HUY", "consent_withdrawn", "", f"{'known resident' if resident else 'unknown number'}: "
                                                          f"{phrase}", at=now)
    replies = [Reply(sender, texts.WITHDRAWN)]
    leader = leader_phone(config)
    if leader and leader != sender:
        replies.append(Reply(leader, texts.WITHDRAWN_TO_LEADER.format(who=_who(db, sender), phrase=phrase),
                             kind="withdrawal"))
    return replies


def _register(db, config: Config, sender: str, name: str, now: datetime) -> list[Reply]:
    name = texts.bounded(clean(name), MAX_NAME)
    if not name:
        record(db, sender, "DK", "malformed", "malformed", "no name", at=now)
        return [Reply(sender, texts.DK_HOW, kind="refusal")]
    with db.transaction() as conn:
        conn.execute("INSERT INTO pending_registrations (phone, full_name, requested_at) VALUES (?, ?, ?)",
                     (sender, name, clock.utc_stamp()))
    record(db, sender, "DK", "pending", "", name, at=now)
    replies = [Reply(sender, texts.DK_PENDING)]
    leader = leader_phone(config)
    if leader:
        replies.append(Reply(leader, texts.DK_TO_LEADER.format(name=name, phone=phones.national(sender)),
                             kind="forward"))
    return replies


def _status(db, config: Config, sender: str, code: str, now: datetime) -> list[Reply]:
    if not clean(code):
        record(db, sender, "HS", "malformed", "malformed", "no code", at=now)
        return [Reply(sender, texts.HS_HOW, kind="refusal")]
    prefix = tracking.prefix(config)
    try:
        found = dossiers.get(db, code, prefix).phone == sender
    except (InvalidInput, NotFound):
        found = False
    record(db, sender, "HS", "ok" if found else "refused", "" if found else "no_dossier", at=now)
    return [Reply(sender, dossiers.status_reply(db, sender, code, prefix), kind="reply" if found else "refusal")]


def _help(db, config: Config, sender: str, text: str, now: datetime) -> list[Reply]:
    # One open ticket per number and hour: repeating HOTRO must not text the volunteers again.
    since = (now - timedelta(hours=1)).isoformat(timespec="seconds")
    ticket = help_tickets.open_for(db, sender, since)
    if ticket is not None:
        record(db, sender, "HOTRO", "already_open", "", ticket["display_number"], at=now)
        return [Reply(sender, texts.HOTRO_OPEN.format(number=ticket["display_number"]))]
    ticket = help_tickets.from_sms(db, config, sender, texts.bounded(text, 500), at=now)
    record(db, sender, "HOTRO", "ticket", "", ticket["display_number"], at=now)
    return [Reply(sender, texts.HOTRO_NEW.format(number=ticket["display_number"]))]


def _forward(db, config: Config, sender: str, route: Route, text: str, now: datetime,
             maybe_withdrawal: bool = False) -> list[Reply]:
    target = {"police": config.relay.police_phone, "leader": config.relay.group_leader_phone}.get(
        route.forward_to, route.forward_to)
    label = texts.code_field(fold(route.keyword)) or "Tin nhan"
    try:
        destination = phones.normalise(target)
    except phones.InvalidPhone:
        record(db, sender, label, "not_forwarded", "no_destination",
               f"no valid phone for {route.forward_to or 'leader'}", at=now)
        return [Reply(sender, texts.NOT_FORWARDED)]
    record(db, sender, label, "forwarded", "maybe_withdrawal" if maybe_withdrawal else "",
           route.forward_to or "leader", at=now)
    template = texts.MAYBE_WITHDRAWAL if maybe_withdrawal else texts.FORWARD
    forward = texts.fit(template.format(label=label, who=_who(db, sender), text=texts.visible(text)),
                        config.sms.max_parts)
    reply = texts.bounded(route.reply, 160) or texts.FORWARDED
    return [Reply(destination, forward, kind="forward"), Reply(sender, reply)]


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
