"""The kiosk's notice board: notices from the hub, from the SMS relay, or typed in locally.

A notice is shown (newest first) until it expires or is cancelled. `(source, external_id)` is
unique, so posting the same hub notice twice keeps one row. Times are UTC ISO 8601 text.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sms.storage import Database, Migration

from kiosk.clock import utc_stamp
from kiosk.errors import InvalidInput, NotFound
from kiosk.text import clean, fold

SOURCES = ("hub", "sms", "local")

MIGRATIONS = [
    Migration("0001_notices", """
        CREATE TABLE notices (
            id INTEGER PRIMARY KEY,
            source TEXT NOT NULL CHECK (source IN ('hub', 'sms', 'local')),
            external_id TEXT,
            text TEXT NOT NULL,
            urgent INTEGER NOT NULL DEFAULT 0,
            group_code TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            expires_at TEXT,
            cancelled_at TEXT,
            posted_by TEXT NOT NULL DEFAULT ''
        );
        CREATE UNIQUE INDEX notices_external ON notices(source, external_id) WHERE external_id IS NOT NULL;
        CREATE INDEX notices_created ON notices(created_at);
    """),
]


def _iso(value: datetime | str | None) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidInput(f"not an ISO time: {value!r}") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat(timespec="seconds")


def post(db: Database, text: str, *, source: str = "local", external_id: str | None = None, urgent: bool = False,
         group_code: str = "", expires_at: datetime | str | None = None, posted_by: str = "") -> int:
    """Put a notice on the board; returns its id (the existing one if `(source, external_id)` was posted)."""
    text = clean(text)
    if not text:
        raise InvalidInput("notice text is empty")
    if source not in SOURCES:
        raise InvalidInput(f"notice source must be one of {', '.join(SOURCES)}")
    external = str(external_id) if external_id is not None else None
    with db.transaction() as conn:
        if external is not None:
            row = conn.execute("SELECT id FROM notices WHERE source = ? AND external_id = ?",
                               (source, external)).fetchone()
            if row:
                return row[0]
        return conn.execute(
            "INSERT INTO notices (source, external_id, text, urgent, group_code, created_at, expires_at, posted_by) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (source, external, text, int(urgent), (group_code or "").upper(), utc_stamp(), _iso(expires_at),
             clean(posted_by))).lastrowid


def current(db: Database, at: datetime | None = None) -> list[dict]:
    """Notices to show now, newest first: not cancelled and not expired."""
    moment = _iso(at or datetime.now(timezone.utc))
    rows = db.query("SELECT * FROM notices WHERE cancelled_at IS NULL AND (expires_at IS NULL OR expires_at > ?) "
                    "ORDER BY created_at DESC, id DESC", (moment,))
    for row in rows:
        row["urgent"] = bool(row["urgent"])
    return rows


def cancel(db: Database, notice_id: int | None = None, *, source: str | None = None,
           external_id: str | None = None) -> bool:
    """Take a notice down, by id or by (source, external_id); False if it was already cancelled.

    NotFound if no such notice (a hub cancellation for a notice never posted is not an error:
    callers that expect that catch NotFound).
    """
    with db.transaction() as conn:
        if notice_id is not None:
            row = conn.execute("SELECT id, cancelled_at FROM notices WHERE id = ?", (notice_id,)).fetchone()
        else:
            row = conn.execute("SELECT id, cancelled_at FROM notices WHERE source = ? AND external_id = ?",
                               (source, str(external_id))).fetchone()
        if row is None:
            raise NotFound(f"no notice {notice_id if notice_id is not None else f'{source}:{external_id}'}")
        if row[1] is not None:
            return False
        conn.execute("UPDATE notices SET cancelled_at = ? WHERE id = ?", (utc_stamp(), row[0]))
        return True


def recent_from(db: Database, source: str, since: str) -> list[dict]:
    """[{external_id, cancelled_at}] of notices from `source` ("hub", "relay"…) created since a store timestamp."""
    return db.query("SELECT external_id, cancelled_at FROM notices WHERE source = ? AND created_at >= ? ORDER BY id",
                    (source, since))


def _same_text(text: str) -> str:
    """Text compared for "is this the same notice": case, accents, spacing and punctuation ignored,
    so an unaccented SMS command matches the accented hub copy of one notice."""
    return fold(text)


def find_same(db: Database, text: str, group_code: str, *, source: str, since: str) -> dict | None:
    """The newest live notice from `source` with the same text (see _same_text) and group, posted since
    a store timestamp; None if there is none. Sync uses it to recognise a relayed copy of a hub notice."""
    key, group = _same_text(text), (group_code or "").upper()
    rows = db.query("SELECT id, external_id, text, group_code FROM notices WHERE source = ? AND created_at >= ? "
                    "AND cancelled_at IS NULL ORDER BY id DESC", (source, since))
    for row in rows:
        if row["group_code"] == group and _same_text(row["text"]) == key:
            return {"id": row["id"], "external_id": row["external_id"]}
    return None
