"""GSM 03.38 alphabet and septet packing, checked against the spec's own examples."""
import pytest
from hypothesis import given, strategies as st

from sms import gsm7


def test_alphabet_has_128_distinct_positions_and_the_extension_table():
    assert len(gsm7.DEFAULT_ALPHABET) == 128
    assert len(set(gsm7.DEFAULT_ALPHABET)) == 128
    assert gsm7.DEFAULT_ALPHABET[0x00] == "@" and gsm7.DEFAULT_ALPHABET[0x02] == "$"
    assert gsm7.DEFAULT_ALPHABET[0x11] == "_" and gsm7.DEFAULT_ALPHABET[0x7F] == "à"
    assert set(gsm7.EXTENSION.values()) == set("\f^{}\\[~]|€")


def test_spec_packing_example_hellohello():
    # TS 23.038 §6.1.2.1.1: "hellohello" packs to these 9 octets.
    assert gsm7.pack(gsm7.encode_septets("hellohello")).hex().upper() == "E8329BFD4697D9EC37"
    assert gsm7.decode_septets(gsm7.unpack(bytes.fromhex("E8329BFD4697D9EC37"), 10)) == "hellohello"


def test_extension_characters_cost_two_septets_and_escape_first():
    assert gsm7.encode_septets("€") == [0x1B, 0x65]
    assert gsm7.septet_length("a[b]€") == 8
    assert gsm7.is_gsm7("Già 10€ {ok}") and not gsm7.is_gsm7("Giá")


def test_characters_outside_the_alphabet_are_named():
    with pytest.raises(ValueError, match="U\\+1EBF"):
        gsm7.encode_septets("ế")
    with pytest.raises(ValueError):
        gsm7.encode_septets("\x1b")  # the escape itself is not a character


def test_receiver_rules_for_odd_escapes():
    # unknown extension code shows the basic character; ESC ESC shows a space; trailing ESC dropped
    assert gsm7.decode_septets([0x1B, 0x41, 0x1B, 0x1B, 0x42, 0x1B]) == "A B"


def test_fill_bits_and_header_septets_for_common_headers():
    assert gsm7.fill_bits_after(6) == 1 and gsm7.header_septets(6) == 7   # 8-bit concat UDH
    assert gsm7.fill_bits_after(7) == 0 and gsm7.header_septets(7) == 8   # 16-bit concat UDH


def test_unpack_refuses_short_data():
    with pytest.raises(ValueError, match="need"):
        gsm7.unpack(b"\x01", 5)


@given(st.lists(st.integers(0, 127), max_size=200), st.integers(0, 6))
def test_pack_unpack_round_trip(septets, fill):
    packed = gsm7.pack(septets, fill)
    assert len(packed) == (fill + 7 * len(septets) + 7) // 8
    assert gsm7.unpack(packed, len(septets), fill) == septets


@given(st.text(alphabet=st.sampled_from(sorted(gsm7.SEPTET_COST)), max_size=200))
def test_text_round_trip(text):
    septets = gsm7.encode_septets(text)
    assert len(septets) == gsm7.septet_length(text)
    assert gsm7.decode_septets(septets) == text
