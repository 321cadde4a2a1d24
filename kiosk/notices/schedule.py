"""Notices sent to residents by SMS: now, at a set time, or again every day, week or month.

Every notice an official sends (`tdp notice send`, the `HG` SMS command, a hub notice with a
time) is one `notice_sends` row; each time it is due is an occurrence, numbered 0, 1, 2… from its
first time. An occurrence is claimed by inserting its `(notice, occurrence)` row in
`notice_occurrences`, one atomic statement, in the same transaction that queues its SMS: a second
gateway tick, a second process or a restart finds the row there and sends nothing again.

Times are wall-clock times in the site's timezone (config `site.timezone`; a hub notice's time is
read in the kiosk's own zone), stored as local "YYYY-MM-DDTHH:MM:SS" beside their UTC moment. A
monthly notice on the 31st goes on the last day of shorter months. A kiosk that was off when an
occurrence was due sends it when it is back, up to `notices.late_hours` late; an occurrence later
than that, or one whose next occurrence is already due, is recorded as skipped instead.
Outbox keys are `notice:<id>:<occurrence>:<phone>`.
"""
from __future__ import annotations

import calendar
import logging
import unicodedata
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sms import outbox
from sms.segments import SegmentError, segment
from sms.storage import Database, Migration

from kiosk import clock
from kiosk.appliance.config import Config
from kiosk.directory import residents as directory
from kiosk.errors import InvalidInput, NotFound, TdpError
from kiosk.notices import board, budget, questions, templates
from kiosk.text import clean, fold

log = logging.getLogger(__name__)

MIGRATIONS = [
    Migration("0001_schedule", """
        CREATE TABLE notice_sends (
            id INTEGER PRIMARY KEY,
            source TEXT NOT NULL CHECK (source IN ('cli', 'sms', 'hub', 'console')),
            external_id TEXT,
            group_code TEXT NOT NULL,
            text TEXT NOT NULL,
            urgent INTEGER NOT NULL DEFAULT 0,
            unaccented INTEGER NOT NULL DEFAULT 0,
            per_household INTEGER NOT NULL DEFAULT 0,
            ask TEXT NOT NULL DEFAULT '',
            zone TEXT NOT NULL,
            first_local TEXT NOT NULL,
            every TEXT NOT NULL DEFAULT '' CHECK (every IN ('', 'day', 'week', 'month')),
            until_day TEXT,
            next_seq INTEGER NOT NULL DEFAULT 0,
            next_at TEXT,
            state TEXT NOT NULL DEFAULT 'scheduled' CHECK (state IN ('scheduled', 'finished', 'cancelled')),
            created_by TEXT NOT NULL DEFAULT '',
            reply_to TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            cancelled_at TEXT
        );
        CREATE UNIQUE INDEX notice_sends_external ON notice_sends(source, external_id)
            WHERE external_id IS NOT NULL;
        CREATE INDEX notice_sends_due ON notice_sends(state, next_at);
        CREATE TABLE notice_occurrences (
            send_id INTEGER NOT NULL REFERENCES notice_sends(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            due_at TEXT NOT NULL,
            claimed_at TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('queued', 'skipped', 'refused')),
            detail TEXT NOT NULL DEFAULT '',
            recipients INTEGER NOT NULL DEFAULT 0,
            parts INTEGER NOT NULL DEFAULT 0,
            board_id INTEGER,
            PRIMARY KEY (send_id, seq)
        );
    """),
]

EVERY = ("", "day", "week", "month")
AT_FORMAT = "%Y-%m-%d %H:%M"
MAX_TEXT = 1000
PAST_GRACE = timedelta(minutes=1)   # "--at" the current minute is fine; earlier is a typo
MAX_AHEAD = timedelta(days=400)


class ScheduleError(InvalidInput):
    """A notice that cannot be scheduled as asked; the message says what to fix."""


def key_prefix(send_id: int) -> str:
    """Outbox key prefix of every SMS of one notice (the colon keeps 1 from matching 10)."""
    return f"notice:{int(send_id)}:"


# --- times -------------------------------------------------------------------------------------

def parse_at(text: str) -> datetime:
    """'YYYY-MM-DD HH:MM' (site-local wall time) as a naive datetime; ScheduleError if malformed."""
    try:
        return datetime.strptime(clean(text), AT_FORMAT)
    except ValueError:
        raise ScheduleError(f"--at must be \"YYYY-MM-DD HH:MM\" (local time), got {text!r}",
                            "Thời gian phải có dạng YYYY-MM-DD HH:MM") from None


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(clean(text))
    except ValueError:
        raise ScheduleError(f"--until must be YYYY-MM-DD, got {text!r}", "Ngày kết thúc phải có dạng YYYY-MM-DD") from None


def occurrence(first: datetime, every: str, seq: int) -> datetime:
    """The naive local time of occurrence `seq` (0 is `first`); months keep the first day, clamped."""
    if seq == 0 or not every:
        return first
    if every == "day":
        return first + timedelta(days=seq)
    if every == "week":
        return first + timedelta(weeks=seq)
    months = first.month - 1 + seq
    year, month = first.year + months // 12, months % 12 + 1
    return first.replace(year=year, month=month, day=min(first.day, calendar.monthrange(year, month)[1]))


def to_utc(local: datetime, zone: str) -> datetime:
    return local.replace(tzinfo=ZoneInfo(zone)).astimezone(timezone.utc)


def _local_text(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


# --- creating ----------------------------------------------------------------------------------

def create(db: Database, config: Config, text: str, *, group: str | None, at: str | None = None,
           every: str = "", until: str | None = None, urgent: bool = False, unaccented: bool = False,
           per_household: bool = False, ask: str | None = None, source: str = "cli",
           external_id: str | None = None, created_by: str = "", reply_to: str = "",
           now: datetime | None = None) -> dict:
    """Store a notice to send (now when `at` is None), then send whatever is due already.

    Returns the notice as `get()` does plus "preview" (recipients, parts per message, total parts;
    None when `(source, external_id)` was stored before, which is then returned unchanged).
    ScheduleError / budget.BudgetExceeded / NotFound explain a refusal in one line.
    """
    now = now or clock.utc_now()
    if external_id is not None:  # handed out again (a lost answer): it is already here
        found = by_external(db, source, str(external_id))
        if found is not None:
            return {**found, "preview": None}
    zone = config.site.timezone
    text = clean(text)
    if not text:
        raise ScheduleError("notice text is empty", "Nội dung thông báo đang trống")
    if len(text) > MAX_TEXT:
        raise ScheduleError(f"notice text is {len(text)} characters; at most {MAX_TEXT}")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co") for c in text):
        raise ScheduleError("notice text contains invisible control characters; retype it",
                            "Nội dung có ký tự điều khiển; hãy gõ lại")
    templates.check(text)
    every = (every or "").strip().lower()
    if every not in EVERY:
        raise ScheduleError("--every must be day, week or month", "Lặp lại: day, week hoặc month")
    options = questions.parse_options(ask) if ask else []
    group_code = _group_code(db, group, strict=source != "hub")
    local_now = now.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    if at:
        first = parse_at(at)
        if source != "hub" and local_now - first > PAST_GRACE:
            raise ScheduleError(f"{first.strftime(AT_FORMAT)} is in the past (it is {local_now.strftime(AT_FORMAT)})",
                                "Thời gian đã qua")
        if first - local_now > MAX_AHEAD:
            raise ScheduleError("a notice can be scheduled at most 400 days ahead")
    else:
        first = local_now.replace(microsecond=0)
    until_day = None
    if until:
        if not every:
            raise ScheduleError("--until needs --every", "Ngày kết thúc chỉ dùng khi lặp lại")
        until_day = parse_day(until)
        if until_day < first.date():
            raise ScheduleError(f"--until {until_day} is before the first time {first.date()}")
    preview = _preview(db, config, text, group_code, per_household, options, unaccented, first.date())
    if not at and not urgent:
        budget.check(db, config, preview["total_parts"], now)
    with db.transaction() as conn:
        send_id = conn.execute(
            "INSERT INTO notice_sends (source, external_id, group_code, text, urgent, unaccented, per_household, "
            "ask, zone, first_local, every, until_day, next_at, created_by, reply_to, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (source, None if external_id is None else str(external_id), group_code, text, int(urgent),
             int(unaccented), int(per_household), questions.format_options(options), zone, _local_text(first),
             every, until_day.isoformat() if until_day else None, clock.utc_stamp(to_utc(first, zone)),
             clean(created_by), reply_to, clock.utc_stamp(now))).lastrowid
    run_due(db, config, now)
    return {**get(db, send_id), "preview": preview}


def _group_code(db: Database, group: str | None, strict: bool) -> str:
    if group is None or fold(group) in directory.EVERYONE:
        return directory.EVERYONE_CODE
    try:
        return directory.get_group(db, group)["code"]
    except NotFound:
        if strict:
            raise
        return clean(group).upper()  # a hub notice for a group this kiosk lacks reaches no one here


def _audience(db: Database, group_code: str, per_household: bool) -> list[dict]:
    try:
        return directory.audience(db, group_code, per_household=per_household)
    except NotFound:
        return []


def _messages(db: Database, send: dict, options: list, day: date) -> list[tuple[str, str]]:
    """(phone, text) for every recipient: fields filled from the directory, the answer line added."""
    people = _audience(db, send["group_code"], bool(send["per_household"]))
    suffix = questions.instructions(options) if options else ""
    return [(p["phone"], templates.fill(send["text"], p, day) + suffix) for p in people]


def _parts(text: str, unaccented: bool) -> int:
    try:
        return segment(text, unaccented=unaccented).count
    except (SegmentError, ValueError) as exc:
        raise ScheduleError(f"cannot encode the notice as SMS: {exc}") from None


def _preview(db, config, text, group_code, per_household, options, unaccented, day) -> dict:
    send = {"group_code": group_code, "per_household": per_household, "text": text}
    messages = _messages(db, send, options, day)
    counts = [_parts(t, unaccented) for _, t in messages] or [
        _parts(templates.fill(text, templates.SAMPLE, day) + (questions.instructions(options) if options else ""),
               unaccented)]
    most = max(counts)
    if most > config.sms.max_parts:
        raise ScheduleError(f"the notice needs {most} SMS parts, more than the limit of {config.sms.max_parts}; "
                            "shorten it" + ("" if unaccented else " or use --unaccented"),
                            f"Thông báo dài {most} tin nhắn; tối đa {config.sms.max_parts}")
    return {"recipients": len(messages), "parts_per_message": most, "parts_min": min(counts),
            "total_parts": sum(counts) if messages else 0}


# --- running -----------------------------------------------------------------------------------

def run_due(db: Database, config: Config, now: datetime | None = None) -> list[dict]:
    """Send every occurrence due at `now` (UTC; default the clock) that no one has claimed yet.

    Returns one dict per occurrence claimed here: {"id", "seq", "state", "recipients", "detail"}.
    Safe to call from several processes and threads at once, and as often as wanted.
    """
    now = now or clock.utc_now()
    due = db.query("SELECT id FROM notice_sends WHERE state = 'scheduled' AND next_at <= ? ORDER BY next_at, id",
                   (clock.utc_stamp(now),))
    done = []
    for row in due:
        try:
            done.extend(_advance(db, config, row["id"], now))
        except TdpError as exc:  # one broken notice must not hold up the others
            log.warning("notice %s: %s", row["id"], exc)
    return done


def _advance(db: Database, config: Config, send_id: int, now: datetime) -> list[dict]:
    done = []
    late = timedelta(hours=config.notices.late_hours)
    with db.transaction() as conn:
        send = db.query_one("SELECT * FROM notice_sends WHERE id = ? AND state = 'scheduled'", (send_id,))
        if send is None:
            return done
        first = datetime.fromisoformat(send["first_local"])
        until = date.fromisoformat(send["until_day"]) if send["until_day"] else None
        seq = send["next_seq"]
        while True:
            due_local = occurrence(first, send["every"], seq)
            if until and due_local.date() > until:
                conn.execute("UPDATE notice_sends SET state = 'finished', next_at = NULL WHERE id = ?", (send_id,))
                break
            due = to_utc(due_local, send["zone"])
            if due > now:
                conn.execute("UPDATE notice_sends SET next_seq = ?, next_at = ? WHERE id = ?",
                             (seq, clock.utc_stamp(due), send_id))
                break
            following = to_utc(occurrence(first, send["every"], seq + 1), send["zone"]) if send["every"] else None
            claimed = conn.execute(
                "INSERT INTO notice_occurrences (send_id, seq, due_at, claimed_at, state) VALUES (?, ?, ?, ?, 'skipped')"
                " ON CONFLICT (send_id, seq) DO NOTHING",
                (send_id, seq, clock.utc_stamp(due), clock.utc_stamp(now))).rowcount
            if claimed:
                if following is not None and following <= now:
                    outcome = ("skipped", "the kiosk was off; the next occurrence is already due", 0, 0, None)
                elif now - due > late:
                    outcome = ("skipped", f"the kiosk was off for more than {config.notices.late_hours} h", 0, 0, None)
                else:
                    outcome = _dispatch(db, config, send, seq, due_local, due, following, now)
                state, detail, recipients, parts, board_id = outcome
                conn.execute("UPDATE notice_occurrences SET state = ?, detail = ?, recipients = ?, parts = ?, "
                             "board_id = ? WHERE send_id = ? AND seq = ?",
                             (state, detail, recipients, parts, board_id, send_id, seq))
                done.append({"id": send_id, "seq": seq, "state": state, "recipients": recipients, "detail": detail})
            seq += 1
            if not send["every"]:
                conn.execute("UPDATE notice_sends SET state = 'finished', next_seq = ?, next_at = NULL WHERE id = ?",
                             (seq, send_id))
                break
    return done


def _dispatch(db: Database, config: Config, send: dict, seq: int, due_local: datetime, due: datetime,
              following: datetime | None, now: datetime) -> tuple:
    """Queue one occurrence (inside the caller's transaction); (state, detail, recipients, parts, board id)."""
    options = questions.parse_options(send["ask"]) if send["ask"] else []
    unaccented = bool(send["unaccented"])
    try:
        messages = _messages(db, send, options, due_local.date())
        parts = sum(_parts(t, unaccented) for _, t in messages)
        if not send["urgent"]:
            budget.check(db, config, parts, now)
    except TdpError as exc:
        _tell(db, config, send, f"TDP: TB so {send['id']} KHONG gui: {exc.vietnamese or exc}")
        return "refused", str(exc), 0, 0, None
    board_id = board.post(db, send["text"], source="local", external_id=f"notice:{send['id']}:{seq}",
                          urgent=bool(send["urgent"]), group_code=send["group_code"],
                          expires_at=following, posted_by=send["created_by"] or send["source"])
    priority = "urgent" if send["urgent"] else "normal"
    prefix = f"notice:{send['id']}:{seq}"
    texts = {t for _, t in messages}
    if len(texts) == 1:
        outbox.enqueue_many(db, [p for p, _ in messages], texts.pop(), priority=priority, key_prefix=prefix,
                            unaccented=unaccented, max_parts=config.sms.max_parts, source="notice", now=now)
    else:
        for phone, text in messages:
            outbox.enqueue(db, phone, text, priority=priority, key=f"{prefix}:{phone}", unaccented=unaccented,
                           max_parts=config.sms.max_parts, source="notice", now=now)
    if options:
        closes = due + timedelta(hours=config.notices.question_hours)
        questions.open_question(db, send["id"], seq, options, [p for p, _ in messages], closes,
                                send["reply_to"] or _leader(config))
    budget.after_send(db, config, now)
    return "queued", "", len(messages), parts, board_id


def _leader(config: Config) -> str:
    from kiosk.directory import phone as phones
    try:
        return phones.normalise(config.relay.group_leader_phone)
    except phones.InvalidPhone:
        return ""


def _tell(db: Database, config: Config, send: dict, text: str) -> None:
    """An SMS to whoever sent the notice by SMS (a CLI or hub sender reads the refusal elsewhere)."""
    if send["source"] == "sms" and send["reply_to"]:
        outbox.enqueue(db, send["reply_to"], text, priority="urgent", key=f"notice-refused:{send['id']}:{clock.utc_stamp()}",
                       unaccented=True, force=True, source="notice")


# --- reading and cancelling ----------------------------------------------------------------------

def get(db: Database, send_id: int) -> dict:
    row = db.query_one("SELECT * FROM notice_sends WHERE id = ?", (send_id,))
    if row is None:
        raise NotFound(f"no notice {send_id} (see `tdp notice list`)", f"Không có thông báo số {send_id}")
    return _public(row)


def _public(row: dict) -> dict:
    zone = row["zone"]
    return {"id": row["id"], "source": row["source"], "external_id": row["external_id"], "group": row["group_code"],
            "text": row["text"], "urgent": bool(row["urgent"]), "unaccented": bool(row["unaccented"]),
            "per_household": bool(row["per_household"]), "ask": row["ask"], "every": row["every"],
            "first": row["first_local"].replace("T", " ")[:16], "until": row["until_day"], "state": row["state"],
            "next": clock.local_time(zone, row["next_at"]).strftime(AT_FORMAT) if row["next_at"] else None,
            "created_by": row["created_by"], "created_at": row["created_at"],
            "sent_occurrences": row.get("_sent")}


def list_sends(db: Database, limit: int = 100) -> list[dict]:
    """Newest notices first, each with how many of its occurrences were sent."""
    rows = db.query("SELECT s.*, (SELECT COUNT(*) FROM notice_occurrences o WHERE o.send_id = s.id "
                    "AND o.state = 'queued') AS _sent FROM notice_sends s ORDER BY s.id DESC LIMIT ?", (limit,))
    return [_public(r) for r in rows]


def occurrences(db: Database, send_id: int) -> list[dict]:
    return db.query("SELECT seq, due_at, claimed_at, state, detail, recipients, parts FROM notice_occurrences "
                    "WHERE send_id = ? ORDER BY seq", (send_id,))


def hub_sends(db: Database, since: str) -> list[dict]:
    """Hub notices scheduled here that are still running or were created since `since` (UTC):
    those whose counts the kiosk still reports to the hub."""
    return db.query("SELECT id, external_id, state FROM notice_sends WHERE source = 'hub' "
                    "AND (state = 'scheduled' OR created_at >= ?) ORDER BY id", (since,))


def by_external(db: Database, source: str, external_id: str) -> dict | None:
    row = db.query_one("SELECT * FROM notice_sends WHERE source = ? AND external_id = ?", (source, str(external_id)))
    return _public(row) if row else None


def cancel(db: Database, send_id: int, now: datetime | None = None) -> dict:
    """Stop a notice: no further occurrences, unsent SMS withdrawn, taken off the board."""
    get(db, send_id)
    stamp = clock.utc_stamp(now)
    with db.transaction() as conn:
        changed = conn.execute("UPDATE notice_sends SET state = 'cancelled', next_at = NULL, cancelled_at = ? "
                               "WHERE id = ? AND state != 'cancelled'", (stamp, send_id)).rowcount
        withdrawn = outbox.cancel(db, key_prefix(send_id))
        for (board_id,) in conn.execute("SELECT board_id FROM notice_occurrences WHERE send_id = ? "
                                        "AND board_id IS NOT NULL", (send_id,)).fetchall():
            board.cancel(db, board_id)
    return {"id": send_id, "cancelled": bool(changed), "withdrawn_messages": withdrawn}
