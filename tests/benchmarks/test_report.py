"""Benchmark: the ward report over one year (50,000 requests, 200,000 SMS parts) in under 2 s."""
from __future__ import annotations

import random
import time
from datetime import date, datetime, timedelta, timezone

from kiosk.appliance import config as config_module
from kiosk.reports import ward as report
from kiosk.reports import export as report_export
from kiosk.volunteers import rota
from kiosk.appliance.store import open_store

REQUESTS = 50_000
SMS_MESSAGES = 100_000  # two parts each
TICKETS = 6_000
RATINGS = 20_000
TARGET_SECONDS = 2.0
YEAR_START = datetime(2025, 1, 1, tzinfo=timezone(timedelta(hours=7)))  # local midnight in Vietnam
CHANNELS = ("kiosk", "home", "sms", "in_person")
PART_STATES = ("delivered", "delivered", "delivered", "sent", "failed", "expired", "queued")


def stamp(rng: random.Random) -> str:
    moment = YEAR_START + timedelta(seconds=rng.randrange(365 * 86400))
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds")


def fill_a_year(store) -> None:
    rng = random.Random(2025)
    with store.transaction() as conn:
        conn.executemany(
            "INSERT INTO dossiers (code, procedure_code, procedure_name, full_name, phone, channel, online, status,"
            " created_at, updated_at) VALUES (?, ?, ?, 'Nguyễn Văn Dân', '+84912345678', ?, ?, 'received', ?, ?)",
            ((f"TDP1-BENCH-{i:06d}", f"P{i % 12:02d}", f"Thủ tục số {i % 12}", channel,
              int(channel != "in_person"), at, at)
             for i in range(REQUESTS)
             for channel, at in [(rng.choice(CHANNELS), stamp(rng))]))
        body = conn.execute("INSERT INTO outbox_bodies (text, encoding, part_count, parts)"
                            " VALUES ('x', 'ucs2', 2, '[\"x\", \"y\"]')").lastrowid
        conn.executemany(
            "INSERT INTO outbox_messages (id, key, recipient, body_id, priority, created_at, created_ts)"
            " VALUES (?, NULL, '+84912345678', ?, 1, ?, 0)",
            ((i, body, stamp(rng)) for i in range(1, SMS_MESSAGES + 1)))
        parts = []
        for message_id in range(1, SMS_MESSAGES + 1):
            state = rng.choice(PART_STATES)
            sent = "2025-06-01T00:00:00+00:00" if state in ("delivered", "sent", "failed") else None
            parts += [(message_id, seq, state, sent) for seq in (1, 2)]
        conn.executemany("INSERT INTO outbox_parts (message_id, seq, priority, state, sent_at) VALUES (?, ?, 1, ?, ?)",
                         parts)
        conn.executemany(
            "INSERT INTO volunteers (name, name_key, phone, team, created_at, updated_at)"
            " VALUES (?, ?, ?, 'Đoan Trai', '2025-01-01', '2025-01-01')",
            ((f"Tình nguyện viên {n}", f"tinhnguyenvien{n}", f"+8490500{n:04d}") for n in range(40)))
        conn.executemany(
            "INSERT INTO help_tickets (day, number, source, status, volunteer_id, created_at, closed_at, procedure,"
            " channel, submitted_online, minutes) VALUES (?, ?, ?, 'closed', ?, ?, ?, 'Khai sinh', 'online_kiosk', 1, 20)",
            ((f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}", i, rng.choice(("kiosk", "sms", "home_visit")),
              1 + i % 40, at, at) for i in range(TICKETS) for at in [stamp(rng)]))
        conn.executemany("INSERT INTO ratings (service, day, score) VALUES (?, ?, ?)",
                         ((rng.choice(("request", "guide", "help")), f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}",
                           rng.randint(1, 4)) for i in range(RATINGS)))
        conn.executemany("INSERT INTO volunteer_attendance (volunteer_id, checked_in_at, checked_out_at, minutes)"
                         " VALUES (?, ?, ?, 180)", ((1 + i % 40, at, at) for i in range(4_000) for at in [stamp(rng)]))
    config = config_module.from_dict({})
    rota.ensure_shifts(store, config, date(2025, 1, 1), date(2025, 12, 31))
    with store.transaction() as conn:
        shift_ids = [r[0] for r in conn.execute("SELECT id FROM rota_shifts")]
        conn.executemany("INSERT INTO rota_assignments (shift_id, volunteer_id, assigned_at) VALUES (?, ?, '2025')",
                         ((shift, 1 + (shift * 7 + k) % 40) for shift in shift_ids for k in range(rng.randint(0, 2))))


def test_a_year_report_in_under_two_seconds(tmp_path):
    store = open_store(tmp_path / "bench.sqlite3")
    try:
        started = time.perf_counter()
        fill_a_year(store)
        filled = time.perf_counter() - started
        config = config_module.from_dict({})

        started = time.perf_counter()
        data = report.build(store, config, date(2025, 1, 1), date(2025, 12, 31))
        built = time.perf_counter() - started
        started = time.perf_counter()
        report_export.write(data, tmp_path / "year.xlsx")
        xlsx = time.perf_counter() - started
        started = time.perf_counter()
        report_export.write(data, tmp_path / "year.pdf")
        pdf = time.perf_counter() - started
    finally:
        store.close()

    parts = data["sms"]["parts"]
    print(f"\nreport benchmark: {data['requests']['total']:,} requests, {parts:,} SMS parts "
          f"(filled in {filled:.1f} s)")
    print(f"  report.build over a year: {built * 1000:.0f} ms (target < {TARGET_SECONDS * 1000:.0f} ms)")
    print(f"  + xlsx with charts: {xlsx * 1000:.0f} ms; + pdf with charts: {pdf * 1000:.0f} ms")
    print(f"  online share {data['requests']['online_share']:.1%}, {len(data['weekly'])} weeks, "
          f"{data['volunteers']['sessions']} rota sessions, {data['satisfaction']['responses']:,} ratings")
    assert data["requests"]["total"] == REQUESTS and parts == 2 * SMS_MESSAGES
    assert built + xlsx < TARGET_SECONDS
