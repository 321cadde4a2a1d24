"""On-screen keyboards: a Vietnamese Telex keyboard for names and a large numeric keypad.

Keys edit the end of the target TextInput (residents type forwards; Backspace fixes mistakes),
and every letter goes through `kiosk.ui.telex.compose`, so "Nguyeenx" becomes "Nguyễn" as typed.
Each keyboard has only the rows its field needs (a name has no digits, a code no space), so the
step still fits an 800×480 screen in large-text mode with 9 mm keys.
"""
from __future__ import annotations

from kivy.factory import Factory
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout

from kiosk.ui.telex import compose
from ..text import clean

DIGITS = "1234567890"
ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")


class TelexKeyboard(BoxLayout):
    """QWERTY letters with Telex composition; Shift for one capital; new words start capitalised
    when `capitalise_words` is on (names), which saves elderly users a Shift per word."""
    target = ObjectProperty(None, allownone=True)
    shift = BooleanProperty(False)
    capitalise_words = BooleanProperty(True)
    telex = BooleanProperty(True)
    digits = BooleanProperty(False)
    space = BooleanProperty(True)
    max_length = NumericProperty(80)
    rows = NumericProperty(3)

    def on_kv_post(self, base_widget):
        # Built here rather than in kv because the rows depend on `digits` and `space`.
        # Keys get ids key_<char>, key_shift, key_backspace, key_space (tests press them by id).
        rows = ([DIGITS] if self.digits else []) + list(ROWS)
        for index, row in enumerate(rows):
            line = BoxLayout(spacing=self.spacing)
            keys = list(row)
            if row == ROWS[2]:
                keys = ["shift", *keys] + (["space"] if self.space else [])
            if row == ROWS[1]:
                keys.append("backspace")
            for key in keys:
                line.add_widget(self._key(key))
            self.add_widget(line)
        self.rows = len(rows)

    def _key(self, key: str):
        button = Factory.KeyButton()
        if key == "shift":
            button.text_key = "key_shift"
            button.bind(on_release=lambda *_: setattr(self, "shift", not self.shift))
            self.bind(shift=lambda _kb, on: setattr(button, "background_color", SHIFT_ON if on else SHIFT_OFF))
            button.background_color = SHIFT_OFF
        elif key in ("backspace", "space"):
            button.text_key = f"key_{key}"
            button.size_hint_x = 2.0 if key == "space" else 1.4
            button.bind(on_release=lambda *_, k=key: self.press(k))
        else:
            button.shown = key.upper() if self.shift or not self.telex else key
            self.bind(shift=lambda _kb, on, b=button, k=key: setattr(b, "shown", k.upper() if on or not self.telex else k))
            button.bind(on_release=lambda *_, k=key: self.press(k))
        self.ids[f"key_{key}"] = button
        return button

    def press(self, key: str) -> None:
        if self.target is None:
            return
        text = self.target.text
        if key == "backspace":
            self.target.text = text[:-1]
            return
        if key == "space":
            if text and not text.endswith(" "):
                self.target.text = text + " "
            return
        if len(text) >= self.max_length:
            return
        if not self.telex:  # tracking codes: capitals and digits as typed
            self.target.text = text + key.upper()
            return
        head, _, word = text.rpartition(" ")
        prefix = head + " " if _ else ""
        upper = self.shift or (self.capitalise_words and not word)
        letter = key.upper() if upper else key
        self.target.text = clean(prefix + compose(word, letter))
        self.shift = False


SHIFT_ON = (0.75, 0.85, 1, 1)
SHIFT_OFF = (0.85, 0.85, 0.88, 1)


class CodeKeyboard(TelexKeyboard):
    """Digits and capital letters without Telex or space, for tracking codes like TDP1-2611-7Q4K."""
    telex = BooleanProperty(False)
    digits = BooleanProperty(True)
    space = BooleanProperty(False)
    max_length = NumericProperty(20)


class NumericKeypad(GridLayout):
    """0-9 and Backspace in big keys, for phone numbers, codes, citizen IDs and PINs."""
    target = ObjectProperty(None, allownone=True)
    max_length = NumericProperty(12)

    def press(self, key: str) -> None:
        if self.target is None:
            return
        if key == "backspace":
            self.target.text = self.target.text[:-1]
        elif len(self.target.text) < self.max_length:
            self.target.text += key
