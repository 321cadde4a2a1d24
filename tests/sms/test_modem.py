"""The modem session: the real driver against the emulator through a real pty."""
from __future__ import annotations

import threading
import time

import pytest

from sms.at import AtTimeout, InvalidIndex, InvalidPdu, PortGone, SimNotInserted, SimPinRequired
from sms.emulator import Emulator
from sms.modem import (IncomingPdu, IncomingStored, Modem, ModemRebooted, choose_cnmi,
                       parse_cnmi_support, parse_model, parse_numbers, parse_registration)
from sms.pdu import decode, encode_message, encode_submit
from sms.segments import segment
from tests.sms.test_at import wait_until


class EventLog:
    """Collects Modem events; `wait_for(type)` blocks on a condition until one arrives."""

    def __init__(self):
        self.events: list[object] = []
        self._cond = threading.Condition()

    def __call__(self, event: object) -> None:
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()

    def wait_for(self, kind: type, count: int = 1, timeout: float = 5.0) -> list:
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(found := [e for e in self.events if isinstance(e, kind)]) < count:
                remaining = deadline - time.monotonic()
                assert remaining > 0, f"no {kind.__name__} within {timeout} s; saw {self.events}"
                self._cond.wait(remaining)
            return found


@pytest.fixture
def emulator():
    with Emulator() as emu:
        yield emu


@pytest.fixture
def modem(emulator):
    log = EventLog()
    with Modem(emulator.port, on_event=log, command_timeout=2.0, send_timeout=5.0) as m:
        m.open()
        m.events = log
        yield m


def test_parsers_on_typical_lines():
    assert parse_numbers('+COPS: 0,0,"Viettel Mobile",7') == ["0", "0", "Viettel Mobile", "7"]
    assert parse_cnmi_support(["+CNMI: 0-2,0-3,0,0-2,0-1"]) == [{0, 1, 2}, {0, 1, 2, 3}, {0}, {0, 1, 2}, {0, 1}]
    assert choose_cnmi([{0, 1}, {0, 2}, {0}, {0, 2}]) == "1,2,0,2"
    assert choose_cnmi([{3}, {3}]) == "3,3"
    assert parse_registration(["+CEREG: 2,3,\"1A2B\",\"01ABCDEF\",7"]) == "denied"
    assert parse_registration(["+CREG: 1"]) is None  # an unsolicited form, not a read reply
    assert parse_model(["+CGMM: SIMCOM_SIM7600E-H"]) == ("", "SIMCOM_SIM7600E-H")


def test_open_initialises_pdu_mode_and_notifications(modem, emulator):
    info = modem.info
    assert (info.model, info.manufacturer, info.operator) == ("SIMCOM_SIM7600E-H", "SIMCOM INCORPORATED", "Viettel")
    assert info.imei == "862636051234567" and info.sim == "READY"
    assert (info.signal_csq, info.signal_dbm, info.registered, info.registration) == (20, -73, True, "home")
    assert info.cnmi == "2,1,0,1,0" and emulator.cnmi == [2, 1, 0, 1, 0]
    assert emulator.text_mode is False and emulator.echo is False and emulator.cmee == 1


def test_send_single_part_returns_incrementing_references(modem, emulator):
    refs = [modem.send_pdu(*encode_submit("+84912345678", f"OTP {n}", encoding="gsm7")) for n in range(3)]
    assert refs == [1, 2, 3]
    sent = emulator.wait_for_sent(3)
    assert [(s.number, s.text, s.message_ref) for s in sent] == [("+84912345678", f"OTP {n}", n + 1) for n in range(3)]


def test_multipart_vietnamese_arrives_joined_in_a_batch(modem, emulator):
    text = "Thông báo: họp tổ dân phố lúc 19 giờ tối thứ Bảy tại nhà văn hoá. " * 4
    parts = encode_message("+84912345678", text, reference=99)
    with modem.batch():
        refs = [modem.send_pdu(pdu, length) for pdu, length in parts]
    count = segment(text).count
    assert count == len(parts) == len(refs) == len(set(refs)) > 1
    assert emulator.sent_texts("+84912345678") == [text]
    assert [s.concat for s in emulator.sent] == [(99, count, n) for n in range(1, count + 1)]
    assert [c for c in emulator.commands if c.startswith("AT+CMMS")] == ["AT+CMMS=2", "AT+CMMS=0"]


def test_health_follows_signal_and_registration(modem, emulator):
    emulator.csq, emulator.registration = 7, 5
    info = modem.health()
    assert (info.signal_csq, info.signal_dbm, info.registration, info.registered) == (7, -99, "roaming", True)
    emulator.csq, emulator.registration = 99, 3
    info = modem.health()
    assert (info.signal_dbm, info.registration, info.registered, info.operator) == (None, "denied", False, "")


def test_incoming_message_is_notified_read_and_deleted(modem, emulator):
    emulator.inject_incoming("+84987654321", "DK HPN")
    event = modem.events.wait_for(IncomingStored)[0]
    stored = modem.read_message(event.index)
    message = decode(stored.pdu)
    assert (message.sender, message.text, stored.status) == ("+84987654321", "DK HPN", 0)
    modem.delete_message(event.index)
    assert modem.list_messages() == []
    with pytest.raises(InvalidIndex):
        modem.read_message(event.index)


def test_list_messages_sweeps_what_arrived_without_notification(modem, emulator):
    emulator.cnmi = [0, 0, 0, 0, 0]  # modem lost its CNMI setting: no +CMTI
    indexes = emulator.inject_incoming("+84987654321", "Chào anh, tôi muốn đăng ký. " * 4)
    assert len(indexes) == 2 and not [e for e in modem.events.events if isinstance(e, IncomingStored)]
    listed = modem.list_messages()
    assert [m.index for m in listed] == indexes
    assert [decode(m.pdu).concat[2] for m in listed] == [1, 2]


def test_reboot_is_detected_and_the_modem_reinitialised(modem, emulator):
    emulator.reboot()
    modem.events.wait_for(ModemRebooted)
    wait_until(lambda: emulator.cnmi == [2, 1, 0, 1, 0] and not emulator.text_mode, timeout=5)
    assert len(modem.events.wait_for(ModemRebooted)) == 1  # RDY and +CPIN: READY: one re-init
    assert modem.send_pdu(*encode_submit("+84912345678", "after reboot", encoding="gsm7")) == 1


def test_soft_reset_waits_until_initialised_again(modem, emulator):
    modem.soft_reset(timeout=5)
    assert emulator.text_mode is False and emulator.cnmi == [2, 1, 0, 1, 0]
    assert "AT+CFUN=1,1" in emulator.commands


def test_soft_reset_is_bounded_when_the_modem_never_returns(modem, emulator):
    emulator.script("AT+CFUN=1,1", "\r\nOK\r\n")  # answers but never reboots
    with pytest.raises(AtTimeout, match="did not come back"):
        modem.soft_reset(timeout=0.3)


def test_wrong_length_is_an_invalid_pdu_error(modem):
    pdu, length = encode_submit("+84912345678", "hello", encoding="gsm7")
    with pytest.raises(InvalidPdu) as caught:
        modem.send_pdu(pdu, length + 1)
    assert caught.value.permanent


def test_sim_pin_is_entered_when_configured():
    with Emulator(sim_pin="1234") as emu:
        log = EventLog()
        with Modem(emu.port, sim_pin="1234", on_event=log, command_timeout=2) as m:
            assert m.open().sim == "READY"
            assert m.health().registered  # a command after the unsolicited +CPIN: READY
            assert not [e for e in log.events if isinstance(e, ModemRebooted)]
        with Modem(emu.port, command_timeout=2) as m:
            emu.reboot()
            with pytest.raises(SimPinRequired, match="sim_pin"):
                m.open()


def test_missing_sim_is_reported_by_name():
    with Emulator(sim_inserted=False) as emu, Modem(emu.port, command_timeout=2) as m:
        with pytest.raises(SimNotInserted):
            m.open()
        assert not m.is_open


def test_direct_delivery_when_only_cmt_is_offered():
    with Emulator() as emu:
        emu.script("AT+CNMI=?", "\r\n+CNMI: (2),(0,2),(0),(0,2),(0)\r\n\r\nOK\r\n")
        log = EventLog()
        with Modem(emu.port, on_event=log, command_timeout=2) as m:
            assert m.open().cnmi == "2,2,0,2,0"
            emu.inject_incoming("+84987654321", "Xin chào")
            message = decode(log.wait_for(IncomingPdu)[0].pdu)
            assert (message.sender, message.text) == ("+84987654321", "Xin chào")
            assert not m.ack_required
            m.ack_new_message()  # phase 2 service: nothing to ack, so nothing is sent
            assert "AT+CNMA" not in emu.commands


def test_closed_modem_raises_port_gone_and_close_is_idempotent(emulator):
    m = Modem(emulator.port, command_timeout=2)
    m.open()
    m.close()
    m.close()
    with pytest.raises(PortGone):
        m.send_pdu("00", 1)
