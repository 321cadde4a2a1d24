"""Each fault a real LTE modem shows, through the real pty: the gateway loses nothing, sends
nothing twice, and spends no attempt on what was not the message's fault."""
from __future__ import annotations

import time

import pytest

from sms import health as modem_health, outbox
from sms.emulator import Emulator
from tests.sms.test_gateway import make_gateway, parts_to
from tests.support.waiting import wait_until

PHONES = [f"+8491400{n:04d}" for n in range(12)]
# Long enough that only the fault handling under test (not a prompt timeout) can explain speed.
PATIENT = dict(prompt_timeout=5.0, send_timeout=10.0, command_timeout=2.0, boot_seconds=10.0,
               port_return_seconds=10.0)


@pytest.fixture
def gateways(tmp_path):
    started = []
    path = tmp_path / "faults.sqlite3"

    def start(ports, **options):
        gateway = make_gateway(path, ports, **options)
        gateway.start()
        started.append(gateway)
        return gateway
    start.path = path
    yield start
    for gateway in started:
        gateway.stop(10)


@pytest.fixture
def db(gateways):
    database = outbox_db(gateways.path)
    yield database
    database.close()


def outbox_db(path):
    from sms.gateway import open_database
    return open_database(path)


@pytest.fixture
def emulator():
    with Emulator(latency_per_part=0.01) as emu:
        yield emu


def ready(db, n=1):
    wait_until(lambda: len([r for r in modem_health.rows(db) if r["state"] == "ok"]) >= n, what="modem ready")


def each_sent_once(emulators, phones, text):
    numbers = sorted(p.number for e in emulators for p in e.sent)
    assert numbers == sorted(phones), "a part was lost or sent twice"
    for phone in phones:
        assert [t for e in emulators for t in e.sent_texts(phone)] == [text]


def test_reboot_right_after_an_acknowledgement_costs_no_minute_and_no_part(db, emulator, gateways):
    gateways([emulator.port], **PATIENT)
    ready(db)
    emulator.reboot_after_ack(every=4, deaf_seconds=0.5)
    outbox.enqueue_many(db, PHONES, "Họp tổ 19h", key_prefix="n")
    emulator.wait_for_sent(len(PHONES), timeout=20)
    each_sent_once([emulator], PHONES, "Họp tổ 19h")
    assert len(emulator.boots) >= 2
    for boot in emulator.boots[:-1]:  # the command cut by RDY ended at once, not after 5 s
        after = min(p.time for p in emulator.sent if p.time > boot)
        assert after - boot < 3.0
    wait_until(lambda: outbox.queue_depth(db) == 0, what="every part confirmed")
    assert db.scalar("SELECT MAX(attempts) FROM outbox_parts") == 1
    # The last acknowledgement rebooted it too: it is set up again all the same.
    wait_until(lambda: not emulator.text_mode and emulator.cnmi[0] == 2 and not emulator.echo,
               what="re-initialised after the last reboot")


def test_deaf_boot_then_rdy_restores_defaults_that_the_gateway_sets_again(db, emulator, gateways):
    seen = []
    gateways([emulator.port], handlers=[lambda db, m: seen.append(m.text)], **PATIENT)
    ready(db)
    emulator.deaf_boot(1.0)
    assert emulator.text_mode and emulator.echo  # factory settings
    wait_until(lambda: emulator.boots, what="RDY")
    wait_until(lambda: not emulator.text_mode and emulator.cnmi[0] == 2, what="re-initialised")
    emulator.inject_incoming("+84901234567", "HUY")  # +CMTI works again: CNMI was set again
    wait_until(lambda: seen == ["HUY"], what="message handled")
    outbox.enqueue(db, PHONES[0], "Đã nhận")
    wait_until(lambda: emulator.sent_texts(PHONES[0]) == ["Đã nhận"], what="send after the boot")


def test_a_modem_silent_mid_broadcast_uart_is_waited_for_without_spending_attempts(db, emulator, gateways):
    gateways([emulator.port], **{**PATIENT, "prompt_timeout": 0.5})
    ready(db)
    outbox.enqueue_many(db, PHONES, "Ư" * 100, key_prefix="n")  # 2 parts each
    emulator.wait_for_sent(5)
    emulator.silence(2.0)
    emulator.wait_for_sent(2 * len(PHONES), timeout=20)
    assert sorted(p.number for p in emulator.sent) == sorted(PHONES * 2)
    for phone in PHONES:
        assert emulator.sent_texts(phone) == ["Ư" * 100]
    assert db.scalar("SELECT MAX(attempts) FROM outbox_parts") == 1


def test_a_usb_port_that_vanishes_mid_broadcast_is_reopened_when_it_returns(db, emulator, gateways):
    emulator.latency_per_part = 0.2  # the part after the third is on the air when the port goes
    gateways([emulator.port], **PATIENT)
    ready(db)
    outbox.enqueue_many(db, PHONES, "Mất điện từ 8h đến 11h", key_prefix="n")
    wait_until(lambda: outbox.counts(db, "n")["parts"]["sent"] >= 3, what="three parts confirmed")
    emulator.vanish(1.5)
    wait_until(lambda: modem_health.rows(db)[0]["state"] == "rebooting", what="port loss noticed")
    emulator.wait_for_sent(len(PHONES), timeout=20)
    each_sent_once([emulator], PHONES, "Mất điện từ 8h đến 11h")
    wait_until(lambda: modem_health.rows(db)[0]["state"] == "ok", what="healthy again")


def test_full_sim_storage_is_read_stored_emptied_and_sending_carries_on(db, emulator, gateways):
    seen = []
    gateways([emulator.port], handlers=[lambda db, m: seen.append(m.text)], **PATIENT)
    ready(db)
    assert emulator.fill_storage() == emulator.storage_size  # their +CMTI never came
    message_id = outbox.enqueue(db, PHONES[0], "Mã xác nhận 4821")
    wait_until(lambda: outbox.message(db, message_id)["state"] in ("sent", "delivered"), what="sent")
    assert emulator.sent_texts(PHONES[0]) == ["Mã xác nhận 4821"]
    assert outbox.message(db, message_id)["parts"][0]["attempts"] == 1
    wait_until(lambda: len(seen) == emulator.storage_size, what="stored messages handled")
    assert sorted(seen) == sorted(f"Tin nhắn cũ số {i}" for i in range(emulator.storage_size))
    assert emulator.stored() == {}


@pytest.mark.parametrize("urc, stat", [(True, 2), (True, 4), (False, 3)],
                         ids=["+CREG: 2 searching", "+CREG: 4 no coverage", "URC lost, +CMS 331"])
def test_lost_registration_holds_sends_without_spending_attempts_and_resumes(db, emulator, gateways, urc, stat):
    gateways([emulator.port], **{**PATIENT, "registration_poll_seconds": 0.2})
    ready(db)
    if not urc:
        emulator.creg_n = emulator.cereg_n = 0
    emulator.deregister(stat)
    if urc:
        wait_until(lambda: modem_health.rows(db)[0]["state"] == "unregistered", what="hold")
    ids = outbox.enqueue_many(db, PHONES[:3], "Lịch tiêm chủng", key_prefix="n")
    wait_until(lambda: modem_health.rows(db)[0]["state"] == "unregistered", what="hold")
    assert "registration" in modem_health.rows(db)[0]["last_error"] or "331" in modem_health.rows(db)[0]["last_error"]
    assert emulator.sent == []
    emulator.register(1)
    wait_until(lambda: all(outbox.message(db, i)["state"] in ("sent", "delivered") for i in ids),
               what="sent after registration")
    assert len(emulator.sent) == 3 and db.scalar("SELECT MAX(attempts) FROM outbox_parts") == 1


def test_bare_error_and_cms_512_are_retried_with_backoff(db, emulator, gateways):
    emulator.bare_error_next(1)
    emulator.fail_next(1, cms=512)
    gateways([emulator.port], **PATIENT)
    message_id = outbox.enqueue(db, PHONES[0], "thử lại")
    wait_until(lambda: outbox.message(db, message_id)["state"] in ("sent", "delivered"), what="sent")
    part = outbox.message(db, message_id)["parts"][0]
    assert part["attempts"] == 3 and emulator.sent_texts(PHONES[0]) == ["thử lại"]


def test_garbage_on_the_line_loses_and_repeats_nothing(db, emulator, gateways):
    gateways([emulator.port], **PATIENT)
    ready(db)
    emulator.noise = True
    emulator.garbage_next(8)
    outbox.enqueue_many(db, PHONES, "Nước sạch", key_prefix="n")
    for _ in range(3):
        emulator.garbage()
    emulator.wait_for_sent(len(PHONES), timeout=20)
    each_sent_once([emulator], PHONES, "Nước sạch")


@pytest.mark.parametrize("sim, state, hint", [(dict(sim_pin="1234"), "sim_locked", "modem.sim_pin"),
                                              (dict(sim_inserted=False), "no_sim", "seat the SIM")])
def test_a_locked_or_missing_sim_is_a_clear_health_state_and_keeps_the_queue(db, gateways, sim, state, hint):
    with Emulator(**sim) as modem:
        gateways([modem.port], **PATIENT)
        message_id = outbox.enqueue(db, PHONES[0], "x")
        wait_until(lambda: modem_health.rows(db) and modem_health.rows(db)[0]["state"] == state, what=state)
        assert hint in modem_health.rows(db)[0]["last_error"]
        assert outbox.message(db, message_id)["state"] == "queued"
        assert "AT+CFUN=1,1" not in modem.commands  # resets cannot fix a SIM


def test_with_two_modems_a_rebooting_one_hands_the_whole_queue_over(db, gateways):
    with Emulator(latency_per_part=0.05) as first, Emulator(latency_per_part=0.05) as second:
        gateways([first.port, second.port], **{**PATIENT, "boot_seconds": 30.0})
        ready(db, 2)
        first.silence(60)  # dead for the rest of the test
        second.silence(0.3)  # keep the second busy a moment so the first claims a part
        outbox.enqueue_many(db, PHONES, "Ư" * 100, key_prefix="n")
        started = time.monotonic()
        wait_until(lambda: len(second.sent) == 2 * len(PHONES), timeout=20, what="the other modem took the queue")
        assert first.sent == []
        assert time.monotonic() - started < 10
        for phone in PHONES:
            senders = [e for e in (first, second) if parts_to(e, phone)]
            assert len(senders) == 1 and len(parts_to(senders[0], phone)) == 2
