"""Check my request: type the code from the slip (or the portal's dossier code, with or without its
dots and dashes) and see its status and history.

The code is the key: it is random and printed only on the resident's own receipt. The screen
shows the procedure, status and dates, never the name, phone or citizen ID, so a code read off
someone else's receipt reveals nothing personal. Looking up by phone needs the SMS code sent
to that phone first (the same verification as registration).
"""
from __future__ import annotations

from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty

from kiosk.dossiers import lifecycle as dossiers
from kiosk.directory import registration
from kiosk.dossiers import tracking
from kiosk.ui.app import KioskScreen
from kiosk import clock


class CheckScreen(KioskScreen):
    title_key = "check_title"
    instruction_key = "check_instruction"
    step = StringProperty("code")
    busy = BooleanProperty(False)
    results = ListProperty([])
    verification_id = NumericProperty(0)

    def enter(self, **params) -> None:
        self.reset()

    def reset(self) -> None:
        self.step, self.error, self.busy, self.results, self.verification_id = "code", "", False, [], 0
        for field in ("code_input", "phone_input", "otp_input"):
            if field in self.ids:
                self.ids[field].text = ""

    def back_step(self) -> bool:
        if self.step != "code":
            self.step, self.error = "code", ""
            return True
        return False

    def _prefix(self) -> str:
        return tracking.prefix(self.app.tdp_config)

    def lookup_code(self) -> None:
        if self.busy:
            return
        self.busy = True
        self.app.services.call(_by_code, self.ids.code_input.text, self._prefix(),
                                            on_done=self._show, on_error=self._failed)

    def use_phone(self) -> None:
        self.error = ""
        self.step = "phone"

    def send_phone_code(self) -> None:
        if not self.phone_ok(self.ids.phone_input.text):
            return
        self.busy = True
        self.app.services.call(registration.send_code, self.ids.phone_input.text,
                               limits=registration.OtpLimits.from_config(self.app.tdp_config),
                               on_done=self._code_sent, on_error=self._failed)

    def _code_sent(self, verification_id: int) -> None:
        self.busy, self.error, self.verification_id, self.step = False, "", verification_id, "otp"

    def check_phone_code(self) -> None:
        if self.busy:
            return
        self.busy = True
        self.app.services.call(_by_phone, self.verification_id, self.ids.otp_input.text,
                                            self.ids.phone_input.text, self._prefix(), on_done=self._phone_checked,
                                            on_error=self._failed)

    def _phone_checked(self, outcome) -> None:
        self.busy = False
        self.ids.otp_input.text = ""
        app = self.app
        kind, value = outcome
        if kind == "wrong":
            self.error = app.t("register_code_wrong", tries=value)
        elif kind == "retired":
            self.error = app.t("register_code_retired")
        else:
            self._show(value)

    def _show(self, results: list[dict]) -> None:
        self.busy, self.error = False, ""
        self.results = results
        self.step = "results"

    def _failed(self, message: str) -> None:
        self.busy = False
        self.error = message or self.app.t("error_generic")

    def results_text(self, results, *_bindings) -> str:
        app = self.app
        if not results:
            return app.t("check_none")
        zone = app.tdp_config.site.timezone
        blocks = []
        for item in results:
            lines = [f"[b]{item['code']}[/b]  {item['procedure_name']}",
                     f"{app.t('check_status')}: [b]{item['status_label']}[/b]"]
            if item.get("portal_code"):
                lines.append(app.t("check_portal_code", code=item["portal_code"]))
            if item.get("official_appointment"):
                lines.append(app.t("check_official_appointment", date=clock.display_date(item["official_appointment"])))
            elif item.get("appointment_date"):
                lines.append(app.t("request_appointment", date=clock.display_date(item["appointment_date"])))
            lines += [f"   {local_day(e['at'], zone)}  {dossiers.STATUS_LABELS.get(e['status'], e['status'])}"
                      for e in item.get("history", [])]
            blocks.append("\n".join(lines))
        return "\n\n".join(blocks)


def local_day(stamp: str, zone: str) -> str:
    """A history entry's UTC timestamp as the site's calendar day (01:00 on the 3rd in Hà Nội is
    the 3rd, though UTC still says the 2nd)."""
    return clock.local_time(zone, stamp).strftime("%d/%m/%Y")


def _public(dossier) -> dict:
    """What the check screen may show: no name, phone or citizen ID."""
    data = dossier.public()
    return {key: data[key] for key in ("code", "procedure_name", "status", "status_label", "appointment_date",
                                       "portal_code", "official_appointment", "history")}


def _by_code(db, code: str, prefix: str) -> list[dict]:
    return [_public(dossiers.get(db, code, prefix))]


def _by_phone(db, verification_id: int, code: str, phone: str, prefix: str):
    result = registration.check_code(db, verification_id, code)
    if result.outcome == "wrong":
        return "wrong", result.tries_left
    if result.outcome == "retired":
        return "retired", result.verification_id
    found = [dossiers.get(db, d.code, prefix) for d in dossiers.list_dossiers(db, phone=phone, limit=20)]
    return "ok", [_public(d) for d in found]
