"""`tdp db`: the store's tables for officials and installers, read through sqlite-utils.

The one declared generic reader besides the ward report: it lists tables and dumps one as CSV
or JSON, never writes. Secrets never leave (columns ending in `_hash`, PINs, tokens are dropped)
and citizen IDs are masked to their last four digits, as on every screen (Decree 13/2023/NĐ-CP).
"""
from __future__ import annotations

import csv
import io
import json
import re

from sms.storage import Database

from kiosk.errors import InvalidInput
from kiosk.files import spreadsheet_safe

SECRET = re.compile(r"(_hash|^pin|_pin$|token|secret|passphrase)", re.IGNORECASE)
MASKED = re.compile(r"citizen_id", re.IGNORECASE)


def tables(db: Database) -> list[dict]:
    """[{name, rows, columns}] of every table in the store, by name."""
    store = db.db
    return [{"name": name, "rows": store[name].count, "columns": [c.name for c in store[name].columns]}
            for name in sorted(store.table_names()) if not name.startswith("sqlite_")]


def _mask(value):
    digits = str(value or "")
    return ("*" * max(0, len(digits) - 4) + digits[-4:]) if digits else value


def rows(db: Database, table: str, limit: int | None = None) -> tuple[list[str], list[dict]]:
    """(columns, rows) of `table` with secrets dropped and citizen IDs masked."""
    store = db.db
    if table not in store.table_names():
        known = ", ".join(sorted(t for t in store.table_names() if not t.startswith("sqlite_")))
        raise InvalidInput(f"no table {table!r} in the store; tables: {known}")
    columns = [c.name for c in store[table].columns if not SECRET.search(c.name)]
    masked = {c for c in columns if MASKED.search(c)}
    kept = []
    for row in store[table].rows_where(select=", ".join(f'"{c}"' for c in columns), limit=limit):
        kept.append({c: (_mask(v) if c in masked else v) for c, v in row.items()})
    return columns, kept


def dump(db: Database, table: str, fmt: str = "csv", limit: int | None = None) -> str:
    """`table` as CSV (UTF-8, header row, formula-safe cells) or JSON (a list of objects)."""
    columns, data = rows(db, table, limit)
    if fmt == "json":
        return json.dumps(data, ensure_ascii=False, indent=1)
    if fmt != "csv":
        raise InvalidInput(f"format {fmt!r}: use csv or json")
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows({c: spreadsheet_safe(v) for c, v in row.items()} for row in data)
    return out.getvalue()
