"""`tdp doctor [--json]`: check the appliance end to end; exit 1 when any check fails."""
from __future__ import annotations


def register(cli) -> None:
    cli.command("doctor", _doctor, json=True,
                help="check config, store, modem, printer, GPIO, clock, disk, hub and voice; say what to fix")


def _doctor(ctx):
    from kiosk.appliance.doctor import as_json, render, run_checks
    chosen = getattr(ctx.args, "leaf_config", None) or getattr(ctx.args, "config", None)
    checks = run_checks(chosen)
    data = as_json(checks)
    ctx.emit(data, lambda: render(checks))
    return 0 if data["ok"] else 1
