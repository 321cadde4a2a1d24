"""SMS gateway benchmarks under real modem faults (run by `make bench` with -s; figures printed).

(e) a spontaneous reboot costs seconds: RDY → next part sent ≤ 3 s over the UART, and port back →
    next part sent ≤ 3 s over USB;
(f) a 40-part broadcast to 20 phones with a +CMS error every 4th send, a hang every 25th, a reboot
    every 9th part, noise between lines and one `kill -9` of the gateway process finishes within
    2 × (its fault-free time + boot times), every part sent once but at most the one in flight;
(g) a simulated week, 2,000 messages a day with faults, in accelerated time: resident memory flat
    (±10 %), the database bounded by retention, and the bytes an idle gateway writes per hour.
"""
from __future__ import annotations

import gc
import signal
import time
from collections import Counter
from datetime import timedelta

from kiosk.appliance.store import open_store
from sms import health as modem_health, inbox, outbox
from sms.emulator import Emulator
from sms.gateway import Gateway, GatewaySettings, health, open_database
from sms.pdu import decode, encode_deliver
from tests.sms.test_crash_safety import start_gateway
from tests.support.waiting import wait_until

FAST = dict(quiet_start="00:00", quiet_end="00:00", backoff_base=0.2, backoff_max=2.0, recovery_delays=(0.2,),
            max_attempts=8)
# The time a real SIM7600 takes per part is 1.5-10 s; 0.2 s keeps the runs short.
LATENCY = 0.2


def _rss_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))


def _first_sent_after(emulator, moment):
    return min((p.time for p in emulator.sent if p.time > moment), default=None)


def test_e_a_reboot_costs_seconds_uart_and_usb(tmp_path):
    db_path = tmp_path / "reboot.sqlite3"
    db = open_database(db_path)
    phones = [f"+84916{n:06d}" for n in range(30)]
    with Emulator(latency_per_part=LATENCY) as emulator:
        # A SIM7600 brown-out: ~2 s deaf, RDY, the SIM busy 1 s, SMS DONE 0.5 s later.
        emulator.sim_ready_seconds, emulator.sms_ready_seconds = 1.0, 0.5
        gateway = Gateway(db_path, GatewaySettings(ports=(emulator.port,), **FAST))
        gateway.start()
        try:
            wait_until(lambda: [r["state"] for r in health(db)] == ["ok"], 10, "modem ready")
            outbox.enqueue_many(db, phones[:15], "Họp tổ 19h", key_prefix="uart")
            emulator.reboot_after_ack(every=5, deaf_seconds=2.0)
            wait_until(lambda: len(emulator.sent) >= 15, 60, "UART broadcast sent")
            emulator.reboot_after_ack(every=0)
            uart = [_first_sent_after(emulator, boot) - boot for boot in emulator.boots
                    if _first_sent_after(emulator, boot) is not None]
            outbox.enqueue_many(db, phones[15:], "Họp tổ 19h", key_prefix="usb")
            wait_until(lambda: len(emulator.sent) >= 17, 20, "USB broadcast started")
            usb = []
            confirmed = lambda: db.scalar("SELECT COUNT(*) FROM outbox_parts WHERE state IN ('sent', 'delivered')")  # noqa: E731
            for _ in range(3):
                # Vanish between acknowledgements (a part the modem sent but could not confirm
                # before its port went would be sent again: that is the one duplicate USB allows).
                wait_until(lambda: confirmed() == len(emulator.sent), 10, "acknowledged")
                emulator.replugs.clear()
                emulator.vanish(2.0)  # ttyUSB gone, back 2 s later (10-20 s on a real one)
                wait_until(lambda: emulator.replugs, 10, "port back")
                back = emulator.replugs[-1]
                wait_until(lambda: _first_sent_after(emulator, back), 20, "a part after the port returned")
                usb.append(_first_sent_after(emulator, back) - back)
            wait_until(lambda: outbox.queue_depth(db) == 0, 60, "queue drained")
        finally:
            gateway.stop(10)
            db.close()
        parts = Counter(p.number for p in emulator.sent)
    print(f"\n(e) RDY → next part sent: max {max(uart):.2f} s over {len(uart)} reboots "
          f"(mean {sum(uart) / len(uart):.2f} s; the emulated SIM is busy 1.5 s after RDY; target ≤ 3 s); "
          f"USB port back → next part sent: max {max(usb):.2f} s over {len(usb)} re-enumerations (target ≤ 3 s)")
    assert len(uart) >= 2 and max(uart) <= 3.0
    assert max(usb) <= 3.0
    assert set(parts.values()) == {1} and len(parts) == len(phones)


def _broadcast_run(tmp_path, name: str, faults: bool) -> dict:
    """Run a 40-part broadcast to 20 phones through `tdp gateway` processes; with `faults`, the
    modem misbehaves and the first process is killed with SIGKILL after 15 parts."""
    db_path = tmp_path / f"{name}.sqlite3"
    phones = [f"+84917{n:06d}" for n in range(20)]
    text = "Thông báo: cắt nước ngày mai " * 4  # 2 UCS-2 parts
    log_path = tmp_path / f"{name}.log"
    with Emulator(latency_per_part=LATENCY) as emulator:
        config = tmp_path / f"{name}.toml"
        config.write_text(
            f'[storage]\npath = "{db_path}"\n[modem]\nport = "{emulator.port}"\n'
            '[sms]\nquiet_start = "00:00"\nquiet_end = "00:00"\nretry_seconds = 0.2\n'
            "recovery_seconds = 0.2\nmax_attempts = 8\n", encoding="utf-8")
        db = open_store(db_path)
        if faults:
            emulator.sim_ready_seconds, emulator.sms_ready_seconds = 1.0, 0.5
            emulator.noise = True
            emulator.schedule(cms_every=4, cms=500, hang_every=25)
            emulator.reboot_after_ack(every=9, deaf_seconds=2.0)
        started = time.monotonic()
        process = start_gateway(config, log_path)
        boots = []
        try:
            wait_until(lambda: health(db) and health(db)[0]["state"] == "ok", 30, "gateway up")
            boots.append(time.monotonic() - started)
            outbox.enqueue_many(db, phones, text, key_prefix="notice")
            queued = time.monotonic()
            in_flight = 0
            if faults:
                wait_until(lambda: len(emulator.sent) >= 15, 60, "15 parts")
                in_flight = outbox.counts(db, "notice")["parts"]["sending"]
                process.send_signal(signal.SIGKILL)
                process.wait(10)
                restarted = time.monotonic()
                process = start_gateway(config, log_path)
                wait_until(lambda: health(db)[0]["state"] == "ok" and health(db)[0]["pid"] == process.pid, 30,
                           "gateway up again")
                boots.append(time.monotonic() - restarted)
            wait_until(lambda: outbox.queue_depth(db) == 0, 300, "queue drained")
            finished = max(p.time for p in emulator.sent)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(20)
            db.close()
        parts = Counter((p.number, p.concat[2]) for p in emulator.sent)
        return dict(seconds=finished - queued, boots=boots, parts=parts, in_flight=in_flight,
                    modem_boots=len(emulator.boots), phones=phones, log=log_path)


def test_f_a_faulty_broadcast_with_a_kill_9_finishes_within_twice_the_fault_free_time(tmp_path):
    clean = _broadcast_run(tmp_path, "clean", faults=False)
    faulty = _broadcast_run(tmp_path, "faulty", faults=True)
    # Boot times: the gateway processes' start-up, plus each modem reboot (2 s deaf, 1.5 s SIM).
    boot_time = sum(clean["boots"]) + sum(faulty["boots"]) + faulty["modem_boots"] * 3.5
    bound = 2 * (clean["seconds"] + boot_time)
    twice = [part for part, n in faulty["parts"].items() if n > 1]
    print(f"\n(f) 40 parts to 20 phones: fault-free {clean['seconds']:.1f} s; with a CMS error every 4th send, "
          f"a hang every 25th, {faulty['modem_boots']} reboots, noise and one kill -9: {faulty['seconds']:.1f} s "
          f"(bound 2 × (fault-free + boot times {boot_time:.1f} s) = {bound:.1f} s); parts sent twice: {len(twice)} "
          f"(in flight at the kill: {faulty['in_flight']})")
    assert sorted(faulty["parts"]) == sorted((phone, seq) for phone in faulty["phones"] for seq in (1, 2))
    assert len(twice) <= min(1, faulty["in_flight"]) and all(faulty["parts"][p] == 2 for p in twice)
    assert faulty["seconds"] <= bound, faulty["log"].read_text(errors="replace")[-3000:]


def _incoming(db, day_start, n, day):
    """`n` residents' texts received on simulated day `day`, stored and handled as the gateway does."""
    for i in range(n):
        pdu = encode_deliver(f"+849180{i % 50:05d}", f"HUY ngày {day} số {i}", timestamp=day_start)
        inbox.store(db, decode(pdu), pdu, port="sim", now=day_start + timedelta(minutes=i))
    inbox.dispatch(db, [lambda db, m: None], now=day_start)


def _wal_frames(db) -> int:
    return db.query_one("PRAGMA wal_checkpoint(PASSIVE)")["log"]


def test_g_a_simulated_week_keeps_memory_flat_and_the_database_bounded(tmp_path):
    days, per_day, retention_days = 7, 2000, 2
    db_path = tmp_path / "week.sqlite3"
    db = open_database(db_path)
    emulators = [Emulator(latency_per_part=0.0) for _ in range(2)]
    ports = tuple(e.start() for e in emulators)
    settings = GatewaySettings(ports=ports, **FAST, health_seconds=0.5)
    gateway = Gateway(db_path, settings, handlers=[])
    gateway.start()
    rss, sizes, sent_total = [], [], 0
    try:
        wait_until(lambda: [r["state"] for r in health(db)] == ["ok", "ok"], 10, "modems ready")
        start = outbox.utcnow()
        for day in range(days):
            moment = start + timedelta(days=day)  # the week's clock runs ahead of the wall clock
            emulators[day % 2].schedule(cms_every=97, cms=42)
            emulators[day % 2].reboot_after_ack(every=400, deaf_seconds=0.2)
            phones = [f"+84919{n:06d}" for n in range(per_day - 200)]
            for batch in range(0, len(phones), 300):  # notices, in broadcasts of 300
                outbox.enqueue_many(db, phones[batch:batch + 300], f"Thông báo ngày {day}",
                                    key_prefix=f"d{day}:b{batch}", now=moment)
            for n in range(200):  # replies and codes, one by one
                outbox.enqueue(db, f"+84918{n:06d}", f"Ma xac nhan {n:06d}", now=moment)
            _incoming(db, moment, 100, day)
            wait_until(lambda: outbox.queue_depth(db) == 0, 300, f"day {day} sent")
            sent_total += per_day
            # The housekeeping's purge, at the simulated clock (the gateway runs it hourly).
            outbox.purge(db, retention_days, now=moment)
            inbox.purge(db, retention_days, now=moment)
            for emulator in emulators:  # the emulators' own records are the test's, not the gateway's
                emulator.clear_records()
            gc.collect()
            rss.append(_rss_kib())
            sizes.append(db.scalar("PRAGMA page_count") * db.scalar("PRAGMA page_size")
                         - db.scalar("PRAGMA freelist_count") * db.scalar("PRAGMA page_size"))
        for emulator in emulators:
            emulator.schedule()
            emulator.reboot_after_ack(every=0)
        # Idle: count the WAL frames an idle gateway appends while its health checks run 2/s,
        # and what one health row rewrite (the 10-minute heartbeat) costs.
        idle_rounds = lambda: sum(e.commands.count("AT+CSQ") for e in emulators)  # noqa: E731
        wait_until(lambda: all(r["queue_depth"] == 0 for r in health(db)), 10, "health rows settled")
        db.query_one("PRAGMA wal_checkpoint(TRUNCATE)")
        rounds_before = idle_rounds()
        wait_until(lambda: idle_rounds() >= rounds_before + 40, 60, "40 idle health rounds")
        frames = _wal_frames(db)
        rounds = idle_rounds() - rounds_before
        db.query_one("PRAGMA wal_checkpoint(TRUNCATE)")
        modem_health.write(db, "probe", "ok")
        frames_per_write = _wal_frames(db)
    finally:
        gateway.stop(10)
        for emulator in emulators:
            emulator.stop()
    page = db.scalar("PRAGMA page_size")
    db.close()
    # Per idle hour at the default 30 s health period, 2 modems, each frame written twice: to the
    # WAL (page + 24 B header) and by the checkpoint into the database file.
    per_round = frames / max(1, rounds)
    frame_bytes = 2 * page + 24
    idle_bytes_hour = (per_round * (3600 / 30) + frames_per_write * 3600 / 600) * 2 * frame_bytes
    settled = rss[retention_days:]
    spread = (max(settled) - min(settled)) / min(settled)
    print(f"\n(g) simulated week, {per_day:,} messages/day ({sent_total:,} in all) with CMS errors and reboots: "
          f"RSS after each day {', '.join(f'{r / 1024:.0f}' for r in rss)} MiB (spread after day {retention_days}: "
          f"{spread * 100:.1f} %, target ±10 %); live database after each day "
          f"{', '.join(f'{s / 2**20:.1f}' for s in sizes)} MiB (retention {retention_days} days); idle gateway writes "
          f"{per_round:.2f} WAL frames per health round → {idle_bytes_hour / 1024:.0f} KiB per idle hour "
          f"(2 modems, health every 30 s, unchanged rows rewritten every 10 min)")
    assert spread <= 0.10
    assert max(sizes[retention_days + 1:]) <= 1.15 * sizes[retention_days]
    assert db_path.stat().st_size < 4 * max(sizes)
