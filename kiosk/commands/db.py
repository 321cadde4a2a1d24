"""`tdp db tables|dump TABLE`: look into the store (read only), for officials and installers over SSH."""
from __future__ import annotations

from kiosk.appliance import tables


def register(cli) -> None:
    group = cli.group("db", help="list the store's tables or dump one as CSV/JSON (read only)")
    group.command("tables", _tables, json=True, help="every table with its row count and columns")
    dump = group.command("dump", _dump, help="one table as CSV (default) or JSON on standard output; "
                                             "secrets dropped, citizen IDs masked")
    dump.add_argument("table", help="table name (see `tdp db tables`)")
    dump.add_argument("--format", choices=("csv", "json"), default="csv", help="csv (default) or json")
    dump.add_argument("--limit", type=int, metavar="N", help="at most N rows")


def _tables(ctx):
    found = tables.tables(ctx.store)
    ctx.emit(found, lambda: "\n".join(f"{t['name']:<28} {t['rows']:>7} rows" for t in found))


def _dump(ctx):
    print(tables.dump(ctx.store, ctx.args.table, ctx.args.format, ctx.args.limit), end="", file=ctx.stdout)
