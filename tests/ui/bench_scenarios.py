"""Scenarios for tests/benchmarks/test_ui.py: cold start, tap-to-screen latency, memory."""
from __future__ import annotations

import os
import time

ROUNDS = 8  # 48 taps: enough for a p95, not only a median
TILES = {"tile_register": "register", "tile_guides": "guides", "tile_request": "request",
         "tile_check": "check", "tile_notices": "notices", "tile_call": "call"}


def _memory_mb() -> dict:
    """Resident memory (VmRSS) and its anonymous part (the process's own heap, without the pages
    of shared libraries such as the software GL driver), in MB."""
    found = {}
    with open("/proc/self/status") as status:
        for line in status:
            key = line.split(":")[0]
            if key in ("VmRSS", "RssAnon", "RssFile"):
                found[key] = round(int(line.split()[1]) / 1024, 1)
    return found


def cold_start_and_taps(ui):
    from kivy.core.window import Window
    from kivy.tests.common import UnitTestTouch

    yield from ui.wait(lambda: ui.first_frame_at is not None, 30, "the first frame")
    ui.result["cold_start_s"] = ui.first_frame_at - float(os.environ["TDP_BENCH_T0"])
    yield from ui.wait(lambda: ui.app.preloaded, 30, "the screens to be built after the first frame")
    latencies = {}
    for _round in range(ROUNDS):
        for tile, screen in TILES.items():
            yield from ui.wait_screen("home")
            yield from ui.wait(lambda: not ui.app.manager.transition.is_active, 5, "the transition home")
            widget = ui.find(tile)
            x, y = widget.to_window(*widget.center)
            touch = UnitTestTouch(x, y)
            touch.touch_down()
            yield None
            flipped = []

            def flip(*_args, flipped=flipped):
                if ui.app.manager.current == screen:  # a frame showing the new screen
                    flipped.append(time.perf_counter())
            Window.bind(on_flip=flip)
            started = time.perf_counter()
            touch.touch_up()
            yield from ui.wait(lambda: flipped, 5, f"screen {screen}")
            Window.unbind(on_flip=flip)
            latencies.setdefault(screen, []).append(flipped[-1] - started)
            ui.app.go_home()
    ui.result["tap_ms"] = {screen: [round(v * 1000, 1) for v in values] for screen, values in latencies.items()}
    ui.result["memory_mb"] = _memory_mb()
