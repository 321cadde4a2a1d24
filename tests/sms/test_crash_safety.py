"""Crash safety with real processes: kill -9 of a gateway mid-broadcast under modem faults, and
several processes writing and draining one outbox file at once."""
from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from collections import Counter


from kiosk.appliance.store import open_store
from sms import outbox
from sms.emulator import Emulator
from sms.gateway import open_database
from tests.support.waiting import wait_until

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NO_QUIET = outbox.Policy(quiet_start="00:00", quiet_end="00:00")


def start_gateway(config_path, log_path):
    log = open(log_path, "ab")
    return subprocess.Popen([sys.executable, "-m", "kiosk", "--config", str(config_path), "gateway"],
                            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)


def test_broadcast_survives_modem_faults_and_kill_9_with_each_part_sent_once(tmp_path):
    db_path = tmp_path / "tdp.sqlite3"
    phones = [f"+8491500{n:04d}" for n in range(15)]
    text = "Thông báo khẩn: cắt điện " * 5  # 125 characters of Vietnamese: 2 UCS-2 parts
    with Emulator(latency_per_part=0.005) as emulator:
        config = tmp_path / "tdp.toml"
        config.write_text(
            f'[storage]\npath = "{db_path}"\n[modem]\nport = "{emulator.port}"\n'
            '[sms]\nquiet_start = "00:00"\nquiet_end = "00:00"\nretry_seconds = 0.05\n'
            "recovery_seconds = 0.05\nsend_timeout_seconds = 30\nmax_attempts = 8\n", encoding="utf-8")
        db = open_store(db_path)
        outbox.enqueue_many(db, phones, text, key_prefix="notice-1")
        total = 2 * len(phones)
        for code in (500, 38, 42):
            emulator.fail_next(1, cms=code)
        first = start_gateway(config, tmp_path / "gateway.log")
        try:
            emulator.wait_for_sent(8, timeout=20)
            emulator.no_answer_next(1)  # the next AT+CMGS hangs: that part is in flight, unconfirmed
            # The emulator has no public "swallowed" flag: its fault counter reaching 0 is the signal.
            wait_until(lambda: emulator._swallow == 0, what="the hung send")
            wait_until(lambda: outbox.counts(db, "notice-1")["parts"]["sending"] == 1, what="a part in flight")
            sent_at_kill = len(emulator.sent)
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        finally:
            first.kill()
        sent_before_restart = len(emulator.sent)
        assert sent_before_restart == sent_at_kill  # the hung part never reached the network
        assert sent_before_restart < total

        second = start_gateway(config, tmp_path / "gateway.log")
        try:
            emulator.wait_for_sent(sent_before_restart + 4, timeout=20)
            emulator.reboot()  # and a spontaneous modem reboot while the broadcast goes on
            wait_until(lambda: outbox.queue_depth(db) == 0, timeout=30, what="queue drained")
            second.send_signal(signal.SIGTERM)
            assert second.wait(20) == 0
        finally:
            second.kill()

        log = (tmp_path / "gateway.log").read_text(encoding="utf-8", errors="replace")
        parts = Counter((p.number, p.concat[2]) for p in emulator.sent)
        assert len(emulator.sent) == total, log[-3000:]
        assert set(parts.values()) == {1}
        for phone in phones:
            assert emulator.sent_texts(phone) == [text]
        counts = outbox.counts(db, "notice-1")["messages"]
        assert counts["sent"] + counts["delivered"] == len(phones)
        attempts = db.scalar("SELECT MAX(attempts) FROM outbox_parts")
        assert attempts >= 2
        db.close()


# --- several processes on one file ---------------------------------------------------------------

def _writer(path: str, worker: int, phones: list[str]) -> None:
    db = open_database(path)
    outbox.enqueue_many(db, phones, "Ư" * 100, key_prefix="broadcast")  # the same broadcast from all
    for n in range(40):
        outbox.enqueue(db, f"+849160{worker:02d}{n:03d}", f"tin {worker}-{n}", key=f"w{worker}-{n}")
        outbox.enqueue(db, "+84916999999", "trùng", key=f"shared-{n}")  # the same 40 keys from all
    db.close()


def _drainer(path: str, worker: str, expected: int, results) -> None:
    db = open_database(path)
    claimed = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        part = outbox.claim_next(db, worker, policy=NO_QUIET)
        if part is None:
            if db.scalar("SELECT COUNT(*) FROM outbox_parts WHERE state = 'sent'") >= expected:
                break
            time.sleep(0.002)
            continue
        claimed.append(part.id)
        outbox.mark_sent(db, part.id, len(claimed) % 256, worker)
    results.put((worker, claimed))
    db.close()


def test_processes_writing_and_draining_at_once_never_lose_or_duplicate(tmp_path):
    path = str(tmp_path / "shared.sqlite3")
    open_database(path).close()
    phones = [f"+8491700{n:04d}" for n in range(60)]
    expected = 60 * 2 + 3 * 40 + 40
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    writers = [context.Process(target=_writer, args=(path, w, phones[w:] + phones[:w])) for w in range(3)]
    drainers = [context.Process(target=_drainer, args=(path, f"modem-{d}", expected, results)) for d in range(2)]
    for process in writers + drainers:
        process.start()
    claimed = dict(results.get(timeout=90) for _ in drainers)
    for process in writers + drainers:
        process.join(30)
        assert process.exitcode == 0
    db = open_database(path)
    assert db.scalar("SELECT COUNT(*) FROM outbox_messages") == 60 + 120 + 40
    assert db.scalar("SELECT COUNT(*) FROM outbox_parts") == expected
    everything = claimed["modem-0"] + claimed["modem-1"]
    assert len(everything) == len(set(everything)) == expected
    assert outbox.counts(db)["parts"]["sent"] == expected
    db.close()
