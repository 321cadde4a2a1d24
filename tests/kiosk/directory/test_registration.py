"""Registering a household: the phone is proved by a texted code before anything counts."""
import re
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest

from kiosk.appliance.store import open_store

from kiosk.directory import residents as directory
from kiosk.directory import registration
from kiosk.errors import InvalidInput, RateLimited
from kiosk.directory.registration import Member, OtpLimits
from sms import outbox


def _texted_code(store, phone="+84912345678") -> str:
    message = outbox.messages(store, to=phone)[0]
    return re.search(r"\b(\d{6})\b", message["text"]).group(1)


def test_code_is_texted_and_registration_counts_after_it(store):
    verification = registration.send_code(store, "0912 345 678")
    code = _texted_code(store)
    with pytest.raises(InvalidInput, match="not been verified"):
        registration.register_household(store, verification, head_name="Trần Văn Bình", address="Số 3 ngõ 5")
    assert registration.check_code(store, verification, code).outcome == "ok"
    result = registration.register_household(
        store, verification, head_name="Trần  Văn Bình", address="Số 3 ngõ 5",
        members=[Member("Trần Thị Lan"), Member("Trần Minh Khôi", "0987 654 321")], groups=["Hội phụ nữ"])
    head = directory.resident_by_phone(store, "0912345678")
    assert head["full_name"] == "Trần Văn Bình" and head["consent"] == 1 and head["consent_method"] == "kiosk"
    assert head["household_id"] == result["household_id"]
    # A member's own phone is stored but not texted until that member consents.
    member = directory.resident_by_phone(store, "0987654321")
    assert member["consent"] == 0
    assert directory.recipients(store, "HPN") == ["+84912345678"]


def test_three_wrong_codes_retire_the_code_and_nothing_is_texted_until_asked(store):
    verification = registration.send_code(store, "0912345678")
    first = _texted_code(store)
    wrong = "000000" if first != "000000" else "111111"
    assert registration.check_code(store, verification, wrong).tries_left == 2
    assert registration.check_code(store, verification, wrong).tries_left == 1
    assert registration.check_code(store, verification, wrong).outcome == "retired"
    # Retired means retired: even the right code no longer works, and no new SMS went out.
    assert registration.check_code(store, verification, first).outcome == "retired"
    assert len(outbox.messages(store, to="+84912345678")) == 1


def test_thirty_wrong_codes_and_ten_taps_text_the_victim_at_most_the_hourly_limit(store):
    """The review's OTP bombing (t_otp.py): 10 "send" taps and 30 wrong codes had queued 20 SMS."""
    start = datetime(2026, 12, 3, 20, 0, tzinfo=timezone.utc)  # 03:00 in Hà Nội: quiet hours
    sent = []
    for tap in range(10):
        try:
            sent.append(registration.send_code(store, "0988777666", now=start + timedelta(seconds=tap)))
        except RateLimited:
            pass
    for _ in range(30):
        registration.check_code(store, sent[-1], "000000")
    queued = outbox.messages(store, to="+84988777666")
    assert len(queued) == 1 and queued[0]["priority"] == "urgent"  # cool-down; it still goes out at night


def test_resend_applies_the_cool_down_and_the_hourly_limit_and_says_how_long_to_wait(store):
    limits = OtpLimits(per_phone_per_hour=3, per_kiosk_per_hour=20, cooldown_seconds=60)
    start = datetime.now(timezone.utc).replace(microsecond=0)
    first = registration.send_code(store, "0912345678", limits=limits, now=start)
    with pytest.raises(RateLimited) as refused:
        registration.resend_code(store, first, limits=limits, now=start + timedelta(seconds=15))
    assert refused.value.wait_seconds == 45 and refused.value.vietnamese == (
        "Đã gửi nhiều mã. Xin chờ 45 giây rồi bấm Gửi lại mã.")
    second = registration.resend_code(store, first, limits=limits, now=start + timedelta(seconds=61))
    assert registration.check_code(store, first, "123456").outcome == "retired"
    third = registration.resend_code(store, second, limits=limits, now=start + timedelta(seconds=122))
    with pytest.raises(RateLimited) as refused:  # 3 an hour: the 4th waits until the first is an hour old
        registration.resend_code(store, third, limits=limits, now=start + timedelta(seconds=200))
    assert refused.value.wait_seconds == 3600 - 200
    assert "phút" in refused.value.vietnamese
    assert len(outbox.messages(store, to="+84912345678")) == 3
    fourth = registration.resend_code(store, third, limits=limits, now=start + timedelta(seconds=3601))
    assert fourth > third


def test_the_kiosk_as_a_whole_texts_at_most_its_hourly_limit(store):
    limits = OtpLimits(per_phone_per_hour=3, per_kiosk_per_hour=5, cooldown_seconds=60)
    start = datetime.now(timezone.utc)
    for n in range(5):
        registration.send_code(store, f"09123450{n:02d}", limits=limits, now=start)
    with pytest.raises(RateLimited):
        registration.send_code(store, "0912345099", limits=limits, now=start)
    assert outbox.queue_depth(store) == 5


def test_concurrent_taps_from_several_processes_cannot_get_past_the_limit(tmp_path):
    """Two kiosk screens (or a script) tapping at once: the grant is one SQL statement."""
    path = tmp_path / "tdp.sqlite3"
    open_store(path).close()
    with ProcessPoolExecutor(4) as pool:
        outcomes = list(pool.map(_tap, [str(path)] * 16))
    assert outcomes.count("sent") == 3
    with open_store(path) as db:
        assert db.scalar("SELECT COUNT(*) FROM outbox_messages") == 3


def _tap(path: str) -> str:
    with open_store(path) as db:
        try:
            registration.send_code(db, "0912345678", limits=OtpLimits(3, 20, 0))
            return "sent"
        except RateLimited:
            return "refused"


def test_a_verification_registers_one_household_only(store):
    verification = registration.send_code(store, "0912345678", code="123456")
    registration.check_code(store, verification, "123456")
    registration.register_household(store, verification, head_name="Lê Văn An", address="Số 1")
    with pytest.raises(InvalidInput, match="already used"):
        registration.register_household(store, verification, head_name="Lê Văn An", address="Số 1")


def test_invalid_phone_is_refused_before_any_sms(store):
    with pytest.raises(InvalidInput, match="landline"):
        registration.send_code(store, "024 3826 1234")
    assert outbox.queue_depth(store) == 0
