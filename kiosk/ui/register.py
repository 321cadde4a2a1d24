"""Register for notices: head's name → phone → address → members → consent → SMS code → done.

One action per step. Nothing counts until the code texted to the phone is typed back.
"""
from __future__ import annotations

from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty

from kiosk.directory import phone as phones
from kiosk.directory import registration
from ..text import clean
from kiosk.ui.app import KioskScreen

STEPS = ("name", "phone", "address", "members", "consent", "code", "done")


class RegisterScreen(KioskScreen):
    title_key = "register_title"
    instruction_key = "register_instruction"
    step = StringProperty("name")
    notice = StringProperty("")
    busy = BooleanProperty(False)
    members = ListProperty([])
    verification_id = NumericProperty(0)
    consent_text = StringProperty(registration.CONSENT_TEXT)

    def enter(self, **params) -> None:
        self.reset()

    def reset(self) -> None:
        self.step, self.error, self.notice, self.busy = "name", "", "", False
        self.members = []
        self.verification_id = 0
        for field in ("name_input", "phone_input", "address_input", "member_input", "code_input"):
            if field in self.ids:
                self.ids[field].text = ""


    def _go(self, step: str) -> None:
        self.error = ""
        self.step = step

    def back_step(self) -> bool:
        """Back goes to the previous step (never back into a sent code); False on the first step."""
        order = ("name", "phone", "address", "members", "consent")
        if self.step in order[1:]:
            self._go(order[order.index(self.step) - 1])
            return True
        return False

    def submit_name(self) -> None:
        if not clean(self.ids.name_input.text):
            self.error = self.app.t("error_name_empty")
            return
        self._go("phone")

    def submit_phone(self) -> None:
        if self.phone_ok(self.ids.phone_input.text):
            self._go("address")

    def submit_address(self) -> None:
        if not clean(self.ids.address_input.text):
            self.error = self.app.t("error_address_empty")
            return
        self._go("members")

    def add_member(self) -> None:
        name = clean(self.ids.member_input.text)
        if name:
            self.members = [*self.members, name]
            self.ids.member_input.text = ""

    def agree(self) -> None:
        """Consent given: text the code (in the background) and ask for it."""
        self.busy = True
        self.app.services.call(registration.send_code, self.ids.phone_input.text,
                               limits=registration.OtpLimits.from_config(self.app.tdp_config),
                               on_done=self._code_sent, on_error=self._failed)

    def _code_sent(self, verification_id: int) -> None:
        self.busy = False
        self.verification_id = verification_id
        self._go("code")

    def submit_code(self) -> None:
        if self.busy:
            return
        self.busy = True
        self.app.services.call(registration.check_code, self.verification_id, self.ids.code_input.text,
                               on_done=self._code_checked, on_error=self._failed)

    def _code_checked(self, result) -> None:
        self.busy = False
        self.ids.code_input.text = ""
        if result.outcome == "wrong":
            self.error = self.app.t("register_code_wrong", tries=result.tries_left)
            return
        if result.outcome == "retired":
            self.error = self.app.t("register_code_retired")
            return
        self.busy = True
        members = [registration.Member(name) for name in self.members]
        self.app.services.call(
            registration.register_household, self.verification_id, head_name=self.ids.name_input.text,
            address=self.ids.address_input.text, members=members,
            residential_group=self.app.tdp_config.site.residential_group,
            on_done=self._registered, on_error=self._failed)

    def _registered(self, result: dict) -> None:
        self.busy = False
        self.notice = self.app.t("register_done")
        self._go("done")
        from kiosk.dossiers.receipts import print_registration
        self.app.print_in_background(print_registration, self.app.tdp_config, result["household_id"])

    def _failed(self, message: str) -> None:
        self.busy = False
        self.error = message or self.app.t("error_generic")

    def masked_phone(self) -> str:
        try:
            return phones.masked(phones.normalise(self.ids.phone_input.text))
        except phones.InvalidPhone:
            return ""
