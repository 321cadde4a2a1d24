"""The scripted walkthrough of `make bench` (tests/benchmarks/test_ui.py): every screen and step
shown at the panel's size, its geometry read from the widgets (text cap height, target sizes,
clipped text, overlaps), and the taps of the two longest resident flows counted."""
from __future__ import annotations

from tests.ui.listen_scenarios import _ancestors, _problems, _rect
from tests.ui.scenarios import _first_child_button, _open_register, _tap_chip, _type_phone

MM_PER_INCH = 25.4
CAP_HEIGHT_EM = 0.711  # Roboto, the kiosk's font
# (screen, step or None, how to prepare it) in the order a resident meets them.
VIEWS = [
    ("home", None), ("register", "consent"), ("register", "name"), ("register", "phone"),
    ("register", "address"), ("register", "members"), ("register", "code"), ("register", "done"),
    ("register", "declined"), ("request", "procedure"), ("request", "name"), ("request", "phone"),
    ("request", "citizen_id"), ("request", "confirm"), ("request", "done"), ("guides", "categories"),
    ("guides", "search"), ("guides", "list"), ("guides", "detail"), ("check", "code"), ("check", "phone"), ("check", "otp"),
    ("check", "results"), ("notices", None), ("call", None), ("rating", None), ("volunteer", "who"),
    ("volunteer", "pin"), ("volunteer", "menu"), ("volunteer", "tickets"), ("volunteer", "request"),
]


def _prepare(screen, name: str, step: str | None) -> None:
    if name == "guides" and step == "search":
        screen.open_search()
        screen.ids.search_input.text = "tam tru"
    elif name == "guides" and step == "list":
        screen.open_category("ho_tich")
    elif name == "guides" and step == "detail":
        screen.show("CT-TAMTRU")
    elif name == "request" and step != "procedure":
        from kiosk.dossiers import procedures
        screen.procedure = screen.procedure or procedures.default().get("CT-TAMTRU")
        screen.ids.name_input.text = screen.ids.name_input.text or "Nguyễn Thị Hoà"
        if step == "done":
            screen.code, screen.appointment = "TDP1-2612-JRZW", "10/12/2026"
    elif name == "check" and step == "results":
        screen.results = [{"code": "TDP1-2612-JRZW", "procedure_name": "Đăng ký tạm trú", "status": "received",
                           "status_label": "Đã tiếp nhận", "appointment_date": "2026-12-10",
                           "history": [{"at": "2026-12-02T18:00:00+00:00", "status": "received"}]}]
    if step is not None and not (name == "guides" and step in ("search", "list", "detail")):
        screen.step = step


def _visible(widget, window) -> bool:
    from kivy.uix.scrollview import ScrollView
    chain = [widget, *_ancestors(widget)]
    if widget.get_root_window() is None or any(w.opacity == 0 for w in chain) or widget.width < 1 or widget.height < 1:
        return False
    x0, y0, x1, y1 = _rect(widget)
    scroll = next((p for p in chain[1:] if isinstance(p, ScrollView)), None)
    if scroll is not None:
        _a, sy0, _b, sy1 = _rect(scroll)
        if y0 < sy0 - 1 or y1 > sy1 + 1:
            return False  # (partly) scrolled out of view: the ▲/▼ buttons bring it in
    return x1 > 0 and y1 > 0 and x0 < window.width and y0 < window.height


def measure(ui, window) -> dict:
    """The geometry of what the current screen shows."""
    from kivy.uix.button import ButtonBehavior
    from kivy.uix.image import Image
    from kivy.uix.label import Label
    from kivy.uix.textinput import TextInput
    dpi = ui.app.tdp_config.ui.dpi
    leaves, caps, targets, clipped = [], [], [], []
    for widget in ui.screen.walk(restrict=True):
        if not isinstance(widget, (Label, TextInput, Image)) or not _visible(widget, window):
            continue
        if isinstance(widget, Label) and not widget.text.strip():
            continue
        leaves.append(widget)
        if isinstance(widget, ButtonBehavior):
            targets.append((min(widget.size) / dpi * MM_PER_INCH, widget.text[:30]))
        if isinstance(widget, Label):
            widget.texture_update()
            if widget.texture_size[0] > widget.width + 1 or widget.texture_size[1] > widget.height + 1:
                clipped.append(widget.text[:30])
            if not isinstance(widget, ButtonBehavior):
                caps.append((widget.font_size * CAP_HEIGHT_EM / dpi * MM_PER_INCH, widget.text[:30]))
    overlaps = []
    rects = [(w, _rect(w)) for w in leaves]
    for i, (a, ra) in enumerate(rects):
        for b, rb in rects[i + 1:]:
            width = min(ra[2], rb[2]) - max(ra[0], rb[0])
            height = min(ra[3], rb[3]) - max(ra[1], rb[1])
            if width > 1 and height > 1:
                overlaps.append([getattr(a, "text", "")[:20], getattr(b, "text", "")[:20]])
    return {
        "min_cap_mm": round(min(caps)[0], 2) if caps else None,
        "small_text": sorted({t for mm, t in caps if mm < 5.0 - 0.05}),
        "min_target_mm": round(min(targets)[0], 2) if targets else None,
        "small_targets": sorted({t for mm, t in targets if mm < 9.0 - 0.05}),
        "clipped": clipped, "overlaps": overlaps,
        "out_of_place": [p["text"] for p in _problems(ui, window)] if ui.app.manager.current not in ("home", "rating") else [],
    }


def geometry(ui):
    """Every view in VIEWS, measured, and a screenshot of each when TDP_TEST_SHOTS is set."""
    import os

    from kivy.core.window import Window
    from kiosk.ui.app import save_screenshot
    yield from ui.wait_screen("home")
    ui.result["large_text"] = ui.app.large_text
    report = {}
    shots = os.environ.get("TDP_TEST_SHOTS")
    for name, step in VIEWS:
        if ui.app.manager.current != name:
            ui.app.go(name)
        screen = ui.app.screen(name)
        _prepare(screen, name, step)
        for _ in range(4):
            yield None
        key = f"{name}/{step}" if step else name
        report[key] = measure(ui, Window)
        if shots:
            save_screenshot(os.path.join(shots, key.replace("/", "_") + ".png"))
    ui.result["views"] = report
    ui.app.go_home()


def _counting(ui):
    counter = {"taps": 0}
    original = ui.tap

    def counted(widget):
        counter["taps"] += 1
        yield from original(widget)
    ui.tap = counted
    return counter


def register_counted(ui):
    """Register "Trần Thị Lan" at "số 5" without Telex, the taps counted from Home to "done";
    the code is read back from the emulated modem."""
    import re
    from contextlib import ExitStack

    from kiosk.appliance.wiring import build_gateway
    from sms.emulator import Emulator
    stack = ExitStack()
    emulator = Emulator()
    stack.callback(emulator.stop)
    gateway = build_gateway(ui.app.tdp_config, ui.app.tdp_config.storage.path, [emulator.start()], stack)
    gateway.start()
    stack.callback(gateway.stop, 10)
    ui.app.bind(on_stop=lambda *_: stack.close())
    counter = _counting(ui)
    screen = yield from _open_register(ui)
    keyboard = screen.ids.name_keyboard
    for letter, word in (("t", "Trần"), ("t", "Thị"), ("l", "Lan")):
        yield from ui.type_keys(letter)
        yield from _tap_chip(ui, keyboard, word)
    yield from ui.tap("name_next")
    yield from ui.wait(lambda: screen.step == "phone", 5, "phone step")
    yield from _type_phone(ui, screen)
    yield from ui.type_keys("so")
    yield from ui.tap("mark_hat")
    yield from ui.tap("mark_sac")
    yield from ui.type_keys(" 5")
    yield from ui.tap("address_next")
    yield from ui.wait(lambda: screen.step == "members", 5, "members step")
    yield from ui.tap("members_next")
    yield from ui.wait(lambda: screen.step == "code", 15, "code step")
    yield from ui.wait(lambda: len(emulator.sent) >= 1, 30, "the OTP SMS")
    code = re.search(r"\b(\d{6})\b", emulator.sent_texts("+84987654321")[0]).group(1)
    for digit in code:
        yield from ui.tap(f"num_{digit}")
    yield from ui.wait(lambda: screen.step == "done", 15, "registration done")
    ui.result["taps"] = counter["taps"]
    ui.result["name"] = screen.ids.name_input.text
    ui.result["address"] = screen.ids.address_input.text


def request_counted(ui):
    """The request flow of tests/ui/scenarios.py:request_without_telex (its taps are counted there)."""
    from tests.ui.scenarios import request_without_telex
    yield from request_without_telex(ui)


__all__ = ["geometry", "register_counted", "request_counted", "_first_child_button"]
