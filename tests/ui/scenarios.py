"""Scenarios run by tests/ui/pilot.py inside the real kiosk app (see tests/ui/test_*.py)."""
from __future__ import annotations


def _fits(widget, window) -> bool:
    x, y = widget.to_window(widget.x, widget.y)
    return x >= -1 and y >= -1 and x + widget.width <= window.width + 1 and y + widget.height <= window.height + 1


def home_tiles_fit(ui):
    """Every Home tile and button is on screen, at least a touch target big, texts not cut off."""
    from kivy.core.window import Window
    yield from ui.wait_screen("home")
    yield None
    ids = ["tile_register", "tile_guides", "tile_request", "tile_check", "tile_notices", "tile_call",
           "large_text", "language"]
    report = {}
    for widget_id in ids:
        widget = ui.find(widget_id)
        widget.texture_update()
        report[widget_id] = {
            "fits": _fits(widget, Window),
            "big_enough": min(widget.size) >= ui.app.target() - 1,
            "text_inside": widget.texture_size[0] <= widget.width + 1 and widget.texture_size[1] <= widget.height + 1,
        }
    ui.result["widgets"] = report
    yield from ui.tap("large_text")
    yield None
    yield None
    large = {}
    for widget_id in ids:
        widget = ui.find(widget_id)
        widget.texture_update()
        large[widget_id] = _fits(widget, Window) and widget.texture_size[1] <= widget.height + 1
    ui.result["large_text_on"] = ui.app.large_text
    ui.result["large"] = large


def idle_reset(ui):
    """A+ turned on, then no touch: the countdown appears, then Home returns with A+ off."""
    yield from ui.wait_screen("home")
    yield from ui.tap("large_text")
    ui.result["large_before"] = ui.app.large_text
    yield from ui.wait(lambda: ui.app._countdown_view is not None, 10, "idle countdown")
    ui.result["countdown_shown"] = True
    yield from ui.wait(lambda: not ui.app.large_text, 10, "idle reset")
    ui.result["large_after"] = ui.app.large_text
    ui.result["countdown_after"] = ui.app._countdown_view is not None


def more_time(ui):
    """'I need more time' dismisses the countdown and keeps what the resident was doing."""
    yield from ui.wait_screen("home")
    yield from ui.tap("large_text")
    yield from ui.wait(lambda: ui.app._countdown_view is not None, 10, "idle countdown")
    yield None
    yield from ui.tap("more_time")
    ui.result["dismissed"] = ui.app._countdown_view is None
    ui.result["large_kept"] = ui.app.large_text


def language_switch(ui):
    yield from ui.wait_screen("home")
    before = ui.find("tile_register").text
    yield from ui.tap("language")
    yield None
    ui.result["before"] = before
    ui.result["after"] = ui.find("tile_register").text
