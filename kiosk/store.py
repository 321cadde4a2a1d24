"""The appliance's one SQLite file: opens it and applies every package's named migrations.

Each domain module that owns tables exposes `MIGRATIONS` (a list of sms.storage.Migration);
SCHEMA lists those modules in dependency order. Names are prefixed by the module so two
modules can never collide.
"""
from __future__ import annotations

import importlib
from pathlib import Path

from sms.storage import Database, Migration, StorageError

from .errors import StoreError

SCHEMA = [
    "kiosk.directory",
    "sms.outbox",
    "sms.inbox",
    "sms.gateway",
    "kiosk.volunteers",
    "kiosk.rota",
    "kiosk.help_tickets",
    "kiosk.ratings",
    "kiosk.registration",
    "kiosk.relay",
    "kiosk.keywords",
    "kiosk.dossiers",
    "kiosk.receipts",
    "kiosk.notices",
    "kiosk.sync",
]


def all_migrations() -> list[Migration]:
    migrations = []
    for module_name in SCHEMA:
        module = importlib.import_module(module_name)
        migrations.extend(Migration(f"{module_name}:{m.name}", m.apply) for m in module.MIGRATIONS)
    return migrations


def open_store(path: str | Path) -> Database:
    """Open (creating if needed) the store at `path` and bring its schema up to date."""
    try:
        database = Database(path)
        database.migrate(all_migrations())
    except StorageError as exc:
        raise StoreError(str(exc)) from None
    return database
