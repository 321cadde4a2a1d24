"""The router of every incoming SMS, and the budget every automatic reply is charged to.

handle() decides who a message is from: only numbers on `[[relay.officials]]` are parsed as
officials' commands (kiosk.relay.officials), and as soon as one is, the PIN is masked in the
stored inbox text; everyone else (and an official's text that is not a command, or that says
stop) goes through the residents' keywords (kiosk.relay.residents). Alphanumeric and service
senders are logged and ignored.

send() queues what handle() returned, each SMS within `sms.max_parts` and charged to the
incoming number's budget (kiosk.relay.budget); what is over budget is written to the audit log
(outcome "held") and never sent. make_handler() is what the gateway calls; no message can make
it raise.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from sms import inbox, outbox
from sms.errors import SmsError
from sms.inbox import InboundMessage
from sms.storage import Database

from kiosk.appliance.config import Config
from kiosk.directory import phone as phones
from kiosk.directory import residents as directory
from kiosk.relay import budget, officials, residents, stop_words, texts
from kiosk.relay.officials import Relay, record
from kiosk.relay.texts import Reply
from kiosk.text import clean

log = logging.getLogger(__name__)


def _no_surrogates(value: object) -> str:
    return "".join(c for c in str(value or "") if not 0xD800 <= ord(c) <= 0xDFFF)


def _sender(message: InboundMessage) -> str:
    raw = _no_surrogates(message.sender)
    return phones.normalise(raw) if phones.is_valid(raw) else raw


def _is_official_command(text: str) -> bool:
    if not officials.is_command(text):
        return False
    words = text.split()
    # "HUY" alone, "HUY DK", "Huỷ nhận tin" from an official's phone: that person saying stop.
    # "HUY <PIN> <id>" is the command.
    return not (stop_words.classify(text) == "certain" and (len(words) == 1 or not words[1].isdigit()))


def handle(db: Database, config: Config, message: InboundMessage, now: datetime | None = None) -> list[Reply]:
    """The replies and forwards one incoming SMS causes; state changes are stored as it goes."""
    now = now or datetime.now(timezone.utc)
    text = clean(_no_surrogates(message.text))
    sender = _sender(message)
    if message.sender_type == "alphanumeric" or not phones.is_valid(sender):
        record(db, sender, "SMS", "ignored", "not_mobile", "not a mobile number (alphanumeric or service)", at=now)
        return []
    if not texts.visible(text).strip():
        record(db, sender, "SMS", "ignored", "empty", "nothing visible in the message", at=now)
        return []
    if sender in officials.officials_by_phone(config) and _is_official_command(text):
        inbox.redact(db, message.id, officials.redacted(text))
        return Relay(db, config, now).handle(sender, text)
    if officials.looks_like_pin_command(text):
        # An official on someone else's phone, or a guess: either way the PIN is kept nowhere.
        text = officials.redacted(text)
        inbox.redact(db, message.id, text)
    return residents.handle(db, config, sender, text, now)


def _limits(config: Config, kind: str, official: bool, known: bool) -> budget.Limits:
    return budget.Limits(per_hour=config.relay.replies_per_hour,
                         spacing=0.0 if official else float(config.relay.reply_interval_seconds),
                         once_a_day=kind == "refusal" and not official and not known)


def send(db: Database, config: Config, message: InboundMessage, replies: list[Reply],
         now: datetime | None = None) -> int:
    """Queue replies within budget, with keys derived from the message (a re-handled message
    queues nothing twice); returns how many were queued."""
    now = now or datetime.now(timezone.utc)
    sender = _sender(message)
    official = sender in officials.officials_by_phone(config)
    known = official or directory.find_resident_by_phone(db, sender) is not None
    queued = 0
    for index, reply in enumerate(replies):
        text = texts.fit(reply.text, config.sms.max_parts)
        if not budget.grant(db, sender, reply.kind, _limits(config, reply.kind, official, known), now.timestamp()):
            record(db, sender, "SMS", "held", "over_budget",
                   f"{reply.kind} to {phones.masked(reply.to) if phones.is_valid(reply.to) else '?'} not sent",
                   at=now)
            continue
        try:
            # Direct: it answers someone who just wrote, so it goes out in quiet hours too.
            outbox.enqueue(db, reply.to, text, priority="urgent" if reply.urgent else "normal", kind="direct",
                           key=f"sms-reply:{message.id}:{index}", max_parts=config.sms.max_parts, source="relay")
        except SmsError as exc:
            record(db, sender, "SMS", "error", "not_queued", f"{reply.kind}: {exc}", at=now)
            continue
        queued += 1
    return queued


def make_handler(config: Config):
    """The function the SMS gateway calls for each incoming message (see sms.inbox)."""
    def relay_handler(db: Database, message: InboundMessage) -> None:
        try:
            replies = handle(db, config, message)
        except Exception as exc:  # the last line of defence: one bad SMS must never stop the inbox
            log.exception("relay: message %s", message.id)
            record(db, _sender(message), "SMS", "error", "handler_error", type(exc).__name__)
            replies = []
        send(db, config, message, replies)
    return relay_handler


class _Rollback(Exception):
    """Raised inside the simulation's transaction so nothing it did is kept."""


def simulate(db: Database, config: Config, sender: str, text: str) -> dict:
    """Run one SMS through the rules and undo everything: the replies, how many SMS the notice
    would queue, and the last audit outcome."""
    kind = "international" if sender.lstrip("+").isdigit() else "alphanumeric"
    message = InboundMessage(id=0, sender=sender, sender_type=kind, text=text, received_at="")
    result: dict = {}
    try:
        with db.transaction():
            before = sum(outbox.counts(db)["messages"].values())
            audit_before = officials.last_audit_id(db)
            replies = handle(db, config, message)
            queued = sum(outbox.counts(db)["messages"].values()) - before
            last = officials.audit_log(db, 1)
            last = last[0] if last and last[0]["id"] > audit_before else None
            result = {"replies": [{"to": r.to, "text": texts.fit(r.text, config.sms.max_parts), "kind": r.kind}
                                  for r in replies],
                      "queued_to": queued, "outcome": last["outcome"] if last else "",
                      "reason": last["reason"] if last else "", "detail": last["detail"] if last else ""}
            raise _Rollback
    except _Rollback:
        pass
    return result


def purge(db: Database, config: Config, now: datetime | None = None) -> dict:
    """Housekeeping: audit lines past `relay.audit_retention_days`, budget charges past a day."""
    now = now or datetime.now(timezone.utc)
    return {"audit": officials.purge(db, config.relay.audit_retention_days, now),
            "budget": budget.purge(db, now.timestamp())}
