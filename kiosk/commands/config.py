"""`tdp config show|check|example`: inspect the config the appliance would run with."""
from __future__ import annotations

import json
import sys

from kiosk.appliance import config as config_module


def register(cli) -> None:
    group = cli.group("config", help="show or check the configuration")
    group.command("show", _show, help="print the effective configuration", json=True)
    group.command("check", _check, help="validate the config file and say which file was read", json=True)
    group.command("example", _example, help="print a fully commented example tdp.toml")


def _show(ctx):
    data = config_module.as_dict(ctx.config)
    ctx.emit({"source": ctx.config.source, "config": data},
             lambda: f"# {ctx.config.source}\n" + json.dumps(data, ensure_ascii=False, indent=2))


def _check(ctx):
    from kiosk.appliance.config_checks import problems
    found = problems(ctx.config)
    if found:
        if ctx.json:
            ctx.emit({"ok": False, "source": ctx.config.source, "problems": found}, "")
        else:
            for line in found:
                print(f"tdp: {ctx.config.source}: {line}", file=sys.stderr)
        return 1
    ctx.emit({"ok": True, "source": ctx.config.source}, f"config OK: {ctx.config.source}")


def _example(ctx):
    print(config_module.example_toml(), file=ctx.stdout, end="")
