"""`tdp sync [--once] [--json]`: exchange notices and counts with the officials' hub.

Without --once it runs until stopped (the tdp-sync service): it tells systemd READY=1, pings the
watchdog even while backing off from an unreachable hub, and shows the hub state as its STATUS.
"""
from __future__ import annotations

import signal
import threading
import time

WATCHDOG_SLICE = 10.0   # seconds; long backoff waits are cut into slices so the watchdog keeps being fed


def register(cli) -> None:
    p = cli.command("sync", _sync, help="sync with the hub: fetch notices, queue their SMS, report counts",
                    json=True)
    p.add_argument("--once", action="store_true", help="one pass, then exit (default: keep polling)")


def _sync(ctx):
    from kiosk.appliance.sdnotify import Watchdog
    from ..sync import Sync
    sync = Sync(ctx.store, ctx.config)
    if ctx.args.once:
        try:
            summary = sync.run_once()
        finally:
            sync.close()
        ctx.emit(summary, f"hub reached: {len(summary['queued'])} notice(s) queued, {len(summary['skipped'])} "
                          f"skipped (expired), {len(summary['cancelled'])} cancelled, "
                          f"{summary['reported']} report(s) sent")
        return 0
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    watchdog = Watchdog()
    watchdog.ready(f"syncing with {ctx.config.hub.url}")

    def wait(seconds: float) -> bool:
        watchdog.status("hub reachable" if sync.failures == 0 else
                        f"hub unreachable ({sync.failures} tries); next try in {seconds:.0f} s")
        deadline = time.monotonic() + seconds
        while True:
            watchdog.ping()
            left = deadline - time.monotonic()
            if left <= 0:
                return stop.is_set()
            if stop.wait(min(left, WATCHDOG_SLICE)):
                return True

    try:
        sync.run_forever(stop, wait=wait)
    except KeyboardInterrupt:
        stop.set()
    sync.close()
    watchdog.stopping("stopped")
    return 0
