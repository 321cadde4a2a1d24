"""`tdp firstboot`: provision the appliance from the SD card's boot partition (see kiosk/firstboot.py)."""
from __future__ import annotations

from pathlib import Path


def register(cli) -> None:
    parser = cli.command("firstboot", _firstboot, json=True,
                         help="install tdp.toml, Wi-Fi, lists, UART, printer and services from the boot partition")
    parser.add_argument("--boot", metavar="DIR", help="boot partition (default: ROOT/boot/firmware)")
    parser.add_argument("--root", metavar="DIR", default="/",
                        help="root file system to provision (default: /; a scratch directory for tests)")


def _firstboot(ctx):
    from kiosk.appliance.firstboot import REPORT_NAME, provision, render_report
    root = Path(ctx.args.root)
    boot = Path(ctx.args.boot) if ctx.args.boot else root / "boot" / "firmware"
    outcome = provision(boot, root)
    ctx.emit({**outcome.as_dict(), "report": str(boot / REPORT_NAME)},
             lambda: render_report(outcome, _now()).replace("\r\n", "\n"))
    return 1 if outcome.failed else 0


def _now():
    from datetime import datetime
    return datetime.now().astimezone()
