"""Tracking codes: unambiguous alphabet, and the check character catches the typos people make."""
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.dossiers import tracking


def _code(serial="7Q4", yymm=(2026, 11)):
    picks = iter(tracking.ALPHABET.index(ch) for ch in serial)
    return tracking.new_code("TDP1", date(*yymm, 1), lambda n: next(picks))


def test_format_and_alphabet_leave_out_confusable_characters():
    code = _code()
    assert code.startswith("TDP1-2611-7Q4") and len(code) == len("TDP1-2611-7Q4K")
    assert not set("O0I1") & set(tracking.ALPHABET) and len(tracking.ALPHABET) == 32
    assert tracking.parse(code, "TDP1") == code


def _body(code):
    return code.split("-", 1)[1].replace("-", "")


@settings(max_examples=150, deadline=None)
@given(st.integers(2000, 2099), st.integers(1, 12), st.text(tracking.ALPHABET, min_size=3, max_size=3))
def test_every_single_substitution_is_caught(year, month, serial):
    code = _code(serial, (year, month))
    body = _body(code)
    for i in range(len(body)):
        choices = "0123456789" if i < 4 else tracking.ALPHABET
        for ch in choices.replace(body[i], ""):
            typo = body[:i] + ch + body[i + 1:]
            assert not tracking.is_valid(f"TDP1-{typo[:4]}-{typo[4:]}", "TDP1"), (code, typo)


@settings(max_examples=150, deadline=None)
@given(st.integers(2000, 2099), st.integers(1, 12), st.text(tracking.ALPHABET, min_size=3, max_size=3))
def test_every_adjacent_swap_is_caught_including_the_check_character(year, month, serial):
    code = _code(serial, (year, month))
    body = _body(code)
    for i in range(len(body) - 1):
        if body[i] == body[i + 1]:
            continue
        swapped = body[:i] + body[i + 1] + body[i] + body[i + 2:]
        assert not tracking.is_valid(f"TDP1-{swapped[:4]}-{swapped[4:]}", "TDP1"), (code, swapped)


@pytest.mark.parametrize("typed", ["tdp1-2611-{s}", "TDP1 2611 {s}", "2611-{s}", "2611{s}", "TDP1-26I1-{s}",
                                   " tdp1 - 2611 - {s} "])
def test_loose_typing_is_accepted(typed):
    code = _code()
    suffix = code.rsplit("-", 1)[1]
    assert tracking.parse(typed.format(s=suffix.lower()), "TDP1") == code


@pytest.mark.parametrize("raw, words", [("hello", "not a tracking code"), ("TDP1-2611-7O4K", "no O, 0, I or 1"),
                                        ("TDP1-26AB-7Q4K", "4 digits")])
def test_malformed_codes_are_explained(raw, words):
    with pytest.raises(tracking.InvalidTrackingCode, match=words):
        tracking.parse(raw, "TDP1")


def test_corrections_offer_the_intended_code():
    code = _code()
    wrong = code[:-2] + ("Z" if code[-2] != "Z" else "Y") + code[-1]
    assert not tracking.is_valid(wrong, "TDP1")
    assert code in tracking.corrections(wrong, "TDP1")


def test_prefix_comes_from_the_residential_group():
    assert tracking.prefix_for("Tổ dân phố số 1") == "TDP1"
    assert tracking.prefix_for("Tổ dân phố Đoan Trai") == "TDP"
