"""Registering a household: the phone is proved by a texted code before anything counts."""
import re

import pytest

from kiosk.directory import residents as directory
from kiosk.directory import registration
from kiosk.errors import InvalidInput
from kiosk.directory.registration import Member
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


def test_three_wrong_codes_send_a_fresh_one(store):
    verification = registration.send_code(store, "0912345678")
    first = _texted_code(store)
    wrong = "000000" if first != "000000" else "111111"
    assert registration.check_code(store, verification, wrong).tries_left == 2
    assert registration.check_code(store, verification, wrong).tries_left == 1
    result = registration.check_code(store, verification, wrong)
    assert result.outcome == "new_code" and result.verification_id != verification
    assert len(outbox.messages(store, to="+84912345678")) == 2
    # The old code no longer works on the new verification unless it happens to be the same.
    fresh = [m for m in outbox.messages(store, to="+84912345678") if m["key"] == f"otp:{result.verification_id}"]
    code = re.search(r"\b(\d{6})\b", fresh[0]["text"]).group(1)
    assert registration.check_code(store, result.verification_id, code).outcome == "ok"


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
