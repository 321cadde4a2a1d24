"""On-screen keyboards: a Vietnamese Telex keyboard for names and a large numeric keypad.

Keys edit the end of the target TextInput (residents type forwards; Backspace fixes mistakes),
and every letter goes through `kiosk.telex.compose`, so "Nguyeenx" becomes "Nguyễn" as typed.
"""
from __future__ import annotations

from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout

from ..telex import compose
from ..text import clean

ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")


class TelexKeyboard(BoxLayout):
    """QWERTY letters with Telex composition; Shift for one capital; new words start capitalised
    when `capitalise_words` is on (names), which saves elderly users a Shift per word."""
    target = ObjectProperty(None, allownone=True)
    shift = BooleanProperty(False)
    capitalise_words = BooleanProperty(True)
    telex = BooleanProperty(True)
    max_length = NumericProperty(80)

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


class CodeKeyboard(TelexKeyboard):
    """Letters and a row of digits without Telex, for tracking codes like TDP1-2611-7Q4K."""
    telex = BooleanProperty(False)
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
