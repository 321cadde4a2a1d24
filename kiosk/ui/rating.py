"""How satisfied were you? Four faces after a completed service; anonymous, skipped in one tap."""
from __future__ import annotations

from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from kiosk.reports import ratings
from kiosk.ui.app import KioskScreen


class Face(Widget):
    """A drawn face: mood 1 (very happy) to 4 (unhappy)."""
    mood = NumericProperty(1)


class FaceButton(ButtonBehavior, BoxLayout):
    mood = NumericProperty(1)
    label = StringProperty("")


class RatingScreen(KioskScreen):
    title_key = "rating_title"
    instruction_key = "rating_instruction"
    service = StringProperty("request")
    asking_reason = BooleanProperty(False)
    thanked = BooleanProperty(False)

    def enter(self, service: str = "request", **params) -> None:
        self.service = service
        self.reset()

    def reset(self) -> None:
        self.asking_reason = False
        self.thanked = False

    def choose(self, score: int) -> None:
        if score == 4:
            self.asking_reason = True  # offer the reason chips first
            return
        self._record(score, None)

    def choose_reason(self, reason: str | None) -> None:
        self._record(4, reason)

    def _record(self, score: int, reason: str | None) -> None:
        app = self.app
        self.thanked = True
        app.services.call(ratings.add, app.tdp_config, self.service, score, reason)
        app.go_home()

    def skip(self) -> None:
        self.app.go_home()
