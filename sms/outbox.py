"""The durable SMS outbox: messages split into parts, each with its own state, in the shared store.

A part moves queued → sending → sent → delivered | failed | expired (or cancelled before it is
sent). Every state change is one IMMEDIATE transaction, so several gateway threads or processes
can drain one queue and `kill -9` at any moment loses nothing:

- `claim_next` marks a part `sending` (with a lease) before the modem sees it;
- `mark_sent` records the modem's `+CMGS` reference in the same transaction that marks it sent;
- after a restart, `recover` puts a `sending` part back in the queue only because no reference was
  ever recorded for it (the residual duplicate risk is described in docs/sms-gateway.md).

All parts of one message go through the same modem (its SIM is the sender the phone reassembles
by), so the first claim of a message assigns it to that worker.

Times: human-facing columns are ISO 8601 UTC text; scheduling columns (`*_ts`) are Unix seconds.
"""
from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from .errors import OutboxError
from .policy import DEFAULT_POLICY, Policy  # noqa: F401 (Policy is part of this module's API)
from .storage import Database, Migration

MIGRATIONS = [
    Migration("0001_outbox", """
        CREATE TABLE outbox_bodies (
            id INTEGER PRIMARY KEY,
            text TEXT NOT NULL,
            encoding TEXT NOT NULL,
            unaccented INTEGER NOT NULL DEFAULT 0,
            part_count INTEGER NOT NULL,
            ref16 INTEGER NOT NULL DEFAULT 0,
            parts TEXT NOT NULL
        );
        CREATE TABLE outbox_messages (
            id INTEGER PRIMARY KEY,
            key TEXT UNIQUE,
            recipient TEXT NOT NULL,
            body_id INTEGER NOT NULL REFERENCES outbox_bodies(id),
            priority INTEGER NOT NULL,
            concat_ref INTEGER NOT NULL DEFAULT 0,
            source TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            created_ts REAL NOT NULL
        );
        CREATE INDEX outbox_messages_recipient ON outbox_messages(recipient);
        CREATE TABLE outbox_parts (
            id INTEGER PRIMARY KEY,
            message_id INTEGER NOT NULL REFERENCES outbox_messages(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            priority INTEGER NOT NULL,
            state TEXT NOT NULL DEFAULT 'queued',
            port TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            next_attempt_ts REAL NOT NULL DEFAULT 0,
            claimed_ts REAL,
            lease_until_ts REAL,
            message_ref INTEGER,
            sent_at TEXT,
            sent_ts REAL,
            report_status INTEGER,
            delivered_at TEXT,
            UNIQUE (message_id, seq)
        );
        CREATE INDEX outbox_parts_queue ON outbox_parts(state, priority, message_id, seq);
        CREATE INDEX outbox_parts_ref ON outbox_parts(message_ref, port) WHERE message_ref IS NOT NULL;
        CREATE INDEX outbox_parts_port_claimed ON outbox_parts(port, claimed_ts) WHERE claimed_ts IS NOT NULL;
    """),
    # Messages queued before kinds existed were all held in quiet hours: they stay broadcasts.
    Migration("0002_message_kind", """
        ALTER TABLE outbox_messages ADD COLUMN kind TEXT NOT NULL DEFAULT 'broadcast';
        CREATE INDEX outbox_messages_created ON outbox_messages(created_ts);
        CREATE INDEX outbox_messages_body ON outbox_messages(body_id);
    """),
]

PRIORITIES = ("urgent", "normal", "bulk")
# A direct message answers someone who just wrote or acted (a keyword or relay reply, an OTP, a
# request's confirmation) and goes out at once, quiet hours or not; a broadcast (notices, relay
# broadcasts) waits for the end of quiet hours unless it is urgent.
KINDS = ("direct", "broadcast")
STATES = ("queued", "sending", "sent", "delivered", "failed", "expired", "cancelled")
OPEN_STATES = ("queued", "sending")

# A part stays leased to its worker this long; AT+CMGS may take 60 s, so a live worker never loses it.
LEASE_SECONDS = 180.0
# Status reports arriving later than this after the send are not matched (message refs wrap at 256).
REPORT_WINDOW_SECONDS = 7 * 24 * 3600
_E164 = re.compile(r"^\+[1-9]\d{7,14}$")

# Woken after every enqueue, so a gateway in this process starts at once.
work_added = threading.Event()


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds")


def _priority(name: str) -> int:
    try:
        return PRIORITIES.index(name)
    except ValueError:
        raise OutboxError(f"priority must be one of {', '.join(PRIORITIES)}, got {name!r}") from None


def _check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise OutboxError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    return kind


def _check_recipient(to: str) -> None:
    if not isinstance(to, str) or not _E164.match(to):
        raise OutboxError(f"invalid phone number {to!r}: expected E.164 such as +84912345678")


def _segment(text: str, unaccented: bool, force: bool, max_parts: int):
    from .segments import segment  # the codec; imported late so the outbox loads without it
    if not isinstance(text, str) or not text.strip():
        raise OutboxError("message text is empty")
    try:
        segmentation = segment(text, unaccented=unaccented)
        if segmentation.count > 1:
            # A 16-bit concatenation reference collides less; take it when it costs no extra part.
            wider = segment(text, unaccented=unaccented, ref16=True)
            if wider.count == segmentation.count:
                segmentation = wider
    except ValueError as exc:
        raise OutboxError(f"cannot encode message: {exc}") from None
    if segmentation.count > max_parts and not force:
        raise OutboxError(f"message needs {segmentation.count} SMS parts, more than the limit of "
                          f"{max_parts}; shorten it, use --unaccented, or --force")
    return segmentation


def _insert_body(conn, segmentation, unaccented: bool) -> int:
    """The text and its parts, stored once however many recipients share it (a broadcast)."""
    return conn.execute(
        "INSERT INTO outbox_bodies (text, encoding, unaccented, part_count, ref16, parts) VALUES (?,?,?,?,?,?)",
        (segmentation.text, segmentation.encoding, int(unaccented), segmentation.count, int(segmentation.ref16),
         json.dumps(list(segmentation.parts), ensure_ascii=False))).lastrowid


def _insert_messages(conn, rows: list[tuple[str, str | None]], body_id: int, segmentation, priority: int,
                     source: str, now: datetime, kind: str) -> int:
    """Insert messages (recipient, key) and their parts; keys already present are skipped.
    Returns how many messages were new."""
    before = conn.execute("SELECT COALESCE(MAX(id), 0) FROM outbox_messages").fetchone()[0]
    added = conn.executemany(
        "INSERT INTO outbox_messages (key, recipient, body_id, priority, source, created_at, created_ts, kind)"
        " VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(key) DO NOTHING",
        [(key, to, body_id, priority, source, _iso(now), now.timestamp(), kind) for to, key in rows]).rowcount
    # Rows above the old maximum id are the new ones: the IMMEDIATE transaction keeps other writers
    # out. The concatenation reference (with our number) tells the phone which parts belong together.
    modulus = 65536 if segmentation.ref16 else 256
    conn.execute(f"UPDATE outbox_messages SET concat_ref = id % {modulus} WHERE id > ?", (before,))
    conn.execute("WITH RECURSIVE seqs(seq) AS (SELECT 1 UNION ALL SELECT seq + 1 FROM seqs WHERE seq < ?)"
                 " INSERT INTO outbox_parts (message_id, seq, priority) SELECT m.id, seqs.seq, m.priority"
                 " FROM outbox_messages m, seqs WHERE m.id > ? ORDER BY m.id, seqs.seq",
                 (segmentation.count, before))
    return added


def enqueue(db: Database, to: str, text: str, *, priority: str = "normal", key: str | None = None,
            unaccented: bool = False, force: bool = False, max_parts: int = 10, source: str = "",
            kind: str = "direct", now: datetime | None = None) -> int:
    """Queue one SMS to `to` (E.164); return its message id.

    `kind` is "direct" (sent at once, quiet hours or not) or "broadcast" (see KINDS).
    With `key`, queueing is idempotent: a key already present returns the existing id and queues
    nothing new. Raises OutboxError for a bad number, empty text or more than `max_parts` parts.
    """
    _check_recipient(to)
    _check_kind(kind)
    level = _priority(priority)
    segmentation = _segment(text, unaccented, force, max_parts)
    now = now or utcnow()
    with db.transaction() as conn:
        if key is not None:
            found = conn.execute("SELECT id FROM outbox_messages WHERE key = ?", (key,)).fetchone()
            if found:
                return found[0]
        body_id = _insert_body(conn, segmentation, unaccented)
        _insert_messages(conn, [(to, key)], body_id, segmentation, level, source, now, kind)
        message_id = conn.execute("SELECT MAX(id) FROM outbox_messages").fetchone()[0]
    work_added.set()
    return message_id


def enqueue_many(db: Database, recipients: list[str], text: str, *, priority: str = "normal",
                 key_prefix: str, unaccented: bool = False, force: bool = False, max_parts: int = 10,
                 source: str = "", kind: str = "broadcast", now: datetime | None = None) -> list[int]:
    """Queue one text to many recipients (a broadcast) in one transaction; return the message ids.

    The text is segmented once. Each message's key is f"{key_prefix}:{phone}", so re-running a
    broadcast queues only the recipients it missed; duplicates in `recipients` are sent once.
    """
    if not key_prefix:
        raise OutboxError("a broadcast needs a key prefix (for example the notice id)")
    _check_kind(kind)
    for to in recipients:
        _check_recipient(to)
    level = _priority(priority)
    segmentation = _segment(text, unaccented, force, max_parts)
    now = now or utcnow()
    unique = list(dict.fromkeys(recipients))
    keys = [f"{key_prefix}:{to}" for to in unique]
    with db.transaction() as conn:
        body_id = _insert_body(conn, segmentation, unaccented)
        if not _insert_messages(conn, list(zip(unique, keys)), body_id, segmentation, level, source, now, kind):
            conn.execute("DELETE FROM outbox_bodies WHERE id = ?", (body_id,))  # everyone already had it
        found = dict(conn.execute("SELECT key, id FROM outbox_messages WHERE key >= ? AND key < ?",
                                  _prefix_range(key_prefix + ":")).fetchall())
    ids = [found[key] for key in keys]
    work_added.set()
    return ids


def _prefix_range(prefix: str) -> tuple[str, str]:
    """Bounds [low, high) of the keys starting with `prefix`: a range the key index answers
    (LIKE would scan every message)."""
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)


def cancel(db: Database, key_prefix: str) -> int:
    """Cancel the not-yet-sent parts of messages whose key starts with `key_prefix`.

    Parts already handed to a modem are left alone. Returns how many messages had parts cancelled.
    """
    if not key_prefix:
        raise OutboxError("cancel needs a key prefix; refusing to cancel every message")
    with db.transaction() as conn:
        ids = [row[0] for row in conn.execute(
            "SELECT DISTINCT p.message_id FROM outbox_parts p JOIN outbox_messages m ON m.id = p.message_id"
            " WHERE m.key >= ? AND m.key < ? AND p.state = 'queued'", _prefix_range(key_prefix))]
        conn.executemany("UPDATE outbox_parts SET state = 'cancelled', last_error = 'cancelled'"
                         " WHERE message_id = ? AND state = 'queued'", [(i,) for i in ids])
    return len(ids)


# --- draining the queue (the gateway's side) -------------------------------------------------

@dataclass(frozen=True)
class Part:
    """One part claimed for sending: everything the modem worker needs to build its PDU."""
    id: int
    message_id: int
    seq: int
    total: int
    text: str
    recipient: str
    encoding: str
    concat_ref: int
    ref16: bool
    priority: str
    attempts: int

    @property
    def concat(self) -> tuple[int, int, int] | None:
        """(reference, total, sequence) for the concatenation header; None for a single part."""
        return (self.concat_ref, self.total, self.seq) if self.total > 1 else None


_last_expiry: dict[int, float] = {}
EXPIRY_CHECK_SECONDS = 60.0


def _expire(conn, now: datetime, policy: Policy) -> None:
    # Expiry scans the queue, so once a minute per connection is enough (validity is in hours).
    stamp, last = now.timestamp(), _last_expiry.get(id(conn))
    if last is not None and 0 <= stamp - last < EXPIRY_CHECK_SECONDS:
        return
    _last_expiry[id(conn)] = stamp
    cutoff = stamp - policy.validity_hours * 3600
    conn.execute(
        "UPDATE outbox_parts SET state = 'expired', last_error = 'not sent within the validity period'"
        " WHERE state = 'queued' AND message_id IN (SELECT id FROM outbox_messages WHERE created_ts < ?)",
        (cutoff,))


def _rate_limited(conn, worker_id: str, now: datetime, policy: Policy) -> bool:
    if policy.parts_per_minute <= 0:
        return False
    recent = conn.execute("SELECT COUNT(*) FROM outbox_parts WHERE port = ? AND claimed_ts > ?",
                          (worker_id, now.timestamp() - 60)).fetchone()[0]
    return recent >= policy.parts_per_minute


_CLAIM_SQL = """
    SELECT p.id, p.message_id, p.seq, b.part_count, b.parts, m.recipient, b.encoding, m.concat_ref, b.ref16,
           p.priority, p.attempts
    FROM outbox_parts p JOIN outbox_messages m ON m.id = p.message_id JOIN outbox_bodies b ON b.id = m.body_id
    WHERE p.state = 'queued' AND p.next_attempt_ts <= ? AND (p.port IS NULL OR p.port = ?) {only_urgent}
      AND NOT EXISTS (SELECT 1 FROM outbox_parts e WHERE e.message_id = p.message_id AND e.seq < p.seq
                      AND e.state IN ('queued', 'sending'))
    ORDER BY p.priority, p.message_id, p.seq LIMIT 1
"""


def _claim(conn, worker_id: str, now: datetime, policy: Policy) -> Part | None:
    _expire(conn, now, policy)
    if _rate_limited(conn, worker_id, now, policy):
        return None
    only_urgent = "AND (p.priority = 0 OR m.kind = 'direct')" if policy.in_quiet_hours(now) else ""
    row = conn.execute(_CLAIM_SQL.format(only_urgent=only_urgent), (now.timestamp(), worker_id)).fetchone()
    if row is None:
        return None
    part_id, message_id, seq, total, texts, recipient, encoding, concat_ref, ref16, priority, attempts = row
    part = Part(part_id, message_id, seq, total, json.loads(texts)[seq - 1], recipient, encoding, concat_ref,
                bool(ref16), PRIORITIES[priority], attempts + 1)
    stamp = now.timestamp()
    conn.execute("UPDATE outbox_parts SET state = 'sending', port = ?, attempts = attempts + 1,"
                 " claimed_ts = ?, lease_until_ts = ? WHERE id = ?",
                 (worker_id, stamp, stamp + LEASE_SECONDS, part.id))
    if part.total > 1 and part.seq == 1:  # the rest of the message follows through the same SIM
        conn.execute("UPDATE outbox_parts SET port = ? WHERE message_id = ? AND port IS NULL",
                     (worker_id, part.message_id))
    return part


def claim_next(db: Database, worker_id: str, now: datetime | None = None,
               policy: Policy = DEFAULT_POLICY) -> Part | None:
    """Take the next due part for modem `worker_id` (marked `sending`), or None if nothing is due.

    Urgent first, then normal, then bulk; within a priority, oldest message first. A part waits
    until the parts before it are sent, so a failing first part does not waste the others.
    Quiet hours hold non-urgent parts; the per-modem rate limit holds everything.
    """
    now = now or utcnow()
    with db.transaction() as conn:
        return _claim(conn, worker_id, now, policy)


def mark_sent(db: Database, part_id: int, message_ref: int, worker_id: str, now: datetime | None = None,
              *, claim_next: bool = False, policy: Policy = DEFAULT_POLICY) -> Part | None:
    """Record that the modem accepted the part with `+CMGS: message_ref`.

    With `claim_next`, the next part is claimed in the same transaction (one commit per part).
    """
    now = now or utcnow()
    with db.transaction() as conn:
        conn.execute("UPDATE outbox_parts SET state = 'sent', message_ref = ?, port = ?, sent_at = ?,"
                     " sent_ts = ?, lease_until_ts = NULL, last_error = NULL WHERE id = ? AND state = 'sending'",
                     (message_ref, worker_id, _iso(now), now.timestamp(), part_id))
        return _claim(conn, worker_id, now, policy) if claim_next else None


def mark_failed(db: Database, part_id: int, error: str, *, permanent: bool, now: datetime | None = None,
                policy: Policy = DEFAULT_POLICY) -> str:
    """Record a failed attempt; return the part's new state ("queued" to retry, or "failed").

    A transient error retries after an exponential backoff until `policy.max_attempts`; a permanent
    one fails at once. A failed part fails the rest of its message, which the phone could not join.
    """
    now = now or utcnow()
    with db.transaction() as conn:
        row = conn.execute("SELECT message_id, seq, attempts FROM outbox_parts WHERE id = ?", (part_id,)).fetchone()
        if row is None:
            return "failed"
        message_id, seq, attempts = row
        if permanent or attempts >= policy.max_attempts:
            reason = error if permanent else f"{error} (gave up after {attempts} attempts)"
            conn.execute("UPDATE outbox_parts SET state = 'failed', last_error = ?, lease_until_ts = NULL"
                         " WHERE id = ?", (reason, part_id))
            conn.execute("UPDATE outbox_parts SET state = 'failed', last_error = ? WHERE message_id = ?"
                         " AND state = 'queued'", (f"part {seq} failed: {reason}", message_id))
            return "failed"
        conn.execute("UPDATE outbox_parts SET state = 'queued', last_error = ?, lease_until_ts = NULL,"
                     " next_attempt_ts = ? WHERE id = ?",
                     (error, now.timestamp() + policy.backoff(attempts), part_id))
        return "queued"


def release(db: Database, part_id: int, reason: str = "") -> None:
    """Give a claimed part back unsent and without counting the attempt (e.g. the gateway stops)."""
    with db.transaction() as conn:
        conn.execute("UPDATE outbox_parts SET state = 'queued', attempts = MAX(attempts - 1, 0),"
                     " lease_until_ts = NULL, last_error = COALESCE(NULLIF(?, ''), last_error)"
                     " WHERE id = ? AND state = 'sending' AND message_ref IS NULL", (reason, part_id))


def recover(db: Database, worker_id: str | None = None, now: datetime | None = None) -> int:
    """Requeue parts left `sending` with no modem reference recorded; return how many.

    With `worker_id` (a worker starting up), its own in-flight parts are requeued: that worker
    died. Parts of other workers are requeued only when their lease has run out.
    """
    now = now or utcnow()
    with db.transaction() as conn:
        cursor = conn.execute(
            "UPDATE outbox_parts SET state = 'queued', lease_until_ts = NULL,"
            " last_error = 'interrupted before the modem confirmed it; sending again'"
            " WHERE state = 'sending' AND message_ref IS NULL AND (port = ? OR lease_until_ts < ?)",
            (worker_id, now.timestamp()))
        return cursor.rowcount


def unassign(db: Database, worker_id: str) -> int:
    """Let other modems take this one's messages that have no part sent yet (the modem is dead)."""
    with db.transaction() as conn:
        cursor = conn.execute(
            "UPDATE outbox_parts SET port = NULL WHERE port = ? AND state = 'queued' AND message_id NOT IN"
            " (SELECT message_id FROM outbox_parts WHERE port = ? AND state NOT IN ('queued', 'cancelled'))",
            (worker_id, worker_id))
        return cursor.rowcount


def apply_status_report(db: Database, message_ref: int, recipient: str, *, delivered: bool, final: bool,
                        status: int, worker_id: str | None = None, now: datetime | None = None) -> int | None:
    """Match a status report to the most recent sent part with this reference and recipient.

    Final reports make the part delivered or failed; others only record the status.
    Returns the part id, or None when nothing matches (too old, or not ours).
    """
    now = now or utcnow()
    tail = re.sub(r"\D", "", recipient or "")[-9:]
    with db.transaction() as conn:
        rows = conn.execute(
            "SELECT p.id, m.recipient FROM outbox_parts p JOIN outbox_messages m ON m.id = p.message_id"
            " WHERE p.message_ref = ? AND p.state IN ('sent', 'delivered')"
            " AND p.sent_ts > ? AND (? IS NULL OR p.port = ?) ORDER BY p.sent_ts DESC",
            (message_ref, now.timestamp() - REPORT_WINDOW_SECONDS, worker_id, worker_id)).fetchall()
        match = next((pid for pid, to in rows if not tail or to.endswith(tail)), None)
        if match is None:
            return None
        if final and delivered:
            conn.execute("UPDATE outbox_parts SET state = 'delivered', report_status = ?, delivered_at = ?"
                         " WHERE id = ?", (status, _iso(now), match))
        elif final:
            conn.execute("UPDATE outbox_parts SET state = 'failed', report_status = ?,"
                         " last_error = ? WHERE id = ?",
                         (status, f"network reports not delivered (status {status})", match))
        else:
            conn.execute("UPDATE outbox_parts SET report_status = ? WHERE id = ?", (status, match))
        return match


def next_due(db: Database, worker_id: str, now: datetime | None = None,
             policy: Policy = DEFAULT_POLICY) -> float | None:
    """Seconds until some queued part may become claimable (retry time, quiet hours end, rate
    window); None when nothing is queued for this worker. A hint for sleeping, never a promise."""
    now = now or utcnow()
    stamp = now.timestamp()
    quiet = policy.in_quiet_hours(now)
    held = "AND (p.priority = 0 OR m.kind = 'direct')" if quiet else ""
    row = db.query_one("SELECT MIN(p.next_attempt_ts) AS due FROM outbox_parts p JOIN outbox_messages m"
                       f" ON m.id = p.message_id WHERE p.state = 'queued' AND (p.port IS NULL OR p.port = ?) {held}",
                       (worker_id,))
    if row is None or row["due"] is None:
        if quiet and db.scalar("SELECT 1 FROM outbox_parts WHERE state = 'queued' AND (port IS NULL OR port = ?)"
                               " LIMIT 1", (worker_id,)):
            return 60.0  # broadcasts held: re-check each minute; quiet hours end on a minute boundary
        return None
    wait = max(0.0, row["due"] - stamp)
    if policy.parts_per_minute > 0:
        oldest = db.scalar("SELECT MIN(claimed_ts) FROM (SELECT claimed_ts FROM outbox_parts WHERE port = ?"
                           " AND claimed_ts > ? ORDER BY claimed_ts DESC LIMIT ?)",
                           (worker_id, stamp - 60, policy.parts_per_minute))
        count = db.scalar("SELECT COUNT(*) FROM outbox_parts WHERE port = ? AND claimed_ts > ?",
                          (worker_id, stamp - 60))
        if oldest is not None and count >= policy.parts_per_minute:
            wait = max(wait, oldest + 60 - stamp)
    return wait


# --- reading the outbox ----------------------------------------------------------------------

def _message_state(counts: dict) -> str:
    total = sum(counts.values())
    if counts["failed"]:
        return "failed"
    if counts["queued"] or counts["sending"]:
        started = counts["sending"] + counts["sent"] + counts["delivered"]
        return "sending" if started else "queued"
    if counts["cancelled"]:
        return "cancelled"
    if counts["expired"]:
        return "expired"
    if counts["delivered"] == total:
        return "delivered"
    return "sent"


_STATE_SUMS = ", ".join(f"SUM(p.state = '{s}') AS {s}" for s in STATES)


def _summaries(db: Database, where: str, params: tuple, limit: int | None) -> list[dict]:
    sql = (f"SELECT m.id, m.key, m.recipient, b.text, b.encoding, b.unaccented, b.part_count, m.concat_ref,"
           f" b.ref16, m.priority, m.kind, m.source, m.created_at, {_STATE_SUMS} FROM outbox_messages m"
           f" JOIN outbox_bodies b ON b.id = m.body_id JOIN outbox_parts p ON p.message_id = m.id"
           f" {where} GROUP BY m.id ORDER BY m.id DESC" + (" LIMIT ?" if limit else ""))
    rows = db.query(sql, params + ((limit,) if limit else ()))
    result = []
    for row in rows:
        counts = {s: row.pop(s) or 0 for s in STATES}
        row["to"] = row.pop("recipient")
        row["priority"] = PRIORITIES[row["priority"]]
        row["unaccented"] = bool(row["unaccented"])
        row["ref16"] = bool(row["ref16"])
        row["state"] = _message_state(counts)
        row["part_states"] = {s: n for s, n in counts.items() if n}
        result.append(row)
    return result


def message(db: Database, message_id: int) -> dict:
    """One message with its overall state and its parts (state, reference, attempts, last error…)."""
    found = _summaries(db, "WHERE m.id = ?", (message_id,), None)
    if not found:
        raise OutboxError(f"no outbox message with id {message_id}")
    result = found[0]
    texts = json.loads(db.scalar("SELECT b.parts FROM outbox_bodies b JOIN outbox_messages m ON m.body_id = b.id"
                                 " WHERE m.id = ?", (message_id,)))
    result["parts"] = db.query(
        "SELECT id, seq, state, port, attempts, last_error, message_ref, sent_at, delivered_at,"
        " report_status FROM outbox_parts WHERE message_id = ? ORDER BY seq", (message_id,))
    for part in result["parts"]:
        part["text"] = texts[part["seq"] - 1]
    return result


def messages(db: Database, *, to: str | None = None, key_prefix: str | None = None, limit: int = 100) -> list[dict]:
    """Recent messages, newest first, optionally for one recipient or one key prefix."""
    clauses, params = [], []
    if to:
        clauses.append("m.recipient = ?")
        params.append(to)
    if key_prefix:
        clauses.append("m.key >= ? AND m.key < ?")
        params.extend(_prefix_range(key_prefix))
    where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
    return _summaries(db, where, tuple(params), limit)


def counts(db: Database, key_prefix: str | None = None) -> dict:
    """{"messages": {state: n}, "parts": {state: n}} over every state, for all or one key prefix."""
    where, params = "", ()
    if key_prefix:
        where, params = "WHERE m.key >= ? AND m.key < ?", _prefix_range(key_prefix)
    part_counts = dict.fromkeys(STATES, 0)
    message_counts = dict.fromkeys(STATES, 0)
    rows = db.query(f"SELECT {_STATE_SUMS} FROM outbox_parts p JOIN outbox_messages m ON m.id = p.message_id"
                    f" {where} GROUP BY p.message_id", params)
    for row in rows:
        state_counts = {s: row[s] or 0 for s in STATES}
        message_counts[_message_state(state_counts)] += 1
        for s, n in state_counts.items():
            part_counts[s] += n
    return {"messages": message_counts, "parts": part_counts}


def purge(db: Database, days: float, now: datetime | None = None) -> int:
    """Delete messages created over `days` ago whose parts are all final (sent, delivered, failed,
    expired, cancelled), with their parts and the bodies no message uses any more; 0 keeps all.
    Returns how many messages were deleted."""
    if days <= 0:
        return 0
    cutoff = (now or utcnow()).timestamp() - days * 86400
    with db.transaction() as conn:
        ids = [r[0] for r in conn.execute(
            "SELECT id FROM outbox_messages m WHERE created_ts < ? AND NOT EXISTS (SELECT 1 FROM outbox_parts p"
            " WHERE p.message_id = m.id AND p.state IN ('queued', 'sending'))", (cutoff,))]
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            conn.execute(f"DELETE FROM outbox_parts WHERE message_id IN ({marks})", chunk)
            conn.execute(f"DELETE FROM outbox_messages WHERE id IN ({marks})", chunk)
        if ids:
            conn.execute("DELETE FROM outbox_bodies WHERE NOT EXISTS"
                         " (SELECT 1 FROM outbox_messages m WHERE m.body_id = outbox_bodies.id)")
    return len(ids)


def queue_depth(db: Database) -> int:
    """Parts still to send (queued or in flight)."""
    return db.scalar("SELECT COUNT(*) FROM outbox_parts WHERE state IN ('queued', 'sending')") or 0


def wait_final(db: Database, first_id: int, last_id: int, seconds: float) -> dict:
    """Watch the store until every part of messages first_id..last_id is final or `seconds` pass.

    {"ok": True, "parts": {state: n}} or {"ok": False, "error": one line, ...}. Another process
    (the gateway) does the sending, so this watches the file's data_version rather than an event."""
    deadline = time.monotonic() + seconds
    ids = (first_id, last_id)
    sql = ("SELECT state, COUNT(*) AS n, MAX(last_error) AS error FROM outbox_parts"
           " WHERE message_id BETWEEN ? AND ? GROUP BY state")
    version = None
    while True:
        current = db.scalar("PRAGMA data_version")
        if current != version:
            version = current
            states = {row["state"]: row for row in db.query(sql, ids)}
            waiting = sum(states[s]["n"] for s in ("queued", "sending") if s in states)
            if not waiting:
                break
        if time.monotonic() >= deadline:
            return {"ok": False, "waiting_parts": waiting, "error": f"{waiting} parts still waiting after {seconds:g} s"
                    " (is `tdp gateway` running? quiet hours hold broadcasts)"}
        time.sleep(0.05)  # another process's writes: there is nothing to wait on but the file
    failed = sum(states[s]["n"] for s in ("failed", "expired", "cancelled") if s in states)
    counts = {s: row["n"] for s, row in states.items()}
    if failed:
        error = next((states[s]["error"] for s in ("failed", "expired", "cancelled") if s in states), "")
        return {"ok": False, "parts": counts, "error": f"{failed} parts not sent: {error}"}
    return {"ok": True, "parts": counts}


# --- queries for the kiosk's notices (budget, digest) -------------------------------------------

SPENT_STATES = ("queued", "sending", "sent", "delivered")


def parts_spent(db: Database, since_ts: float, until_ts: float) -> int:
    """SMS parts of messages created in [since_ts, until_ts) (Unix s) that are sent or still to be
    sent: what the month's SMS budget counts (cancelled, expired and failed parts cost nothing)."""
    marks = ", ".join("?" * len(SPENT_STATES))
    return db.scalar(f"SELECT COUNT(*) FROM outbox_parts p JOIN outbox_messages m ON m.id = p.message_id"
                     f" WHERE m.created_ts >= ? AND m.created_ts < ? AND p.state IN ({marks})",
                     (since_ts, until_ts, *SPENT_STATES)) or 0


def failed_keys(db: Database, since_ts: float, until_ts: float) -> list[str]:
    """Keys of messages created in [since_ts, until_ts) with a failed or expired part."""
    return [row["key"] for row in db.query(
        "SELECT DISTINCT m.key FROM outbox_messages m JOIN outbox_parts p ON p.message_id = m.id"
        " WHERE m.created_ts >= ? AND m.created_ts < ? AND m.key IS NOT NULL"
        " AND p.state IN ('failed', 'expired')", (since_ts, until_ts))]
