"""Widgets shared by the screens; their look is in widgets.kv."""
from __future__ import annotations

from kivy.clock import Clock
from kivy.properties import BooleanProperty, ObjectProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.modalview import ModalView

PAGE_FRACTION = 0.8  # a tap moves this much of a view, so the last line stays in sight


class CountdownView(ModalView):
    """The idle warning: a countdown and a big "I need more time" button."""


class ScrollButtons(BoxLayout):
    """ "▲ Lên" / "▼ Xuống" beside a ScrollView, and "Còn nữa ▼" while text is hidden below:
    residents who have never used a touchscreen tap, they do not swipe (finding 5)."""
    scroll = ObjectProperty(None, allownone=True)
    can_up = BooleanProperty(False)
    can_down = BooleanProperty(False)

    def on_scroll(self, _widget, view) -> None:
        if view is not None:
            view.bind(scroll_y=self._update, height=self._update, children=self._follow_content)
            self._follow_content(view, view.children)

    def _follow_content(self, _view, children) -> None:
        for child in children:
            child.bind(height=self._update)
        Clock.schedule_once(self._update, 0)

    def hidden(self) -> float:
        """Pixels of content that do not fit in the view."""
        view = self.scroll
        if view is None or not view.children:
            return 0.0
        return max(0.0, view.children[0].height - view.height)

    def _update(self, *_args) -> None:
        hidden = self.hidden()
        self.can_down = hidden > 1 and self.scroll.scroll_y > 0.001
        self.can_up = hidden > 1 and self.scroll.scroll_y < 0.999

    def page(self, direction: int) -> None:
        """One page up (+1) or down (-1)."""
        hidden = self.hidden()
        if hidden <= 0:
            return
        step = PAGE_FRACTION * self.scroll.height / hidden
        self.scroll.scroll_y = max(0.0, min(1.0, self.scroll.scroll_y + direction * step))
        self._update()
