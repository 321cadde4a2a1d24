"""Receive the group's texts: consent → head's name → phone → address → members → SMS code → done.

Consent comes first and names everything kept (the members' names too) and the number to text
HUY to; "Không đồng ý" says that nothing was kept. One action per step, "Bước 2/5" on each.
Nothing counts until the code texted to the phone is typed back. The code step is no trap:
"Gửi lại mã" after a minute, "Sửa số điện thoại", Back one step, and the idle reset waits up to
five minutes while the resident looks for the SMS.
"""
from __future__ import annotations

from kivy.clock import Clock
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty

from kiosk.directory import phone as phones
from kiosk.directory import registration
from ..text import clean
from kiosk.ui.app import KioskScreen

STEPS = ("consent", "name", "phone", "address", "members", "code", "done", "declined")
RESEND_AFTER_SECONDS = 60
CODE_DIGITS = 6
CODE_STEP_IDLE_SECONDS = 300


class RegisterScreen(KioskScreen):
    title_key = "register_title"
    instruction_key = "register_instruction"
    counted_steps = ("name", "phone", "address", "members", "code")
    step = StringProperty("consent")
    notice = StringProperty("")
    busy = BooleanProperty(False)
    members = ListProperty([])
    verification_id = NumericProperty(0)
    consent_text = StringProperty("")
    resend_in = NumericProperty(0)  # seconds until "Gửi lại mã" may be tapped

    def on_kv_post(self, base_widget):
        super().on_kv_post(base_widget)
        self.consent_text = registration.consent_text(self._kiosk_number())
        self._resend_clock = Clock.schedule_interval(self._tick, 1.0)

    def _kiosk_number(self) -> str:
        number = self.app.tdp_config.printer.kiosk_number
        try:
            return phones.national(phones.normalise(number)) if number else ""
        except phones.InvalidPhone:
            return number

    def enter(self, **params) -> None:
        self.reset()

    def reset(self) -> None:
        self.step, self.error, self.notice, self.busy = "consent", "", "", False
        self.members = []
        self.verification_id = 0
        self.resend_in = 0
        for field in ("name_input", "phone_input", "address_input", "member_input", "code_input"):
            if field in self.ids:
                self.ids[field].text = ""

    def idle_seconds(self) -> int | None:
        return CODE_STEP_IDLE_SECONDS if self.step == "code" else None

    def _go(self, step: str) -> None:
        self.error = ""
        self.step = step

    def back_step(self) -> bool:
        """Back goes one step back, keeping what was typed; False on the first step (consent)."""
        order = ("consent", "name", "phone", "address", "members", "code")
        if self.step in order[1:] and not self.busy:
            self._go(order[order.index(self.step) - 1])
            return True
        return False

    def agree(self) -> None:
        self._go("name")

    def disagree(self) -> None:
        self.reset()
        self.notice = self.app.t("register_cleared")
        self._go("declined")

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

    def submit_members(self) -> None:
        """Members done (a name still in the field counts): text the code and ask for it."""
        self.add_member()
        self.send_code()

    def send_code(self) -> None:
        if self.busy:
            return
        self.busy = True
        self.app.services.call(registration.send_code, self.ids.phone_input.text,
                               limits=registration.OtpLimits.from_config(self.app.tdp_config),
                               on_done=self._code_sent, on_error=self._failed)

    def resend(self) -> None:
        """"Gửi lại mã": a fresh code (the registration module's limits apply; its refusal is shown)."""
        if self.resend_in > 0:
            return
        self.send_code()

    def edit_phone(self) -> None:
        self.ids.code_input.text = ""
        self._go("phone")

    def _code_sent(self, verification_id: int) -> None:
        self.busy = False
        resent = self.step == "code"
        self.verification_id = verification_id
        self.resend_in = RESEND_AFTER_SECONDS
        self._go("code")
        if resent:
            self.notice = self.app.t("register_resent")

    def _tick(self, _dt) -> None:
        if self.resend_in > 0:
            self.resend_in -= 1

    def code_typed(self, text: str) -> None:
        """The sixth digit checks the code at once: one tap fewer, and no "Tiếp tục" to find."""
        if len(text) == CODE_DIGITS and self.step == "code":
            self.submit_code()

    def submit_code(self) -> None:
        if self.busy:
            return
        if len(self.ids.code_input.text) != CODE_DIGITS:
            self.error = self.app.t("register_code_short")
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
