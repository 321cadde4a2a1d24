"""Widgets shared by the screens; their look is in widgets.kv."""
from __future__ import annotations

from kivy.uix.modalview import ModalView


class CountdownView(ModalView):
    """The idle warning: a countdown and a big "I need more time" button."""
