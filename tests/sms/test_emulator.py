"""The emulator behaves like the device, faults included; driven by the real driver over a pty."""
from __future__ import annotations

import os
import time

import pytest

from sms.at import (AtChannel, AtTimeout, PromptTimeout, NetworkCongestion, NetworkOutOfOrder, PortGone,
                    UnknownModemError)
from sms.emulator import Emulator
from sms.modem import (ConnectionLost, IncomingStored, Modem, StatusReportPdu, StatusReportStored,
                       Unsolicited)
from sms.pdu import StatusReport, decode, encode_message, encode_submit
from tests.sms.test_at import wait_until
from tests.sms.test_modem import EventLog


@pytest.fixture
def emulator():
    with Emulator() as emu:
        yield emu


def open_modem(emu: Emulator, **kwargs) -> Modem:
    log = EventLog()
    modem = Modem(emu.port, on_event=log, command_timeout=kwargs.pop("command_timeout", 2.0), **kwargs)
    modem.open()
    modem.events = log
    return modem


def otp(n: int = 0) -> tuple[str, int]:
    return encode_submit("+84912345678", f"Ma OTP cua ban la {123456 + n}", encoding="gsm7")


def test_port_is_a_real_pty_behind_a_stable_path(emulator):
    assert os.path.islink(emulator.port)
    assert os.readlink(emulator.port).startswith("/dev/pts/")


@pytest.mark.parametrize("code, error", [(500, UnknownModemError), (38, NetworkOutOfOrder),
                                         (42, NetworkCongestion)])
def test_injected_cms_errors_map_to_transient_named_errors(emulator, code, error):
    with open_modem(emulator) as modem:
        emulator.fail_next(1, cms=code)
        with pytest.raises(error) as caught:
            modem.send_pdu(*otp())
        assert caught.value.code == code and not caught.value.permanent
        assert emulator.sent == []
        assert modem.send_pdu(*otp()) == 1  # the failed attempt used no reference


def test_no_prompt_ends_in_seconds_with_esc_then_the_modem_answers_again(emulator):
    with open_modem(emulator, send_timeout=30, prompt_timeout=0.3) as modem:
        emulator.no_answer_next(1)
        start = time.monotonic()
        with pytest.raises(PromptTimeout) as caught:
            modem.send_pdu(*otp())
        assert time.monotonic() - start < 0.6 and caught.value.partial == []
        assert modem.send_pdu(*otp(1)) == 1
        assert [s.text for s in emulator.sent] == ["Ma OTP cua ban la 123457"]


def test_unsolicited_noise_between_response_lines_does_not_confuse_the_driver(emulator):
    emulator.noise = True
    emulator.inject_incoming("+84987654321", "Tin nhắn thứ nhất")
    with open_modem(emulator) as modem:
        assert modem.info.model == "SIMCOM_SIM7600E-H" and modem.info.signal_csq == 20
        assert modem.info.registration == "home" and modem.info.cnmi == "2,1,0,1,0"
        refs = [modem.send_pdu(pdu, n) for pdu, n in encode_message("+84912345678", "x" * 400, reference=5)]
        assert refs == [1, 2, 3]
        listed = modem.list_messages()
        assert [decode(m.pdu).text for m in listed] == ["Tin nhắn thứ nhất"]
        noise = {e.line for e in modem.events.wait_for(Unsolicited, count=3)}
        assert noise <= {"RING", "+CREG: 1", "+CSQ: 18,99", "+CEREG: 1"}


def test_undecodable_bytes_do_not_kill_the_reader(emulator):
    with open_modem(emulator) as modem:
        emulator.garbage()
        emulator.garbage_next(2)
        assert modem.send_pdu(*otp()) == 1
        assert modem.health().signal_csq == 20
        assert modem.is_open


def test_unplug_gives_port_gone_and_replug_returns_at_the_same_path(emulator):
    modem = open_modem(emulator)
    emulator.unplug()
    assert isinstance(modem.events.wait_for(ConnectionLost)[0].error, PortGone)
    with pytest.raises(PortGone):
        modem.send_pdu(*otp())
    assert not os.path.exists(emulator.port)
    with pytest.raises(PortGone):
        Modem(emulator.port).open()
    emulator.replug()
    with open_modem(emulator) as again:
        assert again.send_pdu(*otp()) == 1
    modem.close()


def test_status_report_direct_matches_the_reference(emulator):
    with open_modem(emulator) as modem:
        ref = modem.send_pdu(*otp())
        report = decode(modem.events.wait_for(StatusReportPdu)[0].pdu)
        assert isinstance(report, StatusReport)
        assert (report.message_ref, report.recipient, report.delivered) == (ref, "+84912345678", True)


def test_status_report_stored_when_only_cdsi_is_offered():
    with Emulator(report_status=0x46) as emu:
        emu.script("AT+CNMI=?", "\r\n+CNMI: (1,2),(0,1),(0),(0,2),(0,1)\r\n\r\nOK\r\n")
        with open_modem(emu) as modem:
            assert modem.info.cnmi == "2,1,0,2,0"
            ref = modem.send_pdu(*otp())
            stored = modem.events.wait_for(StatusReportStored)[0]
            report = decode(modem.read_message(stored.index).pdu)
            assert (report.message_ref, report.delivered, report.final) == (ref, False, True)


def test_no_report_when_none_was_requested(emulator):
    with open_modem(emulator) as modem:
        modem.send_pdu(*encode_submit("+84912345678", "no report", encoding="gsm7", status_report=False))
        emulator.inject_incoming("+84987654321", "after")  # URCs keep their order on the wire
        modem.events.wait_for(IncomingStored)
        assert not [e for e in modem.events.events if isinstance(e, StatusReportPdu)]


def test_latency_per_part_is_measured_from_the_pdu_arrival():
    latency = 0.05
    with Emulator(latency_per_part=latency) as emu, open_modem(emu) as modem:
        parts = encode_message("+84912345678", "Thông báo " * 30, reference=1)
        start = time.monotonic()
        for pdu, length in parts:
            modem.send_pdu(pdu, length)
        elapsed = time.monotonic() - start
        assert len(parts) * latency <= elapsed < len(parts) * latency * 2  # latency counted once
        gaps = [b.time - a.time for a, b in zip(emu.sent, emu.sent[1:])]
        assert all(gap >= latency for gap in gaps)


def test_text_mode_and_echo_as_after_power_on(emulator):
    with AtChannel(emulator.port) as channel:
        assert emulator.echo and emulator.text_mode  # power-on defaults; the echo is dropped
        assert channel.command("AT+CMGF?", timeout=2) == ["+CMGF: 1"]
        assert channel.command('AT+CMGS="+84912345678"', timeout=2, data="Hello from text mode") == ["+CMGS: 1"]
        emulator.inject_incoming("+84987654321", "Reply in text mode")  # CNMI off: stored silently
        listed = channel.command('AT+CMGL="ALL"', timeout=2)
        assert listed == ['+CMGL: 0,"REC UNREAD","+84987654321","",""', "Reply in text mode"]
        assert channel.command("AT+CMGR=0", timeout=2)[0].startswith('+CMGR: "REC READ"')
    assert emulator.sent_texts("+84912345678") == ["Hello from text mode"]


def test_storage_full_drops_like_a_sim(emulator):
    emulator.storage_size = 2
    emulator.inject_incoming("+84987654321", "one")
    emulator.inject_incoming("+84987654321", "two")
    assert emulator.inject_incoming("+84987654321", "three") == []
    assert len(emulator.dropped) == 1 and emulator.stored() == {0: 0, 1: 0}


def test_wait_for_sent_has_a_deadline(emulator):
    with pytest.raises(TimeoutError, match="0 of 1"):
        emulator.wait_for_sent(1, timeout=0.05)


def test_cnmi_outside_what_is_advertised_is_refused(emulator):
    with AtChannel(emulator.port) as channel:
        with pytest.raises(Exception, match="303"):
            channel.command("AT+CNMI=2,1,3,1,0", timeout=2)
        channel.command("AT+CNMI=2,1,0,2,0", timeout=2)
    wait_until(lambda: emulator.cnmi == [2, 1, 0, 2, 0], timeout=1)
