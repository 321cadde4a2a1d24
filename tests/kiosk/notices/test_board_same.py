"""board.find_same: how sync recognises a relayed copy of a hub notice (same text and group)."""
from __future__ import annotations

from itertools import count

from hypothesis import HealthCheck, given, settings, strategies as st

from kiosk.notices import board
from sms.vietnamese import unaccent

WORDS = st.sampled_from(["Khẩn:", "mất", "nước", "từ", "8h", "đến", "17h", "ngày", "mai,", "bà", "con",
                         "chủ", "động", "trữ", "Họp", "Hội", "phụ", "nữ", "tại", "nhà", "văn", "hóa."])
_ids = count(1)


@given(words=st.lists(WORDS, min_size=2, max_size=12), shout=st.booleans(), plain=st.booleans())
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_an_official_typing_it_differently_is_still_the_same_notice(store, words, shout, plain):
    text = " ".join(words)
    external = str(next(_ids))
    board.post(store, text, source="hub", external_id=external, group_code="HPN")
    typed = "  ".join(words)                       # extra spaces, as a phone keyboard leaves them
    typed = unaccent(typed) if plain else typed    # typed without accents
    typed = typed.upper() if shout else typed.lower()
    match = board.find_same(store, typed, "hpn", source="hub", since="2000-01-01T00:00:00+00:00")
    assert match is not None and board.find_same(store, typed, "CB", source="hub",
                                                 since="2000-01-01T00:00:00+00:00") is None
    board.cancel(store, source="hub", external_id=external)   # a cancelled one is no longer a match
    assert board.find_same(store, text + " thêm", "HPN", source="hub", since="2000-01-01T00:00:00+00:00") is None


def test_a_different_text_or_an_old_one_is_not_the_same(store):
    board.post(store, "Họp chi bộ tối nay", source="sms", external_id="1", group_code="CB")
    assert board.find_same(store, "Họp chi bộ tối mai", "CB", source="sms", since="2000-01-01T00:00:00+00:00") is None
    assert board.find_same(store, "Họp chi bộ tối nay", "CB", source="sms", since="2999-01-01T00:00:00+00:00") is None
    assert board.find_same(store, "hop chi bo toi nay", "CB", source="sms",
                           since="2000-01-01T00:00:00+00:00") == {"id": 1, "external_id": "1"}
