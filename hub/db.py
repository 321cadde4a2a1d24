"""Hub storage: SQLAlchemy Core tables, the engine from a URL, and Alembic migrations at start.

Times are stored as Unix seconds (floats) so SQLite and PostgreSQL compare them the same way.
SQLite gets WAL, a busy timeout and `BEGIN IMMEDIATE` for writes (so two hub processes queue
instead of failing on a lock upgrade). PostgreSQL is the scale-out path: several hub processes
on one database behave as one hub, because every state change is one conditional UPDATE.
"""
from __future__ import annotations

import fcntl
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from .errors import HubError

metadata = sa.MetaData()

kiosks = sa.Table(
    "kiosks", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(80), nullable=False, unique=True),
    sa.Column("ward", sa.String(120), nullable=False, server_default=""),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("revoked_at", sa.Float),
    sa.Column("last_seen", sa.Float),
    sa.Column("heartbeat", sa.Text, nullable=False, server_default="{}"),
    sa.Column("sim_number", sa.String(20), nullable=False, server_default=""),
    # Bumped whenever something new is waiting for this kiosk: the ETag of its notice feed.
    sa.Column("feed_version", sa.Integer, nullable=False, server_default="0"),
)

officials = sa.Table(
    "officials", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("login", sa.String(80), nullable=False, unique=True),
    sa.Column("name", sa.String(120), nullable=False),
    sa.Column("role", sa.String(10), nullable=False),
    sa.Column("ward", sa.String(120), nullable=False, server_default=""),
    sa.Column("kiosk_id", sa.Integer, sa.ForeignKey("kiosks.id")),
    sa.Column("password_hash", sa.String(200), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    # (0001's failed_logins and locked_until stay in the file unused: login_throttle replaced them.)
    # Set while the account is disabled: no login, no session (every lookup checks it).
    sa.Column("disabled_at", sa.Float),
)

# Login guessing budget, one row per source address ("addr:…") and per account ("official:<id>").
# Every attempt changes its rows in one atomic upsert before the password is checked, so
# concurrent guesses cannot share a count (see auth.login).
login_throttle = sa.Table(
    "login_throttle", metadata,
    sa.Column("key", sa.String(100), primary_key=True),
    sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
    sa.Column("lockouts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("locked_until", sa.Float),
    sa.Column("updated_at", sa.Float, nullable=False),
)

sessions = sa.Table(
    "sessions", metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("official_id", sa.Integer, sa.ForeignKey("officials.id", ondelete="CASCADE"), nullable=False),
    sa.Column("csrf", sa.String(64), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
)

# Browsers an official has logged in from (a long-lived cookie, stored hashed): a lockout of the
# account by guesses from elsewhere does not apply to them, so the official is never kept out.
known_devices = sa.Table(
    "known_devices", metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("official_id", sa.Integer, sa.ForeignKey("officials.id", ondelete="CASCADE"), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("last_used", sa.Float, nullable=False),
)

notices = sa.Table(
    "notices", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("urgent", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("group_code", sa.String(20), nullable=False, server_default=""),
    sa.Column("unaccented", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("parts", sa.Integer, nullable=False, server_default="1"),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float),
    sa.Column("cancelled_at", sa.Float),
    sa.Column("created_by", sa.String(80), nullable=False),
    sa.Column("at_local", sa.String(16)),
    sa.Column("every", sa.String(5), nullable=False, server_default=""),
    sa.Column("ask", sa.String(200), nullable=False, server_default=""),
    # The Compose form's one-time token: a second post of the same form finds this notice.
    sa.Column("form_token", sa.String(64), unique=True),
    # A correction names the notice it replaces (that one is cancelled when this is sent).
    sa.Column("replaces", sa.Integer),
    # A test send goes only to this phone (the official's own, typed for this one send).
    sa.Column("test_phone", sa.String(20)),
)

deliveries = sa.Table(
    "deliveries", metadata,
    sa.Column("notice_id", sa.Integer, sa.ForeignKey("notices.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("kiosk_id", sa.Integer, sa.ForeignKey("kiosks.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("state", sa.String(10), nullable=False, server_default="pending"),
    sa.Column("handed_at", sa.Float),
    sa.Column("handed_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("recipients", sa.Integer, nullable=False, server_default="0"),
    sa.Column("sent", sa.Integer, nullable=False, server_default="0"),
    sa.Column("delivered", sa.Integer, nullable=False, server_default="0"),
    sa.Column("failed", sa.Integer, nullable=False, server_default="0"),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Column("answers", sa.Text, nullable=False, server_default="{}"),
    sa.Column("detail", sa.String(120), nullable=False, server_default=""),
    sa.Index("deliveries_kiosk_state", "kiosk_id", "state"),
)

daily_stats = sa.Table(
    "daily_stats", metadata,
    sa.Column("kiosk_id", sa.Integer, sa.ForeignKey("kiosks.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("day", sa.String(10), primary_key=True),
    sa.Column("requests", sa.Integer, nullable=False, server_default="0"),
    sa.Column("requests_online", sa.Integer, nullable=False, server_default="0"),
    sa.Column("help_tickets", sa.Integer, nullable=False, server_default="0"),
    sa.Column("sms_parts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("updated_at", sa.Float, nullable=False),
)

audit = sa.Table(
    "audit", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("actor", sa.String(120), nullable=False),
    sa.Column("action", sa.String(60), nullable=False),
    sa.Column("detail", sa.Text, nullable=False, server_default=""),
    # The ward the action concerns; NULL is hub-wide (only hub-wide officials see it).
    sa.Column("ward", sa.String(120)),
    sa.Index("audit_at", "at"),
    sa.Index("audit_ward", "ward", "id"),
)

hub_state = sa.Table(
    "hub_state", metadata,
    sa.Column("key", sa.String(40), primary_key=True),
    sa.Column("value", sa.Integer, nullable=False, server_default="0"),
)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def default_url(config_source: str | None, data_dir: Path) -> str:
    """The SQLite URL used when `[hub_server] database` is empty: hub.sqlite3 beside the config file."""
    if config_source and Path(config_source).exists():
        folder = Path(config_source).resolve().parent
    else:
        folder = data_dir
    return f"sqlite:///{folder / 'hub.sqlite3'}"


def normalise_url(url: str) -> str:
    """`postgresql://…` means psycopg 3 here (SQLAlchemy would otherwise pick psycopg2)."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def create(url: str, *, pool_size: int = 10) -> Engine:
    """An engine for `url` with the per-dialect settings above; the schema is not touched."""
    url = normalise_url(url)
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError:
        raise HubError(f"not a database URL: {url!r} (use sqlite:///PATH or postgresql://…)") from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False},
                                  pool_size=pool_size, max_overflow=pool_size)
        _tune_sqlite(engine)
        return engine
    if parsed.get_backend_name() == "postgresql":
        # No pre-ping: it would double the round trips of the hot poll query; stale connections
        # are recycled hourly and a failed request is simply retried by the kiosk.
        return sa.create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_recycle=3600)
    raise HubError(f"unsupported database {parsed.get_backend_name()!r}: use SQLite or PostgreSQL")


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        # Let SQLAlchemy's begin() decide when a transaction starts (pysqlite otherwise defers it).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA busy_timeout = 30000")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        # Writers take the lock up front: a deferred transaction that later writes can fail
        # with "database is locked" instead of waiting its turn. Reads stay in autocommit
        # (each statement its own snapshot), which keeps the hot poll path to one statement.
        if conn.get_execution_options().get("write", False):
            conn.exec_driver_sql("BEGIN IMMEDIATE")


@contextmanager
def write(engine: Engine) -> Iterator[Connection]:
    """One write transaction: committed at the end, rolled back on any exception."""
    with engine.connect().execution_options(write=True) as conn:
        with conn.begin():
            yield conn


def autocommit(engine: Engine) -> Engine:
    """The engine for single-statement reads on the hot path: on PostgreSQL it skips BEGIN/ROLLBACK
    (two round trips per poll); SQLite reads are autocommit already."""
    if engine.dialect.name != "postgresql":
        return engine
    return engine.execution_options(isolation_level="AUTOCOMMIT")


@contextmanager
def read(engine: Engine) -> Iterator[Connection]:
    """A read-only connection (one snapshot for the block)."""
    with engine.connect() as conn:
        with conn.begin():
            yield conn


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision; safe when several processes start at once."""
    from alembic import command
    from alembic.config import Config as AlembicConfig

    alembic_cfg = AlembicConfig()
    alembic_cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with _migration_lock(engine):
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7312010)")
            alembic_cfg.attributes["connection"] = conn
            command.upgrade(alembic_cfg, "head")


@contextmanager
def _migration_lock(engine: Engine):
    """For SQLite, a lock file beside the database serialises migrations of processes starting together."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    with open(Path(database).expanduser().with_suffix(".migrate.lock"), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def open_hub(url: str, *, pool_size: int = 10) -> Engine:
    """Engine for `url` with the schema migrated to the newest revision."""
    engine = create(url, pool_size=pool_size)
    try:
        upgrade(engine)
    except sa.exc.OperationalError as exc:
        engine.dispose()
        raise HubError(f"cannot open hub database: {str(exc.orig).strip().splitlines()[0]}") from None
    return engine


def tick_feed_clock(conn: Connection) -> None:
    """Inside a write: tell every hub process that kiosk feeds or tokens changed (see feed.PollCache)."""
    conn.execute(hub_state.update().where(hub_state.c.key == "feed_clock").values(value=hub_state.c.value + 1))


def now() -> float:
    """Unix time in seconds, the one time format in the hub database."""
    return time.time()
