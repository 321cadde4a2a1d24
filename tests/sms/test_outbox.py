"""The durable outbox: idempotency, priorities, quiet hours, retries, rate limit, cancel, expiry,
crash recovery and status reports, on a real SQLite file with a controllable clock."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from sms import outbox
from sms.errors import SmsError
from sms.gateway import open_database
from sms.outbox import OutboxError, Policy

# 10:00 in Hanoi (UTC+7): outside the default 21:00-06:00 quiet hours.
DAY = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)
# 22:00 in Hanoi: inside quiet hours.
NIGHT = datetime(2026, 11, 23, 15, 0, tzinfo=timezone.utc)
PHONE = "+84912345678"
LONG_VI = "Thông báo của tổ dân phố: " + "Đề nghị các hộ gia đình tham gia tổng vệ sinh đường phố. " * 6


@pytest.fixture
def db(tmp_path):
    database = open_database(tmp_path / "outbox.sqlite3")
    yield database
    database.close()


def drain(db, worker="modem-1", now=DAY, policy=outbox.DEFAULT_POLICY):
    """Claim and 'send' every due part; return the parts in the order a modem would send them."""
    sent, ref = [], 0
    part = outbox.claim_next(db, worker, now, policy)
    while part:
        sent.append(part)
        ref += 1
        part = outbox.mark_sent(db, part.id, ref % 256, worker, now, claim_next=True, policy=policy)
    return sent


def test_same_key_queues_once_and_returns_the_first_id(db):
    first = outbox.enqueue(db, PHONE, "Họp tổ lúc 19h", key="notice-7:" + PHONE, now=DAY)
    again = outbox.enqueue(db, PHONE, "Họp tổ lúc 19h (gửi lại)", key="notice-7:" + PHONE, now=DAY)
    assert again == first
    assert outbox.counts(db)["messages"]["queued"] == 1
    assert outbox.message(db, first)["text"] == "Họp tổ lúc 19h"


def test_bad_input_is_refused_with_a_clear_error(db):
    with pytest.raises(OutboxError, match="invalid phone number"):
        outbox.enqueue(db, "0912345678", "xin chào")
    with pytest.raises(OutboxError, match="empty"):
        outbox.enqueue(db, PHONE, "   ")
    with pytest.raises(OutboxError, match="more than the limit of 10") as info:
        outbox.enqueue(db, PHONE, "Ư" * 67 * 11)
    assert isinstance(info.value, SmsError) and isinstance(info.value, ValueError)
    with pytest.raises(OutboxError, match="priority"):
        outbox.enqueue(db, PHONE, "x", priority="asap")
    assert outbox.queue_depth(db) == 0
    forced = outbox.enqueue(db, PHONE, "Ư" * 67 * 11, force=True)
    assert outbox.message(db, forced)["part_count"] == 11


def test_long_vietnamese_is_split_into_joinable_parts(db):
    message_id = outbox.enqueue(db, PHONE, LONG_VI, now=DAY)
    parts = drain(db)
    assert "".join(p.text for p in parts) == LONG_VI
    assert [p.seq for p in parts] == list(range(1, len(parts) + 1))
    assert {p.concat for p in parts} == {(parts[0].concat_ref, len(parts), p.seq) for p in parts}
    assert parts[0].encoding == "ucs2"
    plain = outbox.enqueue(db, PHONE, LONG_VI, unaccented=True, now=DAY)
    assert outbox.message(db, plain)["part_count"] * 2 <= outbox.message(db, message_id)["part_count"] + 1
    assert outbox.message(db, message_id)["state"] == "sent"


def test_urgent_goes_first_then_normal_then_bulk(db):
    bulk = outbox.enqueue(db, PHONE, "bulk", priority="bulk", now=DAY)
    normal = outbox.enqueue(db, PHONE, "normal", now=DAY)
    urgent = outbox.enqueue(db, PHONE, "urgent", priority="urgent", now=DAY)
    assert [p.message_id for p in drain(db)] == [urgent, normal, bulk]


def test_quiet_hours_hold_broadcasts_but_not_urgent_ones_nor_direct_replies(db):
    policy = Policy(quiet_start="21:00", quiet_end="06:00", timezone="Asia/Ho_Chi_Minh")
    (notice,) = outbox.enqueue_many(db, [PHONE], "họp tổ", key_prefix="notice-7", now=NIGHT)
    (alarm,) = outbox.enqueue_many(db, [PHONE], "cháy!", key_prefix="alarm", priority="urgent", now=NIGHT)
    reply = outbox.enqueue(db, "+84987654321", "Ma OTP: 123456", now=NIGHT)
    held = outbox.enqueue(db, "+84987654322", "bản tin", kind="broadcast", now=NIGHT)
    assert sorted(p.message_id for p in drain(db, now=NIGHT, policy=policy)) == sorted([alarm, reply])
    assert outbox.next_due(db, "modem-1", NIGHT, policy) >= 60
    morning = NIGHT + timedelta(hours=9)  # 07:00 local
    assert sorted(p.message_id for p in drain(db, now=morning, policy=policy)) == sorted([notice, held])


def test_transient_errors_back_off_then_give_up_and_fail_the_message(db):
    policy = Policy(max_attempts=3, backoff_base=10, backoff_max=100)
    message_id = outbox.enqueue(db, PHONE, "Ư" * 100, now=DAY)  # 2 parts
    now = DAY
    for attempt, wait in [(1, 10), (2, 20)]:
        part = outbox.claim_next(db, "m", now, policy)
        assert (part.seq, part.attempts) == (1, attempt)
        assert outbox.mark_failed(db, part.id, "CMS 500", permanent=False, now=now, policy=policy) == "queued"
        assert outbox.claim_next(db, "m", now + timedelta(seconds=wait - 1), policy) is None
        now += timedelta(seconds=wait)
    part = outbox.claim_next(db, "m", now, policy)
    assert outbox.mark_failed(db, part.id, "CMS 500", permanent=False, now=now, policy=policy) == "failed"
    found = outbox.message(db, message_id)
    assert found["state"] == "failed"
    assert [p["state"] for p in found["parts"]] == ["failed", "failed"]
    assert "gave up after 3 attempts" in found["parts"][0]["last_error"]
    assert outbox.queue_depth(db) == 0


def test_permanent_error_fails_at_once(db):
    message_id = outbox.enqueue(db, PHONE, "xin chào", now=DAY)
    part = outbox.claim_next(db, "m", DAY)
    outbox.mark_failed(db, part.id, "CMS 28: unidentified subscriber", permanent=True, now=DAY)
    assert outbox.message(db, message_id)["state"] == "failed"
    assert outbox.claim_next(db, "m", DAY + timedelta(days=1)) is None


def test_rate_limit_counts_parts_per_minute_per_modem(db):
    policy = Policy(parts_per_minute=2)
    for n in range(3):
        outbox.enqueue(db, PHONE, f"tin {n}", now=DAY)
    assert len(drain(db, "a", DAY, policy)) == 2
    assert outbox.claim_next(db, "a", DAY + timedelta(seconds=30), policy) is None
    assert outbox.next_due(db, "a", DAY + timedelta(seconds=30), policy) == pytest.approx(30, abs=0.01)
    assert outbox.claim_next(db, "b", DAY, policy) is not None  # another modem has its own budget


def test_cancel_stops_unsent_parts_of_a_broadcast_only(db):
    phones = [f"+8491234{n:04d}" for n in range(5)]
    outbox.enqueue_many(db, phones, "Ư" * 100, key_prefix="notice-9", now=DAY)
    other = outbox.enqueue(db, PHONE, "khác", key="notice-90:x", now=DAY)
    in_flight = outbox.claim_next(db, "m", DAY)
    assert outbox.cancel(db, "notice-9:") == 5
    counts = outbox.counts(db, "notice-9:")
    assert counts["parts"]["sending"] == 1 and counts["parts"]["cancelled"] == 9
    assert outbox.message(db, other)["state"] == "queued"
    outbox.mark_sent(db, in_flight.id, 1, "m", DAY)
    assert outbox.message(db, in_flight.message_id)["state"] == "cancelled"


def test_broadcast_is_idempotent_and_skips_duplicate_recipients(db):
    phones = ["+84912000001", "+84912000002", "+84912000001"]
    ids = outbox.enqueue_many(db, phones, "Họp tổ", key_prefix="n1", now=DAY)
    assert len(ids) == 2
    assert outbox.enqueue_many(db, phones[:2] + ["+84912000003"], "Họp tổ", key_prefix="n1", now=DAY)[:2] == ids
    assert outbox.counts(db, "n1")["messages"]["queued"] == 3
    with pytest.raises(OutboxError, match="invalid phone"):
        outbox.enqueue_many(db, ["+84912000004", "abc"], "x", key_prefix="n2")
    assert outbox.counts(db, "n2")["messages"]["queued"] == 0


def test_parts_not_sent_within_validity_expire(db):
    policy = Policy(validity_hours=1)
    message_id = outbox.enqueue(db, PHONE, "Ư" * 100, now=DAY)
    first = outbox.claim_next(db, "m", DAY, policy)
    outbox.mark_sent(db, first.id, 4, "m", DAY)
    assert outbox.claim_next(db, "m", DAY + timedelta(hours=2), policy) is None
    assert [p["state"] for p in outbox.message(db, message_id)["parts"]] == ["sent", "expired"]
    assert outbox.message(db, message_id)["state"] == "expired"


def test_all_parts_of_a_message_go_through_the_same_modem(db):
    first = outbox.enqueue(db, PHONE, "Ư" * 200, now=DAY)   # 3 parts
    second = outbox.enqueue(db, PHONE, "Ư" * 100, now=DAY)  # 2 parts
    a1 = outbox.claim_next(db, "a", DAY)
    b1 = outbox.claim_next(db, "b", DAY)
    assert (a1.message_id, b1.message_id) == (first, second)
    assert outbox.claim_next(db, "a", DAY) is None  # part 2 waits for part 1; message 2 is b's
    outbox.mark_sent(db, a1.id, 1, "a", DAY)
    outbox.mark_sent(db, b1.id, 1, "b", DAY)
    rest_b = drain(db, "b")
    rest_a = drain(db, "a")
    assert {p.message_id for p in rest_b} == {second} and {p.message_id for p in rest_a} == {first}


def test_recovery_resends_only_parts_without_a_modem_reference(db):
    for n in range(3):
        outbox.enqueue(db, PHONE, f"tin {n}", now=DAY)
    confirmed = outbox.claim_next(db, "a", DAY)
    outbox.mark_sent(db, confirmed.id, 17, "a", DAY)
    lost = outbox.claim_next(db, "a", DAY)      # a died while this was in flight
    alive = outbox.claim_next(db, "b", DAY)     # b is still sending its part
    assert outbox.recover(db, "a", DAY) == 1
    again = outbox.claim_next(db, "a", DAY)
    assert again.id == lost.id and again.attempts == 2
    assert outbox.recover(db, None, DAY + timedelta(seconds=outbox.LEASE_SECONDS - 1)) == 0
    assert outbox.recover(db, None, DAY + timedelta(seconds=outbox.LEASE_SECONDS + 1)) == 2
    assert outbox.message(db, confirmed.message_id)["parts"][0]["message_ref"] == 17
    assert outbox.message(db, alive.message_id)["state"] == "queued"


def test_status_reports_mark_parts_delivered_or_failed(db):
    one = outbox.enqueue(db, PHONE, "một", now=DAY)
    two = outbox.enqueue(db, "+84987654321", "hai", now=DAY)
    drain(db, "m")
    parts = [outbox.message(db, i)["parts"][0] for i in (one, two)]
    assert outbox.apply_status_report(db, parts[0]["message_ref"], "0912345678", delivered=True, final=True,
                                      status=0, worker_id="m", now=DAY) == parts[0]["id"]
    assert outbox.apply_status_report(db, parts[1]["message_ref"], "84987654321", delivered=False, final=True,
                                      status=0x41, worker_id="m", now=DAY) == parts[1]["id"]
    assert outbox.apply_status_report(db, 99, PHONE, delivered=True, final=True, status=0, now=DAY) is None
    assert outbox.message(db, one)["state"] == "delivered"
    assert outbox.message(db, two)["state"] == "failed"
    assert outbox.counts(db)["messages"] == {"queued": 0, "sending": 0, "sent": 0, "delivered": 1,
                                             "failed": 1, "expired": 0, "cancelled": 0}
