"""`tdp upgrade FILE`: install a newer version safely, rolling back by itself (kiosk/appliance/upgrade.py)."""
from __future__ import annotations

import argparse
from pathlib import Path


def register(cli) -> None:
    parser = cli.command("upgrade", _upgrade, json=True,
                         help="install a newer tdp-kiosk wheel/sdist beside this one: backup, migrate a copy, "
                              "switch, health-check, roll back on any failure")
    parser.add_argument("file", nargs="?", metavar="FILE", help="tdp_kiosk-VERSION-….whl or tdp_kiosk-VERSION.tar.gz")
    parser.add_argument("--status", action="store_true", help="show the installed versions and the last upgrade")
    parser.add_argument("--pending", action="store_true",
                        help="install the release fetched from the hub, if any, inside [upgrade] night hours")
    # internal: the upgrader runs the new version's migrations on a copy of the store with it
    parser.add_argument("--migrate", metavar="STORE", help=argparse.SUPPRESS)


def _upgrade(ctx):
    from kiosk.errors import InvalidInput
    if ctx.args.migrate:
        return _migrate(ctx, Path(ctx.args.migrate))
    if ctx.args.status:
        from kiosk.appliance.upgrade import status
        data = status(ctx.config)
        ctx.emit(data, lambda: f"running {data['running']} (installed: {', '.join(data['installed']) or 'none'})")
        return 0
    if ctx.args.pending:
        from kiosk.appliance.releases import install_pending
        data = install_pending(ctx.config)
        ctx.emit(data, data["message"])
        return 0
    if not ctx.args.file:
        raise InvalidInput("give the package to install: tdp upgrade FILE (or --status)")
    from kiosk.appliance.upgrade import Upgrade
    data = Upgrade(ctx.config, Path(ctx.args.file)).run()
    ctx.emit(data, lambda: f"upgraded {data['from']} -> {data['to']} ({len(data['migrations'])} migration(s); "
                           f"pre-upgrade backup {data['backup']})")
    return 0


def _migrate(ctx, store: Path):
    from kiosk.appliance.store import all_migrations
    from kiosk.errors import InvalidInput, StoreError
    from sms.storage import Database, StorageError
    if not store.is_file():
        raise InvalidInput(f"{store}: no such store")
    try:
        with Database(store) as database:
            applied = database.migrate(all_migrations())
    except StorageError as exc:
        raise StoreError(str(exc)) from None
    ctx.emit({"store": str(store), "applied": applied}, f"{len(applied)} migration(s) applied to {store}")
