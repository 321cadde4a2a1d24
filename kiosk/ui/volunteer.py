"""Volunteer mode (PIN): check in/out, the help-ticket queue, request status updates, reprints.

Reached by a long press on the Home title (residents never stumble into it); the idle reset logs
the volunteer out like any other session.
"""
from __future__ import annotations

from datetime import datetime, timezone

from kivy.factory import Factory
from kivy.properties import DictProperty, ListProperty, ObjectProperty, StringProperty

from kiosk.dossiers import lifecycle as dossiers
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

    def enter(self, **params) -> None:
        self.reset()
        self.ids.who_list.clear_widgets()  # filled afresh: volunteers may have changed
        self.app.services.call(_active_volunteers, on_done=self._show_volunteers)

    def reset(self) -> None:
        self.step, self.error, self.message, self.volunteer, self.who = "who", "", "", {}, ""
        self.tickets, self.ticket, self.dossier = [], None, None
        self._pin = ""
        for field in ("pin_input", "code_input"):
            if field in self.ids:
                self.ids[field].text = ""

    def back_step(self) -> bool:
        if self.step in ("tickets", "request", "reprint"):
            self._go("menu")
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
            button = Factory.ListButton(text=f"{ticket['display_number']}  ·  {help_tickets.SOURCES.get(ticket['source'], '')}"
                                             f"  ·  {who}" + (f"\n{ticket['note']}" if ticket["note"] else ""))
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
        created = datetime.fromisoformat(self.ticket["created_at"])
        minutes = max(1, min(help_tickets.MAX_MINUTES, int((datetime.now(timezone.utc) - created).total_seconds() // 60)))
        self.app.services.call(help_tickets.close, f"#{self.ticket['id']}",
                               procedure=self.message, channel=channel, submitted_online=channel != "in_person",
                               minutes=minutes, volunteer=self.volunteer.get("phone"),
                               on_done=lambda _t: self.app.finish_service("help"), on_error=self._failed)

    # -- requests ---------------------------------------------------------------------------------
    def _prefix(self) -> str:
        return tracking.prefix_for(self.app.tdp_config.site.residential_group)

    def find_request(self) -> None:
        self.app.services.call(dossiers.get, self.ids.code_input.text, self._prefix(),
                               on_done=self._request_found, on_error=self._failed)

    def _request_found(self, dossier) -> None:
        self.error = ""
        self.dossier = dossier
        box = self.ids.status_buttons
        box.clear_widgets()
        for status in dossiers.TRANSITIONS.get(dossier.status, ()):
            button = Factory.BigButton(text=dossiers.STATUS_LABELS[status])
            button.status = status
            button.bind(on_release=lambda b: self.set_status(b.status))
            box.add_widget(button)

    def set_status(self, status: str) -> None:
        self.app.services.call(dossiers.update_status, self.dossier.code, status, by=self.volunteer.get("name", ""),
                               prefix=self._prefix(), on_done=self._request_found, on_error=self._failed)

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
        return (f"[b]{data['code']}[/b]  {data['procedure_name']}\n{data['full_name']} · {data['phone']}"
                f"\n{self.app.t('check_status')}: [b]{data['status_label']}[/b]")


def _active_volunteers(db) -> list[dict]:
    return volunteers.list_volunteers(db, active_only=True)


def _verify(db, config, who: str, pin: str) -> tuple[dict, str]:
    return volunteers.verify_pin(db, who, pin, config.volunteers), pin


def _open_tickets(db) -> list[dict]:
    return [t for t in help_tickets.list_tickets(db) if t["status"] != "closed"]
