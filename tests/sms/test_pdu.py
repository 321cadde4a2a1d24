"""SMS-SUBMIT encoding and DELIVER / STATUS-REPORT / SUBMIT decoding (TS 23.040)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings, strategies as st

from sms.errors import SmsError
from sms.pdu import (Deliver, PduError, StatusReport, Submit, decode, decode_submit, encode_deliver,
                     encode_message, encode_status_report, encode_submit, relative_validity,
                     validity_minutes_of)
from sms.segments import prepare
from tests.sms.test_segments import any_text, gsm_text, mixed_text, notice_500

HANOI = timezone(timedelta(hours=7))


def test_known_answer_submit_hellohello():
    # The classic TS 23.040 walk-through: to +46708251358, no report, 4 days validity (TP-VP 0xAA).
    pdu, length = encode_submit("+46708251358", "hellohello", encoding="gsm7", status_report=False,
                                validity_minutes=4 * 24 * 60)
    assert pdu == "0011000B916407281553F80000AA0AE8329BFD4697D9EC37"
    assert length == 23 == len(pdu) // 2 - 1


def test_known_answer_concatenated_gsm7_has_one_fill_bit_after_the_header():
    pdu, length = encode_submit("+84912345678", "A", encoding="gsm7", concat=(0xCC, 2, 1),
                                status_report=True, validity_minutes=1440)
    # 0x71: SUBMIT + VPF relative + status report + UDHI; VP 0xA7 = 24 h; UDL 8 septets (7 of header);
    # 'A' = 0x41 shifted left by the single fill bit = 0x82.
    assert pdu == "0071000B914819325476F80000A708050003CC020182"
    assert length == 21


def test_known_answer_ucs2_and_16_bit_reference():
    pdu, _ = encode_submit("0912345678", "Việt", encoding="ucs2", concat=(0x1234, 3, 2), ref16=True,
                           status_report=False, validity_minutes=None, message_ref=9)
    # 0x41: SUBMIT + UDHI, no VP; national digits use type 0x81; UDH 06 08 04 1234 03 02.
    assert pdu == "004109" "0A819021436587" "0008" "0F" "06080412340302" "005600691EC70074"


@pytest.mark.parametrize("minutes, vp", [
    (5, 0), (6, 1), (720, 143), (721, 144), (1440, 167), (2 * 1440, 168), (30 * 1440, 196),
    (31 * 1440, 197), (63 * 7 * 1440, 255),
])
def test_relative_validity_is_rounded_up_to_what_the_spec_can_say(minutes, vp):
    assert relative_validity(minutes) == vp
    assert validity_minutes_of(vp) >= minutes


@pytest.mark.parametrize("minutes", [0, -5, 64 * 7 * 1440, "1440", True])
def test_bad_validity_is_refused(minutes):
    with pytest.raises(PduError, match="validity"):
        encode_submit("+84912345678", "x", encoding="gsm7", validity_minutes=minutes)


@pytest.mark.parametrize("kwargs, message", [
    ({"number": "+84912345678", "text": "", "encoding": "gsm7"}, "empty"),
    ({"number": "+84912345678", "text": "ế", "encoding": "gsm7"}, "GSM 7-bit"),
    ({"number": "+84912345678", "text": "a" * 161, "encoding": "gsm7"}, "segment it first"),
    ({"number": "+84912345678", "text": "a" * 154, "encoding": "gsm7", "concat": (1, 2, 1)}, "segment it"),
    ({"number": "+84912345678", "text": "ơ" * 71, "encoding": "ucs2"}, "segment it first"),
    ({"number": "+84912345678", "text": "x", "encoding": "latin1"}, "unknown encoding"),
    ({"number": "+84912345678", "text": "x", "encoding": "gsm7", "concat": (1, 2, 3)}, "sequence"),
    ({"number": "+84912345678", "text": "x", "encoding": "gsm7", "concat": (256, 2, 1)}, "reference"),
    ({"number": "+84abc", "text": "x", "encoding": "gsm7"}, "digits only"),
    ({"number": "0912 345 678", "text": "x", "encoding": "gsm7"}, "normalise it first"),
    ({"number": "UBND", "text": "x", "encoding": "gsm7"}, "cannot send to the alphanumeric"),
    ({"number": "+8" + "1" * 21, "text": "x", "encoding": "gsm7"}, "at most 20"),
    ({"number": "", "text": "x", "encoding": "gsm7"}, "empty"),
    ({"number": "+84912345678", "text": "x", "encoding": "gsm7", "message_ref": 300}, "message reference"),
])
def test_encode_errors_are_named_and_clear(kwargs, message):
    with pytest.raises(PduError, match=message) as caught:
        encode_submit(**kwargs)
    assert isinstance(caught.value, SmsError) and isinstance(caught.value, ValueError)


def test_encode_message_adds_headers_only_when_split():
    single = encode_message("+84912345678", "Họp tổ lúc 19h", reference=5)
    assert len(single) == 1 and decode_submit(single[0][0]).concat is None
    parts = encode_message("+84912345678", "Mời họp tổ dân phố. " * 20, reference=5)
    decoded = [decode_submit(pdu) for pdu, _ in parts]
    assert [m.concat for m in decoded] == [(5, len(parts), seq) for seq in range(1, len(parts) + 1)]
    assert all(m.encoding == "ucs2" and m.status_report_requested and m.validity == 1440 for m in decoded)
    assert "".join(m.text for m in decoded) == "Mời họp tổ dân phố. " * 20


def test_encode_message_unaccented_uses_fewer_gsm_parts():
    text = "Thông báo: mời các hộ dân dự họp tổ dân phố tại nhà văn hoá lúc 19 giờ. " * 6
    accented = encode_message("+84912345678", text, reference=1)
    plain = encode_message("+84912345678", text, reference=1, unaccented=True)
    assert len(plain) * 2 <= len(accented) + 1
    assert decode_submit(plain[0][0]).text.startswith("Thong bao: moi cac ho dan")


def test_500_character_notice_arrives_as_correctly_joined_parts():
    notice = notice_500()
    for unaccented, count in ((False, 8), (True, 4)):
        parts = [decode_submit(pdu) for pdu, _ in encode_message("+84912345678", notice, reference=200,
                                                                  unaccented=unaccented)]
        assert len(parts) == count
        # a phone orders parts by sequence number, whatever order they arrive in
        arrived = sorted(reversed(parts), key=lambda m: m.concat[2])
        assert {m.concat[:2] for m in arrived} == {(200, count)}
        assert "".join(m.text for m in arrived) == prepare(notice, unaccented=unaccented)


def test_deliver_with_alphanumeric_sender_negative_timezone_and_16_bit_concat():
    moment = datetime(2026, 11, 22, 8, 30, 5, tzinfo=timezone(-timedelta(hours=3, minutes=30)))
    pdu = encode_deliver("UBND Phuong", "Lịch cắt điện 🔌", timestamp=moment, concat=(0xBEEF, 3, 3), ref16=True)
    message = decode(pdu)
    assert isinstance(message, Deliver)
    assert (message.sender, message.sender_type) == ("UBND Phuong", "alphanumeric")
    assert message.timestamp == moment and message.timestamp.utcoffset() == -timedelta(hours=3, minutes=30)
    assert message.text == "Lịch cắt điện 🔌" and message.encoding == "ucs2"
    assert message.concat == (0xBEEF, 3, 3) and message.smsc == "+84900000000"


def test_alphanumeric_sender_limits():
    moment = datetime(2026, 1, 1, tzinfo=HANOI)
    with pytest.raises(PduError, match="11 characters"):
        encode_deliver("ABCDEFGHIJKL", "x", timestamp=moment)
    with pytest.raises(PduError, match="GSM 7-bit cannot carry"):
        encode_deliver("Phường", "x", timestamp=moment)
    with pytest.raises(PduError, match="timezone-aware"):
        encode_deliver("+84912345678", "x", timestamp=datetime(2026, 1, 1))


def test_hand_built_timezone_octets():
    base = "0004" "0B914819325476F8" "0000" "621122803000%s" "01" "31"
    # Semi-octets are swapped on the wire: "82" is 28 quarters; the sign is bit 3 of the low nibble.
    assert decode(base % "82").timestamp.utcoffset() == timedelta(hours=7)
    assert decode(base % "8A").timestamp.utcoffset() == -timedelta(hours=7)
    assert decode(base % "22").timestamp.utcoffset() == timedelta(hours=5, minutes=30)
    assert decode(base % "82").timestamp == datetime(2026, 11, 22, 8, 3, 0, tzinfo=HANOI)
    assert decode(base % "82").text == "1"


def test_other_header_elements_are_skipped():
    # UDH with a port-addressing element (IEI 05) before an 8-bit concatenation element.
    user_data = "0B" "05040B8423F0" "00032A0201" "00480069"
    pdu = "00" "44" "0B914819325476F8" "0008" "62112280300028" + f"{len(user_data) // 2:02X}" + user_data
    message = decode(pdu)
    assert message.concat == (0x2A, 2, 1) and message.text == "Hi"


@pytest.mark.parametrize("status, delivered, final", [
    (0x00, True, True), (0x02, True, True), (0x21, False, False), (0x30, False, False),
    (0x41, False, True), (0x60, False, True),
])
def test_status_report_outcomes(status, delivered, final):
    sent = datetime(2026, 11, 22, 19, 0, tzinfo=HANOI)
    pdu = encode_status_report(77, "+84912345678", status=status, service_timestamp=sent,
                               discharge_timestamp=sent + timedelta(seconds=4))
    report = decode(pdu)
    assert isinstance(report, StatusReport)
    assert (report.message_ref, report.recipient, report.status) == (77, "+84912345678", status)
    assert (report.delivered, report.final) == (delivered, final)
    assert report.discharge_timestamp - report.service_timestamp == timedelta(seconds=4)
    assert report.as_dict()["delivered"] is delivered


def test_decode_submit_reads_back_what_the_driver_sends():
    pdu, _ = encode_submit("+84912345678", "Xin chào {bạn}", encoding="ucs2", message_ref=12,
                           status_report=True, validity_minutes=60)
    submit = decode_submit(pdu)
    assert isinstance(submit, Submit)
    assert (submit.number, submit.number_type, submit.text) == ("+84912345678", "international", "Xin chào {bạn}")
    assert (submit.message_ref, submit.status_report_requested, submit.validity) == (12, True, 60)
    with pytest.raises(PduError, match="not an SMS-SUBMIT"):
        decode_submit(encode_status_report(1, "+84912345678", status=0,
                                           service_timestamp=datetime(2026, 1, 1, tzinfo=HANOI),
                                           discharge_timestamp=datetime(2026, 1, 1, tzinfo=HANOI)))


GOOD = "0011000B916407281553F80000AA0AE8329BFD4697D9EC37"


@pytest.mark.parametrize("pdu, message", [
    ("", "empty"),
    ("  ", "empty"),
    (GOOD[:-1], "odd number of hex digits"),
    (GOOD[:-2], "truncated: user data"),
    (GOOD[:20], "truncated: destination address"),
    ("00", "truncated: first octet"),
    (GOOD.replace("E832", "E8G2"), "invalid hex character 'G'"),
    ("0F" + GOOD[2:], "bad SMSC length 15"),
    ("0003" + GOOD[4:], "reserved message type"),
    (GOOD.replace("0B9164", "1F9164"), "bad destination length 31"),
    (GOOD.replace("AA0AE8", "AAA1E8"), "bad user data length 161"),
    ("0004" "0B914819325476F8" "0000" "6211228030FF28" "0131", "not valid BCD"),
    ("0004" "0B914819325476F8" "0000" "62312280300028" "0131", "not a valid date"),
    ("0044" "0B914819325476F8" "0008" "62112280300028" "0403000300", "header element 0x00 claims 3"),
    ("0044" "0B914819325476F8" "0008" "62112280300028" "03090041", "overruns"),
    ("0004" "0B914819325476F8" "0008" "62112280300028" "03004100", "odd number of octets"),
])
def test_malformed_pdus_are_rejected_with_a_reason(pdu, message):
    with pytest.raises(PduError, match=message) as caught:
        decode(pdu)
    assert "\n" not in str(caught.value)


@settings(max_examples=120, deadline=None)
@given(st.one_of(mixed_text, gsm_text, any_text), st.booleans(), st.booleans(), st.integers(0, 0xFFFF))
def test_round_trip_segment_encode_decode_join(text, unaccented, ref16, reference):
    reference = reference if ref16 else reference % 256
    parts = encode_message("+84912345678", text, unaccented=unaccented, reference=reference, ref16=ref16)
    decoded = [decode_submit(pdu) for pdu, _ in parts]
    assert "".join(m.text for m in decoded) == prepare(text, unaccented=unaccented)
    for seq, ((pdu, length), message) in enumerate(zip(parts, decoded), 1):
        assert length == len(pdu) // 2 - 1 and length <= 176  # TPDU never exceeds one SMS
        assert message.concat == (None if len(parts) == 1 else (reference, len(parts), seq))


@settings(max_examples=60, deadline=None)
@given(st.one_of(mixed_text, any_text), st.datetimes(min_value=datetime(2000, 1, 1),
                                                     max_value=datetime(2089, 12, 31)),
       st.integers(-79, 79))
def test_deliver_round_trip(text, moment, quarters):
    moment = moment.replace(microsecond=0, tzinfo=timezone(timedelta(minutes=15 * quarters)))
    text = prepare(text)[:30]  # at most 60 UTF-16 units: always one part
    message = decode(encode_deliver("+84987654321", text, timestamp=moment))
    assert (message.text, message.timestamp, message.sender) == (text, moment, "+84987654321")
