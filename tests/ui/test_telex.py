"""Telex composition: what a resident types on the on-screen keyboard becomes proper Vietnamese."""
import unicodedata

import pytest
from hypothesis import given, strategies as st

from kiosk.ui.telex import compose, type_text

CASES = [
    ("Nguyeenx Thij Hoaf", "Nguyễn Thị Hoà"),
    ("Traanf Vawn Ddoong", "Trần Văn Đông"),
    ("Phamj Thuy Dduwowngf", "Phạm Thuy Đường"),
    ("Ddawngj", "Đặng"),
    ("nguowif", "người"),
    ("toans", "toán"),       # closed syllable: tone on the second vowel
    ("hoaf", "hoà"),         # modern rule: oa → on a
    ("hoafn", "hoàn"),       # the tone moves as the word grows
    ("khoer", "khoẻ"),
    ("thuyr", "thuỷ"),
    ("muas", "múa"),         # open ua: tone on the first vowel
    ("mias", "mía"),
    ("ngoaif", "ngoài"),     # three vowels: the middle one
    ("cuwus", "cứu"),        # a shaped vowel always takes the tone
    ("huyeenf", "huyền"),
    ("quoocs", "quốc"),      # qu is a consonant
    ("quas", "quá"),
    ("gif", "gì"),           # gi alone carries the tone on i
    ("giaf", "già"),
    ("giuwxa", "giữa"),
    ("tw", "tư"),
    ("VUX", "VŨ"),
    ("ass", "as"),           # the same tone key twice types the letter
    ("aaa", "aa"),           # a second hat key undoes the hat
    ("ddd", "dd"),
    ("asz", "a"),            # z removes the tone
    ("Daaw", "Dă"),
]


@pytest.mark.parametrize("keys, expected", CASES)
def test_typing_vietnamese_names(keys, expected):
    assert type_text(keys) == expected


def test_tone_key_without_a_vowel_is_a_letter():
    assert type_text("s") == "s"
    assert compose("Tr", "f") == "Trf"


@given(st.text(alphabet="abcdeghiklmnopqrstuvwxyzADEOSFRXJW ", max_size=40))
def test_any_keystrokes_compose_to_nfc_without_error(keys):
    result = type_text(keys)
    assert unicodedata.is_normalized("NFC", result)
    assert result.count(" ") == keys.count(" ")
