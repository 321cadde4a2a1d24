"""The AT channel on its own: loop://, and a scripted peer on a real pseudo-terminal."""
from __future__ import annotations

import os
import queue
import select
import threading
import time
import tty

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sms.at import (AtChannel, AtError, AtTimeout, CmeError, CmsError, InvalidPdu, MessageRejected,
                    NetworkCongestion, NetworkOutOfOrder, NetworkTimeout, PortGone, SimNotInserted,
                    SimPinRequired, UnassignedNumber, UnknownModemError, cme_error, cms_error)
from sms.errors import SmsError
from tests.support.waiting import wait_until


class Peer:
    """The far end of a pty: answers each command line with what `respond(cmd)` returns."""

    def __init__(self, respond):
        self.respond = respond
        self.master, slave = os.openpty()
        tty.setraw(slave)
        self.path = os.ttyname(slave)
        self._slave = slave
        self._wake_r, self._wake_w = os.pipe()
        self.received: list[str] = []
        self.data: list[str] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        buffer = b""
        while True:
            ready, _, _ = select.select([self.master, self._wake_r], [], [])
            if self._wake_r in ready:
                return
            chunk = os.read(self.master, 1024)
            buffer += chunk
            while True:
                cut = min((i for i in (buffer.find(b"\r"), buffer.find(b"\x1a")) if i >= 0), default=-1)
                if cut < 0:
                    break
                item, buffer = buffer[:cut].decode(), buffer[cut + 1:]
                if buffer.startswith(b"\n"):
                    buffer = buffer[1:]
                if not item:
                    continue
                (self.data if item.startswith("00") else self.received).append(item)
                reply = self.respond(item)
                if reply:
                    self.write(reply)

    def write(self, data: bytes) -> None:
        os.write(self.master, data)

    def unplug(self) -> None:
        os.write(self._wake_w, b"x")  # a blocked read would keep the master open
        self._thread.join()
        os.close(self.master)
        os.close(self._slave)


@pytest.fixture
def channel_to():
    opened = []

    def make(respond, **kwargs):
        peer = Peer(respond)
        urcs: queue.Queue = queue.Queue()
        lost: queue.Queue = queue.Queue()
        channel = AtChannel(peer.path, on_urc=urcs.put, on_connection_lost=lost.put, **kwargs)
        opened.append(channel)
        return channel, peer, urcs, lost
    yield make
    for channel in opened:
        channel.close()


def test_error_codes_map_to_named_exceptions_under_one_root():
    assert isinstance(cms_error(38), NetworkOutOfOrder) and not cms_error(38).permanent
    assert isinstance(cms_error(42), NetworkCongestion) and not cms_error(42).permanent
    assert isinstance(cms_error(500), UnknownModemError) and not cms_error(500).permanent
    assert isinstance(cms_error(1), UnassignedNumber) and cms_error(1).permanent
    for code in (21, 28, 29):
        assert isinstance(cms_error(code), MessageRejected) and cms_error(code).permanent
    assert isinstance(cms_error(304), InvalidPdu)
    sim_cms, sim_cme = cms_error(310), cme_error(10)
    assert isinstance(sim_cms, SimNotInserted) and isinstance(sim_cms, CmsError)
    assert isinstance(sim_cme, SimNotInserted) and isinstance(sim_cme, CmeError)
    assert isinstance(cme_error(11), SimPinRequired) and isinstance(cms_error(332), NetworkTimeout)
    error = cms_error(42, command="AT+CMGS=23")
    assert error.code == 42 and error.name == "NetworkCongestion" and "congestion" in str(error)
    assert isinstance(error, AtError) and isinstance(error, SmsError)
    assert cms_error(999).description == "unknown error" and type(cms_error(999)) is CmsError
    assert issubclass(AtTimeout, TimeoutError) and issubclass(PortGone, ConnectionError)


def test_loop_echo_only_times_out_with_one_deadline_and_partial():
    channel = AtChannel("loop://")
    try:
        start = time.monotonic()
        with pytest.raises(AtTimeout) as caught:
            channel.command("AT+CSQ", timeout=0.3)  # loop:// echoes the command, never answers OK
        elapsed = time.monotonic() - start
        assert 0.29 <= elapsed < 0.6
        assert caught.value.partial == [] and caught.value.command == "AT+CSQ"
    finally:
        channel.close()


def test_loop_unsolicited_lines_reach_the_callback_and_garbage_is_dropped_but_counted():
    urcs: queue.Queue = queue.Queue()
    channel = AtChannel("loop://", on_urc=urcs.put)
    try:
        channel.write_raw(b"\r\n\xff\xfe\x80junk\r\n\x9f\xa0+CREG: 1\r\n")  # a baud-rate glitch
        channel.write_raw(b'\r\n+CMTI: "SM",3\r\n\r\n+CMT: ,23\r\n0791AABB\r\nRING\r\n')
        lines = [urcs.get(timeout=2) for _ in range(4)]
        assert lines[0].line == "+CREG: 1"  # the readable tail of a garbled line survives
        assert lines[1].line == '+CMTI: "SM",3'
        assert (lines[2].line, lines[2].body) == ("+CMT: ,23", "0791AABB")
        assert lines[3].line == "RING"
        assert channel.garbled_lines == 2
        assert channel.is_open
    finally:
        channel.close()


def test_response_lines_are_separated_from_urcs_arriving_in_the_middle(channel_to):
    def respond(cmd):
        if cmd == "AT+CMGL=4":
            return (b'\r\n+CMGL: 0,1,,5\r\n\r\n+CMTI: "SM",7\r\nAABBCCDDEE\r\n\r\nRING\r\n'
                    b"\r\n+CREG: 1\r\n\r\n+CMGL: 1,0,,2\r\n0102\r\n\r\nOK\r\n")
    channel, _, urcs, _ = channel_to(respond)
    lines = channel.command("AT+CMGL=4", timeout=2)
    assert lines == ["+CMGL: 0,1,,5", "AABBCCDDEE", "+CMGL: 1,0,,2", "0102"]
    assert [urcs.get(timeout=2).line for _ in range(3)] == ['+CMTI: "SM",7', "RING", "+CREG: 1"]


def test_registration_read_is_a_response_but_its_short_form_is_a_urc(channel_to):
    channel, _, urcs, _ = channel_to(lambda cmd: b"\r\n+CREG: 1\r\n\r\n+CREG: 0,5\r\n\r\nOK\r\n")
    assert channel.command("AT+CREG?", timeout=2) == ["+CREG: 0,5"]
    assert urcs.get(timeout=2).line == "+CREG: 1"


def test_cms_and_cme_errors_raise_named_exceptions_with_partial(channel_to):
    replies = {"AT+CMGR=9": b"\r\n+CMS ERROR: 321\r\n", "AT+CPIN?": b"\r\n+CME ERROR: 10\r\n",
               "ATX": b"\r\nERROR\r\n"}
    channel, *_ = channel_to(replies.get)
    with pytest.raises(CmsError) as caught:
        channel.command("AT+CMGR=9", timeout=2)
    assert caught.value.code == 321 and caught.value.command == "AT+CMGR=9"
    with pytest.raises(SimNotInserted):
        channel.command("AT+CPIN?", timeout=2)
    with pytest.raises(AtError) as plain:
        channel.command("ATX", timeout=2)
    assert type(plain.value) is AtError


def test_send_waits_for_prompt_without_newline_then_sends_pdu_and_ctrl_z(channel_to):
    def respond(item):
        if item.startswith("AT+CMGS"):
            return b"\r\n> "
        if item.startswith("00"):
            return b"\r\n+CMGS: 42\r\n\r\nOK\r\n"
    channel, peer, *_ = channel_to(respond)
    assert channel.command("AT+CMGS=5", timeout=2, data="0011AA") == ["+CMGS: 42"]
    assert peer.received == ["AT+CMGS=5"] and peer.data == ["0011AA"]


def test_one_deadline_covers_prompt_and_network_reply(channel_to):
    channel, peer, *_ = channel_to(lambda item: b"\r\n> " if item.startswith("AT+CMGS") else b"\r\n+CMGS")
    start = time.monotonic()
    with pytest.raises(AtTimeout) as caught:
        channel.command("AT+CMGS=5", timeout=0.4, data="0011AA")
    assert time.monotonic() - start < 0.7
    assert caught.value.partial == []
    assert peer.data == ["0011AA"]


def test_a_late_reply_to_a_timed_out_send_is_not_taken_for_the_next_one(channel_to):
    sends = []

    def respond(item):
        if item.startswith("AT+CMGS"):
            sends.append(item)
            # The first send's reply comes late: just after the second AT+CMGS, before its prompt.
            return b"\r\n+CMGS: 7\r\n\r\nOK\r\n\r\n> " if len(sends) == 2 else b"\r\n> "
        if item == "0022BB":
            return b"\r\n+CMGS: 8\r\n\r\nOK\r\n"
    channel, _, urcs, _ = channel_to(respond)
    with pytest.raises(AtTimeout):
        channel.command("AT+CMGS=5", timeout=0.2, data="0011AA")
    assert channel.command("AT+CMGS=5", timeout=2, data="0022BB") == ["+CMGS: 8"]
    assert [urcs.get(timeout=2).line for _ in range(2)] == ["+CMGS: 7", "OK"]


def test_timeout_carries_the_lines_received_so_far(channel_to):
    channel, *_ = channel_to(lambda cmd: b'\r\n+CMGL: 0,1,,5\r\nAABB\r\n')
    with pytest.raises(AtTimeout) as caught:
        channel.command("AT+CMGL=4", timeout=0.3)
    assert caught.value.partial == ["+CMGL: 0,1,,5", "AABB"]


def test_no_prompt_sends_escape_so_the_modem_leaves_text_entry(channel_to):
    channel, peer, *_ = channel_to(lambda item: None)
    with pytest.raises(AtTimeout):
        channel.command("AT+CMGS=5", timeout=0.2, data="0011AA")
    assert peer.data == []  # the PDU is never written without a prompt


def test_concurrent_commands_are_serialised(channel_to):
    channel, peer, *_ = channel_to(lambda cmd: f"\r\n+CSQ: {cmd[-2:]},99\r\n\r\nOK\r\n".encode())
    results = {}

    def ask(n):
        results[n] = channel.command(f"AT+CSQ;N{n:02d}", timeout=5)
    threads = [threading.Thread(target=ask, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {n: [f"+CSQ: {n:02d},99"] for n in range(8)}


def test_port_vanishing_fails_pending_and_later_commands_with_port_gone(channel_to):
    channel, peer, _, lost = channel_to(lambda cmd: None)
    failure: queue.Queue = queue.Queue()

    def pending():
        try:
            channel.command("AT+CSQ", timeout=5)
        except AtError as exc:
            failure.put(exc)
    thread = threading.Thread(target=pending)
    thread.start()
    wait_until(lambda: peer.received, timeout=2)
    peer.unplug()
    assert isinstance(failure.get(timeout=2), PortGone)
    assert isinstance(lost.get(timeout=2), PortGone)
    with pytest.raises(PortGone):
        channel.command("AT", timeout=1)
    assert not channel.is_open
    thread.join()


def test_opening_a_missing_port_is_port_gone(tmp_path):
    with pytest.raises(PortGone, match="cannot open"):
        AtChannel(str(tmp_path / "ttyUSB9"))


def test_close_is_idempotent_and_fails_later_commands():
    channel = AtChannel("loop://")
    channel.close()
    channel.close()
    with pytest.raises(PortGone):
        channel.command("AT", timeout=0.5)


@pytest.fixture(scope="module")
def junk_peer():
    """One channel for every generated example; the peer answers AT+CSQ with a junk line first."""
    state = {"junk": b""}
    peer = Peer(lambda cmd: b"\r\n" + state["junk"] + b"\r\n+CSQ: 20,99\r\n\r\nOK\r\n")
    channel = AtChannel(peer.path)
    yield channel, state
    channel.close()


FINALS = {"OK", "ERROR", "NO CARRIER", "BUSY", "NO ANSWER", "NO DIALTONE"}


@settings(max_examples=60, deadline=None)
@given(junk=st.binary(max_size=40).filter(lambda b: not set(b) & {0x0D, 0x0A}))
def test_any_junk_line_never_breaks_the_reader(junk_peer, junk):
    text = junk.decode("ascii", "replace").replace("\x1a", "").strip()
    assume(text not in FINALS and not text.startswith(("+CMS ERROR", "+CME ERROR", "+CMT:", "+CDS:", "+CBM:")))
    channel, state = junk_peer
    state["junk"] = junk
    lines = channel.command("AT+CSQ", timeout=2)
    assert lines[-1] == "+CSQ: 20,99" and channel.is_open


def test_a_boot_banner_ends_the_pending_command_at_once(channel_to):
    from sms.at import Rebooted
    booted = []
    channel, _, urcs, _ = channel_to(lambda cmd: b"\r\nRDY\r\n" if cmd == "AT+CSQ" else b"\r\nOK\r\n",
                                     on_boot=booted.append)
    start = time.monotonic()
    with pytest.raises(Rebooted, match="rebooted"):
        channel.command("AT+CSQ", timeout=10)
    assert time.monotonic() - start < 1.0 and booted == ["RDY"] and channel.boots == 1
    urc = urcs.get(timeout=2)
    assert (urc.line, urc.boot) == ("RDY", True)
    assert channel.command("AT", timeout=2) == []  # the channel is free at once for re-initialisation


def test_cpin_ready_after_a_pin_entry_is_no_reboot_but_later_it_is(channel_to, monkeypatch):
    import sms.at
    from sms.at import Rebooted
    replies = {'AT+CPIN="1234"': b"\r\nOK\r\n\r\n+CPIN: READY\r\n", "AT+CSQ": b"\r\n+CSQ: 20,99\r\n\r\nOK\r\n",
               "AT+CPIN?": b"\r\n+CPIN: READY\r\n\r\nOK\r\n", "AT+COPS?": b"\r\n+CPIN: READY\r\n"}
    channel, _, urcs, _ = channel_to(replies.get)
    assert channel.command('AT+CPIN="1234"', timeout=2) == []
    assert channel.command("AT+CSQ", timeout=2) == ["+CSQ: 20,99"]
    assert channel.command("AT+CPIN?", timeout=2) == ["+CPIN: READY"]  # the answer, not a reboot
    assert not urcs.get(timeout=2).boot and channel.boots == 0
    monkeypatch.setattr(sms.at, "PIN_READY_SECONDS", 0.0)
    with pytest.raises(Rebooted):
        channel.command("AT+COPS?", timeout=5)  # long after the PIN: the modem rebooted


def test_a_prompt_that_never_comes_is_cancelled_with_esc_before_the_next_command(channel_to):
    from sms.at import PromptTimeout
    channel, peer, _, _ = channel_to(lambda cmd: None if cmd.startswith("AT+CMGS") else b"\r\nOK\r\n")
    start = time.monotonic()
    with pytest.raises(PromptTimeout, match="no > prompt"):
        channel.command("AT+CMGS=23", timeout=30, data="0011000B916407281553F80000AA0AE8329BFD4697D9EC37",
                        prompt_timeout=0.3)
    assert time.monotonic() - start < 1.0
    assert channel.command("AT", timeout=2) == []
    assert peer.received[-2:] == ["AT+CMGS=23", "\x1bAT"]  # ESC went out first, the PDU never
    assert peer.data == []
