"""The segmenter: cheapest encoding, fewest parts, never a split escape or surrogate pair."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from sms import gsm7
from sms.errors import SmsError
from sms.segments import GSM7, UCS2, SegmentError, prepare, segment, unit_costs
from sms.vietnamese import nfc, unaccent
from tests.conftest import SHARED

VIETNAMESE = ("aăâbcdđeêghiklmnoôơpqrstuưvxyáàảãạắằẳẵặấầẩẫậéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợ"
              "úùủũụứừửữựýỳỷỹỵĐĂÂÊÔƠƯẾỆỘ")
EMOJI = "😀🎉👍🇻🇳❤️"
EXTENSION = "€[]{}^~|\\"

# Mixed texts weighted towards the edge cases: Vietnamese, GSM extension characters, emoji.
mixed_text = st.text(
    alphabet=st.sampled_from(sorted(set(VIETNAMESE + EMOJI + EXTENSION + " .,;:!?-()\nabcxyzABC0129@£"))),
    min_size=1, max_size=700).filter(str.strip)
gsm_text = st.text(alphabet=st.sampled_from(sorted(gsm7.SEPTET_COST)), min_size=1, max_size=700).filter(str.strip)
# Anything but lone surrogates; blank once transliterated (a lone combining mark) is refused, not sent.
any_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=400).filter(
    lambda text: unaccent(nfc(text)).strip())


def minimum_parts(costs: list[int], single: int, concat: int) -> int:
    """Fewest parts for items of `costs` kept whole and in order: dynamic programming, not greedy."""
    if sum(costs) <= single:
        return 1
    best = [0] + [len(costs) + 1] * len(costs)
    for end in range(1, len(costs) + 1):
        used, start = 0, end
        while start > 0 and used + costs[start - 1] <= concat:
            used += costs[start - 1]
            start -= 1
            best[end] = min(best[end], best[start] + 1)
    return best[-1]


def notice_500() -> str:
    """A real 500-character Vietnamese notice paragraph from the seeds."""
    text = (SHARED / "seeds" / "003_b422202f67ce303b.txt").read_text(encoding="utf-8")
    return " ".join(text.split())[:500]


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_text_is_refused_clearly(text):
    with pytest.raises(SegmentError, match="empty") as caught:
        segment(text)
    assert isinstance(caught.value, SmsError) and isinstance(caught.value, ValueError)


def test_lone_surrogate_is_refused_not_crashed():
    with pytest.raises(SegmentError, match="surrogate"):
        segment("abc\ud83d")


@pytest.mark.parametrize("text, encoding, units", [
    ("a" * 160, GSM7, (160,)),
    ("a" * 161, GSM7, (153, 8)),
    ("a" * 159 + "€", GSM7, (153, 8)),
    ("ơ" * 70, UCS2, (70,)),
    ("ơ" * 71, UCS2, (67, 4)),
    ("😀" * 35, UCS2, (70,)),
])
def test_part_boundaries(text, encoding, units):
    result = segment(text)
    assert (result.encoding, result.part_units) == (encoding, units)
    assert "".join(result.parts) == text and result.count == len(units)


def test_escape_pair_is_never_split():
    result = segment("a" * 152 + "€" + "b" * 10)
    assert result.parts[0] == "a" * 152 and result.parts[1].startswith("€")
    assert result.part_units == (152, 12)


def test_surrogate_pair_is_never_split():
    result = segment("ế" * 66 + "😀" + "xyz")  # 71 units: the emoji would straddle units 67–68
    assert result.parts == ("ế" * 66, "😀xyz") and result.part_units == (66, 5)


def test_input_is_nfc_normalised_before_choosing_the_encoding():
    decomposed = "Cafe\u0301"  # é as e + combining acute: in NFC it is GSM 7-bit
    result = segment(decomposed)
    assert result.encoding == GSM7 and result.text == "Café"


def test_vietnamese_with_diacritics_needs_ucs2():
    assert segment("Mời họp tổ dân phố").encoding == UCS2


def test_unaccented_halves_a_500_character_notice():
    notice = notice_500()
    accented, plain = segment(notice), segment(notice, unaccented=True)
    assert accented.encoding == UCS2 and plain.encoding == GSM7
    assert accented.count == 8 and plain.count == 4
    assert "Tổ dân phố" in accented.text and "To dan pho" in plain.text


def test_unaccented_turns_word_processor_typography_into_gsm():
    result = segment("“Thông báo” – họp lúc 19h…", unaccented=True)
    assert result.encoding == GSM7 and result.text == '"Thong bao" - hop luc 19h...'


def test_unaccented_keeps_emoji_and_falls_back_to_ucs2():
    result = segment("Chúc mừng năm mới 🎉", unaccented=True)
    assert result.encoding == UCS2 and result.text == "Chuc mung nam moi 🎉"


def test_sixteen_bit_reference_leaves_one_unit_less_per_part():
    assert segment("a" * 306).part_units == (153, 153)
    assert segment("a" * 306, ref16=True).part_units == (152, 152, 2)
    assert segment("ơ" * 134, ref16=True).part_units == (66, 66, 2)


def test_summary_for_the_cli():
    data = segment("a" * 161).as_dict()
    assert data["encoding"] == GSM7 and data["count"] == 2 and data["parts"] == ["a" * 153, "a" * 8]
    assert data["remaining_in_last_part"] == 145 and data["capacity_per_part"] == 153


@settings(max_examples=150, deadline=None)
@given(st.one_of(mixed_text, gsm_text, any_text), st.booleans(), st.booleans())
def test_parts_are_the_fewest_possible_and_join_back(text, unaccented, ref16):
    result = segment(text, unaccented=unaccented, ref16=ref16)
    assert "".join(result.parts) == result.text == prepare(text, unaccented=unaccented)
    costs = unit_costs(result.text, result.encoding)
    single, concat = (160, 152 if ref16 else 153) if result.encoding == GSM7 else (70, 66 if ref16 else 67)
    assert result.count == minimum_parts(costs, single, concat)
    assert all(units <= result.capacity for units in result.part_units)
    assert result.encoding == (GSM7 if gsm7.is_gsm7(result.text) else UCS2)


def test_cli_segments_json(tdp):
    r = tdp("sms", "segments", notice_500(), "--json")
    assert r.code == 0
    assert r.data["encoding"] == UCS2 and r.data["count"] == len(r.data["parts"]) == 8
    assert r.data["unaccented_count"] == 4


def test_cli_segments_unaccented_human(tdp):
    r = tdp("sms", "segments", "Mời họp tổ dân phố lúc 19h", "--unaccented")
    assert r.code == 0
    assert "GSM 7-bit" in r.out and "Moi hop to dan pho luc 19h" in r.out and "parts:    1" in r.out


def test_cli_segments_empty_text_is_one_line_error(tdp):
    r = tdp("sms", "segments", "  ")
    assert r.code == 1 and r.out == ""
    assert r.err.count("\n") == 1 and "empty" in r.err
