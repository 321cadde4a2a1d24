"""The Listen bar: "Nghe" reads what the screen shows now (the step's prompt, an error, results,
codes spelled out); on a procedure guide "Đọc bước sau" and "Nhắc lại" read the steps one by one
and then the fee, time and place; "Nhỏ tiếng"/"To tiếng" change the volume. Errors are read as
they appear, and with "Đọc to: Bật" (Home) each new step is read without a tap. Look: listen.kv.

One `Reader` per app holds the voice, the player and the reading position, so every screen's
bar shares them. Rendering and playback run off the Kivy thread (kiosk.voice.engine.Speaker); a new tap
stops the current speech, and so does leaving the screen. Without a voice engine or sound output
the bar is empty (hidden) and `tdp doctor` says why.
"""
from __future__ import annotations

import logging

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.properties import BooleanProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.ui import prompts
from kiosk.voice import engine as voice

log = logging.getLogger(__name__)
VOLUME_STEP = 30  # espeak amplitude per tap of "To tiếng"/"Nhỏ tiếng" (default 100, range 10-200)
WIDE_BAR_PX = 1100  # narrower windows keep the volume keys on Home only, so titles stay readable


class Reader:
    """What is being read and how loud; shared by every ListenBar of the app."""

    def __init__(self, app):
        self.app = app
        self.spoken: list[str] = []  # everything sent to the engine (tests and the bench read it)
        config = app.tdp_config
        self.ok, self.message_vi, self.message_en = voice.status(config)
        self.default_volume = config.voice.volume
        self.volume = self.default_volume
        self.idle_limit = config.ui.idle_seconds + config.ui.countdown_seconds
        self.parts: list[str] = []
        self.index = 0
        self.language = "vi"
        self._used_at = Clock.get_boottime()
        self.speaker = None
        if self.ok:
            self.speaker = voice.Speaker(voice.Voice(config), voice.player_for(config))
        else:
            log.info("read-aloud hidden: %s", self.message_en)
        app.manager.bind(current=lambda *_: self.stop())
        Window.bind(on_touch_down=self._on_touch)

    def _on_touch(self, *_args) -> bool:
        self._touch()
        return False  # only watching: the touch goes on to the widgets

    def _touch(self) -> None:
        # Volume goes back to the configured level when the kiosk has sat untouched long enough
        # for the idle reset: the next resident starts from the normal volume.
        now = Clock.get_boottime()
        if now - self._used_at > self.idle_limit:
            self.volume = self.default_volume
        self._used_at = now

    def read_screen(self, screen) -> None:
        """Start reading `screen`: a guide's first step, or the screen's title and instruction."""
        self._touch()
        procedure = getattr(screen, "procedure", None) if getattr(screen, "step", "") == "detail" else None
        if procedure is not None:
            self.parts = prompts.guide_prompts(procedure, getattr(screen, "online", True), "vi")
            self.language = "vi"  # the procedure catalogue is written in Vietnamese
        else:
            self.language = self.app.language
            self.parts = screen.spoken_parts()
        self.index = 0
        self._say()

    def next_part(self, screen) -> None:
        """The next part (a guide's next step); from the start when nothing has been read yet."""
        if not self.parts:
            self.read_screen(screen)
            return
        self._touch()
        self.index = min(self.index + 1, len(self.parts) - 1)
        self._say()

    def repeat(self, screen) -> None:
        if not self.parts:
            self.read_screen(screen)
            return
        self._touch()
        self._say()

    def change_volume(self, direction: int) -> None:
        """One step louder (+1) or quieter (-1), then say the current part again at that volume."""
        self._touch()
        low, high = voice.VOLUME_RANGE
        self.volume = max(low, min(high, self.volume + direction * VOLUME_STEP))
        if self.parts:
            self._say()

    def say(self, text: str, language: str) -> None:
        """Read one sentence now (an error that has just appeared)."""
        self.parts, self.index, self.language = [text], 0, language
        self._say()

    def stop(self) -> None:
        """Silence, and forget the reading position (the screen has changed)."""
        self.parts, self.index = [], 0
        if self.speaker is not None:
            self.speaker.stop()

    def _say(self) -> None:
        if self.parts:
            self.spoken.append(self.parts[self.index])
        if self.speaker is not None and self.parts:
            self.speaker.say(self.parts[self.index], volume=self.volume, language=self.language)


def reader() -> Reader:
    app = App.get_running_app()
    if getattr(app, "_listen_reader", None) is None:
        app._listen_reader = Reader(app)
    return app._listen_reader


class ListenBar(BoxLayout):
    """Nghe, (Đọc bước sau, Nhắc lại on a guide's steps), Nhỏ tiếng, To tiếng. Empty when speech is
    unavailable. `volume_keys` off (TopBars on narrow panels) leaves the volume to Home's bar."""
    available = BooleanProperty(False)
    stepping = BooleanProperty(False)
    volume_keys = BooleanProperty(True)

    def on_kv_post(self, base_widget):
        self._buttons = {name: self.ids[name].__self__ for name in
                         ("listen_button", "listen_next", "listen_repeat", "volume_down", "volume_up")}
        self.available = reader().ok
        self._screen = None
        self._show()
        self.bind(volume_keys=lambda *_: self._show())
        Window.bind(width=lambda *_: self._show())
        Clock.schedule_once(self._attach)

    def _attach(self, _dt) -> None:
        """Follow the screen this bar sits on, to offer Tiếp/Nhắc lại while a guide's steps show."""
        widget = self.parent
        while widget is not None and not hasattr(widget, "title_key"):
            widget = widget.parent
        self._screen = widget
        if widget is not None and widget.property("step", quiet=True) is not None:
            for name in ("step", "procedure", "online"):
                if widget.property(name, quiet=True) is not None:
                    widget.fbind(name, self._follow)
            self._follow()

    def _follow(self, *_args) -> None:
        screen = self._screen
        if reader().app.manager.current == screen.name:
            reader().stop()  # what is being read is no longer what the screen shows
        self.stepping = screen.step == "detail" and getattr(screen, "procedure", None) is not None

    def on_stepping(self, *_args) -> None:
        self._show()

    def _show(self) -> None:
        self.clear_widgets()
        if not self.available:
            return
        volume = self.volume_keys or Window.width >= WIDE_BAR_PX
        names = ["listen_button"] + (["listen_next", "listen_repeat"] if self.stepping else []) + (
            ["volume_down", "volume_up"] if volume else [])
        for name in names:
            self.add_widget(self._buttons[name])

    def current_screen(self):
        return self._screen or reader().app.manager.current_screen

    def listen(self) -> None:
        reader().read_screen(self.current_screen())

    def next_part(self) -> None:
        reader().next_part(self.current_screen())

    def repeat(self) -> None:
        reader().repeat(self.current_screen())

    def change_volume(self, direction: int) -> None:
        reader().change_volume(direction)
