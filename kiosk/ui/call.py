"""Call a volunteer: one tap gives a queue number and texts the volunteers on duty."""
from __future__ import annotations

from kivy.clock import Clock
from kivy.properties import BooleanProperty, NumericProperty, StringProperty

from kiosk.volunteers import help_tickets
from kiosk.ui.app import KioskScreen


class CallScreen(KioskScreen):
    title_key = "call_title"
    instruction_key = "call_instruction"
    number = StringProperty("")
    notified = NumericProperty(0)
    busy = BooleanProperty(False)

    def enter(self, **params) -> None:
        self.reset()

    def reset(self) -> None:
        self.number, self.notified, self.busy, self.error = "", 0, False, ""

    def call(self) -> None:
        if self.busy or self.number:
            return  # one ticket per visit, however often the button is tapped
        self.busy = True
        app = self.app
        app.services.call(help_tickets.create, app.tdp_config, "kiosk", on_done=self._created,
                          on_error=self._failed)

    def _created(self, ticket: dict) -> None:
        self._changed_at = Clock.get_boottime()
        self.busy = False
        self.number = ticket["display_number"]
        self.notified = len(ticket.get("notified") or [])

    def _failed(self, message: str) -> None:
        self.busy = False
        self.error = message or self.app.t("error_generic")
