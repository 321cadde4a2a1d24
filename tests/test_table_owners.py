"""One owner per table: only the module whose migrations create a table names it in SQL.

Others call the owner's small query functions. The ward report (kiosk.reports.ward) is the one
declared cross-table read model and `tdp db` (kiosk.appliance.tables) reads any table generically;
both only read. Migrations are frozen history, so they are left out of the scan.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SQL_NAME = re.compile(r"\b(?:FROM|JOIN|INTO|UPDATE|TABLE(?: IF NOT EXISTS)?)\s+([a-z_][a-z0-9_]*)", re.IGNORECASE)
CREATE = re.compile(r"\bCREATE TABLE(?: IF NOT EXISTS)?\s+([a-z_][a-z0-9_]*)", re.IGNORECASE)
READERS = {"kiosk.reports.ward", "kiosk.appliance.tables"}
# Tables whose owner changed after their creating migration ran (the migration stays where it was).
MOVED = {"volunteer_attendance": "kiosk.volunteers.duty"}
SQLITE_WORDS = {"sqlite_master", "pragma", "select", "json_each"}


def modules():
    for package in ("kiosk", "sms"):
        for path in sorted((ROOT / package).rglob("*.py")):
            yield ".".join(path.relative_to(ROOT).with_suffix("").parts), path


def strings(tree: ast.AST, skip_migrations: bool):
    for node in ast.walk(tree):
        if skip_migrations and isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "MIGRATIONS" for t in node.targets):
            node.value = ast.Constant("")
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                first.value.value = ""  # a docstring speaks of tables in words, not SQL
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.value


def owners() -> dict[str, str]:
    found = {}
    for name, path in modules():
        for text in strings(ast.parse(path.read_text(encoding="utf-8")), skip_migrations=False):
            for table in CREATE.findall(text):
                found.setdefault(table.lower(), name)
    return {**found, **MOVED}


def test_every_table_has_an_owner_and_only_the_owner_names_it():
    table_owner = owners()
    assert {"residents", "dossiers", "outbox_parts", "volunteers", "relay_audit"} <= set(table_owner)
    trespass = []
    for name, path in modules():
        if name in READERS:
            continue
        for text in strings(ast.parse(path.read_text(encoding="utf-8")), skip_migrations=True):
            for table in SQL_NAME.findall(text):
                table = table.lower()
                if table in table_owner and table_owner[table] != name and table not in SQLITE_WORDS:
                    trespass.append(f"{name} names {table} (owned by {table_owner[table]})")
    assert sorted(set(trespass)) == []
