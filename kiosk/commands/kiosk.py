"""`tdp kiosk`: run the touchscreen UI (with the help button, status LEDs and systemd's watchdog),
or render one screen to a PNG and exit."""
from __future__ import annotations

from contextlib import ExitStack


def register(cli) -> None:
    parser = cli.command("kiosk", _kiosk, help="run the touchscreen kiosk (or --screenshot one screen)")
    parser.add_argument("--screenshot", metavar="FILE", help="render one screen to this PNG and exit")
    parser.add_argument("--screen", default="home", help="screen to show first (default: home)")
    parser.add_argument("--size", metavar="WxH", help="window size, e.g. 800x480 (default: from config)")
    parser.add_argument("--fullscreen", action="store_true", default=None, help="fullscreen (the Pi)")


def _kiosk(ctx):
    from kiosk.ui.launch import parse_size, run

    size = parse_size(ctx.args.size) if ctx.args.size else None
    ctx.store  # migrate before the UI starts, so a broken store is a one-line error here
    if ctx.args.screenshot:
        code = run(ctx.config, screen=ctx.args.screen, size=size, screenshot=ctx.args.screenshot)
        print(f"screenshot written: {ctx.args.screenshot}", file=ctx.stdout)
        return code
    from kiosk.appliance import wiring
    from kiosk.appliance.sdnotify import Watchdog
    with ExitStack() as stack:
        wiring.start_kiosk_devices(ctx.config, stack)
        return run(ctx.config, screen=ctx.args.screen, size=size, fullscreen=ctx.args.fullscreen,
                   watchdog=Watchdog())
