"""Offline SMS relay: officials broadcast notices by text message when the kiosk has no internet.

    TB <PIN> <GROUP|TATCA> <text>   broadcast a notice           KC …  the same, urgent
    HUY <PIN> <notice id>           cancel what is not sent yet  TT <PIN>    status
    NHOM <PIN>                      groups and member counts     XN <code>   confirm a large broadcast

Why a PIN although the sender's number is checked: caller ID can be spoofed (SMS gateways on the
internet let anyone set any sender number), so the number alone would let a prankster text the
whole ward. The PIN is a second factor the spoofer does not have; five wrong PINs from one number
within an hour lock that number out and alert the group leader.

Commands are matched with case and diacritics ignored. Every command gets a reply and every
decision (accepted or refused) is written to `relay_audit`. Residents' keywords are in
kiosk/keywords.py; `handle()` there routes a message to one or the other.
"""
from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sms import outbox
from sms.segments import SegmentError, segment
from sms.storage import Database, Migration

from kiosk.directory import residents as directory
from kiosk.notices import board as notices
from kiosk.directory import phone as phones
from kiosk.appliance.config import Config, Official
from kiosk.errors import NotFound
from kiosk.text import clean, fold

OFFICIAL_COMMANDS = ("TB", "KC", "HUY", "TT", "NHOM", "XN")

MIGRATIONS = [
    Migration("0001_relay", """
        CREATE TABLE relay_audit (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            sender TEXT NOT NULL,
            official TEXT NOT NULL DEFAULT '',
            command TEXT NOT NULL,
            outcome TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX relay_audit_sender ON relay_audit(sender, at);
        CREATE TABLE relay_broadcasts (
            id INTEGER PRIMARY KEY,
            official TEXT NOT NULL,
            sender TEXT NOT NULL,
            group_code TEXT NOT NULL,
            text TEXT NOT NULL,
            urgent INTEGER NOT NULL,
            recipients INTEGER NOT NULL,
            parts INTEGER NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('awaiting_confirmation', 'sent', 'cancelled', 'expired')),
            confirm_code TEXT UNIQUE,
            created_at TEXT NOT NULL,
            confirm_by TEXT,
            sent_at TEXT,
            notice_id INTEGER
        );
        CREATE TABLE relay_lockouts (
            sender TEXT PRIMARY KEY,
            until TEXT NOT NULL
        );
    """),
]


@dataclass(frozen=True)
class Reply:
    """An SMS to send because of an incoming one."""
    to: str
    text: str
    urgent: bool = False


class Relay:
    """The official-command rules, bound to one config and store."""

    def __init__(self, db: Database, config: Config, now: datetime | None = None):
        self.db = db
        self.config = config
        self.now = now or datetime.now(timezone.utc)
        self.officials = {}
        for official in config.relay.officials:
            try:
                self.officials[phones.normalise(official.phone)] = official
            except phones.InvalidPhone:
                continue  # config validation (tdp doctor) reports it; it can never match a sender

    # -- entry point ----------------------------------------------------------------------------
    def is_command(self, text: str) -> bool:
        words = clean(text).split()
        return bool(words) and fold(words[0]).upper() in OFFICIAL_COMMANDS

    def handle(self, sender: str, sender_type: str, text: str) -> list[Reply]:
        """Run one official command; refusals are audited, and replies go only to real numbers."""
        words = clean(text).split()
        command = fold(words[0]).upper()
        if sender_type == "alphanumeric" or not _is_number(sender):
            self.audit(sender, "", command, "refused", "alphanumeric sender")
            return []
        sender = phones.normalise(sender)
        official = self.officials.get(sender)
        if official is None:
            self.audit(sender, "", command, "refused", "number not on the officials list")
            return []
        if command == "XN":
            return self._confirm(official, sender, words[1:])
        if len(words) < 2:
            return self._help(official, sender, command, "thieu PIN")
        if self._locked(sender):
            self.audit(sender, official.name, command, "refused", "locked out")
            return [Reply(sender, "TDP: So nay dang bi khoa do nhap sai PIN nhieu lan. Thu lai sau 1 gio.")]
        if not hmac.compare_digest(words[1].encode(), official.pin.encode()) or not official.pin:
            return self._wrong_pin(official, sender, command)
        args = words[2:]
        if command in ("TB", "KC"):
            return self._broadcast(official, sender, args, urgent=command == "KC")
        if command == "HUY":
            return self._cancel(official, sender, args)
        if command == "TT":
            return self._status(official, sender)
        return self._groups(official, sender)

    # -- commands ---------------------------------------------------------------------------------
    def _broadcast(self, official: Official, sender: str, args: list[str], urgent: bool) -> list[Reply]:
        command = "KC" if urgent else "TB"
        if len(args) < 2:
            return self._help(official, sender, command, "thieu nhom hoac noi dung")
        target, text = args[0], " ".join(args[1:])
        everyone = fold(target) in directory.EVERYONE
        try:
            group_code = directory.EVERYONE_CODE if everyone else directory.find_group(self.db, target)["code"]
        except NotFound:
            self.audit(sender, official.name, command, "refused", f"unknown group {target}")
            return [Reply(sender, "TDP: Khong co nhom " + fold(target).upper() + ". Cac nhom: " + self._group_codes())]
        recipients = directory.recipients(self.db, None if everyone else group_code)
        try:
            parts = segment(text).count
        except SegmentError:
            return self._help(official, sender, command, "noi dung trong")
        if parts > self.config.sms.max_parts:
            self.audit(sender, official.name, command, "refused", f"{parts} parts")
            return [Reply(sender, f"TDP: Noi dung qua dai ({parts} tin). Toi da {self.config.sms.max_parts} tin.")]
        with self.db.transaction() as conn:
            broadcast_id = conn.execute(
                "INSERT INTO relay_broadcasts (official, sender, group_code, text, urgent, recipients, parts, state, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'awaiting_confirmation', ?)",
                (official.name, sender, group_code, clean(text), int(urgent), len(recipients), parts,
                 self._stamp())).lastrowid
            if len(recipients) > self.config.relay.confirm_above:
                code = self._new_code(conn)
                deadline = self.now + timedelta(minutes=self.config.relay.confirm_minutes)
                conn.execute("UPDATE relay_broadcasts SET confirm_code = ?, confirm_by = ? WHERE id = ?",
                             (code, deadline.isoformat(timespec="seconds"), broadcast_id))
                self.audit(sender, official.name, command, "awaiting_confirmation",
                           f"notice {broadcast_id} to {group_code}: {len(recipients)} recipients")
                return [Reply(sender, f"TDP: TB so {broadcast_id} se gui {len(recipients)} nguoi ({group_code}), "
                                      f"{parts} tin/nguoi. Nhan XN {code} trong "
                                      f"{self.config.relay.confirm_minutes} phut de gui.")]
            return [self._send(conn, broadcast_id, official, sender)]

    def _send(self, conn, broadcast_id: int, official: Official, sender: str) -> Reply:
        row = conn.execute("SELECT group_code, text, urgent FROM relay_broadcasts WHERE id = ?",
                           (broadcast_id,)).fetchone()
        group_code, text, urgent = row
        recipients = directory.recipients(self.db, group_code)
        notice_id = notices.post(self.db, text, source="sms", external_id=str(broadcast_id), urgent=bool(urgent),
                                 group_code=group_code, posted_by=official.name)
        outbox.enqueue_many(self.db, recipients, text, priority="urgent" if urgent else "normal",
                            key_prefix=f"relay:{broadcast_id}", max_parts=self.config.sms.max_parts, source="relay")
        conn.execute("UPDATE relay_broadcasts SET state = 'sent', sent_at = ?, notice_id = ?, recipients = ? "
                     "WHERE id = ?", (self._stamp(), notice_id, len(recipients), broadcast_id))
        self.audit(sender, official.name, "KC" if urgent else "TB", "sent",
                   f"notice {broadcast_id} to {group_code}: {len(recipients)} recipients")
        return Reply(sender, f"TDP: Da gui TB so {broadcast_id} den {len(recipients)} nguoi ({group_code}). "
                             f"Huy: HUY <PIN> {broadcast_id}")

    def _confirm(self, official: Official, sender: str, args: list[str]) -> list[Reply]:
        code = args[0] if args else ""
        with self.db.transaction() as conn:
            row = conn.execute("SELECT id, sender, state, confirm_by FROM relay_broadcasts WHERE confirm_code = ?",
                               (code,)).fetchone()
            if row is None or row[1] != sender:
                self.audit(sender, official.name, "XN", "refused", f"unknown code {code}")
                return [Reply(sender, "TDP: Ma xac nhan khong dung.")]
            broadcast_id, _, state, confirm_by = row
            if state != "awaiting_confirmation":
                self.audit(sender, official.name, "XN", "refused", f"code {code} already used ({state})")
                return [Reply(sender, f"TDP: Ma {code} da dung roi (TB so {broadcast_id}).")]
            if datetime.fromisoformat(confirm_by) < self.now:
                conn.execute("UPDATE relay_broadcasts SET state = 'expired' WHERE id = ?", (broadcast_id,))
                self.audit(sender, official.name, "XN", "refused", f"code {code} expired")
                return [Reply(sender, f"TDP: Ma {code} het han. Gui lai lenh TB.")]
            return [self._send(conn, broadcast_id, official, sender)]

    def _cancel(self, official: Official, sender: str, args: list[str]) -> list[Reply]:
        if not args or not args[0].isdigit():
            return self._help(official, sender, "HUY", "thieu so TB")
        broadcast_id = int(args[0])
        row = self.db.query_one("SELECT state FROM relay_broadcasts WHERE id = ?", (broadcast_id,))
        if row is None:
            self.audit(sender, official.name, "HUY", "refused", f"no notice {broadcast_id}")
            return [Reply(sender, f"TDP: Khong co TB so {broadcast_id}.")]
        with self.db.transaction() as conn:
            cancelled = outbox.cancel(self.db, f"relay:{broadcast_id}:")
            conn.execute("UPDATE relay_broadcasts SET state = 'cancelled' WHERE id = ?", (broadcast_id,))
            try:
                notices.cancel(self.db, source="sms", external_id=str(broadcast_id))
            except NotFound:
                pass  # it was still awaiting confirmation: never posted
        self.audit(sender, official.name, "HUY", "cancelled", f"notice {broadcast_id}: {cancelled} unsent messages")
        return [Reply(sender, f"TDP: Da huy TB so {broadcast_id}: {cancelled} tin chua gui da dung.")]

    def _status(self, official: Official, sender: str) -> list[Reply]:
        latest = self.db.query("SELECT id, group_code, state FROM relay_broadcasts ORDER BY id DESC LIMIT 3")
        pieces = []
        for row in latest:
            counts = outbox.counts(self.db, f"relay:{row['id']}:")["messages"]
            pieces.append(f"#{row['id']} {row['group_code']} {counts.get('sent', 0) + counts.get('delivered', 0)}"
                          f" gui/{counts.get('delivered', 0)} nhan/{counts.get('failed', 0)} loi")
        self.audit(sender, official.name, "TT", "ok")
        text = f"TDP: Hang doi {outbox.queue_depth(self.db)} tin. " + ("; ".join(pieces) or "Chua co TB nao.")
        return [Reply(sender, text)]

    def _groups(self, official: Official, sender: str) -> list[Reply]:
        self.audit(sender, official.name, "NHOM", "ok")
        return [Reply(sender, "TDP nhom: " + self._group_codes())]

    # -- security -----------------------------------------------------------------------------------
    def _wrong_pin(self, official: Official, sender: str, command: str) -> list[Reply]:
        self.audit(sender, official.name, command, "refused", "wrong PIN")
        hour_ago = (self.now - timedelta(hours=1)).isoformat(timespec="seconds")
        failures = self.db.scalar("SELECT COUNT(*) FROM relay_audit WHERE sender = ? AND detail = 'wrong PIN' "
                                  "AND at >= ?", (sender, hour_ago))
        limit = self.config.relay.pin_failures_per_hour
        if failures < limit:
            return [Reply(sender, f"TDP: Sai PIN. Con {limit - failures} lan thu trong 1 gio.")]
        until = (self.now + timedelta(hours=1)).isoformat(timespec="seconds")
        with self.db.transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO relay_lockouts (sender, until) VALUES (?, ?)", (sender, until))
        self.audit(sender, official.name, command, "locked_out", f"{failures} wrong PINs in an hour")
        replies = [Reply(sender, "TDP: Sai PIN qua nhieu lan. So nay bi khoa 1 gio.")]
        leader = self.leader_phone()
        if leader:
            replies.append(Reply(leader, f"TDP canh bao: so {phones.national(sender)} ({official.name}) nhap sai "
                                         f"PIN {failures} lan, da khoa 1 gio.", urgent=True))
        return replies

    def _locked(self, sender: str) -> bool:
        until = self.db.scalar("SELECT until FROM relay_lockouts WHERE sender = ?", (sender,))
        return until is not None and datetime.fromisoformat(until) > self.now

    def _new_code(self, conn) -> str:
        while True:  # codes are never reused: UNIQUE in the table, and checked here
            code = f"{secrets.randbelow(9000) + 1000}"
            if conn.execute("SELECT 1 FROM relay_broadcasts WHERE confirm_code = ?", (code,)).fetchone() is None:
                return code

    # -- helpers ------------------------------------------------------------------------------------
    def _help(self, official: Official, sender: str, command: str, problem: str) -> list[Reply]:
        self.audit(sender, official.name, command, "malformed", problem)
        return [Reply(sender, f"TDP: Lenh sai ({problem}). Cu phap: TB <PIN> <NHOM|TATCA> <noi dung>; "
                              "KC (khan); HUY <PIN> <so TB>; TT <PIN>; NHOM <PIN>")]

    def _group_codes(self) -> str:
        return ", ".join(f"{g['code']}({g['consenting']})" for g in directory.list_groups(self.db)) + ", TATCA"

    def leader_phone(self) -> str | None:
        try:
            return phones.normalise(self.config.relay.group_leader_phone)
        except phones.InvalidPhone:
            return None

    def _stamp(self) -> str:
        return self.now.isoformat(timespec="seconds")

    def audit(self, sender: str, official: str, command: str, outcome: str, detail: str = "") -> None:
        with self.db.transaction() as conn:
            conn.execute("INSERT INTO relay_audit (at, sender, official, command, outcome, detail) "
                         "VALUES (?, ?, ?, ?, ?, ?)", (self._stamp(), sender, official, command, outcome, detail))


def _is_number(sender: str) -> bool:
    digits = sender.lstrip("+")
    return digits.isdigit() and len(digits) >= 9


def audit_log(db: Database, limit: int = 100) -> list[dict]:
    return db.query("SELECT * FROM relay_audit ORDER BY id DESC LIMIT ?", (limit,))
