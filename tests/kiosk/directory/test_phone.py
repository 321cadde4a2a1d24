"""The one Vietnamese phone normaliser: a table of real-world spellings and hypothesis properties."""
from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.directory import phone
from kiosk.directory.phone import MOBILE_PREFIXES, OLD_TO_NEW_PREFIX, InvalidPhone, masked, national, normalise

ACCEPTED = [
    ("0912345678", "+84912345678"),
    ("0912 345 678", "+84912345678"),
    ("0912.345.678", "+84912345678"),
    ("0912-345-678", "+84912345678"),
    ("(091) 234-5678", "+84912345678"),
    ("+84 912 345 678", "+84912345678"),
    ("+84 (0) 912 345 678", "+84912345678"),
    ("84912345678", "+84912345678"),
    ("0084 912 345 678", "+84912345678"),
    ("912345678", "+84912345678"),           # a spreadsheet dropped the leading 0
    (912345678, "+84912345678"),
    (912345678.0, "+84912345678"),
    ("912345678.0", "+84912345678"),
    ("\u00a00912\u00a0345\u00a0678 ", "+84912345678"),
    ("01623456789", "+84323456789"),         # Viettel 0162 → 032
    ("0120 345 6789", "+84703456789"),       # MobiFone 0120 → 070
    ("0123.345.6789", "+84833456789"),       # VinaPhone 0123 → 083
    ("+84 1623456789", "+84323456789"),
    ("1993456789", "+84593456789"),          # Gmobile 0199 → 059, leading 0 lost
    ("0868123456", "+84868123456"),
    ("0559123456", "+84559123456"),
]

REJECTED = [
    ("", "empty"),
    (None, "empty"),
    ("024 3826 1234", "landline"),
    ("(028) 3823 4567", "landline"),
    ("+84 24 3826 1234", "landline"),
    ("113", "short code"),
    ("1900 1234", "short code"),
    ("1800 1091", "short code"),
    ("9029", "short code"),
    ("0912 345 67", "has 9 digits"),
    ("0912 345 6789", "has 11 digits"),
    ("0112 345 678", "prefix 011"),
    ("+1 415 555 0100", "not a Vietnamese number"),
    ("0912abc678", "not a phone number"),
    ("09123456789 ext 2", "not a phone number"),
    ("123456789", "not a Vietnamese mobile number"),
]


@pytest.mark.parametrize("raw, expected", ACCEPTED)
def test_accepted_spellings(raw, expected):
    assert normalise(raw) == expected


@pytest.mark.parametrize("raw, reason", REJECTED)
def test_rejected_with_a_one_line_reason(raw, reason):
    with pytest.raises(InvalidPhone) as caught:
        normalise(raw)
    message = str(caught.value)
    assert reason in message
    assert "\n" not in message


@pytest.mark.parametrize("old, new", sorted(OLD_TO_NEW_PREFIX.items()))
def test_the_whole_2018_conversion_table(old, new):
    assert normalise(old + "4567890") == "+84" + new[1:] + "4567890"


def test_conversion_table_is_complete_and_targets_live_prefixes():
    # 2018: Viettel 8 prefixes, MobiFone 5, VinaPhone 5, Vietnamobile 2, Gmobile 1; all land on live prefixes.
    assert len(OLD_TO_NEW_PREFIX) == 21
    assert set(OLD_TO_NEW_PREFIX.values()) <= MOBILE_PREFIXES


def test_national_and_masked_formats():
    assert national("+84912345678") == "0912 345 678"
    assert masked("+84912345678") == "0912 *** 678"


subscriber = st.text("0123456789", min_size=7, max_size=7)
live_prefix = st.sampled_from(sorted(MOBILE_PREFIXES))
separator = st.sampled_from(["", " ", ".", "-", " - ", "\u00a0"])


@st.composite
def written_mobile(draw):
    """A valid mobile number as people write it, and the E.164 it must become."""
    prefix, digits = draw(live_prefix), draw(subscriber)
    e164 = "+84" + prefix[1:] + digits
    national_digits = prefix + digits
    form = draw(st.sampled_from(["0", "+84", "84", "0084", "lost0"]))
    body = {"0": national_digits, "+84": "+84" + national_digits[1:], "84": "84" + national_digits[1:],
            "0084": "0084" + national_digits[1:], "lost0": national_digits[1:]}[form]
    head, tail = body[:-6], body[-6:]
    sep = draw(separator)
    return f"{head}{sep}{tail[:3]}{sep}{tail[3:]}", e164


@settings(max_examples=300, deadline=None)
@given(written_mobile())
def test_every_spelling_of_a_mobile_normalises_to_its_e164(case):
    written, e164 = case
    assert normalise(written) == e164


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(OLD_TO_NEW_PREFIX)), subscriber, st.sampled_from(["0", "+84", "84", "lost0"]))
def test_old_11_digit_numbers_map_to_the_new_prefix_with_the_same_subscriber_digits(old, digits, form):
    written = {"0": old + digits, "+84": "+84" + old[1:] + digits, "84": "84" + old[1:] + digits,
               "lost0": old[1:] + digits}[form]
    assert normalise(written) == "+84" + OLD_TO_NEW_PREFIX[old][1:] + digits


@settings(max_examples=300, deadline=None)
@given(written_mobile())
def test_normalise_is_idempotent_and_national_round_trips(case):
    e164 = normalise(case[0])
    assert normalise(e164) == e164
    assert normalise(national(e164)) == e164
    assert masked(e164) == "0" + e164[3:6] + " *** " + e164[-3:]  # the middle digits never shown


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789 +-.()/abc\u00a0", max_size=20) | st.integers() | st.floats(allow_nan=True))
def test_anything_either_normalises_to_e164_or_raises_invalid_phone(raw):
    try:
        result = normalise(raw)
    except InvalidPhone as exc:
        assert str(exc) and "\n" not in str(exc)
    else:
        assert re.fullmatch(r"\+84\d{9}", result)
        assert "0" + result[3:5] in MOBILE_PREFIXES


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["020", "022", "023", "024", "025", "026", "027", "028", "029"]),
       st.text("0123456789", min_size=7, max_size=8))
def test_landlines_are_rejected_as_landlines(area, digits):
    with pytest.raises(InvalidPhone, match="landline"):
        normalise(area + digits)


def test_is_valid_matches_normalise():
    assert phone.is_valid("0912345678") and not phone.is_valid("024 3826 1234")
