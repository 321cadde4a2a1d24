"""SQLite plumbing for the one shared store: connection settings, transactions, named migrations.

It lives in `sms` because the outbox must work without the kiosk package; `kiosk.appliance.store` builds on it.
Several processes (kiosk UI, gateway daemon, CLI) share one file, so: WAL journal, a generous
busy timeout, and explicit `BEGIN IMMEDIATE` transactions so writers queue instead of failing.
"""
from __future__ import annotations

import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

import sqlite_utils

from .errors import SmsError

BUSY_TIMEOUT_MS = 30_000   # daemons: how long a write waits for another process's transaction
SHORT_BUSY_TIMEOUT_MS = 5_000   # a command someone is waiting for gives up sooner (see open_store)


class StorageError(SmsError):
    """The SQLite file cannot be opened, migrated or written."""


class StoreBusy(StorageError):
    """Another process held the store's write lock for longer than the busy timeout."""

    def __init__(self, seconds: float):
        super().__init__(f"the store is busy (another program is writing to it for over {seconds:g} s); "
                         "try again in a moment")


def _is_busy(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text)


@dataclass(frozen=True)
class Migration:
    """One schema change, applied once, in one transaction together with its record.

    `apply` is SQL (a script of statements) or a callable taking the sqlite3 connection. Inside
    the transaction use plain SQL: sqlite-utils' table writers commit on their own.
    """
    name: str
    apply: str | Callable[[sqlite3.Connection], None]


class Database:
    """A connection to the shared SQLite file with WAL, foreign keys and IMMEDIATE transactions.

    One instance may be shared by threads: transactions are serialised by a re-entrant lock, and
    a transaction opened inside another joins it.
    """

    def __init__(self, path: str | Path, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS):
        self.path = str(path)
        self.busy_seconds = busy_timeout_ms / 1000
        if self.path != ":memory:":
            Path(self.path).expanduser().parent.mkdir(parents=True, exist_ok=True)
            self.path = str(Path(self.path).expanduser())
        try:
            conn = sqlite3.connect(self.path, timeout=busy_timeout_ms / 1000, isolation_level=None,
                                   check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            _enable_wal(conn, busy_timeout_ms)
            # FULL: a committed transaction survives a power cut too. A consent withdrawal the kiosk
            # has acknowledged, or a part marked sent, must not come back; at the appliance's few
            # transactions a minute the extra fsync per commit costs nothing a resident notices.
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error as exc:
            if _is_busy(exc):
                raise StoreBusy(self.busy_seconds) from None
            raise StorageError(f"cannot open database {self.path}: {exc}") from None
        self.conn = conn
        self.db = sqlite_utils.Database(conn)
        self._lock = threading.RLock()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic write: BEGIN IMMEDIATE … COMMIT, rolled back on any exception."""
        with self._lock:
            if self.conn.in_transaction:
                yield self.conn
                return
            with self._busy_is_one_line():
                self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException as exc:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error) and _is_busy(exc):
                    raise StoreBusy(self.busy_seconds) from None
                raise
            with self._busy_is_one_line():
                self.conn.execute("COMMIT")

    @contextmanager
    def _busy_is_one_line(self):
        try:
            yield
        except sqlite3.OperationalError as exc:
            if _is_busy(exc):
                raise StoreBusy(self.busy_seconds) from None
            raise

    def execute(self, sql: str, params: Iterable | dict = ()) -> sqlite3.Cursor:
        with self._lock, self._busy_is_one_line():
            return self.conn.execute(sql, params)

    def query(self, sql: str, params: Iterable | dict = ()) -> list[dict]:
        """Rows as dicts."""
        with self._lock, self._busy_is_one_line():
            cursor = self.conn.execute(sql, params)
            keys = [d[0] for d in cursor.description]
            return [dict(zip(keys, row)) for row in cursor.fetchall()]

    def query_one(self, sql: str, params: Iterable | dict = ()) -> dict | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def scalar(self, sql: str, params: Iterable | dict = ()):
        with self._lock, self._busy_is_one_line():
            row = self.conn.execute(sql, params).fetchone()
        return row[0] if row else None

    def migrate(self, migrations: Iterable[Migration]) -> list[str]:
        """Apply the migrations not yet recorded; return the names applied now.

        Each runs inside its own IMMEDIATE transaction that also writes its record, and the
        record is re-checked inside it, so two processes starting together apply it once.
        When nothing is pending (every start but the first after an upgrade) this only reads, so
        starting a command never waits for another process's write transaction.
        """
        migrations = list(migrations)
        with self._lock, self._busy_is_one_line():
            known = self.conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_migrations'").fetchone()
            done = {r[0] for r in self.conn.execute("SELECT name FROM _migrations")} if known else set()
        pending = [m for m in migrations if m.name not in done]
        if not pending:
            return []
        if not known:
            with self.transaction() as conn:
                conn.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
        applied = []
        for migration in pending:
            with self.transaction() as conn:
                if conn.execute("SELECT 1 FROM _migrations WHERE name = ?", (migration.name,)).fetchone():
                    continue
                try:
                    if callable(migration.apply):
                        migration.apply(conn)
                    else:
                        for statement in _statements(migration.apply):
                            conn.execute(statement)
                except sqlite3.Error as exc:
                    raise StorageError(f"migration {migration.name} failed: {exc}") from exc
                conn.execute("INSERT INTO _migrations (name, applied_at) VALUES (?, datetime('now'))",
                             (migration.name,))
                applied.append(migration.name)
        return applied

    def applied_migrations(self) -> list[str]:
        return [r["name"] for r in self.query("SELECT name FROM _migrations ORDER BY rowid")]

    def close(self) -> None:
        with self._lock:
            self.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _enable_wal(conn: sqlite3.Connection, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> None:
    """Switch the file to WAL (a no-op once it is). Processes racing to convert a brand-new file can
    get "database is locked" at once (SQLite skips the busy handler to avoid a deadlock), so retry
    within the busy timeout."""
    if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal":
        return
    deadline = time.monotonic() + busy_timeout_ms / 1000
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.005)


def _statements(script: str) -> list[str]:
    """Split an SQL script into complete statements (executescript would COMMIT our transaction)."""
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            if current.strip():
                statements.append(current.strip())
            current = ""
    if current.strip():
        statements.append(current.strip())
    return statements
