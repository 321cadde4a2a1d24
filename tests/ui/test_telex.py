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


# -- mark keys and suggestion chips (no Telex needed) ------------------------------------------
from kiosk.ui.telex import apply_mark  # noqa: E402
from kiosk.ui import suggest  # noqa: E402


def _marks(word, *marks):
    for mark in marks:
        word = apply_mark(word, mark)
    return word


@pytest.mark.parametrize("word, marks, expected", [
    ("Nguyen", ("hat", "nga"), "Nguyễn"),
    ("Thi", ("nang",), "Thị"),
    ("Hoa", ("huyen",), "Hoà"),
    ("so", ("hat", "sac"), "số"),
    ("ngo", ("nga",), "ngõ"),
    ("Dang", ("dd", "horn", "nang"), "Đặng"),
    ("Truong", ("horn", "huyen"), "Trường"),
    ("Thi", ("nang", "nang"), "Thi"),          # a second tap takes the tone off
    ("sô", ("hat",), "so"),
    ("Đa", ("dd",), "Da"),
    ("Nguyên", ("hat",), "Nguyen"),
    ("tr", ("sac",), "tr"),                    # no vowel: nothing to put a tone on
    ("hoàn", ("sac",), "hoán"),                # one tone at a time
])
def test_mark_keys_apply_to_the_word_being_typed(word, marks, expected):
    assert _marks(word, *marks) == expected


@given(st.text(alphabet="abcdeghiklmnopqrstuvxyĐđăâêôơư", max_size=8),
       st.lists(st.sampled_from(("sac", "huyen", "hoi", "nga", "nang", "hat", "horn", "dd")), max_size=6))
def test_any_marks_give_nfc_and_keep_the_letters_count(word, marks):
    result = _marks(word, *marks)
    assert unicodedata.is_normalized("NFC", result)
    assert len(result) in (len(unicodedata.normalize("NFC", word)), len(unicodedata.normalize("NFC", word)) + 1)


def test_chips_offer_every_spelling_of_a_name_syllable_in_the_words_case():
    chips = suggest.suggestions("Hoa")
    assert chips[0] == "Hoa" and {"Hòa", "Hoà", "Hóa", "Họa"} <= set(chips) and len(chips) <= suggest.MAX_CHIPS
    assert suggest.suggestions("nguyen")[0] == "nguyễn"
    assert suggest.suggestions("Nguy")[0] == "Nguyễn"   # a prefix is enough
    assert suggest.suggestions("N")[0] == "Nguyễn"      # one letter: family names first in a name
    assert suggest.suggestions("T", position=1)[0] == "Thị"   # the second word: middle names
    assert "Hoà" in suggest.suggestions("H", position=2)     # later words: given names
    assert suggest.suggestions("so", "address") == ["số"]
    assert suggest.suggestions("") == [] and suggest.suggestions("5") == []


@pytest.mark.parametrize("entries", [["hoa", "ho a"], ["Hoa"], ["hoa", 5], [], ["nghiêngngả"],
                                     ["ho\u0300a"]])
def test_a_bad_syllable_list_is_refused_at_load(entries):
    from kiosk.errors import ConfigError
    with pytest.raises(ConfigError):
        suggest._validated({"given": entries}, "given")


def test_the_shipped_syllable_lists_load():
    assert len(suggest.syllables("names")) > 100 and "nguyễn" in suggest.syllables("names")
    assert suggest.syllables("names", 0)[0] == "nguyễn" and suggest.syllables("names", 1)[0] == "thị"
    assert "ngõ" in suggest.syllables("address")
