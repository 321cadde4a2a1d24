"""Notice board: current notices in large text, newest first; urgent ones marked."""
from __future__ import annotations

from kivy.properties import DictProperty, ListProperty
from kivy.uix.boxlayout import BoxLayout

from .kioskapp import KioskScreen


class NoticeCard(BoxLayout):
    notice = DictProperty({})


class NoticesScreen(KioskScreen):
    title_key = "notices_title"
    instruction_key = "notices_instruction"
    notices = ListProperty([])

    def enter(self, **params) -> None:
        from kivy.app import App
        from ..notices import current

        App.get_running_app().services.call(current, on_done=self._show)

    def _show(self, notices: list[dict]) -> None:
        self.notices = notices
        box = self.ids.notice_list
        box.clear_widgets()
        for notice in notices:
            box.add_widget(NoticeCard(notice=notice))

    def reset(self) -> None:
        self.notices = []
        self.ids.notice_list.clear_widgets()
