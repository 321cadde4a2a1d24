"""The gateway daemon end to end: real modem driver ↔ real pty ↔ emulated SIM7600, real SQLite file."""
from __future__ import annotations

import time

import pytest

from kiosk.directory import residents as directory
from kiosk.directory.residents import Consent
from sms import inbox, outbox
from sms.emulator import Emulator
from sms.gateway import Gateway, GatewayError, GatewaySettings, health, open_database
from sms.pdu import decode_submit
from tests.support.waiting import wait_until

PHONE = "+84912345678"
NOTICE = ("THÔNG BÁO: Tổ dân phố số 1 tổ chức tổng vệ sinh môi trường vào 7 giờ sáng Chủ nhật ngày 30/11. "
          "Đề nghị mỗi hộ gia đình cử ít nhất một người tham gia, mang theo chổi, xẻng và bao tải. "
          "Khu vực tập trung: sân nhà văn hoá. Các hộ kinh doanh dọn sạch vỉa hè trước cửa nhà mình. "
          "Người cao tuổi và trẻ em không phải tham gia. Sau buổi vệ sinh, tổ sẽ họp nhanh tại nhà văn hoá để "
          "bàn việc lắp camera an ninh đầu ngõ và đóng góp quỹ khuyến học năm nay. "
          "Mọi thắc mắc xin liên hệ tổ trưởng. Trân trọng cảm ơn sự hợp tác của bà con!")[:500]
FAST = dict(quiet_start="00:00", quiet_end="00:00", backoff_base=0.05, backoff_max=0.2,
            recovery_delays=(0.05, 0.1, 0.2), dead_retry_seconds=0.5, send_timeout=1.0, command_timeout=1.0,
            prompt_timeout=0.5, boot_seconds=2.0, port_return_seconds=1.0)
LINK = ("handlers", "power_cycle", "on_tick", "housekeeping")


def make_gateway(db, ports, **options):
    """A Gateway on `ports` with FAST settings; `options` are settings fields or Gateway's own."""
    merged = {**FAST, **options}
    link = {k: merged.pop(k) for k in LINK if k in merged}
    return Gateway(db, GatewaySettings(ports=tuple(ports), **merged), **link)


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "gateway.sqlite3"


@pytest.fixture
def db(db_path):
    database = open_database(db_path)
    yield database
    database.close()


@pytest.fixture
def emulator():
    with Emulator(latency_per_part=0.005) as emu:
        yield emu


@pytest.fixture
def run_gateway(db_path):
    started = []

    def start(ports, **options):
        gateway = make_gateway(db_path, ports, **options)
        gateway.start()
        started.append(gateway)
        return gateway
    yield start
    for gateway in started:
        gateway.stop(10)


def parts_to(emulator, number):
    return [p for p in emulator.sent if p.number == number]


def test_long_vietnamese_notice_arrives_as_joined_parts(db, emulator, run_gateway):
    accented = outbox.enqueue(db, PHONE, NOTICE)
    plain = outbox.enqueue(db, "+84987654321", NOTICE, unaccented=True)
    run_gateway([emulator.port])
    count = outbox.message(db, accented)["part_count"]
    plain_count = outbox.message(db, plain)["part_count"]
    emulator.wait_for_sent(count + plain_count)
    decoded = [decode_submit(p.pdu) for p in parts_to(emulator, PHONE)]
    assert len(decoded) == count == 8
    assert {d.encoding for d in decoded} == {"ucs2"}
    assert sorted(d.concat[2] for d in decoded) == list(range(1, count + 1))
    assert len({(d.concat[0], d.concat[1]) for d in decoded}) == 1
    assert "".join(d.text for d in sorted(decoded, key=lambda d: d.concat[2])) == NOTICE
    assert all(d.status_report_requested for d in decoded)
    assert plain_count <= (count + 1) // 2
    assert emulator.sent_texts("+84987654321") == [outbox.message(db, plain)["text"]]
    assert outbox.message(db, plain)["text"].startswith("THONG BAO: To dan pho so 1 to chuc")
    wait_until(lambda: outbox.message(db, accented)["state"] == "delivered", what="status reports")
    row = health(db)[0]
    assert (row["state"], row["model"], row["operator"], row["registration"]) == (
        "ok", "SIMCOM_SIM7600E-H", "Viettel", "home")


def test_quiet_hours_hold_broadcasts_only(db, emulator, run_gateway):
    notice = outbox.enqueue_many(db, [PHONE, "+84987654321"], "Họp tổ tối nay", key_prefix="notice-1")
    alarm = outbox.enqueue_many(db, ["+84987654322"], "Cháy ở ngõ 5, mọi người sơ tán!", key_prefix="alarm",
                                priority="urgent")
    reply = outbox.enqueue(db, "+84987654323", "Da nhan: HUY. Ban se khong nhan tin nua.")  # direct
    run_gateway([emulator.port], quiet_start="00:00", quiet_end="23:59")
    emulator.wait_for_sent(2)
    wait_until(lambda: all(outbox.message(db, i)["state"] in ("sent", "delivered") for i in [*alarm, reply]),
               what="the alarm and the reply sent at night")
    assert emulator.sent_texts("+84987654323") == ["Da nhan: HUY. Ban se khong nhan tin nua."]
    assert emulator.sent_texts("+84987654322") == ["Cháy ở ngõ 5, mọi người sơ tán!"]
    assert [outbox.message(db, i)["state"] for i in notice] == ["queued", "queued"]
    assert outbox.message(db, reply)["kind"] == "direct" and outbox.message(db, notice[0])["kind"] == "broadcast"
    with pytest.raises(outbox.OutboxError, match="kind"):
        outbox.enqueue(db, PHONE, "x", kind="newsletter")


def test_transient_errors_are_retried_and_permanent_ones_fail(db, emulator, run_gateway):
    emulator.fail_next(1, cms=500)
    emulator.fail_next(1, cms=38)
    emulator.fail_next(1, cms=42)
    retried = outbox.enqueue(db, PHONE, "thử lại")
    gateway = run_gateway([emulator.port])
    wait_until(lambda: outbox.message(db, retried)["state"] in ("sent", "delivered"), what="retried message")
    part = outbox.message(db, retried)["parts"][0]
    assert part["attempts"] == 4
    assert emulator.sent_texts(PHONE) == ["thử lại"]
    emulator.fail_next(1, cms=28)
    refused = outbox.enqueue(db, "+84987654321", "không tới")
    gateway.wake()
    wait_until(lambda: outbox.message(db, refused)["state"] == "failed", what="permanent failure")
    part = outbox.message(db, refused)["parts"][0]
    assert part["attempts"] == 1 and "CMS ERROR 28" in part["last_error"]
    assert emulator.sent_texts("+84987654321") == []


def test_hung_modem_and_reboot_are_recovered_without_losing_or_repeating(db, emulator, run_gateway):
    phones = [f"+8491200{n:04d}" for n in range(12)]
    outbox.enqueue_many(db, phones, "Ư" * 100, key_prefix="n1")  # 2 parts each
    run_gateway([emulator.port])
    emulator.wait_for_sent(2)
    emulator.no_answer_next(1)  # the next AT+CMGS: no prompt, ESC, the part goes back unsent
    emulator.wait_for_sent(6)
    emulator.reboot()
    emulator.wait_for_sent(24, timeout=20)
    wait_until(lambda: outbox.counts(db, "n1")["parts"]["queued"] == 0, what="queue drained")
    assert sorted(p.number for p in emulator.sent) == sorted(phones * 2)
    for phone in phones:
        assert emulator.sent_texts(phone) == ["Ư" * 100]
    assert db.scalar("SELECT MAX(attempts) FROM outbox_parts") == 1  # neither fault spent an attempt
    assert health(db)[0]["state"] == "ok"


def test_unplugged_modem_keeps_the_queue_and_reconnects(db, emulator, run_gateway):
    run_gateway([emulator.port])
    wait_until(lambda: health(db) and health(db)[0]["state"] == "ok", what="modem ready")
    emulator.unplug()
    message_id = outbox.enqueue(db, PHONE, "gửi khi cắm lại")
    wait_until(lambda: health(db)[0]["state"] == "dead", what="modem marked dead")
    assert "soft_reset" in health(db)[0]["last_error"] or "reinitialise" in health(db)[0]["last_error"]
    assert outbox.message(db, message_id)["state"] == "queued"
    emulator.replug()
    wait_until(lambda: outbox.message(db, message_id)["state"] in ("sent", "delivered"), timeout=15,
               what="send after replug")
    assert emulator.sent_texts(PHONE) == ["gửi khi cắm lại"]
    assert health(db)[0]["state"] == "ok"


def test_recovery_escalates_to_the_power_cycle_callable(db, emulator, run_gateway):
    cycles = []

    def power_cycle(model):
        cycles.append(model)
        emulator.replug()  # like the HAT's PWRKEY: the modem boots again

    run_gateway([emulator.port], power_cycle=power_cycle)
    wait_until(lambda: health(db) and health(db)[0]["state"] == "ok", what="modem ready")
    emulator.unplug()
    message_id = outbox.enqueue(db, PHONE, "sau khi khởi động lại")
    wait_until(lambda: outbox.message(db, message_id)["state"] in ("sent", "delivered"), what="send after cycle")
    assert cycles == ["SIMCOM_SIM7600E-H"]  # the model it identified, for its power-key pulses
    assert health(db)[0]["state"] == "ok" and emulator.sent_texts(PHONE) == ["sau khi khởi động lại"]


def test_received_messages_are_joined_stored_deleted_and_handled_once(db, emulator, run_gateway):
    seen = []

    def broken(db, message):
        raise RuntimeError("relay is down")

    long_text = "Tổ trưởng ơi, đèn đường ngõ 3 bị hỏng từ tối qua, nhờ tổ báo điện lực giúp. " * 2
    run_gateway([emulator.port], handlers=[broken, lambda db, m: seen.append(m)])
    wait_until(lambda: health(db) and health(db)[0]["state"] == "ok", what="modem ready")
    emulator.inject_incoming("+84901234567", long_text)
    emulator.inject_incoming("+84901234568", "HUY")
    wait_until(lambda: len(seen) == 2, what="handlers")
    by_sender = {m.sender: m for m in seen}
    assert by_sender["+84901234567"].text == long_text and not by_sender["+84901234567"].incomplete
    assert by_sender["+84901234568"].text == "HUY"
    wait_until(lambda: emulator.stored() == {}, what="SIM storage emptied")
    wait_until(lambda: all(r["handled_at"] for r in inbox.messages(db)), what="messages marked handled")
    rows = inbox.messages(db)
    assert len(rows) == 2 and all("relay is down" in r["handler_error"] for r in rows)
    assert len(seen) == 2


def test_messages_waiting_on_the_sim_are_found_by_the_startup_sweep(db, emulator, run_gateway):
    emulator.inject_incoming("+84901234567", "tin nhắn gửi lúc gateway tắt")  # CNMI off: no +CMTI
    assert len(emulator.stored()) == 1
    seen = []
    run_gateway([emulator.port], handlers=[lambda db, m: seen.append(m.text)])
    wait_until(lambda: seen, what="sweep")
    assert seen == ["tin nhắn gửi lúc gateway tắt"]
    wait_until(lambda: emulator.stored() == {}, what="SIM storage emptied")


def test_two_modems_share_the_queue_and_keep_each_message_on_one_sim(db, run_gateway):
    with Emulator(latency_per_part=0.005) as first, Emulator(latency_per_part=0.005) as second:
        run_gateway([first.port, second.port])
        wait_until(lambda: [r["state"] for r in health(db)] == ["ok", "ok"], what="both modems ready")
        phones = [f"+8491300{n:04d}" for n in range(10)]
        outbox.enqueue_many(db, phones, "Ư" * 150, key_prefix="n2")  # 3 parts each
        wait_until(lambda: len(first.sent) + len(second.sent) == 30, what="30 parts")
        assert first.sent and second.sent
        for phone in phones:
            senders = [emu for emu in (first, second) if parts_to(emu, phone)]
            assert len(senders) == 1 and len(parts_to(senders[0], phone)) == 3
            assert senders[0].sent_texts(phone) == ["Ư" * 150]


def test_gateway_refuses_bad_settings(db_path):
    with pytest.raises(GatewayError, match="no modem port"):
        GatewaySettings(ports=())
    with pytest.raises(GatewayError, match="twice"):
        GatewaySettings(ports=("/dev/ttyUSB2", "/dev/ttyUSB2"))
    with pytest.raises(GatewayError, match="prompt_timeout"):
        GatewaySettings(ports=("/dev/ttyUSB2",), prompt_timeout=0)
    with pytest.raises(outbox.OutboxError, match="HH:MM"):
        GatewaySettings(ports=("/dev/ttyUSB2",), quiet_start="9pm")
    with pytest.raises(GatewayError, match="GatewaySettings"):
        Gateway(db_path, ["/dev/ttyUSB2"])


# --- the CLI ------------------------------------------------------------------------------------

def test_cli_send_waits_for_the_gateway_and_reports(tdp, store, config_path, emulator):
    config_path.write_text(config_path.read_text() + '[sms]\nquiet_start = "00:00"\nquiet_end = "00:00"\n',
                           encoding="utf-8")
    gateway = make_gateway(store.path, [emulator.port])
    gateway.start()
    try:
        r = tdp("sms", "send", "--to", "0912 345 678", "--text", NOTICE, "--wait", "20", "--json")
        assert r.code == 0, r.err
        assert r.data["ok"] and r.data["parts_per_message"] == 8 and r.data["encoding"] == "ucs2"
        assert emulator.sent_texts(PHONE) == [NOTICE]
        emulator.fail_next(1, cms=1)
        r = tdp("sms", "send", "--to", "0987654321", "--text", "sai số", "--wait", "20")
        assert r.code == 1 and "NOT SENT" in r.out and "CMS ERROR 1" in r.out
        status = tdp("sms", "status", "--json").data
        assert status["modems"][0]["state"] == "ok" and status["outbox"]["messages"]["failed"] == 1
        listing = tdp("sms", "outbox", "--json").data
        assert [m["state"] for m in listing][:1] == ["failed"]
    finally:
        gateway.stop(10)


def test_cli_send_to_a_group_reaches_consenting_members_only(tdp, store):
    directory.upsert_resident(store, "Nguyễn Thị Lan", "0912000001", groups=["Hội phụ nữ"],
                              consent=Consent(True, "cli"))
    directory.upsert_resident(store, "Trần Thị Hoa", "0912000002", groups=["Hội phụ nữ"],
                              consent=Consent(True, "cli"))
    directory.upsert_resident(store, "Lê Thị Mai", "0912000003", groups=["Hội phụ nữ"])  # no consent
    r = tdp("sms", "send", "--group", "HPN", "--text", "Họp chi hội 19h", "--unaccented", "--json")
    assert r.code == 0, r.err
    assert r.data["recipients"] == 2 and r.data["encoding"] == "gsm7"
    assert sorted(m["to"] for m in outbox.messages(store)) == ["+84912000001", "+84912000002"]


def test_cli_rejects_bad_input_in_one_line(tdp, store):
    r = tdp("sms", "send", "--to", "12345", "--text", "x")
    assert r.code == 1 and r.err.count("\n") == 1 and "12345" in r.err
    r = tdp("sms", "send", "--to", "0912345678", "--text", "Ư" * 800)
    assert r.code == 1 and "--force" in r.err
    r = tdp("sms", "send", "--text", "x")
    assert r.code == 2
    assert outbox.queue_depth(store) == 0


def test_cli_gateway_once_drains_the_queue(tdp, store, config_path, emulator):
    config_path.write_text(config_path.read_text() + '[sms]\nquiet_start = "00:00"\nquiet_end = "00:00"\n',
                           encoding="utf-8")
    outbox.enqueue(store, PHONE, "một lần")
    r = tdp("gateway", "--port", emulator.port, "--once")
    assert r.code == 0, r.err
    assert emulator.sent_texts(PHONE) == ["một lần"]
    assert outbox.queue_depth(store) == 0


def test_cli_gateway_runs_the_emulator_in_process_by_default(tdp, store, config_path):
    config_path.write_text(config_path.read_text() + '[sms]\nquiet_start = "00:00"\nquiet_end = "00:00"\n',
                           encoding="utf-8")
    message_id = outbox.enqueue(store, PHONE, "thử modem giả lập")
    r = tdp("gateway", "--once", "--json")
    assert r.code == 0, r.err
    assert outbox.message(store, message_id)["state"] in ("sent", "delivered")
    assert [(row["port"], row["state"], row["sent"]) for row in health(store)] == [("emulator", "stopped", 1)]


def test_cli_gateway_hands_incoming_sms_to_the_relay(store, config_path, emulator):
    from contextlib import ExitStack

    from kiosk.appliance.wiring import build_gateway
    from kiosk.appliance.config import load

    config_path.write_text(config_path.read_text() + '[sms]\nquiet_start = "00:00"\nquiet_end = "00:00"\n'
                           '[relay]\ngroup_leader_phone = "0912000999"\n', encoding="utf-8")
    config = load(config_path)
    with ExitStack() as stack:
        gateway = build_gateway(config, config.storage.path, [emulator.port], stack, recovery_delays=(0.05,))
        gateway.start()
        stack.callback(gateway.stop, 10)
        emulator.inject_incoming("+84901234567", "Đèn đường ngõ 3 bị hỏng")
        wait_until(lambda: any(m["handled_at"] for m in inbox.messages(store)), what="message handled")
        row = inbox.messages(store)[0]
        assert row["text"] == "Đèn đường ngõ 3 bị hỏng" and row["handler_error"] is None
        assert any(m["source"] == "relay" for m in outbox.messages(store))
