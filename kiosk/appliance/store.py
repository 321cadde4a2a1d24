"""The appliance's one SQLite file: opens it and applies every package's named migrations.

Each domain module that owns tables exposes `MIGRATIONS` (a list of sms.storage.Migration);
SCHEMA lists those modules in dependency order. Names are prefixed by the module so two
modules can never collide.
"""
from __future__ import annotations

import importlib
from pathlib import Path

from sms.gateway import SMS_MODULES
from sms.storage import BUSY_TIMEOUT_MS, Database, Migration, StorageError

from kiosk.errors import StoreError

# (migration prefix, module). The prefix is the module's name before the kiosk/ restructure: it is
# recorded in every store's migration table, so it must never change with the code's layout.
SCHEMA = [
    ("kiosk.directory", "kiosk.directory.residents"),
    *((name, name) for name in SMS_MODULES),
    ("kiosk.volunteers", "kiosk.volunteers.people"),
    ("kiosk.rota", "kiosk.volunteers.rota"),
    ("kiosk.help_tickets", "kiosk.volunteers.help_tickets"),
    ("kiosk.ratings", "kiosk.reports.ratings"),
    ("kiosk.registration", "kiosk.directory.registration"),
    ("kiosk.relay", "kiosk.relay.officials"),
    ("kiosk.keywords", "kiosk.relay.residents"),
    ("kiosk.relay.budget", "kiosk.relay.budget"),
    ("kiosk.dossiers", "kiosk.dossiers.lifecycle"),
    ("kiosk.receipts", "kiosk.dossiers.receipts"),
    ("kiosk.notices", "kiosk.notices.board"),
    ("kiosk.notices.schedule", "kiosk.notices.schedule"),
    ("kiosk.notices.questions", "kiosk.notices.questions"),
    ("kiosk.notices.budget", "kiosk.notices.budget"),
    ("kiosk.notices.digest", "kiosk.notices.digest"),
    ("kiosk.sync", "kiosk.sync"),
]


def all_migrations() -> list[Migration]:
    migrations = []
    for prefix, module_name in SCHEMA:
        module = importlib.import_module(module_name)
        migrations.extend(Migration(f"{prefix}:{m.name}", m.apply) for m in module.MIGRATIONS)
    return migrations


def open_store(path: str | Path, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> Database:
    """Open (creating if needed) the store at `path` and bring its schema up to date.

    `busy_timeout_ms`: how long a write waits for another process's transaction before the
    one-line "the store is busy, try again" (StoreError); commands pass SHORT_BUSY_TIMEOUT_MS."""
    try:
        database = Database(path, busy_timeout_ms=busy_timeout_ms)
        database.migrate(all_migrations())
    except StorageError as exc:
        raise StoreError(str(exc)) from None
    return database
