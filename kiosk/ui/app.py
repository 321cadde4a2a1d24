"""The Kivy application: navigation, lazy screens, idle reset, scaling and language.

Imported only after `app.configure_kivy` has run.
"""
from __future__ import annotations

import gc
import importlib
import logging
from pathlib import Path

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.screenmanager import NoTransition, Screen, ScreenManager

from kiosk.appliance.config import Config
from kiosk.ui import i18n
from kiosk.ui.screens import SCREENS
from kiosk.ui.messages import describe
from kiosk.ui.services import Services

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
REFERENCE_SIZE = (1280, 800)  # lengths in .kv files are pixels at this resolution
LARGE_TEXT_FACTOR = 1.2
WATCHDOG_SECONDS = 5.0
MM_PER_INCH = 25.4
TARGET_MM = 9.0  # smallest touch target
# Body text (font size 26 in .kv files) has at least this cap height on any panel; other text
# scales with it. The kiosk's font (Roboto) has a cap height of 0.711 em.
BODY_CAP_MM = 5.0
CAP_HEIGHT_EM = 0.711
BODY_FONT_REF = 26
LARGE_TEXT_BELOW_INCHES = 10.0  # panels smaller than this start in large text


def save_screenshot(path) -> Path:
    """Save the window to exactly `path` (Kivy's screenshot() appends a counter to the name)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    made = Window.screenshot(name=str(path))
    if made and Path(made) != path:
        Path(made).replace(path)
    return path


SETTLE_SECONDS = 0.8  # taps this soon after a step appears belong to the previous step's button


class KioskScreen(Screen):
    """Base of every screen: a title and one instruction (read aloud), and a reset of personal data."""
    title_key = StringProperty("")
    instruction_key = StringProperty("")
    error = StringProperty("")  # one sentence for the resident, in the screen's language
    _changed_at = 0.0
    # Steps of a multi-step flow, shown as "Bước 2/5" (steps not listed, like "done", show nothing).
    counted_steps: tuple[str, ...] = ()

    def step_label(self, step: str, *_bindings) -> str:
        if step not in self.counted_steps:
            return ""
        return self.app.t("step_of", number=self.counted_steps.index(step) + 1, count=len(self.counted_steps))

    def step_title(self, step: str, *_bindings) -> str:
        """The top bar's title: "Bước 2/5 · <screen title>" on a counted step."""
        counted = self.step_label(step)
        title = self.app.t(self.title_key)
        return f"{counted} · {title}" if counted else title

    def idle_seconds(self) -> int | None:
        """Seconds without a touch before the idle countdown, when this step needs longer than usual."""
        return None

    def on_error(self, _screen, message: str) -> None:
        # An error is read aloud the moment it appears: a resident who can't see the red line hears it.
        if message and self.manager is not None and self.manager.current == self.name:
            from kiosk.ui.listen import reader
            reader().say(message, self.app.language)

    def phone_ok(self, text: str) -> bool:
        """True for a mobile number that can receive SMS; else the reason is put in `error`."""
        from kiosk.directory import phone as phones
        from kiosk.ui.messages import describe
        try:
            phones.normalise(text)
        except phones.InvalidPhone as exc:
            self.error = describe(exc, self.app.language)
            return False
        return True

    @property
    def app(self) -> "KioskApp":
        return App.get_running_app()

    def spoken_parts(self) -> list[str]:
        """What "Nghe" reads on this screen now: the visible texts of the current step (its
        prompt, error, results, codes), or the screen's title and instruction."""
        from kiosk.ui import prompts
        root = self.ids.steps.current_screen if "steps" in self.ids else None
        texts = prompts.visible_texts(root) if root is not None else []
        heading = prompts.screen_prompt(self.title_key, "", self.app.language)
        if self.error:
            texts = [self.error] + [t for t in texts if t != self.error]
        if texts:
            return [" ".join([heading, *texts]).strip()]
        return [prompts.screen_prompt(self.title_key, self.instruction_key, self.app.language)]

    def settled(self) -> bool:
        """False right after a step change: an elderly resident's repeated tap on "Hand in" must not
        land on the "Done" button that replaced it."""
        return Clock.get_boottime() - self._changed_at >= SETTLE_SECONDS

    def on_kv_post(self, base_widget):
        # Multi-step screens keep their steps in an inner ScreenManager with id "steps"; its
        # current step follows the screen's `step` property (set once the steps exist).
        steps = self.ids.get("steps")
        if steps is not None and hasattr(self, "step"):
            self.bind(step=self._show_step)
            steps.current = self.step

    def _show_step(self, _screen, value) -> None:
        self._changed_at = Clock.get_boottime()
        self.ids.steps.current = value
        self.app.step_shown(self)

    def enter(self, **params) -> None:
        """Called before the screen is shown, with the parameters of `app.go`."""

    def reset(self) -> None:
        """Clear everything a resident entered; called by the idle reset and by Home."""


class KioskApp(App):
    language = StringProperty("vi")
    large_text = BooleanProperty(False)
    large_default = BooleanProperty(False)  # small panels start (and reset to) large text
    read_aloud = BooleanProperty(False)  # "Đọc to": each new step is read by itself, for this visit
    scale = NumericProperty(1.0)
    font_unit = NumericProperty(1.0)  # pixels per .kv font-size unit (mm-based, see _rescale)
    status_duty = StringProperty("")
    status_modem = StringProperty("")
    status_printer = StringProperty("")
    status_hub = StringProperty("")
    status_warning = StringProperty("")  # a plain sentence for residents when a fault affects them
    countdown = NumericProperty(0)
    print_message = StringProperty("")

    def __init__(self, config: Config, start_screen: str = "home", screenshot=None, tour_dir=None,
                 stop_after: float = 0, watchdog=None, **kwargs):
        super().__init__(**kwargs)
        self.watchdog = watchdog
        self.tour_dir = Path(tour_dir) if tour_dir else None
        self.stop_after = stop_after
        self.tdp_config = config
        self.language = config.ui.language if config.ui.language in i18n.LANGUAGES else "vi"
        self.start_screen = start_screen
        self.screenshot_path = screenshot
        self.services = Services(config, lambda exc: describe(exc, self.language))
        self.history: list[str] = []
        self.exit_code = 0
        self._last_touch = Clock.get_boottime()
        self._countdown_view = None
        self.title = i18n.text("app_title", self.language)

    # -- texts and sizes used from .kv -------------------------------------------------------
    def t(self, key: str, *_bindings, **values) -> str:
        """Text for `key`; pass app.language as an extra argument in kv so it refreshes."""
        return i18n.text(key, self.language, **values)

    def mm(self, millimetres: float, *_bindings) -> float:
        """Pixels for a length in millimetres at the configured DPI."""
        return millimetres / MM_PER_INCH * self.tdp_config.ui.dpi

    def fs(self, size: float, *_bindings) -> float:
        """Font size in pixels for a .kv size (26 = body text), never under 5 mm cap height for body."""
        return self._sized(size, self.font_unit)

    def px(self, length: float, *_bindings) -> float:
        """A length given in pixels at 1280×800, scaled to this screen."""
        return self._sized(length, self.scale)

    def _sized(self, value: float, unit: float) -> float:
        return value * unit * (LARGE_TEXT_FACTOR if self.large_text else 1.0)

    def target(self, *_bindings) -> float:
        """Smallest touch target: 9 mm at the configured DPI, never below 64 px at 1280×800."""
        return max(self.mm(TARGET_MM), 64 * self.scale)

    def diagonal_inches(self) -> float:
        return (Window.width ** 2 + Window.height ** 2) ** 0.5 / self.tdp_config.ui.dpi

    # -- lifecycle ----------------------------------------------------------------------------
    def build(self):
        from kiosk.ui import keyboard  # noqa: F401  (registers the keyboard classes for its .kv)
        from kiosk.ui import listen  # noqa: F401  (registers ListenBar for listen.kv)
        from kiosk.ui import widgets  # noqa: F401  (registers ScrollButtons for widgets.kv)
        Builder.load_file(str(HERE / "widgets.kv"))
        Builder.load_file(str(HERE / "keyboard.kv"))
        Builder.load_file(str(HERE / "listen.kv"))
        self._rescale()
        self.large_default = self.diagonal_inches() < LARGE_TEXT_BELOW_INCHES
        self.large_text = self.large_default
        Window.bind(size=lambda *_: self._rescale())
        Window.bind(on_touch_down=self._on_activity, on_key_down=self._on_activity)
        self.manager = ScreenManager(transition=NoTransition())
        self.go(self.start_screen)
        Clock.schedule_interval(self._check_idle, 1.0)
        if self.screenshot_path:
            from kiosk.appliance.status import gather  # a still picture: the status once, before it is taken
            self._show_status(gather(self.services.store(), self.tdp_config))
            # Two frames: one to lay out, one to draw with the final sizes.
            Clock.schedule_once(lambda dt: Clock.schedule_once(self._take_screenshot, 0.3), 0.3)
        else:
            self.services.watch_status(self._show_status)
        if self.tour_dir:
            Clock.schedule_once(lambda dt: self._tour(list(SCREENS)), 1.0)
        elif not self.screenshot_path:
            # After the first frame, build the other screens one per frame, so the first tap on a
            # tile shows its screen at once instead of waiting for its .kv to load (~200 ms).
            Clock.schedule_once(lambda dt: self._preload([n for n in SCREENS if n != self.start_screen]), 0.5)
        if self.stop_after:
            Clock.schedule_once(lambda dt: self.stop(), self.stop_after)
        return self.manager

    def _preload(self, remaining: list[str]) -> None:
        if remaining:
            self.screen(remaining[0])
            Clock.schedule_once(lambda dt: self._preload(remaining[1:]), 0)
            return
        # Every widget now exists for the life of the process. Freezing them out of the garbage
        # collector's view stops full collections (which walk ~10^5 Kivy objects, half a second
        # on a 2-core board) from landing on a resident's tap.
        gc.collect()
        gc.freeze()

    @property
    def preloaded(self) -> bool:
        return all(self.manager.has_screen(name) for name in SCREENS)

    def _tour(self, remaining: list[str]) -> None:
        """Show each screen in turn and save it as <tour_dir>/<name>.png, then return Home."""
        if not remaining:
            self.go_home()
            return
        name = remaining[0]
        self.go(name)

        def shoot(_dt):
            save_screenshot(self.tour_dir / f"{name}.png")
            self._tour(remaining[1:])
        Clock.schedule_once(shoot, 0.5)

    def on_start(self):
        # systemd's watchdog is fed from the Kivy clock: if the UI thread hangs, systemd restarts us.
        if self.watchdog is not None:
            self.watchdog.ready("kiosk screen up")
            Clock.schedule_interval(lambda dt: self.watchdog.ping(), WATCHDOG_SECONDS)

    def on_stop(self):
        if self.watchdog is not None:
            self.watchdog.stopping()
        self.services.close()

    def _rescale(self) -> None:
        # Lengths follow the screen; text follows millimetres: body text keeps its cap height
        # on a 7" panel where the screen ratio alone would shrink it to 3 mm (font_unit first,
        # so kv rules re-evaluated on `scale` see the new unit).
        # The floor holds in the panel's default mode: on a small panel that is large text, and
        # "Chữ nhỏ lại" is the resident's own choice to go below it.
        scale = min(Window.width / REFERENCE_SIZE[0], Window.height / REFERENCE_SIZE[1])
        default_factor = LARGE_TEXT_FACTOR if self.diagonal_inches() < LARGE_TEXT_BELOW_INCHES else 1.0
        self.font_unit = max(scale, self.mm(BODY_CAP_MM / CAP_HEIGHT_EM) / BODY_FONT_REF / default_factor)
        self.scale = scale

    def _take_screenshot(self, _dt) -> None:
        save_screenshot(self.screenshot_path)
        self.stop()

    # -- navigation -------------------------------------------------------------------------
    def screen(self, name: str) -> KioskScreen:
        """The screen called `name`, loading its module and .kv file on first use."""
        if not self.manager.has_screen(name):
            module_name, class_name = SCREENS[name].split(":")
            module = importlib.import_module(module_name)
            kv_file = Path(module.__file__).with_suffix(".kv")
            if kv_file.exists() and str(kv_file) not in Builder.files:
                Builder.load_file(str(kv_file))
            self.manager.add_widget(getattr(module, class_name)(name=name))
        return self.manager.get_screen(name)

    def go(self, name: str, **params) -> None:
        screen = self.screen(name)
        screen.enter(**params)
        if self.manager.current and self.manager.current != name:
            self.history.append(self.manager.current)
        self.manager.current = name
        self.step_shown(screen)

    def step_shown(self, screen) -> None:
        """A new screen or step is on show: with "Đọc to" on, read it without a tap."""
        if self.read_aloud and self.manager.current == screen.name:
            from kiosk.ui.listen import reader
            Clock.schedule_once(lambda dt: reader().read_screen(screen), 0)

    def back(self) -> None:
        """Back one step inside a multi-step screen, else to the previous screen."""
        stepper = getattr(self.manager.current_screen, "back_step", None)
        if stepper is not None and stepper():
            return
        previous = self.history.pop() if self.history else "home"
        self.manager.current = previous
        self.step_shown(self.manager.current_screen)

    def go_home(self) -> None:
        """Home, clearing every screen's entered data: the next resident sees nothing of this one."""
        for screen in self.manager.screens:
            screen.reset()
        self.print_message = ""
        self.history.clear()
        self.go("home")
        self.history.clear()

    def reset_session(self) -> None:
        """The idle reset: personal data cleared, large text off, default language, Home."""
        self._dismiss_countdown()
        self.large_text = self.large_default
        self.read_aloud = False
        self.language = self.tdp_config.ui.language if self.tdp_config.ui.language in i18n.LANGUAGES else "vi"
        self.go_home()

    def finish_service(self, service: str) -> None:
        """A service is complete: ask for a rating (anonymous), which returns Home."""
        self.go("rating", service=service)

    def print_in_background(self, fn, *args, **kwargs) -> None:
        """Print without blocking the screen; `fn(store, …)` returns a kiosk.dossiers.receipts.PrintOutcome.

        A receipt that could not print is kept by kiosk.dossiers.receipts for a volunteer to reprint; the
        resident is told so, in their language.
        """
        self.print_message = self.t("busy")

        def shown(outcome) -> None:
            if outcome.ok and outcome.status == "printed":
                self.print_message = self.t("printed")
            elif outcome.ok:
                self.print_message = self.t("printer_pdf")
            else:
                detail = outcome.message_vi if self.language == "vi" else outcome.message
                self.print_message = self.t("print_saved") + ("\n" + detail if detail else "")

        self.services.call(fn, *args, on_done=shown,
                           on_error=lambda message: setattr(self, "print_message", self.t("print_saved")), **kwargs)

    def toggle_language(self) -> None:
        self.language = "en" if self.language == "vi" else "vi"

    def toggle_large_text(self) -> None:
        self.large_text = not self.large_text

    def toggle_read_aloud(self) -> None:
        self.read_aloud = not self.read_aloud
        if self.read_aloud:
            self.step_shown(self.manager.current_screen)

    def ask_typing_help(self) -> None:
        """"Nhờ tình nguyện viên nhập giúp": a help ticket at once, its number on the call screen."""
        self.go("call", now=True)

    # -- idle reset --------------------------------------------------------------------------
    def _on_activity(self, *_args):
        self._last_touch = Clock.get_boottime()
        if self._countdown_view is not None:
            self._dismiss_countdown()
        return False

    def _check_idle(self, _dt) -> None:
        idle = Clock.get_boottime() - self._last_touch
        limit = max(self.tdp_config.ui.idle_seconds, self.manager.current_screen.idle_seconds() or 0)
        untouched = not self.history and self.large_text == self.large_default and not self.read_aloud
        if self.manager.current == "home" and untouched and self._countdown_view is None:
            return
        if self.screenshot_path or idle < limit:
            return
        remaining = limit + self.tdp_config.ui.countdown_seconds - idle
        if remaining <= 0:
            self.reset_session()
            return
        self.countdown = int(remaining + 0.999)
        if self._countdown_view is None:
            from kiosk.ui.widgets import CountdownView
            self._countdown_view = CountdownView()
            self._countdown_view.open()

    def more_time(self) -> None:
        """'I need more time': the countdown goes away and the idle clock starts again."""
        self._last_touch = Clock.get_boottime()
        self._dismiss_countdown()

    def _dismiss_countdown(self) -> None:
        if self._countdown_view is not None:
            view, self._countdown_view = self._countdown_view, None
            view.dismiss()

    # -- status line -------------------------------------------------------------------------
    def _show_status(self, status: dict) -> None:
        names = status.get("on_duty") or []
        self.status_duty = (self.t("on_duty", names=", ".join(names)) if names else self.t("nobody_on_duty"))
        modem = status.get("modem")
        if modem and modem.get("ok"):
            self.status_modem = self.t("modem_ok", bars=modem.get("bars", 0))
        else:
            self.status_modem = self.t("modem_down")
        self.status_printer = self.t({"ready": "printer_ok", "pdf": "printer_pdf"}.get(status.get("printer"), "printer_down"))
        self.status_hub = self.t({True: "hub_ok", False: "hub_down"}.get(status.get("hub"), "hub_none"))
        # Residents see only what changes their visit; the technical states are for volunteer mode.
        warnings = []
        if status.get("printer") != "ready":
            warnings.append(self.t("warn_printer"))
        if not (modem and modem.get("ok")):
            warnings.append(self.t("warn_sms"))
        self.status_warning = " ".join(warnings)
