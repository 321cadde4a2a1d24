"""SMS gateway benchmarks (run by `make bench` with -s; figures printed).

(b) queue a 10,000-recipient group broadcast in under 0.5 s;
(c) against emulated modems with a fixed latency L per part: N parts take at most 1.02 × N × L
    with one modem (the software adds no waiting of its own), and two modems at most 0.55 of that.
"""
from __future__ import annotations

import time


from kiosk.directory import residents as directory
from sms import outbox
from sms.emulator import Emulator
from sms.gateway import Gateway, GatewaySettings, health, open_database
from sms.segments import segment
from kiosk import clock
from tests.support.waiting import wait_until

NOTICE = ("Thông báo: họp tổ dân phố lúc 19 giờ tối thứ bảy tại nhà văn hoá. Đề nghị các hộ gia đình cử đại "
          "diện tham dự đầy đủ, đúng giờ. Nội dung: bầu tổ trưởng nhiệm kỳ mới, thu quỹ vì người nghèo, "
          "kế hoạch tổng vệ sinh cuối năm và phòng chống cháy nổ dịp Tết.")
# A real modem takes 1.5-10 s per part; 0.2 s keeps the run short while the per-part overhead
# (thread hand-offs across the pty, one SQLite commit) stays visible in the printed figure.
LATENCY = 0.2
PARTS = 32  # 16 two-part messages: an even split between two modems
FAST = dict(quiet_start="00:00", quiet_end="00:00", recovery_delays=(0.05,), backoff_base=0.05)


def test_b_queue_a_10000_recipient_group_broadcast(store):
    group_id = directory.ensure_group(store, "Toàn phường", code="TP")
    stamp = clock.utc_stamp()
    with store.transaction() as conn:  # seeding only: 10,000 consenting residents in one group
        conn.executemany(
            "INSERT INTO residents (full_name, phone, consent, active, created_at, updated_at) VALUES (?,?,1,1,?,?)",
            [(f"Cư dân {n}", f"+84912{n:06d}", stamp, stamp) for n in range(10_000)])
        conn.execute("INSERT INTO memberships (resident_id, group_id) SELECT id, ? FROM residents", (group_id,))
    started = time.perf_counter()
    recipients = directory.recipients(store, "TP")
    ids = outbox.enqueue_many(store, recipients, NOTICE, key_prefix="notice-42", priority="bulk")
    elapsed = time.perf_counter() - started
    parts = segment(NOTICE).count
    print(f"\n(b) broadcast to {len(ids):,} recipients ({parts} UCS-2 parts each, {len(ids) * parts:,} parts) "
          f"queued in {elapsed * 1000:.0f} ms (target < 500 ms)")
    assert len(set(ids)) == 10_000
    assert outbox.queue_depth(store) == 10_000 * parts
    assert elapsed < 0.5


def _send_time(tmp_path, modems: int) -> float:
    """Seconds from queueing PARTS parts to the last +CMGS, with an idle gateway already running."""
    db_path = tmp_path / f"bench-{modems}-{time.monotonic_ns()}.sqlite3"
    db = open_database(db_path)
    emulators = [Emulator(latency_per_part=LATENCY) for _ in range(modems)]
    ports = [emulator.start() for emulator in emulators]
    gateway = Gateway(db_path, GatewaySettings(ports=tuple(ports), **FAST))
    gateway.start()
    try:
        wait_until(lambda: len([r for r in health(db) if r["state"] == "ok"]) == modems, 10, "modems ready")
        phones = [f"+84913{n:06d}" for n in range(PARTS // 2)]
        started = time.monotonic()
        outbox.enqueue_many(db, phones, "Ư" * 100, key_prefix="bench")  # 2 parts each
        wait_until(lambda: sum(len(e.sent) for e in emulators) >= PARTS, 60, "all parts sent")
        finished = max(part.time for e in emulators for part in e.sent)
        assert sorted(p.number for e in emulators for p in e.sent) == sorted(phones * 2)
        return finished - started
    finally:
        gateway.stop(10)
        for emulator in emulators:
            emulator.stop()
        db.close()


def _best_of(runs: int, measure, good_enough) -> tuple[float, list[float]]:
    """Best time of up to `runs` runs, stopping at the first good enough: other processes on a
    shared machine only ever add time, never remove it (the timeit convention)."""
    times = []
    for _ in range(runs):
        times.append(measure())
        if good_enough(times[-1]):
            break
    return min(times), times


def test_c_sending_adds_no_waiting_of_its_own(tmp_path):
    bound = PARTS * LATENCY
    one, one_runs = _best_of(3, lambda: _send_time(tmp_path, 1), lambda t: t <= 1.02 * bound)
    two, two_runs = _best_of(3, lambda: _send_time(tmp_path, 2), lambda t: t <= 0.55 * one)
    print(f"\n(c) {PARTS} parts at L = {LATENCY * 1000:.0f} ms/part: one modem {one:.3f} s "
          f"= {one / bound:.4f} × N×L (target ≤ 1.02); two modems {two:.3f} s = {two / one:.3f} of one modem "
          f"(target ≤ 0.55); software overhead {(one - bound) / PARTS * 1000:.2f} ms/part "
          f"(runs: {', '.join(f'{t:.3f}' for t in one_runs)} / {', '.join(f'{t:.3f}' for t in two_runs)} s)")
    assert one <= 1.02 * bound
    assert two <= 0.55 * one
