"""The speech normaliser: one table row per reading rule, plus properties over any text."""
import unicodedata

import pytest
from hypothesis import given, settings, strategies as st

from kiosk.voice import speech
from kiosk.voice.speech import normalise, number_words

CASES = [
    # abbreviations
    ("UBND phường", "Ủy ban nhân dân phường"),
    ("Họp HĐND", "Họp Hội đồng nhân dân"),
    ("TDP số 1", "tổ dân phố số một"),
    ("Mang CCCD", "Mang căn cước công dân"),
    ("Cài VNeID", "Cài vê en e ai đi"),
    ("cài vneid", "cài vê en e ai đi"),
    ("Quét mã QR", "Quét mã kiu a"),
    ("Nghị định 154/2024/NĐ-CP", "Nghị định số một trăm năm mươi tư năm hai nghìn không trăm hai mươi tư nghị định của Chính phủ"),
    ("TDPX và UBNDs", "tê dê pê ích và UBNDs"),  # only whole words are expanded
    # dates
    ("08/12/2026", "ngày tám tháng mười hai năm hai nghìn không trăm hai mươi sáu"),
    ("hạn ngày 1/4/2026.", "hạn ngày một tháng tư năm hai nghìn không trăm hai mươi sáu."),
    ("tháng 12/2026", "tháng mười hai năm hai nghìn không trăm hai mươi sáu"),
    ("32/13/2026", "ba mươi hai trên mười ba trên hai nghìn không trăm hai mươi sáu"),  # not a date
    # times
    ("7h30", "bảy giờ ba mươi"),
    ("lúc 14h05 chiều", "lúc mười bốn giờ năm phút chiều"),
    ("từ 7h đến 11h", "từ bảy giờ đến mười một giờ"),
    ("07:30", "bảy giờ ba mươi"),
    # amounts
    ("15.000đ", "mười lăm nghìn đồng"),
    ("15.000 đồng/lần", "mười lăm nghìn đồng một lần"),
    ("2.500.000 VNĐ", "hai triệu năm trăm nghìn đồng"),
    ("1,5 triệu đồng", "một phẩy năm triệu đồng"),
    ("50k đ", "năm mươi nghìn đồng"),
    ("1.000.005đ", "một triệu không trăm linh năm đồng"),
    # tracking codes, spelled
    ("TDP1-2611-7Q4K", "tê dê pê một, hai sáu một một, bảy quy bốn ca"),
    ("mã 2611 7Q4K", "mã hai sáu một một, bảy quy bốn ca"),
    ("mẫu CT01", "mẫu xê tê không một"),
    ("Mã TDP1-2611-7Q4K.", "Mã tê dê pê một, hai sáu một một, bảy quy bốn ca."),
    # phone numbers in groups
    ("0912 345 678", "không chín một hai, ba bốn năm, sáu bảy tám"),
    ("gọi 0912345678", "gọi không chín một hai, ba bốn năm, sáu bảy tám"),
    ("+84 912 345 678", "không chín một hai, ba bốn năm, sáu bảy tám"),
    ("024 3825 1234", "không hai bốn, ba tám hai năm, một hai ba bốn"),
    # the rest
    ("50% lệ phí", "năm mươi phần trăm lệ phí"),
    ("thẻ BHYT (miễn phí).", "thẻ bảo hiểm y tế, miễn phí."),
    ("UBND/HĐND tỉnh", "Ủy ban nhân dân hoặc Hội đồng nhân dân tỉnh"),
    ("3-5 ngày", "ba đến năm ngày"),
    ("KHẨN: mất nước", "khẩn: mất nước"),
    ("Số CCCD 001234567890", "Số căn cước công dân không không một hai ba bốn năm sáu bảy tám chín không"),
    ("Xin chào 👋🏽 bác! 🙏", "Xin chào bác!"),
    ("Hello world", "Hello world"),
    ("", ""),
]


@pytest.mark.parametrize("written, said", CASES)
def test_reading_rules(written, said):
    assert normalise(written) == said


@pytest.mark.parametrize("n, words", [
    (0, "không"), (5, "năm"), (10, "mười"), (11, "mười một"), (14, "mười bốn"), (15, "mười lăm"),
    (20, "hai mươi"), (21, "hai mươi mốt"), (24, "hai mươi tư"), (25, "hai mươi lăm"), (101, "một trăm linh một"),
    (105, "một trăm linh năm"), (110, "một trăm mười"), (1001, "một nghìn không trăm linh một"),
    (2026, "hai nghìn không trăm hai mươi sáu"), (15000, "mười lăm nghìn"), (1_000_000, "một triệu"),
    (2_000_000_000, "hai tỷ"), (1_050_000_000, "một tỷ không trăm năm mươi triệu"),
    (10**12, "một nghìn tỷ"),
])
def test_number_words(n, words):
    assert number_words(n) == words


def test_long_text_is_trimmed_at_a_sentence_end():
    text = ("Đây là một câu thông báo dài cho cư dân. " * 125)[:5000]
    said = normalise(text)
    assert len(text) == 5000 and 500 < len(said) <= speech.MAX_CHARS
    assert said.endswith("cư dân.")


def test_non_text_input_is_spoken_or_dropped():
    assert normalise(None) == ""
    assert normalise(2026) == "hai nghìn không trăm hai mươi sáu"
    assert normalise(b"bytes") == "b'bytes'"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_never_raises_and_is_nfc(text):
    said = speech.spoken(speech._clean(text, speech.MAX_CHARS))  # the strict path: a bug would raise here
    assert unicodedata.is_normalized("NFC", said)
    assert normalise(text) == said
    assert not any(unicodedata.category(ch) == "So" and ch != "°" for ch in said)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.integers(0, 10**13).map(str), st.sampled_from(
    ["/", ".", ",", "h", ":", "-", " ", "đ", "đồng", "UBND", "+84", "0", "ngày ", "tháng ", "TDP1-", "Q"])), max_size=20))
def test_number_like_text_never_raises(parts):
    said = speech.spoken(speech._clean("".join(parts), speech.MAX_CHARS))
    assert unicodedata.is_normalized("NFC", said)
    assert not any(ch.isdigit() for ch in said)  # every digit was read out as words


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_cleaning_for_other_languages_never_raises_and_is_nfc(text):
    cleaned = speech.clean(text)
    assert unicodedata.is_normalized("NFC", cleaned) and "\n" not in cleaned
