"""Read-aloud and large-text scenarios, run by tests/ui/pilot.py inside the real kiosk app."""
from __future__ import annotations

import os

LARGE_TEXT_SCREENS = ("guides", "request", "check", "call", "notices", "register", "rating")


def _shoot(path):
    from kiosk.ui.app import save_screenshot
    save_screenshot(path)


def _reader():
    from kiosk.ui.listen import reader
    return reader()


def _bar_buttons(ui):
    """Ids of the Listen bar buttons on the current screen, in order."""
    bar = ui.find("listen_button").parent or ui.find("volume_up").parent
    if bar is None:
        return []
    names = {id(widget): name for name, widget in bar._buttons.items()}
    return [names[id(child)] for child in reversed(bar.children)]


def _wait_started(ui, what):
    player = _reader().speaker.player
    yield from ui.wait(lambda: player.started.is_set() or bool(player.error), 10, what)


def listen_home(ui):
    """Home → "Nghe": the Home prompt plays; then a second tap plays it again from the cache."""
    yield from ui.wait_screen("home")
    yield None
    ui.result["buttons"] = _bar_buttons(ui)
    reader = _reader()
    yield from ui.tap("listen_button")
    yield from _wait_started(ui, "playback")
    player = reader.speaker.player
    yield from ui.wait(lambda: not player.playing, 30, "playback to end")
    last = reader.speaker.last
    ui.result.update(text=last.text, path=str(last.path), cached=last.cached, error=player.error,
                     latency=reader.speaker.latency(), player=player.name)


def listen_hidden(ui):
    """No voice engine: the bar has no buttons, nothing else changes."""
    yield from ui.wait_screen("home")
    yield None
    bar = ui.find("listen_button").parent
    ui.result["home_bar"] = bar is not None and bool(bar.children)
    yield from ui.tap("tile_guides")
    yield from ui.wait_screen("guides")
    yield None
    ui.result["guides_bar_parent"] = ui.find("listen_button").parent is not None
    ui.result["home_button"] = ui.find("home_button").get_root_window() is not None


def listen_guide_steps(ui):
    """The "Đăng ký tạm trú" guide read step by step: Nghe, Tiếp, Tiếp, Nhắc lại; a new tap stops the last."""
    yield from ui.wait_screen("home")
    yield from ui.tap("tile_guides")
    yield from ui.wait_screen("guides")
    screen = ui.screen
    ui.result["buttons_list"] = _bar_buttons(ui)
    category = next(b for b in screen.ids.category_list.children if b.category == "cu_tru")
    yield from ui.tap(category)
    yield from ui.wait(lambda: screen.step == "list", 5, "procedure list")
    procedure = next(b for b in screen.ids.procedure_list.children if b.code == "CT-TAMTRU")
    yield from ui.tap(procedure)
    yield from ui.wait(lambda: screen.step == "detail", 5, "guide detail")
    yield None
    ui.result["buttons_detail"] = _bar_buttons(ui)
    if os.environ.get("TDP_TEST_SHOT"):
        _shoot(os.environ["TDP_TEST_SHOT"])
        yield None
    reader = _reader()
    player = reader.speaker.player
    heard = []
    for button in ("listen_button", "listen_next", "listen_next", "listen_repeat"):
        before = player.sound if hasattr(player, "sound") else None
        yield from ui.tap(button)
        yield from ui.wait(lambda: reader.speaker.last is not None and player.started.is_set()
                           or bool(player.error), 10, button)
        heard.append(reader.speaker.last.text)
        if before is not None:
            ui.result.setdefault("previous_states", []).append(before.state)
    ui.result["heard"] = heard
    ui.result["playing"] = player.playing
    ui.result["error"] = player.error
    quiet_path = reader.speaker.last.path
    yield from ui.tap("volume_up")  # louder: the same step again, rendered at the new volume
    yield from ui.wait(lambda: reader.speaker.last is not None and player.started.is_set(), 10, "louder")
    ui.result["louder"] = {"volume": reader.volume, "text": reader.speaker.last.text,
                           "new_file": reader.speaker.last.path != quiet_path}
    reader._used_at -= reader.idle_limit + 1  # as if the kiosk sat idle past the idle reset
    yield from ui.tap("listen_button")
    ui.result["volume_after_idle"] = reader.volume
    yield from ui.tap("back_button")
    yield from ui.wait(lambda: screen.step == "list", 5, "back to the list")
    yield None
    ui.result["playing_after_back"] = player.playing
    ui.result["buttons_after_back"] = _bar_buttons(ui)


def _rect(widget):
    x, y = widget.to_window(widget.x, widget.y)
    return x, y, x + widget.width, y + widget.height


def _problems(ui, window):
    """Buttons (with a kv id) on the current screen that stick out of the window, are cut by the
    edge of their scrolling area or by the top bar, or whose text is wider or taller than they are."""
    from kivy.uix.button import Button
    from kivy.uix.scrollview import ScrollView
    problems = []
    seen = set()
    bar = ui.find("home_button").parent if ui.app.manager.current != "rating" else None
    bar_bottom = _rect(bar)[1] if bar is not None else window.height
    for widget in ui.screen.walk(restrict=True):
        for name, child in getattr(widget, "ids", {}).items():
            child = child.__self__
            if id(child) in seen or not isinstance(child, Button) or child.get_root_window() is None:
                continue
            seen.add(id(child))
            chain = [child, *_ancestors(child)]
            if any(w.opacity == 0 for w in chain) or child.width < 1 or child.height < 1:
                continue  # hidden
            child.texture_update()
            x0, y0, x1, y1 = _rect(child)
            scroll = next((p for p in chain if isinstance(p, ScrollView)), None)
            if scroll is not None:
                _sx0, sy0, _sx1, sy1 = _rect(scroll)
                if y1 <= sy0 + 1 or y0 >= sy1 - 1:
                    continue  # scrolled out of view: the resident scrolls to it
                cut = y0 < sy0 - 1 or y1 > sy1 + 1
            else:
                in_bar = bar is not None and any(w is bar for w in chain)
                cut = y0 < -1 or y1 > (window.height if in_bar else bar_bottom) + 1
            cut = cut or x0 < -1 or x1 > window.width + 1
            text_fits = child.texture_size[0] <= child.width + 1 and child.texture_size[1] <= child.height + 1
            if cut or not text_fits:
                problems.append({"id": name, "rect": [round(v) for v in (x0, y0, x1, y1)],
                                 "text_size": list(child.texture_size), "cut": cut, "text": child.text[:40]})
    return problems


def _ancestors(widget):
    parent = widget.parent
    while parent is not None:
        yield parent
        if parent.parent is parent:  # the Window is its own parent
            return
        parent = parent.parent


def large_text_fits(ui):
    """A+ on, then every resident screen (and the guide detail): buttons inside, texts not cut."""
    from kivy.core.window import Window
    yield from ui.wait_screen("home")
    if not ui.app.large_text:  # on by default on the 7" panel
        yield from ui.tap("large_text")
    ui.result["large_text"] = ui.app.large_text
    report = {}
    shots = os.environ.get("TDP_TEST_SHOTS")
    for name in LARGE_TEXT_SCREENS:
        ui.app.go(name)
        yield from ui.wait_screen(name)
        for _ in range(3):
            yield None
        report[name] = _problems(ui, Window)
        if shots:
            _shoot(os.path.join(shots, f"{name}.png"))
        if name == "rating":
            yield from ui.tap("face_4")  # "Chưa hài lòng" brings up the reason chips
            for _ in range(3):
                yield None
            report["rating_reasons"] = _problems(ui, Window)
            if shots:
                _shoot(os.path.join(shots, "rating_reasons.png"))
        if name == "guides":
            ui.screen.show("CT-TAMTRU")
            for _ in range(3):
                yield None
            report["guides_detail"] = _problems(ui, Window)
            if shots:
                _shoot(os.path.join(shots, "guides_detail.png"))
    ui.result["problems"] = report


def read_aloud_session(ui):
    """"Đọc to: Bật" on Home: each new step is read without a tap, an error is read when it appears,
    and "Nghe" on the done step reads the tracking code."""
    yield from ui.wait_screen("home")
    reader = _reader()
    yield from ui.tap("read_aloud")
    ui.result["toggle"] = ui.find("read_aloud").text
    yield from ui.tap("tile_request")
    yield from ui.wait_screen("request")
    screen = ui.screen
    yield from ui.wait(lambda: len(screen.ids.procedure_list.children) > 0, 10, "procedure list")
    yield from ui.tap(list(reversed(screen.ids.procedure_list.children))[0])
    from kiosk.ui import i18n
    prompt = i18n.text("request_name_prompt")
    yield from ui.wait(lambda: prompt in reader.spoken[-1], 5, "the name step read by itself")
    ui.result["name_prompt"] = prompt
    ui.result["name_step"] = reader.spoken[-1]
    yield from ui.tap("name_next")  # nothing typed: an error
    yield from ui.wait(lambda: bool(screen.error), 5, "the error")
    yield from ui.wait(lambda: reader.spoken[-1] == screen.error, 5, "the error read aloud")
    ui.result["error_read"] = reader.spoken[-1]
    screen.code, screen.appointment = "TDP1-2612-JRZW", "10/12/2026"
    screen.step = "done"
    yield None
    yield from ui.wait(lambda: "TDP1-2612-JRZW" in reader.spoken[-1], 5, "the done step read")
    ui.result["done_read"] = reader.spoken[-1]
    ui.result["done_spoken"] = reader.speaker.voice.spoken_text(reader.spoken[-1]) if reader.speaker else ""
