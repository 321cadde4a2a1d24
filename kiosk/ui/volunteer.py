"""Volunteer mode (PIN): check in/out, the help-ticket queue, the request desk, reprints.

The request desk: find a request by either code; record the portal's dossier code and official
appointment (one SMS); tick the missing documents from the procedure's list (they go in the
SMS); reject only with a reason and a confirmation, and only as a senior volunteer or official.

Reached by the small "Dành cho tình nguyện viên" key in Home's corner, away from the residents'
buttons; the idle reset logs the volunteer out like any other session. The menu shows the
technical states (modem, printer, ward link) that Home keeps from residents; each waiting
ticket says how long its resident has waited.
"""
from __future__ import annotations

from datetime import datetime, timezone

from kivy.factory import Factory
from kivy.properties import DictProperty, ListProperty, ObjectProperty, StringProperty

from kiosk.dossiers import lifecycle as dossiers
from kiosk.dossiers import messages
from kiosk.volunteers import help_tickets
from kiosk.dossiers import procedures
from kiosk.dossiers import tracking
from kiosk.volunteers import duty, people as volunteers
from kiosk.ui.app import KioskScreen


class VolunteerScreen(KioskScreen):
    title_key = "volunteer_title"
    instruction_key = "volunteer_instruction"
    step = StringProperty("who")
    message = StringProperty("")
    volunteer = DictProperty({})
    who = StringProperty("")
    tickets = ListProperty([])
    ticket = ObjectProperty(None, allownone=True)
    dossier = ObjectProperty(None, allownone=True)
    documents = ListProperty([])   # the procedure's documents ticked as missing
    reason = StringProperty("")    # the rejection's reason, chosen from ui_strings' list

    def enter(self, **params) -> None:
        self.reset()
        self.ids.who_list.clear_widgets()  # filled afresh: volunteers may have changed
        self.app.services.call(_active_volunteers, on_done=self._show_volunteers)

    def reset(self) -> None:
        self.step, self.error, self.message, self.volunteer, self.who = "who", "", "", {}, ""
        self.tickets, self.ticket, self.dossier = [], None, None
        self.documents, self.reason = [], ""
        self._pin = ""
        for field in ("pin_input", "code_input", "portal_input", "appointment_input"):
            if field in self.ids:
                self.ids[field].text = ""

    def back_step(self) -> bool:
        if self.step in ("tickets", "request", "reprint"):
            self._go("menu")
            return True
        if self.step in ("portal", "documents", "reject"):
            self._go("request")
            return True
        if self.step == "appointment":
            self._go("portal")
            return True
        if self.step == "reject_confirm":
            self._go("reject")
            return True
        if self.step == "close":
            self._go("tickets")
            return True
        if self.step == "pin":
            self._go("who")
            return True
        return False

    def _go(self, step: str) -> None:
        self.error = ""
        self.step = step


    def _failed(self, message: str) -> None:
        self.error = message or self.app.t("error_generic")

    # -- sign in --------------------------------------------------------------------------------
    def _show_volunteers(self, people: list[dict]) -> None:
        box = self.ids.who_list
        box.clear_widgets()
        for person in people:
            button = Factory.ListButton(text=person["name"])
            button.phone = person["phone"]
            button.bind(on_release=lambda b: self.choose(b.phone, b.text))
            box.add_widget(button)

    def choose(self, phone: str, name: str) -> None:
        self.who = phone
        self.message = name
        self._go("pin")

    def sign_in(self) -> None:
        pin = self.ids.pin_input.text
        self.ids.pin_input.text = ""
        self.app.services.call(_verify, self.app.tdp_config, self.who, pin, on_done=self._signed_in,
                               on_error=self._failed)

    def _signed_in(self, outcome: tuple[dict, str]) -> None:
        self.volunteer, self._pin = outcome
        self.message = self.app.t("volunteer_hello", name=self.volunteer["name"])
        self._go("menu")

    # -- check in / out -------------------------------------------------------------------------
    def attendance(self, action: str) -> None:
        """Start or end a spell of duty with the PIN given at sign-in (kept only for this session)."""
        call = duty.check_in if action == "in" else duty.check_out
        self.app.services.call(call, self.who, self._pin, self.app.tdp_config.volunteers,
                               on_done=lambda _r: setattr(self, "message", self.app.t(f"volunteer_checked_{action}")),
                               on_error=self._failed)

    # -- help tickets ---------------------------------------------------------------------------
    def show_tickets(self) -> None:
        self.app.services.call(_open_tickets, on_done=self._tickets_loaded, on_error=self._failed)

    def _tickets_loaded(self, tickets: list[dict]) -> None:
        self.tickets = tickets
        box = self.ids.ticket_list
        box.clear_widgets()
        for ticket in tickets:
            who = ticket.get("volunteer_name") or self.app.t("volunteer_unassigned")
            waited = self.app.t("volunteer_waited", minutes=waited_minutes(ticket["created_at"]))
            button = Factory.ListButton(text=f"{ticket['display_number']}  ·  {waited}  ·  "
                                             f"{help_tickets.SOURCES.get(ticket['source'], '')}  ·  {who}"
                                             + (f"\n{ticket['note']}" if ticket["note"] else ""))
            button.ticket = ticket
            button.bind(on_release=lambda b: self.open_ticket(b.ticket))
            box.add_widget(button)
        self._go("tickets")

    def open_ticket(self, ticket: dict) -> None:
        self.ticket = ticket
        box = self.ids.close_procedures
        box.clear_widgets()
        for name in [self.app.t("volunteer_general_help")] + [p.name for p in procedures.default()]:
            button = Factory.ListButton(text=name)
            button.bind(on_release=lambda b: setattr(self, "message", b.text))
            box.add_widget(button)
        self.message = ""
        self._go("close")

    def close_ticket(self, channel: str) -> None:
        if not self.message:
            self.error = self.app.t("volunteer_pick_procedure")
            return
        minutes = max(1, min(help_tickets.MAX_MINUTES, waited_minutes(self.ticket["created_at"])))
        self.app.services.call(help_tickets.close, f"#{self.ticket['id']}",
                               procedure=self.message, channel=channel, submitted_online=channel != "in_person",
                               minutes=minutes, volunteer=self.volunteer.get("phone"),
                               on_done=lambda _t: self.app.finish_service("help"), on_error=self._failed)

    # -- requests ---------------------------------------------------------------------------------
    def _prefix(self) -> str:
        return tracking.prefix(self.app.tdp_config)

    def find_request(self) -> None:
        self.app.services.call(dossiers.get, self.ids.code_input.text, self._prefix(),
                               on_done=self._request_found, on_error=self._failed)

    def may_reject(self) -> bool:
        return self.volunteer.get("desk_role") in volunteers.MAY_REJECT

    def _request_found(self, dossier) -> None:
        self.error = ""
        self.dossier = dossier
        box = self.ids.status_buttons
        box.clear_widgets()
        actions = []
        if dossier.status in ("received", "forwarded", "needs_more_documents"):
            actions.append(("portal", self.app.t("volunteer_portal_button")))
        for status in dossiers.TRANSITIONS.get(dossier.status, ()):
            if status == "rejected" and not self.may_reject():
                continue  # rejection is for officials and senior volunteers
            if status == "forwarded" and dossier.status == "received":
                continue  # a received request goes forward by recording its portal code
            actions.append((status, dossiers.STATUS_LABELS[status]))
        for action, label in actions:
            button = Factory.BigButton(text=label)
            button.action = action
            if action == "rejected":
                button.background_color = (0.55, 0.2, 0.2, 1)
            button.bind(on_release=lambda b: self.act(b.action))
            box.add_widget(button)
        if self.step != "request":
            self._go("request")

    def act(self, action: str) -> None:
        if action == "portal":
            self.ids.portal_input.text = self.dossier.portal_code or ""
            self._go("portal")
        elif action == "needs_more_documents":
            self._show_documents()
        elif action == "rejected":
            self._show_reasons()
        else:
            self.set_status(action)

    def set_status(self, status: str, **extra) -> None:
        self.app.services.call(dossiers.update_status, self.dossier.code, status, by=self.volunteer.get("name", ""),
                               prefix=self._prefix(), **extra, on_done=self._request_found, on_error=self._failed)

    # portal code, then the official appointment (ddmmyyyy, optional)
    def portal_next(self) -> None:
        from kiosk.dossiers import portal
        try:
            portal.parse(self.ids.portal_input.text)
        except portal.InvalidPortalCode:
            self.error = self.app.t("volunteer_portal_invalid", example=portal.EXAMPLE)
            return
        self.ids.appointment_input.text = ""
        self._go("appointment")

    def save_portal(self, skip_date: bool = False) -> None:
        digits = "" if skip_date else self.ids.appointment_input.text
        appointment = None
        if digits:
            if len(digits) != 8 or not digits.isdigit():
                self.error = self.app.t("volunteer_appointment_invalid")
                return
            appointment = f"{digits[:2]}/{digits[2:4]}/{digits[4:]}"
        config = self.app.tdp_config
        self.app.services.call(dossiers.record_portal, self.dossier.code, self.ids.portal_input.text,
                               appointment=appointment, by=self.volunteer.get("name", ""), prefix=self._prefix(),
                               timezone=config.site.timezone, on_done=self._request_found, on_error=self._failed)

    # missing documents, ticked from the procedure's list
    def _show_documents(self) -> None:
        self.documents = []
        box = self.ids.document_list
        box.clear_widgets()
        try:
            papers = procedures.default().get(self.dossier.procedure_code).documents
        except procedures.NotFound:
            papers = ()
        for paper in papers:
            button = Factory.ListButton(text="☐ " + messages.short_document(paper))
            button.paper = paper
            button.bind(on_release=self._toggle_document)
            box.add_widget(button)
        self._go("documents")

    def _toggle_document(self, button) -> None:
        ticked = button.paper in self.documents
        self.documents = [d for d in self.documents if d != button.paper] if ticked else [*self.documents, button.paper]
        button.text = ("☐ " if ticked else "☑ ") + messages.short_document(button.paper)

    def send_documents(self) -> None:
        if not self.documents:
            self.error = self.app.t("volunteer_tick_documents")
            return
        self.set_status("needs_more_documents", documents=list(self.documents))

    # rejection: a reason, then a confirmation
    def _show_reasons(self) -> None:
        self.reason = ""
        box = self.ids.reason_list
        box.clear_widgets()
        for reason in self.app.t("volunteer_reject_reasons").split("|"):
            button = Factory.ListButton(text=reason)
            button.bind(on_release=lambda b: self._reason_chosen(b.text))
            box.add_widget(button)
        self._go("reject")

    def _reason_chosen(self, reason: str) -> None:
        self.reason = reason
        self._go("reject_confirm")

    def confirm_reject(self) -> None:
        self.set_status("rejected", note=self.reason, confirmed=True)

    def reprint(self) -> None:
        from kiosk.dossiers.receipts import reprint
        if self.dossier is None:
            self.error = self.app.t("volunteer_find_first")
            return
        self.app.print_in_background(reprint, self.app.tdp_config, self.dossier.code)

    def dossier_text(self, dossier, *_bindings) -> str:
        if dossier is None:
            return ""
        data = dossier.public()
        portal_line = f"\n{self.app.t('check_portal_code', code=data['portal_code'])}" if data["portal_code"] else ""
        return (f"[b]{data['code']}[/b]  {data['procedure_name']}\n{data['full_name']} · {data['phone']}"
                f"\n{self.app.t('check_status')}: [b]{data['status_label']}[/b]{portal_line}")


def _active_volunteers(db) -> list[dict]:
    return volunteers.list_volunteers(db, active_only=True)


def _verify(db, config, who: str, pin: str) -> tuple[dict, str]:
    return volunteers.verify_pin(db, who, pin, config.volunteers), pin


def _open_tickets(db) -> list[dict]:
    return [t for t in help_tickets.list_tickets(db) if t["status"] != "closed"]


def waited_minutes(created_at: str, now: datetime | None = None) -> int:
    """Whole minutes since a ticket was opened (0 for one opened this minute)."""
    created = datetime.fromisoformat(created_at)
    if created.tzinfo is None:
        created = created.replace(tzinfo=timezone.utc)
    return max(0, int(((now or datetime.now(timezone.utc)) - created).total_seconds() // 60))
