"""On-screen keyboards: a Vietnamese keyboard for names and addresses and a large numeric keypad.

Keys edit the end of the target TextInput (residents type forwards; "⌫ Xoá" fixes mistakes).
Residents who never learnt Telex get a row of mark keys above the letters (the five tones drawn
on an "a" as at school, then â ê ô, ă ơ ư, đ) and suggestion chips for the word being typed,
ranked from kiosk/data/name_syllables.toml: one tap finishes "nguyen" as "Nguyễn". Both go
through the same composer as Telex (`kiosk.ui.telex`), which still works for those who know it
and can be switched off on addresses ("Sunrise" must not become "Súnie").
Each keyboard has only the rows its field needs (a name has no digits, a code no space), so the
step still fits an 800×480 screen in large-text mode with 9 mm keys.
"""
from __future__ import annotations

from pathlib import Path

from kivy.factory import Factory
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout

from kiosk.ui import suggest
from kiosk.ui.telex import apply_mark, compose
from ..text import clean

# Roboto (Kivy's font) has no ⌫ ▲ ▼; DejaVu Sans (fonts-dejavu-core) has them and Vietnamese.
SYMBOL_FONT = next((str(p) for p in (Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),) if p.exists()), "Roboto")
DIGITS = "1234567890"
ADDRESS_DIGITS = DIGITS + "/"
ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
ADDRESS_PUNCTUATION = ",.-"
# Mark keys: (mark for telex.apply_mark, label). Tones are drawn on "a", the way schools teach them.
MARK_KEYS = (("sac", "á"), ("huyen", "à"), ("hoi", "ả"), ("nga", "ã"), ("nang", "ạ"),
             ("hat", "âêô"), ("horn", "ăơư"), ("dd", "đ"))
KEY_IDS = {"/": "key_slash", ",": "key_comma", ".": "key_dot", "-": "key_dash"}


def clear_screen_error(widget) -> None:
    """A key was pressed: the resident is fixing the input, so the old error goes (finding 11)."""
    while widget is not None:
        if hasattr(widget, "title_key") and hasattr(widget, "error"):
            widget.error = ""
            return
        widget = widget.parent


class TelexKeyboard(BoxLayout):
    """Letters (Vietnamese, with mark keys and chips); Shift for one capital; new words start
    capitalised when `capitalise_words` is on (names), which saves elderly users a Shift per word.
    Key ids: key_<char>, key_shift, key_backspace, key_space, mark_<mark>, chip_<n>, key_telex."""
    target = ObjectProperty(None, allownone=True)
    shift = BooleanProperty(False)
    capitalise_words = BooleanProperty(True)
    telex = BooleanProperty(True)  # Vietnamese letters; False: a code keyboard (capitals as typed)
    compose_telex = BooleanProperty(True)  # Telex composition (s f r x j, aa, w, dd) while typing
    telex_switch = BooleanProperty(False)  # show the "Gõ Telex" on/off key (addresses)
    marks = BooleanProperty(True)
    suggest = StringProperty("names")  # syllable list for the chips ("names", "address", "" for none)
    digits = BooleanProperty(False)
    punctuation = BooleanProperty(False)  # / , . - for addresses
    space = BooleanProperty(True)
    max_length = NumericProperty(80)
    rows = NumericProperty(3)
    chips = ListProperty([])
    upper_next = BooleanProperty(True)

    def on_kv_post(self, base_widget):
        # Built here rather than in kv because the rows depend on the field's options.
        if not self.telex:
            self.marks, self.suggest = False, ""
        rows: list = []
        if self.suggest:
            self._chip_row = BoxLayout(spacing=self.spacing)
            rows.append(self._chip_row)
        if self.marks:
            line = BoxLayout(spacing=self.spacing)
            for mark, label in MARK_KEYS:
                line.add_widget(self._mark_key(mark, label))
            if self.telex_switch:
                line.add_widget(self._telex_key())
            rows.append(line)
        letter_rows = ([ADDRESS_DIGITS if self.punctuation else DIGITS] if self.digits else []) + list(ROWS)
        for row in letter_rows:
            line = BoxLayout(spacing=self.spacing)
            keys = list(row)
            if row == ROWS[2]:
                keys = ["shift", *keys] + (list(ADDRESS_PUNCTUATION) if self.punctuation else []) + (
                    ["space"] if self.space else [])
            if row == ROWS[1]:
                keys.append("backspace")
            for key in keys:
                line.add_widget(self._key(key))
            rows.append(line)
        for line in rows:
            self.add_widget(line)
        self.rows = len(rows)
        self.bind(target=self._watch_target)
        self._watch_target(self, self.target)

    def _watch_target(self, _kb, target) -> None:
        if target is not None:
            target.bind(text=lambda *_: self._follow_text())
        self._follow_text()

    def _follow_text(self) -> None:
        text = self.target.text if self.target is not None else ""
        word = self.current_word(text)
        self.upper_next = self.shift or not self.telex or (self.capitalise_words and not word)
        if self.suggest:
            position = len(text.split()) - (1 if word else 0)
            self.chips = suggest.suggestions(word, self.suggest, position=position) if word else []

    def on_shift(self, *_args) -> None:
        self._follow_text()

    def on_chips(self, _kb, chips) -> None:
        row = getattr(self, "_chip_row", None)
        if row is None:
            return
        row.clear_widgets()
        for ids_key in [k for k in self.ids if k.startswith("chip_")]:
            del self.ids[ids_key]
        for index, chip in enumerate(chips):
            button = Factory.ChipButton(text=chip)
            button.bind(on_release=lambda b: self.choose(b.text))
            self.ids[f"chip_{index}"] = button
            row.add_widget(button)

    @staticmethod
    def current_word(text: str) -> str:
        return text.rpartition(" ")[2]

    def _key(self, key: str):
        button = Factory.KeyButton()
        if key == "shift":
            button.text_key = "key_shift"
            button.size_hint_x = 1.9
            button.bind(on_release=lambda *_: setattr(self, "shift", not self.shift))
            self.bind(shift=lambda _kb, on: setattr(button, "background_color", SHIFT_ON if on else SHIFT_OFF))
            button.background_color = SHIFT_OFF
        elif key in ("backspace", "space"):
            button.text_key = f"key_{key}"
            button.size_hint_x = 2.0 if key == "space" else 1.6
            button.bind(on_release=lambda *_, k=key: self.press(k))
        else:
            button.shown = key.upper() if self.upper_next else key
            self.bind(upper_next=lambda _kb, up, b=button, k=key: setattr(b, "shown", k.upper() if up else k))
            button.bind(on_release=lambda *_, k=key: self.press(k))
        self.ids[KEY_IDS.get(key, f"key_{key}")] = button
        return button

    def _mark_key(self, mark: str, label: str):
        button = Factory.KeyButton(shown=label)
        button.background_color = MARK_COLOUR
        button.size_hint_x = 1.6 if len(label) > 1 else 1.0
        button.bind(on_release=lambda *_: self.mark(mark))
        self.ids[f"mark_{mark}"] = button
        return button

    def _telex_key(self):
        button = Factory.KeyButton()
        button.size_hint_x = 2.6
        button.text_key = "key_telex_on" if self.compose_telex else "key_telex_off"
        button.bind(on_release=lambda *_: setattr(self, "compose_telex", not self.compose_telex))
        self.bind(compose_telex=lambda _kb, on: setattr(button, "text_key", "key_telex_on" if on else "key_telex_off"))
        self.ids["key_telex"] = button
        return button

    def _replace_word(self, word: str, end: str = "") -> None:
        head, sep, _ = self.target.text.rpartition(" ")
        self.target.text = clean(head + sep + word) + end

    def mark(self, mark: str) -> None:
        """A mark key: apply it to the word being typed."""
        if self.target is None:
            return
        clear_screen_error(self)
        word = self.current_word(self.target.text)
        if word:
            self._replace_word(apply_mark(word, mark))

    def choose(self, chip: str) -> None:
        """A suggestion chip: it replaces the word being typed, and the word is done (a space follows)."""
        if self.target is None:
            return
        clear_screen_error(self)
        if len(self.target.text) - len(self.current_word(self.target.text)) + len(chip) + 1 > self.max_length:
            return
        self._replace_word(chip, " ")
        self.shift = False

    def press(self, key: str) -> None:
        if self.target is None:
            return
        clear_screen_error(self)
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
        word = self.current_word(text)
        upper = self.shift or (self.capitalise_words and not word)
        letter = key.upper() if upper else key
        if self.compose_telex and key.isalpha():
            self._replace_word(compose(word, letter))
        else:
            self.target.text = text + letter
        self.shift = False


SHIFT_ON = (0.75, 0.85, 1, 1)
SHIFT_OFF = (0.85, 0.85, 0.88, 1)
MARK_COLOUR = (0.86, 0.92, 0.86, 1)


class CodeKeyboard(TelexKeyboard):
    """Digits and capital letters without Telex or space, for tracking codes like TDP1-2611-7Q4K."""
    telex = BooleanProperty(False)
    digits = BooleanProperty(True)
    space = BooleanProperty(False)
    max_length = NumericProperty(20)


class NumericKeypad(GridLayout):
    """0-9 and Backspace in big keys, for phone numbers, codes, citizen IDs and PINs.

    `group` (e.g. (3, 3, 3, 3)) shows the digits grouped with spaces as they are typed, the way a
    card prints them; the field's `digits` stay what was typed."""
    target = ObjectProperty(None, allownone=True)
    max_length = NumericProperty(12)
    group = ListProperty([])

    def digits_of(self) -> str:
        return "".join(ch for ch in self.target.text if ch.isdigit())

    def press(self, key: str) -> None:
        if self.target is None:
            return
        clear_screen_error(self)
        digits = self.digits_of()
        if key == "backspace":
            digits = digits[:-1]
        elif len(digits) < self.max_length:
            digits += key
        self.target.text = grouped(digits, self.group) if self.group else digits


def grouped(digits: str, sizes) -> str:
    """ "001234567890" with (3, 3, 3, 3) → "001 234 567 890" (a partial number groups as far as it goes)."""
    parts, start = [], 0
    for size in sizes:
        if start >= len(digits):
            break
        parts.append(digits[start:start + size])
        start += size
    if start < len(digits):
        parts.append(digits[start:])
    return " ".join(parts)
