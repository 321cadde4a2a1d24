"""`tdp kiosk`: run the touchscreen UI (with the help button, status LEDs and systemd's watchdog),
or render one screen to a PNG and exit."""
from __future__ import annotations

import logging
from contextlib import ExitStack

log = logging.getLogger(__name__)


def register(cli) -> None:
    parser = cli.command("kiosk", _kiosk, help="run the touchscreen kiosk (or --screenshot one screen)")
    parser.add_argument("--screenshot", metavar="FILE", help="render one screen to this PNG and exit")
    parser.add_argument("--screen", default="home", help="screen to show first (default: home)")
    parser.add_argument("--size", metavar="WxH", help="window size, e.g. 800x480 (default: from config)")
    parser.add_argument("--fullscreen", action="store_true", default=None, help="fullscreen (the Pi)")


def _kiosk(ctx):
    from ..ui.app import parse_size, run

    size = parse_size(ctx.args.size) if ctx.args.size else None
    ctx.store  # migrate before the UI starts, so a broken store is a one-line error here
    if ctx.args.screenshot:
        code = run(ctx.config, screen=ctx.args.screen, size=size, screenshot=ctx.args.screenshot)
        print(f"screenshot written: {ctx.args.screenshot}", file=ctx.stdout)
        return code
    from ..sdnotify import Watchdog
    with ExitStack() as stack:
        start_gpio(ctx.config, stack)
        return run(ctx.config, screen=ctx.args.screen, size=size, fullscreen=ctx.args.fullscreen,
                   watchdog=Watchdog())


def start_gpio(config, stack: ExitStack) -> None:
    """The help button (a press opens a help ticket and texts the volunteers on duty), the buzzer
    and the status LEDs, refreshed from the store every few seconds. No-op when GPIO is off."""
    if not config.gpio.enabled:
        return
    from .. import help_tickets
    from ..appliance import Appliance, LedUpdater
    from ..status import gather, led_health
    from ..store import open_store

    def pressed() -> None:  # runs on gpiozero's thread: its own store connection
        with open_store(config.storage.path) as db:
            ticket = help_tickets.create(db, config, "kiosk", note="nút gọi tình nguyện viên")
        log.info("help button: ticket %s", ticket["display_number"])

    appliance = stack.enter_context(Appliance.from_config(config.gpio, on_help=pressed,
                                                          parts=("button", "leds", "buzzer")))
    led_store = stack.enter_context(open_store(config.storage.path))
    updater = LedUpdater(appliance, lambda: led_health(gather(led_store, config), config)).start()
    stack.callback(updater.stop)
