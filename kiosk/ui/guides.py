"""Procedure guides: category → procedure → steps, documents, fee; a QR code to the procedure's own
page on the national portal.

Three taps from Home reach any procedure. The catalogue is the same data file the CLI reads. A
procedure the kiosk takes requests for offers "Nhờ làm thủ tục"; the others (the resident must be
present, or the originals seen) offer "Nhờ tình nguyện viên hướng dẫn", which opens a help ticket
naming the procedure.
"""
from __future__ import annotations

from kivy.factory import Factory
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty

from kiosk.dossiers import procedures
from kiosk.ui.app import KioskScreen
from .qr import qr_texture

SEARCH_RESULTS = 8
CATEGORY_ORDER = ("lien_thong", "ho_tich", "cu_tru", "dinh_danh", "bao_tro_xa_hoi", "chung_thuc", "dat_dai",
                  "kinh_doanh")


class GuidesScreen(KioskScreen):
    title_key = "guides_title"
    instruction_key = "guides_instruction"
    step = StringProperty("categories")
    category = StringProperty("")
    procedure = ObjectProperty(None, allownone=True)
    online = BooleanProperty(True)
    ticket_message = StringProperty("")

    def on_kv_post(self, base_widget):
        super().on_kv_post(base_widget)
        # Built once: rebuilding on every visit left thousands of widgets for the garbage
        # collector, whose full passes then landed on a resident's tap (hundreds of ms).
        self._fill_categories()
        self.app.bind(language=lambda *_: self._name_categories())

    def enter(self, code: str | None = None, **params) -> None:
        self.reset()
        if code:
            self.show(code)

    def reset(self) -> None:
        self.step, self.category, self.procedure, self.online = "categories", "", None, True
        self.ticket_message = ""
        if "search_input" in self.ids:
            self.ids.search_input.text = ""

    def _fill_categories(self) -> None:
        box = self.ids.category_list
        box.clear_widgets()
        present = {p.category for p in procedures.default()}
        for category in [c for c in CATEGORY_ORDER if c in present] + sorted(present - set(CATEGORY_ORDER)):
            button = Factory.ListButton()
            button.category = category
            button.bind(on_release=lambda b: self.open_category(b.category))
            box.add_widget(button)
        self._name_categories()

    def _name_categories(self) -> None:
        for button in self.ids.category_list.children:
            button.text = self.app.t(f"category_{button.category}")

    def open_category(self, category: str) -> None:
        self.category = category
        box = self.ids.procedure_list
        box.clear_widgets()
        for procedure in procedures.default():
            if procedure.category == category:
                button = Factory.ListButton(text=procedure.name)
                button.code = procedure.code
                button.bind(on_release=lambda b: self.show(b.code))
                box.add_widget(button)
        self.step = "list"

    def show(self, code: str) -> None:
        self.procedure = procedures.default().get(code)
        self.online = True
        self.ticket_message = ""
        self.ids.portal_qr.texture = qr_texture(self.procedure.portal_url)
        self.step = "detail"
        self.ids.detail_scroll.scroll_y = 1  # a new guide starts at its top (finding 29)

    def on_online(self, *_args) -> None:
        if "detail_scroll" in self.ids:
            self.ids.detail_scroll.scroll_y = 1

    def open_search(self) -> None:
        """"Tìm thủ tục": type a few words, without marks; the catalogue's typo-tolerant search."""
        self.ids.search_input.text = ""
        self.search("")
        self.step = "search"

    def search(self, text: str) -> None:
        box = self.ids.search_list
        none = self.ids.search_none
        box.clear_widgets()
        box.add_widget(none)
        found = procedures.default().search(text)[:SEARCH_RESULTS] if text.strip() else []
        none.text = self.app.t("guides_search_none") if text.strip() and not found else ""
        for procedure in found:
            button = Factory.ListButton(text=procedure.name)
            button.code = procedure.code
            button.bind(on_release=lambda b: self.show(b.code))
            box.add_widget(button)

    def back_step(self) -> bool:
        """Back within the guide first (detail → list or search → categories); False at the top."""
        if self.step == "detail" and self.ids.search_input.text.strip() and not self.category:
            self.step = "search"
            return True
        if self.step == "detail" and self.category:
            self.step = "list"
            return True
        if self.step in ("detail", "list", "search"):
            self.step = "categories"
            return True
        return False

    def steps_text(self, procedure, online: bool) -> str:
        if procedure is None:
            return ""
        steps = procedure.steps_online if online else procedure.steps_in_person
        return "\n".join(f"{i}. {step}" for i, step in enumerate(steps, 1))

    def documents_text(self, procedure) -> str:
        return "\n".join(f"• {d}" for d in procedure.documents) if procedure else ""

    def print_checklist(self) -> None:
        from kiosk.dossiers.receipts import print_checklist
        app = self.app
        app.print_in_background(print_checklist, app.tdp_config, self.procedure.code)

    def hand_in_key(self, procedure) -> str:
        return "tile_request" if procedure is None or procedure.kiosk_request else "guides_ask_volunteer"

    def hand_in(self) -> None:
        app = self.app
        if self.procedure.kiosk_request:
            app.go("request", code=self.procedure.code)
            return
        from kiosk.volunteers import help_tickets
        note = f"Hướng dẫn thủ tục {self.procedure.code}: {self.procedure.name}"
        app.services.call(help_tickets.create, app.tdp_config, "kiosk", note=note, on_done=self._ticket_opened,
                          on_error=self._ticket_failed)

    def _ticket_opened(self, ticket: dict) -> None:
        self.ticket_message = self.app.t("guides_volunteer_coming", number=ticket["display_number"])

    def _ticket_failed(self, message: str) -> None:
        self.ticket_message = message or self.app.t("error_generic")
