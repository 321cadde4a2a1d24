"""Ask for help with a procedure: procedure → name → phone → citizen ID (optional) → confirm → code.

The kiosk takes no document: it records the request. On confirm the request is created (its SMS
queued in the same transaction), the code is shown in large type with the estimated date, the
papers to bring and who will call, and the slip is printed in the background. Only procedures
with `kiosk_request = true` are listed. A second tap while the first is being
handled does nothing: one confirm, one dossier.
"""
from __future__ import annotations

from kivy.factory import Factory
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty

from kiosk.dossiers import lifecycle as dossiers
from kiosk.dossiers import messages
from kiosk.dossiers import procedures
from kiosk.dossiers import tracking
from ..text import clean
from kiosk.ui.app import KioskScreen
from kiosk import clock


CITIZEN_ID_DIGITS = 12


class RequestScreen(KioskScreen):
    title_key = "request_title"
    instruction_key = "request_instruction"
    counted_steps = ("procedure", "name", "phone", "citizen_id", "confirm")
    step = StringProperty("procedure")
    busy = BooleanProperty(False)
    procedure = ObjectProperty(None, allownone=True)
    code = StringProperty("")
    appointment = StringProperty("")
    next_steps = StringProperty("")

    def on_kv_post(self, base_widget):
        super().on_kv_post(base_widget)
        for procedure in procedures.default():  # the catalogue is fixed while the kiosk runs
            if not procedure.kiosk_request:
                continue
            button = Factory.ListButton(text=procedure.name)
            button.code = procedure.code
            button.bind(on_release=lambda b: self.choose(b.code))
            self.ids.procedure_list.add_widget(button)

    def enter(self, code: str | None = None, **params) -> None:
        self.reset()
        if code:
            self.choose(code)

    def reset(self) -> None:
        self.step, self.error, self.busy, self.procedure = "procedure", "", False, None
        self.code = self.appointment = self.next_steps = ""
        for field in ("name_input", "phone_input", "cid_input"):
            if field in self.ids:
                self.ids[field].text = ""

    def back_step(self) -> bool:
        order = ("procedure", "name", "phone", "citizen_id", "confirm")
        if self.step in order[1:] and not self.busy:
            self._go(order[order.index(self.step) - 1])
            return True
        return False

    def _go(self, step: str) -> None:
        self.error = ""
        self.step = step

    def choose(self, code: str) -> None:
        procedure = procedures.default().get(code)
        if not procedure.kiosk_request:
            self.app.go("guides", code=code)  # its guide offers a volunteer's help instead
            return
        self.procedure = procedure
        self._go("name")

    def submit_name(self) -> None:
        if not clean(self.ids.name_input.text):
            self.error = self.app.t("error_name_empty")
            return
        self._go("phone")

    def submit_phone(self) -> None:
        if self.phone_ok(self.ids.phone_input.text):
            self._go("citizen_id")

    def submit_citizen_id(self, skip: bool = False) -> None:
        if skip:
            self.ids.cid_input.text = ""
        elif self.citizen_id():
            try:
                if len(self.citizen_id()) != CITIZEN_ID_DIGITS:  # the 9-digit CMND ended on 01/01/2025
                    raise dossiers.InvalidCitizenId("a personal ID number has 12 digits")
                dossiers.validate_citizen_id(self.citizen_id())
            except dossiers.InvalidCitizenId:
                self.error = self.app.t("error_citizen_id")
                return
        self._go("confirm")

    def citizen_id(self) -> str:
        """The digits typed (the field shows them grouped)."""
        return "".join(ch for ch in self.ids.cid_input.text if ch.isdigit())

    def summary(self, *_bindings) -> str:
        if self.procedure is None:
            return ""
        app = self.app
        cid = dossiers.masked_citizen_id(self.citizen_id()) if self.citizen_id() else "—"
        return "\n".join([
            f"{app.t('request_procedure')}: {self.procedure.name}",
            f"{app.t('request_name')}: {clean(self.ids.name_input.text)}",
            f"{app.t('request_phone')}: {self.ids.phone_input.text}",
            f"{app.t('request_citizen_id')}: {cid}",
        ])

    def confirm(self) -> None:
        if self.busy or self.code:
            return  # rapid repeated taps: the first one is being handled
        self.busy = True
        app = self.app
        config = app.tdp_config
        self._submitted = dict(
            procedure_code=self.procedure.code, full_name=self.ids.name_input.text,
            phone=self.ids.phone_input.text, citizen_id=self.citizen_id() or None, channel="kiosk",
            prefix=tracking.prefix(config), timezone=config.site.timezone,
            filing_days=config.requests.filing_days)
        app.services.call(_create, self._submitted, on_done=self._created, on_error=self._failed)

    def _created(self, dossier) -> None:
        self.busy = False
        self.code = dossier.code
        self.appointment = clock.display_date(dossier.appointment_date)
        papers = ", ".join(messages.short_document(d) for d in self.procedure.documents)
        self.next_steps = self.app.t("request_next_steps", documents=papers)
        self._go("done")
        from kiosk.dossiers.receipts import print_receipt
        app = self.app
        app.print_in_background(print_receipt, app.tdp_config, dossier.code)

    def _failed(self, message: str) -> None:
        self.busy = False
        self.error = message or self.app.t("error_generic")


def _create(db, fields: dict):
    """The dossier, with the volunteer on duty (if any) named on it and on the receipt."""
    from kiosk.appliance.status import on_duty_names
    names = on_duty_names(db)
    return dossiers.create(db, **fields, volunteer=names[0] if names else "")
