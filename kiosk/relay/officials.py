"""Offline SMS relay: officials broadcast notices by text message when the kiosk has no internet.

    TB <PIN> <GROUP|TATCA> <text>   broadcast a notice           KC …  the same, urgent
    HUY <PIN> <notice id>           cancel what is not sent yet  TT <PIN>    status
    NHOM <PIN>                      groups and member counts     XN <code>   confirm a large broadcast
    HG <PIN> <GROUP> <ddmm> <hhmm> <text>  schedule a notice      HH <PIN> <id>  cancel it (kiosk/notices/sms_commands.py)

Only numbers on `[[relay.officials]]` reach this module (kiosk.relay.router decides). Why a PIN
although the number is checked: caller ID can be spoofed, so the number alone would let a
prankster text the whole ward. Wrong PINs and wrong XN codes count together: five within an
hour lock the number out for an hour (it can then do nothing, and gets no more replies) and
alert the group leader. XN codes are 6 characters from an alphabet without look-alikes, used
once, valid `confirm_minutes` and only from the number that asked.

A group may be named over several words ("hoi phu nu"): the longest run of words after the PIN
that names a group (code or name, case, spaces and diacritics ignored) is the group.

Every decision is written to `relay_audit` with an outcome and a reason (`tdp relay audit`,
`tdp relay stats`); the audit keeps `relay.audit_retention_days` (see purge()).
"""
from __future__ import annotations

import hmac
import re
import secrets
from datetime import datetime, timedelta, timezone

from sms import outbox
from sms.segments import SegmentError, segment
from sms.storage import Database, Migration

from hub import contract
from kiosk.appliance.config import Config, Official
from kiosk.directory import phone as phones
from kiosk.directory import residents as directory
from kiosk.errors import NotFound, TdpError
from kiosk.notices import board as notices, budget, questions, sms_commands
from kiosk.relay import texts
from kiosk.relay.texts import Reply
from kiosk.text import clean, fold

OFFICIAL_COMMANDS = ("TB", "KC", "HUY", "TT", "NHOM", *sms_commands.COMMANDS, "XN")  # XN last: it has no PIN
CODE_ALPHABET = "ACEFHJKMNPRTUVWXY3479"  # none of 0/O/D/Q, 1/I/L, 2/Z, 5/S, 8/B, 6/G: 21**6 = 86 million codes
CODE_LENGTH = 6
_CODE_TRIES = 20
_NOTICE_ID = re.compile(r"[0-9]{1,9}")
MAX_GROUP_WORDS = 6
FAILURE_REASONS = ("wrong_pin", "wrong_code")

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
    Migration("0002_audit_reason", """
        ALTER TABLE relay_audit ADD COLUMN reason TEXT NOT NULL DEFAULT '';
        UPDATE relay_audit SET reason = 'wrong_pin' WHERE detail = 'wrong PIN';
        UPDATE relay_audit SET reason = 'not_official' WHERE detail = 'number not on the officials list';
        CREATE INDEX relay_audit_at ON relay_audit(at);
        CREATE INDEX relay_audit_reason ON relay_audit(reason, at);
    """),
]


def officials_by_phone(config: Config) -> dict[str, Official]:
    """The configured officials by E.164 phone (entries with an invalid phone never match)."""
    found = {}
    for official in config.relay.officials:
        if phones.is_valid(official.phone):
            found[phones.normalise(official.phone)] = official
    return found


def is_command(text: str) -> bool:
    words = clean(text).split()
    return bool(words) and fold(words[0]).upper() in OFFICIAL_COMMANDS


def looks_like_pin_command(text: str) -> bool:
    """A command word followed by digits (TB 2468 …), whoever sent it."""
    words = clean(text).split()
    return len(words) >= 2 and fold(words[0]).upper() in OFFICIAL_COMMANDS[:-1] and words[1].isdigit()


def redacted(text: str) -> str:
    """The command with its PIN word masked, as the inbox may keep it (XN has no PIN)."""
    words = clean(text).split()
    if len(words) >= 2 and fold(words[0]).upper() in OFFICIAL_COMMANDS and fold(words[0]).upper() != "XN":
        words[1] = "****"
    return " ".join(words)


class Relay:
    """The official-command rules, bound to one config and store."""

    def __init__(self, db: Database, config: Config, now: datetime | None = None):
        self.db = db
        self.config = config
        self.now = now or datetime.now(timezone.utc)
        self.officials = officials_by_phone(config)

    def handle(self, sender: str, text: str) -> list[Reply]:
        """Run one official command from `sender` (E.164); every refusal is audited."""
        words = clean(text).split()
        command = fold(words[0]).upper() if words else ""
        official = self.officials.get(sender)
        if official is None or command not in OFFICIAL_COMMANDS:
            self.audit(sender, "", command or "SMS", "refused", "not_official", "number not on the officials list")
            return []
        if self.locked(sender):
            self.audit(sender, official.name, command, "refused", "locked_out", "locked out: no reply")
            return []
        if command == "XN":
            return self._confirm(official, sender, words[1:])
        if len(words) < 2:
            return self._help(official, sender, command, "thieu PIN")
        if not official.pin or not hmac.compare_digest(words[1].encode(), official.pin.encode()):
            return self._failure(official, sender, command, "wrong_pin")
        args = words[2:]
        if command in ("TB", "KC"):
            return self._broadcast(official, sender, args, urgent=command == "KC")
        if command == "HUY":
            return self._cancel(official, sender, args)
        if command == "TT":
            return self._status(official, sender)
        if command in sms_commands.COMMANDS:  # HG/HH: scheduled notices (kiosk/notices/sms_commands.py)
            return [Reply(sender, t, kind=k) for t, k in sms_commands.handle(self, official, sender, command, args)]
        return self._groups(official, sender)

    # -- commands ---------------------------------------------------------------------------------
    def _find_group(self, args: list[str]) -> tuple[str | None, int]:
        """(group code, words it took) for the longest run of words naming a group; (None, 0)."""
        for k in range(min(len(args) - 1, MAX_GROUP_WORDS), 0, -1):
            candidate = " ".join(args[:k])
            if fold(candidate) in directory.EVERYONE:
                return directory.EVERYONE_CODE, k
            try:
                return directory.get_group(self.db, candidate)["code"], k
            except NotFound:
                continue
        return None, 0

    def _broadcast(self, official: Official, sender: str, args: list[str], urgent: bool) -> list[Reply]:
        command = "KC" if urgent else "TB"
        if len(args) < 2:
            return self._help(official, sender, command, "thieu nhom hoac noi dung")
        group_code, taken = self._find_group(args)
        if group_code is None:
            self.audit(sender, official.name, command, "refused", "unknown_group",
                       f"unknown group {texts.bounded(args[0], 30)}")
            return [Reply(sender, texts.UNKNOWN_GROUP.format(groups=self._group_codes()), kind="refusal")]
        text = " ".join(args[taken:])
        if "\x00" in text:
            self.audit(sender, official.name, command, "refused", "nul_text", "text contains NUL")
            return [Reply(sender, texts.NUL_TEXT, kind="refusal")]
        text = clean(texts.visible(text))
        if not text:
            return self._help(official, sender, command, "noi dung trong", reason="empty_text")
        try:
            parts = segment(text).count
        except SegmentError:
            return self._help(official, sender, command, "noi dung trong", reason="empty_text")
        if parts > self.config.sms.max_parts:
            self.audit(sender, official.name, command, "refused", "too_long", f"{parts} parts")
            return [Reply(sender, texts.TOO_LONG.format(parts=parts, max_parts=self.config.sms.max_parts),
                          kind="refusal")]
        everyone = group_code == directory.EVERYONE_CODE
        recipients = directory.recipients(self.db, None if everyone else group_code)
        since = (self.now - timedelta(hours=contract.RELAY_MATCH_HOURS)).isoformat(timespec="seconds")
        if notices.find_same(self.db, text, group_code, source="hub", since=since):
            # The hub's copy of this notice already reached this kiosk and its residents: the
            # official's SMS fallback must not send it a second time.
            self.audit(sender, official.name, command, "refused", "already_from_hub", f"group {group_code}")
            return [Reply(sender, texts.ALREADY_FROM_HUB.format(group=group_code), kind="refusal")]
        if not urgent:
            try:
                budget.check(self.db, self.config, parts * len(recipients), self.now)
            except TdpError as exc:  # the month's SMS budget: the official hears why; KC still goes
                self.audit(sender, official.name, command, "refused", "budget", texts.bounded(str(exc), 200))
                return [Reply(sender, texts.OVER_BUDGET.format(reason=texts.bounded(exc.vietnamese, 100)),
                              kind="refusal")]
        with self.db.transaction() as conn:
            broadcast_id = conn.execute(
                "INSERT INTO relay_broadcasts (official, sender, group_code, text, urgent, recipients, parts, state, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'awaiting_confirmation', ?)",
                (official.name, sender, group_code, text, int(urgent), len(recipients), parts,
                 self._stamp())).lastrowid
            if len(recipients) > self.config.relay.confirm_above:
                code = self._new_code(conn)
                if code is None:
                    conn.execute("UPDATE relay_broadcasts SET state = 'expired' WHERE id = ?", (broadcast_id,))
                    self.audit(sender, official.name, command, "refused", "no_code", "no free confirmation code")
                    return [Reply(sender, texts.NO_CODE_LEFT, kind="refusal")]
                deadline = self.now + timedelta(minutes=self.config.relay.confirm_minutes)
                conn.execute("UPDATE relay_broadcasts SET confirm_code = ?, confirm_by = ? WHERE id = ?",
                             (code, deadline.isoformat(timespec="seconds"), broadcast_id))
                self.audit(sender, official.name, command, "awaiting_confirmation", "",
                           f"notice {broadcast_id} to {group_code}: {len(recipients)} recipients")
                return [Reply(sender, texts.AWAITING.format(
                    id=broadcast_id, recipients=len(recipients), group=group_code, parts=parts, code=code,
                    minutes=self.config.relay.confirm_minutes))]
            return [self._send(conn, broadcast_id, official, sender)]

    def _send(self, conn, broadcast_id: int, official: Official, sender: str) -> Reply:
        group_code, text, urgent = conn.execute(
            "SELECT group_code, text, urgent FROM relay_broadcasts WHERE id = ?", (broadcast_id,)).fetchone()
        recipients = directory.recipients(self.db, group_code)
        notice_id = notices.post(self.db, text, source="sms", external_id=str(broadcast_id), urgent=bool(urgent),
                                 group_code=group_code, posted_by=official.name)
        outbox.enqueue_many(self.db, recipients, text, priority="urgent" if urgent else "normal",
                            key_prefix=f"relay:{broadcast_id}", max_parts=self.config.sms.max_parts, source="relay")
        conn.execute("UPDATE relay_broadcasts SET state = 'sent', sent_at = ?, notice_id = ?, recipients = ? "
                     "WHERE id = ?", (self._stamp(), notice_id, len(recipients), broadcast_id))
        self.audit(sender, official.name, "KC" if urgent else "TB", "sent", "",
                   f"notice {broadcast_id} to {group_code}: {len(recipients)} recipients")
        return Reply(sender, texts.SENT.format(id=broadcast_id, recipients=len(recipients), group=group_code))

    def _confirm(self, official: Official, sender: str, args: list[str]) -> list[Reply]:
        code = texts.code_field(args[0]) if args else ""
        with self.db.transaction() as conn:
            row = conn.execute("SELECT id, sender, state, confirm_by FROM relay_broadcasts WHERE confirm_code = ?",
                               (code,)).fetchone() if len(code) == CODE_LENGTH else None
            if row is None or row[1] != sender:
                return self._failure(official, sender, "XN", "wrong_code")
            broadcast_id, _, state, confirm_by = row
            if state != "awaiting_confirmation":
                self.audit(sender, official.name, "XN", "refused", "code_used", f"code already used ({state})")
                return [Reply(sender, texts.CODE_USED.format(id=broadcast_id), kind="refusal")]
            if datetime.fromisoformat(confirm_by) < self.now:
                conn.execute("UPDATE relay_broadcasts SET state = 'expired' WHERE id = ?", (broadcast_id,))
                self.audit(sender, official.name, "XN", "refused", "code_expired", f"notice {broadcast_id}")
                return [Reply(sender, texts.CODE_EXPIRED, kind="refusal")]
            return [self._send(conn, broadcast_id, official, sender)]

    def _cancel(self, official: Official, sender: str, args: list[str]) -> list[Reply]:
        if not args or not _NOTICE_ID.fullmatch(args[0]):
            return self._help(official, sender, "HUY", "thieu so TB")
        broadcast_id = int(args[0])
        row = self.db.query_one("SELECT state FROM relay_broadcasts WHERE id = ?", (broadcast_id,))
        if row is None:
            self.audit(sender, official.name, "HUY", "refused", "no_notice", f"no notice {broadcast_id}")
            return [Reply(sender, texts.NO_NOTICE.format(id=broadcast_id), kind="refusal")]
        with self.db.transaction() as conn:
            cancelled = outbox.cancel(self.db, f"relay:{broadcast_id}:")
            conn.execute("UPDATE relay_broadcasts SET state = 'cancelled' WHERE id = ?", (broadcast_id,))
            try:
                notices.cancel(self.db, source="sms", external_id=str(broadcast_id))
            except NotFound:
                pass  # it was still awaiting confirmation: never posted
        self.audit(sender, official.name, "HUY", "cancelled", "", f"notice {broadcast_id}: {cancelled} unsent")
        return [Reply(sender, texts.CANCELLED.format(id=broadcast_id, cancelled=cancelled))]

    def _status(self, official: Official, sender: str) -> list[Reply]:
        latest = self.db.query("SELECT id, group_code, state FROM relay_broadcasts ORDER BY id DESC LIMIT 3")
        pieces = []
        for row in latest:
            counts = outbox.counts(self.db, f"relay:{row['id']}:")["messages"]
            pieces.append(f"#{row['id']} {row['group_code']} {counts.get('sent', 0) + counts.get('delivered', 0)}"
                          f" gui/{counts.get('delivered', 0)} nhan/{counts.get('failed', 0)} loi")
        self.audit(sender, official.name, "TT", "ok")
        tallies = questions.summary_for(self.db, sender)  # answers to this official's questions (--ask)
        return [Reply(sender, texts.STATUS.format(depth=outbox.queue_depth(self.db),
                                                  latest="; ".join(pieces) or "Chua co TB nao.")
                      + (f" {texts.bounded(tallies, 200)}." if tallies else ""))]

    def _groups(self, official: Official, sender: str) -> list[Reply]:
        self.audit(sender, official.name, "NHOM", "ok")
        return [Reply(sender, texts.GROUPS.format(groups=self._group_codes()))]

    # -- security -----------------------------------------------------------------------------------
    def _failure(self, official: Official, sender: str, command: str, reason: str) -> list[Reply]:
        """A wrong PIN or XN code: counted (both together) toward the lockout, in one transaction."""
        hour_ago = (self.now - timedelta(hours=1)).isoformat(timespec="seconds")
        limit = self.config.relay.pin_failures_per_hour
        with self.db.transaction() as conn:
            self.audit(sender, official.name, command, "refused", reason, reason.replace("_", " "))
            failures = conn.execute(
                f"SELECT COUNT(*) FROM relay_audit WHERE sender = ? AND at >= ? AND reason IN "
                f"({', '.join('?' * len(FAILURE_REASONS))})", (sender, hour_ago, *FAILURE_REASONS)).fetchone()[0]
            if failures < limit:
                template = texts.WRONG_PIN if reason == "wrong_pin" else texts.WRONG_CODE
                return [Reply(sender, template.format(left=limit - failures), kind="refusal")]
            until = (self.now + timedelta(hours=1)).isoformat(timespec="seconds")
            conn.execute("INSERT OR REPLACE INTO relay_lockouts (sender, until) VALUES (?, ?)", (sender, until))
            self.audit(sender, official.name, command, "locked_out", "locked_out",
                       f"{failures} wrong PINs/codes in an hour")
        replies = [Reply(sender, texts.NOW_LOCKED, kind="refusal")]
        leader = self.leader_phone()
        if leader:
            replies.append(Reply(leader, texts.LOCK_ALERT.format(
                phone=phones.national(sender), name=texts.bounded(official.name, 40), failures=failures),
                urgent=True, kind="alert"))
        return replies

    def locked(self, sender: str) -> bool:
        until = self.db.scalar("SELECT until FROM relay_lockouts WHERE sender = ?", (sender,))
        return until is not None and datetime.fromisoformat(until) > self.now

    def _new_code(self, conn) -> str | None:
        """A fresh confirmation code, or None after _CODE_TRIES collisions (never loops forever)."""
        for _ in range(_CODE_TRIES):
            code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
            if conn.execute("SELECT 1 FROM relay_broadcasts WHERE confirm_code = ?", (code,)).fetchone() is None:
                return code
        return None

    # -- helpers ------------------------------------------------------------------------------------
    def _help(self, official: Official, sender: str, command: str, problem: str,
              reason: str = "malformed") -> list[Reply]:
        self.audit(sender, official.name, command, "malformed", reason, problem)
        return [Reply(sender, texts.CARD.format(problem=problem), kind="refusal")]

    def _group_codes(self) -> str:
        groups = directory.list_groups(self.db)
        shown = ", ".join(f"{texts.code_field(g['code']) or '?'}({g['consenting']})" for g in groups[:12])
        return (shown + (", ..." if len(groups) > 12 else "") + ", TATCA").lstrip(", ")

    def leader_phone(self) -> str | None:
        try:
            return phones.normalise(self.config.relay.group_leader_phone)
        except phones.InvalidPhone:
            return None

    def _stamp(self) -> str:
        return self.now.isoformat(timespec="seconds")

    def audit(self, sender: str, official: str, command: str, outcome: str, reason: str = "",
              detail: str = "") -> None:
        record(self.db, sender, command, outcome, reason, detail, official=official, at=self.now)


# -- the audit log ---------------------------------------------------------------------------------
REFUSED_OUTCOMES = ("refused", "malformed", "locked_out", "held", "ignored", "not_forwarded", "error")


def record(db: Database, sender: str, command: str, outcome: str, reason: str = "", detail: str = "", *,
           official: str = "", at: datetime | None = None) -> None:
    """One line of the relay audit; every field is bounded (the sender's text never goes in whole)."""
    stamp = (at or datetime.now(timezone.utc)).isoformat(timespec="seconds")
    with db.transaction() as conn:
        conn.execute("INSERT INTO relay_audit (at, sender, official, command, outcome, reason, detail) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?)",
                     (stamp, texts.bounded(sender, 32), texts.bounded(official, 60), texts.bounded(command, 16),
                      outcome, reason, texts.bounded(detail, 200)))


def audit_log(db: Database, limit: int = 100, *, problems_only: bool = False, since: str | None = None) -> list[dict]:
    """Audit rows, newest first; problems_only keeps refusals and rate-limited (held) messages."""
    where, params = ["1 = 1"], []
    if problems_only:
        where.append(f"outcome IN ({', '.join('?' * len(REFUSED_OUTCOMES))})")
        params.extend(REFUSED_OUTCOMES)
    if since:
        where.append("at >= ?")
        params.append(since)
    return db.query(f"SELECT * FROM relay_audit WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT ?",
                    (*params, limit))


def last_audit_id(db: Database) -> int:
    return db.scalar("SELECT COALESCE(MAX(id), 0) FROM relay_audit")


def stats(db: Database, since: str | None = None) -> dict:
    """Counts of audit lines by outcome, and of refusals and held messages by reason."""
    params = (since,) if since else ()
    where = "WHERE at >= ?" if since else ""
    by_outcome = {r["outcome"]: r["n"] for r in db.query(
        f"SELECT outcome, COUNT(*) n FROM relay_audit {where} GROUP BY outcome ORDER BY outcome", params)}
    marks = ", ".join("?" * len(REFUSED_OUTCOMES))
    by_reason = {r["reason"] or "unspecified": r["n"] for r in db.query(
        f"SELECT reason, COUNT(*) n FROM relay_audit WHERE outcome IN ({marks}) {'AND at >= ?' if since else ''} "
        "GROUP BY reason ORDER BY reason", (*REFUSED_OUTCOMES, *params))}
    return {"total": sum(by_outcome.values()), "by_outcome": by_outcome, "refused_by_reason": by_reason}


def purge(db: Database, older_than_days: int, now: datetime | None = None) -> int:
    """Delete audit lines older than `older_than_days` (personal data: Decree 13 storage limits)."""
    cutoff = ((now or datetime.now(timezone.utc)) - timedelta(days=older_than_days)).isoformat(timespec="seconds")
    with db.transaction() as conn:
        return conn.execute("DELETE FROM relay_audit WHERE at < ?", (cutoff,)).rowcount
