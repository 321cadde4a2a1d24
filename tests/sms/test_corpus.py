"""Real modem replies (Gammu's AT+CMGR corpus): every good one decodes, every bad one is refused clearly."""
from __future__ import annotations

from datetime import timedelta

import pytest

from sms.pdu import Deliver, PduError, StatusReport, Submit, decode
from tests.conftest import CORPORA

GOOD = sorted((CORPORA / "gammu-at-sms").glob("*.dump"))
BAD = sorted((CORPORA / "gammu-at-sms-failing").glob("*.dump"))


def pdu_lines(path) -> list[str]:
    """The PDU line after each `+CMGR:` header of an AT+CMGR transcript."""
    lines = path.read_text(encoding="latin-1").splitlines()
    return [lines[i + 1].strip() for i, line in enumerate(lines) if line.startswith("+CMGR:")]


def test_the_corpora_are_there():
    assert len(GOOD) >= 25 and len(BAD) >= 10


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.name)
def test_every_real_message_decodes(path):
    pdus = pdu_lines(path)
    assert pdus, f"{path.name} has no +CMGR reply"
    for pdu in pdus:
        message = decode(pdu)
        assert isinstance(message, (Deliver, Submit, StatusReport))
        assert message.as_dict()["kind"] in {"deliver", "submit", "status_report"}


# Why each failing dump is invalid (checked by hand against TS 23.040).
REASONS = {
    "01.dump": "bad destination length 129 digits",
    "13.dump": "invalid hex character '='",
    "17.dump": "invalid hex character 'p'",
    "18.dump": "bad SMSC length 12",
    "25.dump": "reserved message type",
    "33.dump": "reserved message type",
    "35.dump": "compressed",
    "38.dump": "bad SMSC length 196",
    "39.dump": "bad SMSC length 145",
    "40.dump": "bad sender length 105",
}


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.name)
def test_every_broken_message_is_rejected_with_a_reason(path):
    pdus = pdu_lines(path)
    assert pdus
    with pytest.raises(PduError) as caught:
        decode(pdus[0])
    message = str(caught.value)
    assert "\n" not in message
    assert REASONS.get(path.name, "") in message


def decoded(name: str):
    return decode(pdu_lines(CORPORA / "gammu-at-sms" / name)[0])


def test_spec_example_hellohello():
    message = decoded("09.dump")
    assert message.text == "hellohello" and message.smsc == "+27381000015"
    assert message.timestamp.isoformat() == "1999-03-29T15:16:59+02:00"


def test_indian_half_hour_timezone():
    message = decoded("03.dump")
    assert (message.sender, message.text) == ("+919884280026", "Ok sir")
    assert message.timestamp.utcoffset() == timedelta(hours=5, minutes=30)


def test_alphanumeric_operator_sender_and_long_gsm_text():
    message = decoded("04.dump")
    assert message.sender_type == "alphanumeric" and message.sender.startswith("O2")
    assert message.text.startswith("O2: You now have your Text Anytime 300 UK texts & 1MB of data")
    assert len(message.text) == 159


def test_gsm_specials_decode():
    assert decoded("10.dump").text == "Tèätrc @ £."
    assert decoded("11.dump").text.startswith("T:Philipa@joshua.heron.net s:test mail.#")


def test_concatenated_part_with_8_bit_reference():
    message = decoded("22.dump")
    assert message.concat == (1, 2, 1)
    assert message.text.startswith("Ahoj pavle, tak me vcera nikdo neokradl")


def test_status_report_delivered():
    report = decoded("30.dump")
    assert isinstance(report, StatusReport)
    assert (report.message_ref, report.recipient, report.status) == (232, "+666666666666", 0)
    assert report.delivered and report.final
    assert report.discharge_timestamp - report.service_timestamp == timedelta(seconds=4)


def test_stored_submits_ucs2_and_no_smsc_number():
    assert decoded("16.dump").text == "123456" and decoded("16.dump").encoding == "ucs2"
    stored = decoded("24.dump")
    assert isinstance(stored, Submit) and stored.smsc is None
    assert (stored.number, stored.text) == ("3381449402", "inserisci qui il messaggio....")


def test_wap_push_is_8_bit_data_with_ports_header():
    message = decoded("40.dump")
    assert message.encoding == "8bit" and b"application/vnd.wap.mms-message" in message.data
    assert message.udh.hex().upper() == "0605040B8423F0"


def test_cli_decodes_a_real_part(tdp):
    r = tdp("sms", "decode", pdu_lines(CORPORA / "gammu-at-sms" / "22.dump")[0])
    assert r.code == 0
    assert "+420724797276" in r.out and "1 of 2 (reference 1)" in r.out and "Ahoj pavle" in r.out


def test_cli_decode_json_status_report(tdp):
    r = tdp("sms", "decode", pdu_lines(CORPORA / "gammu-at-sms" / "30.dump")[0], "--json")
    assert r.code == 0
    assert r.data["kind"] == "status_report" and r.data["delivered"] is True and r.data["message_ref"] == 232


def test_cli_decode_accepts_octets_separated_by_spaces(tdp):
    pdu = pdu_lines(CORPORA / "gammu-at-sms" / "09.dump")[0]
    r = tdp("sms", "decode", *[pdu[i:i + 2] for i in range(0, len(pdu), 2)], "--json")
    assert r.code == 0 and r.data["text"] == "hellohello"


def test_cli_bad_pdu_is_one_line_exit_1(tdp):
    r = tdp("sms", "decode", pdu_lines(CORPORA / "gammu-at-sms-failing" / "38.dump")[0])
    assert r.code == 1 and r.out == ""
    assert r.err.count("\n") == 1 and "bad SMSC length 196" in r.err and "Traceback" not in r.err
