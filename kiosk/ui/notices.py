"""Notice board: current notices in large text, newest first; urgent ones marked."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from kivy.clock import Clock
from kivy.properties import DictProperty, ListProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.ui.app import KioskScreen


class NoticeCard(BoxLayout):
    notice = DictProperty({})


class NoticesScreen(KioskScreen):
    title_key = "notices_title"
    instruction_key = "notices_instruction"
    notices = ListProperty([])

    def enter(self, **params) -> None:
        from kiosk.notices.board import current

        self.app.services.call(current, on_done=self._show)

    def _show(self, notices: list[dict]) -> None:
        self.notices = notices
        box = self.ids.notice_list
        box.clear_widgets()
        zone = ZoneInfo(self.app.tdp_config.site.timezone)
        for notice in notices:
            when = datetime.fromisoformat(notice["created_at"]).astimezone(zone)
            box.add_widget(NoticeCard(notice={**notice, "when": when.strftime("%H:%M %d/%m/%Y")}))
        # The newest notice first, at the top: start reading from there once the list is laid out.
        Clock.schedule_once(lambda dt: setattr(self.ids.notice_scroll, "scroll_y", 1), 0)

    def reset(self) -> None:
        self.notices = []
        self.ids.notice_list.clear_widgets()
