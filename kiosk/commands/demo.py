"""`tdp demo`: the main job of `make run`. A demo ward in a fresh data directory, the SMS gateway on
the emulated modem, PDF receipts, and the kiosk screen (on a virtual display when there is none)."""
from __future__ import annotations

import threading
from contextlib import ExitStack
from pathlib import Path

from kiosk import demo
from kiosk.appliance import config as config_module

def register(cli) -> None:
    parser = cli.command("demo", _demo, help="seed a demo ward in a fresh data directory and start the appliance",
                         json=True)
    parser.add_argument("--data", default="tdp-data/demo", metavar="DIR",
                        help="demo data directory, wiped and re-seeded (default: tdp-data/demo)")
    parser.add_argument("--no-ui", action="store_true", help="run the SMS gateway only, without the kiosk screen")
    parser.add_argument("--seconds", type=float, default=0,
                        help="stop after this many seconds (default: run until Ctrl-C or the window closes)")


def _demo(ctx):
    from kiosk.appliance.store import open_store

    data_dir = Path(ctx.args.data).expanduser().resolve()
    config_path = demo.prepare(data_dir)
    config = config_module.load(config_path)
    store = open_store(config.storage.path)
    try:
        counts = demo.seed(store, config)
        counts.update(demo.seed_activity(store, config))
    finally:
        store.close()
    screenshots = data_dir / "screenshots"
    summary = {"data_dir": str(data_dir), "config": str(config_path), "seeded": counts,
               "screenshots": None if ctx.args.no_ui else str(screenshots)}
    from kiosk.appliance.wiring import build_gateway
    with ExitStack() as stack:
        gateway = build_gateway(config, config.storage.path, None, stack)
        gateway.start()
        stack.callback(gateway.stop, 10)
        print(f"tdp demo: ward seeded in {data_dir} ({_describe(counts)}); SMS gateway running on the "
              f"emulated modem; receipts go to {data_dir}/receipts as PDF.", file=ctx.stdout, flush=True)
        print(f"  Try in another terminal: TDP_CONFIG={config_path} tdp sms outbox\n"
              f"  or an official's SMS command: TDP_CONFIG={config_path} tdp relay simulate "
              f"--from 0912000001 --text 'TB 2468 HPN Họp chi hội 19h thứ Sáu'", file=ctx.stdout, flush=True)
        if ctx.args.no_ui:
            threading.Event().wait(ctx.args.seconds or None)
        else:
            from kiosk.ui.launch import run
            from ..ui.display import needs_virtual_display
            headless = needs_virtual_display()
            if headless:
                print(f"  No display here: the kiosk runs on a virtual display (Xvfb); screenshots of every "
                      f"screen are saved in {screenshots}", file=ctx.stdout, flush=True)
            run(config, tour_dir=screenshots, stop_after=ctx.args.seconds)
    if ctx.json:
        ctx.emit(summary)
    return 0


def _describe(counts: dict) -> str:
    return ", ".join(f"{value} {key}" for key, value in counts.items() if isinstance(value, int))
