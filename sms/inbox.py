"""The SMS inbox: received parts stored as they arrive, joined into messages, handed to handlers.

Parts are stored (deduplicated by their PDU) before the gateway deletes them from the SIM, so a
crash between the two only means the same PDU is read again and ignored. Multipart messages are
joined by sender + concatenation reference; a message still missing parts after a timeout is
delivered with what arrived, flagged incomplete.

Handlers (`fn(db, InboundMessage) -> None`) run for each message once: a message is leased to one
dispatcher, and marked handled with any handler error recorded. If the process dies inside a
handler the lease runs out and the message is handled again, so handlers that queue replies
should give them an outbox key derived from the message id.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterable

from .storage import Database, Migration

log = logging.getLogger(__name__)

MIGRATIONS = [
    Migration("0001_inbox", """
        CREATE TABLE inbox_messages (
            id INTEGER PRIMARY KEY,
            sender TEXT NOT NULL,
            sender_type TEXT NOT NULL DEFAULT '',
            text TEXT NOT NULL,
            sent_at TEXT,
            received_at TEXT NOT NULL,
            parts_expected INTEGER NOT NULL DEFAULT 1,
            parts_received INTEGER NOT NULL DEFAULT 1,
            incomplete INTEGER NOT NULL DEFAULT 0,
            port TEXT NOT NULL DEFAULT '',
            handled_at TEXT,
            handler_error TEXT,
            lease_until_ts REAL
        );
        CREATE INDEX inbox_messages_unhandled ON inbox_messages(handled_at);
        CREATE TABLE inbox_parts (
            id INTEGER PRIMARY KEY,
            pdu_hash TEXT NOT NULL UNIQUE,
            sender TEXT NOT NULL,
            sender_type TEXT NOT NULL DEFAULT '',
            concat_ref INTEGER,
            total INTEGER NOT NULL DEFAULT 1,
            seq INTEGER NOT NULL DEFAULT 1,
            text TEXT NOT NULL,
            encoding TEXT NOT NULL DEFAULT '',
            sent_at TEXT,
            received_at TEXT NOT NULL,
            received_ts REAL NOT NULL,
            port TEXT NOT NULL DEFAULT '',
            message_id INTEGER REFERENCES inbox_messages(id) ON DELETE SET NULL
        );
        CREATE INDEX inbox_parts_pending ON inbox_parts(message_id, sender, concat_ref);
    """),
]

# A dispatcher holds a message this long; a handler that outlives it may see the message again.
HANDLER_LEASE_SECONDS = 300.0


@dataclass(frozen=True)
class InboundMessage:
    """A received SMS, joined from its parts. `incomplete` when parts never arrived."""
    id: int
    sender: str
    sender_type: str
    text: str
    received_at: str
    incomplete: bool = False


Handler = Callable[[Database, InboundMessage], None]
_registered: list[Handler] = []


def register_handler(fn: Handler) -> Handler:
    """Add a handler that every gateway in this process calls for each new message (decorator-friendly)."""
    if fn not in _registered:
        _registered.append(fn)
    return fn


def unregister_handler(fn: Handler) -> None:
    if fn in _registered:
        _registered.remove(fn)


def registered_handlers() -> list[Handler]:
    return list(_registered)


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(timezone.utc)


def _iso(moment) -> str | None:
    if moment is None:
        return None
    if isinstance(moment, datetime):
        return moment.isoformat(timespec="seconds")
    return str(moment)


def pdu_hash(pdu_hex: str) -> str:
    return hashlib.sha256(pdu_hex.strip().upper().encode()).hexdigest()


def store(db: Database, deliver, pdu_hex: str, *, port: str = "", now: datetime | None = None) -> int | None:
    """Store one received part (a decoded SMS-DELIVER); return the message id once it is complete.

    The same PDU stored twice is kept once; a second copy of a part already waiting is ignored.
    """
    now = _now(now)
    concat = getattr(deliver, "concat", None)
    ref, total, seq = concat if concat else (None, 1, 1)
    sender = deliver.sender or ""
    sender_type = str(getattr(deliver, "sender_type", "") or "")
    with db.transaction() as conn:
        if conn.execute("SELECT 1 FROM inbox_parts WHERE pdu_hash = ?", (pdu_hash(pdu_hex),)).fetchone():
            return None
        if ref is not None and conn.execute(
                "SELECT 1 FROM inbox_parts WHERE message_id IS NULL AND sender = ? AND concat_ref = ?"
                " AND total = ? AND seq = ?", (sender, ref, total, seq)).fetchone():
            return None
        conn.execute(
            "INSERT INTO inbox_parts (pdu_hash, sender, sender_type, concat_ref, total, seq, text, encoding,"
            " sent_at, received_at, received_ts, port) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (pdu_hash(pdu_hex), sender, sender_type, ref, total, seq, deliver.text or "",
             str(getattr(deliver, "encoding", "") or ""), _iso(getattr(deliver, "timestamp", None)),
             _iso(now), now.timestamp(), port))
        if ref is None:
            part_id = conn.execute("SELECT last_insert_rowid()").fetchone()[0]
            return _assemble(conn, [part_id], total, now)
        rows = conn.execute("SELECT id FROM inbox_parts WHERE message_id IS NULL AND sender = ?"
                            " AND concat_ref = ? AND total = ? ORDER BY seq", (sender, ref, total)).fetchall()
        if len(rows) < total:
            return None
        return _assemble(conn, [r[0] for r in rows], total, now)


def _assemble(conn, part_ids: list[int], expected: int, now: datetime) -> int:
    marks = ",".join("?" * len(part_ids))
    rows = conn.execute(f"SELECT sender, sender_type, seq, text, sent_at, port FROM inbox_parts"
                        f" WHERE id IN ({marks}) ORDER BY seq", part_ids).fetchall()
    sender, sender_type, _, _, sent_at, port = rows[0]
    text = "".join(r[3] for r in rows)
    cursor = conn.execute(
        "INSERT INTO inbox_messages (sender, sender_type, text, sent_at, received_at, parts_expected,"
        " parts_received, incomplete, port) VALUES (?,?,?,?,?,?,?,?,?)",
        (sender, sender_type, text, sent_at, _iso(now), expected, len(rows), int(len(rows) < expected), port))
    conn.execute(f"UPDATE inbox_parts SET message_id = ? WHERE id IN ({marks})", [cursor.lastrowid, *part_ids])
    return cursor.lastrowid


def flush_incomplete(db: Database, timeout_seconds: float, now: datetime | None = None) -> list[int]:
    """Deliver multipart messages whose first part arrived over `timeout_seconds` ago, flagged
    incomplete; return the new message ids."""
    now = _now(now)
    created = []
    with db.transaction() as conn:
        groups = conn.execute(
            "SELECT sender, concat_ref, total, GROUP_CONCAT(id) FROM inbox_parts WHERE message_id IS NULL"
            " AND concat_ref IS NOT NULL GROUP BY sender, concat_ref, total HAVING MIN(received_ts) < ?",
            (now.timestamp() - timeout_seconds,)).fetchall()
        for _sender, _ref, total, ids in groups:
            created.append(_assemble(conn, [int(i) for i in ids.split(",")], total, now))
    return created


def _message(row: dict) -> InboundMessage:
    return InboundMessage(row["id"], row["sender"], row["sender_type"], row["text"], row["received_at"],
                          bool(row["incomplete"]))


def dispatch(db: Database, handlers: Iterable[Handler], now: datetime | None = None) -> int:
    """Run every handler on each unhandled message, once; return how many messages were handled.

    A handler's exception is logged and recorded on the message (handler_error); the others still run.
    """
    handlers = list(handlers)
    handled = 0
    while True:
        moment = _now(now)
        with db.transaction() as conn:
            row = conn.execute(
                "SELECT id FROM inbox_messages WHERE handled_at IS NULL AND (lease_until_ts IS NULL"
                " OR lease_until_ts < ?) ORDER BY id LIMIT 1", (moment.timestamp(),)).fetchone()
            if row is None:
                return handled
            conn.execute("UPDATE inbox_messages SET lease_until_ts = ? WHERE id = ?",
                         (moment.timestamp() + HANDLER_LEASE_SECONDS, row[0]))
        message = _message(db.query_one("SELECT * FROM inbox_messages WHERE id = ?", (row[0],)))
        errors = []
        for handler in handlers:
            try:
                handler(db, message)
            except Exception as exc:  # one broken handler must not stop the inbox or the others
                log.exception("inbox handler %s failed on message %s", getattr(handler, "__name__", handler),
                              message.id)
                errors.append(f"{getattr(handler, '__name__', 'handler')}: {type(exc).__name__}: {exc}")
        with db.transaction() as conn:
            conn.execute("UPDATE inbox_messages SET handled_at = ?, handler_error = ?, lease_until_ts = NULL"
                         " WHERE id = ?", (_iso(_now(now)), "; ".join(errors) or None, message.id))
        handled += 1


def purge(db: Database, days: float, now: datetime | None = None) -> int:
    """Delete handled messages received over `days` ago with their parts; 0 keeps all. Returns how
    many messages were deleted. A message not yet handled is kept whatever its age."""
    if days <= 0:
        return 0
    moment = _now(now).astimezone(timezone.utc) - timedelta(days=days)
    with db.transaction() as conn:
        # received_at is ISO 8601 UTC text written by _iso, so text order is time order.
        ids = [r[0] for r in conn.execute("SELECT id FROM inbox_messages WHERE handled_at IS NOT NULL"
                                          " AND received_at < ?", (_iso(moment),))]
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            conn.execute(f"DELETE FROM inbox_parts WHERE message_id IN ({marks})", chunk)
            conn.execute(f"DELETE FROM inbox_messages WHERE id IN ({marks})", chunk)
    return len(ids)


REDACTED_MAX_CHARS = 1600


def redact(db: Database, message_id: int, text: str) -> bool:
    """Replace the stored text of received message `message_id` (and of the parts it was joined
    from) with `text`, e.g. an official's command with its PIN masked. One transaction; the parts'
    PDU hashes stay, so the same PDU read again from the SIM is still recognised and ignored.
    Returns False when no such message exists."""
    if not isinstance(text, str) or len(text) > REDACTED_MAX_CHARS:
        raise ValueError(f"redacted text must be a string of at most {REDACTED_MAX_CHARS} characters")
    with db.transaction() as conn:
        changed = conn.execute("UPDATE inbox_messages SET text = ? WHERE id = ?", (text, message_id)).rowcount
        if changed:
            # The parts keep the raw text too; they are only kept for joining, so one copy of the
            # redacted text on the first part is enough.
            conn.execute("UPDATE inbox_parts SET text = CASE WHEN seq = (SELECT MIN(seq) FROM inbox_parts"
                         " WHERE message_id = ?) THEN ? ELSE '' END WHERE message_id = ?",
                         (message_id, text, message_id))
    return bool(changed)


def messages(db: Database, *, sender: str | None = None, limit: int = 100) -> list[dict]:
    """Received messages, newest first."""
    where, params = ("WHERE sender = ?", (sender,)) if sender else ("", ())
    rows = db.query(f"SELECT id, sender, sender_type, text, sent_at, received_at, parts_expected,"
                    f" parts_received, incomplete, port, handled_at, handler_error FROM inbox_messages {where}"
                    f" ORDER BY id DESC LIMIT ?", params + (limit,))
    for row in rows:
        row["incomplete"] = bool(row["incomplete"])
    return rows


def pending_parts(db: Database) -> int:
    """Parts waiting for the rest of their message."""
    return db.scalar("SELECT COUNT(*) FROM inbox_parts WHERE message_id IS NULL") or 0
