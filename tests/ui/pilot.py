"""Drives the real kiosk app in its own process under Xvfb with simulated touches.

A scenario is a generator function `scenario(ui)` that yields between steps; `ui.tap(id)`
presses a widget found by its kv id on the current screen through the window's real touch
dispatch, and `ui.wait(predicate)` waits (frame by frame, with a deadline) for a condition.
Run as: python -m tests.ui.pilot CONFIG MODULE:FUNCTION OUT.json [WxH [DPI]]; DPI stands for
the panel's [ui] dpi (the shipped 7" panel is 800×480 at 133 dpi, the 10.1" one 1280×800 at 149).
"""
from __future__ import annotations

import json
import os
import sys
import time
import traceback


class Pilot:
    def __init__(self, app):
        self.app = app
        self.result: dict = {}
        self.first_frame_at = None

    @property
    def screen(self):
        return self.app.manager.current_screen

    def find(self, widget_id: str, root=None):
        """The widget with kv id `widget_id` in the current screen (or an open modal view)."""
        from kivy.core.window import Window
        roots = [root] if root else [*reversed(Window.children), self.screen]
        for top in roots:
            for widget in top.walk(restrict=True):
                if widget_id in getattr(widget, "ids", {}):
                    return widget.ids[widget_id]
        raise LookupError(f"no widget with id '{widget_id}' on screen '{self.app.manager.current}'")

    def tap(self, widget_or_id):
        """Touch down and up at the widget's centre, like a finger; then let one frame pass."""
        from kivy.tests.common import UnitTestTouch
        yield None  # let layout settle: a widget added this frame has no position yet
        # A ScreenManager ignores touches while a transition runs (one frame even with NoTransition).
        yield from self.wait(lambda: not self.app.manager.transition.is_active, 5, "the screen transition")
        widget = self.find(widget_or_id) if isinstance(widget_or_id, str) else widget_or_id
        x, y = widget.to_window(*widget.center)
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        yield None  # a finger stays down at least a frame (ScrollView decides tap vs scroll then)
        touch.touch_up()
        yield None

    def wait(self, predicate, timeout: float = 10.0, what: str = "condition"):
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError(f"waited {timeout}s for {what} (screen '{self.app.manager.current}')")
            yield None

    def wait_screen(self, name: str, timeout: float = 10.0):
        yield from self.wait(lambda: self.app.manager.current == name, timeout, f"screen {name}")

    def type_keys(self, keys: str):
        """Press on-screen keyboard keys (ids key_<char>, key_space, key_backspace)."""
        names = {" ": "key_space", "\b": "key_backspace"}
        for key in keys:
            yield from self.tap(names.get(key, f"key_{key}"))

    def screenshot(self, path: str):
        from kivy.core.window import Window
        Window.screenshot(name=path)
        yield None


def main(argv: list[str]) -> int:
    config_path, target, out_path = argv[:3]
    size = argv[3] if len(argv) > 3 else "1280x800"
    from kiosk.appliance import config as config_module
    from kiosk.ui.launch import configure_kivy, parse_size
    from kiosk.ui.display import VirtualDisplay, needs_virtual_display

    config = config_module.load(config_path)
    if len(argv) > 4:
        config.ui.dpi = int(argv[4])
    display = VirtualDisplay(*parse_size(size)) if needs_virtual_display() else None
    if display:
        os.environ["DISPLAY"] = display.name
    configure_kivy(config, parse_size(size), fullscreen=False)
    from kivy.clock import Clock
    from kiosk.ui.app import KioskApp

    from kivy.core.window import Window

    def first_flip(*_args):  # the first frame on screen: the end of a cold start
        pilot.first_frame_at = time.time()
        Window.unbind(on_flip=first_flip)
    module_name, function_name = target.split(":")
    module = __import__(module_name, fromlist=[function_name])
    app = KioskApp(config)
    pilot = Pilot(app)
    Window.bind(on_flip=first_flip)
    outcome = {"ok": False}
    steps = None

    def advance(_dt):
        nonlocal steps
        try:
            if steps is None:
                steps = getattr(module, function_name)(pilot)
            next(steps)
        except StopIteration:
            outcome["ok"] = True
            app.stop()
            return False
        except BaseException:
            outcome["error"] = traceback.format_exc()
            app.stop()
            return False
    Clock.schedule_once(lambda dt: Clock.schedule_interval(advance, 0), 0.2)
    try:
        app.run()
    finally:
        if display:
            display.close()
    outcome["result"] = pilot.result
    with open(out_path, "w", encoding="utf-8") as handle:
        json.dump(outcome, handle, ensure_ascii=False, default=str)
    return 0 if outcome["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
