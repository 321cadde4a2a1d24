"""The kiosk's notice board (kiosk/notices.py) on the real store."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from kiosk.notices import board as notices
from kiosk.errors import InvalidInput, NotFound


def test_current_shows_newest_first_without_expired_or_cancelled(store):
    now = datetime.now(timezone.utc)
    old = notices.post(store, "Thông báo cũ", source="local")
    expired = notices.post(store, "Đã hết hạn", source="sms", expires_at=now - timedelta(minutes=1))
    cancelled = notices.post(store, "Sẽ bị hủy", source="local")
    newest = notices.post(store, "  Họp   tổ  19h ", source="hub", external_id="7", urgent=True, group_code="hpn",
                          expires_at=(now + timedelta(days=1)).isoformat())
    assert notices.cancel(store, cancelled) is True
    shown = notices.current(store)
    assert [n["id"] for n in shown] == [newest, old] and expired not in [n["id"] for n in shown]
    assert shown[0]["text"] == "Họp tổ 19h" and shown[0]["urgent"] is True and shown[0]["group_code"] == "HPN"


def test_posting_the_same_external_notice_twice_keeps_one(store):
    first = notices.post(store, "Cắt điện", source="hub", external_id="42")
    again = notices.post(store, "Cắt điện", source="hub", external_id="42")
    assert first == again and len(notices.current(store)) == 1
    assert notices.post(store, "Cắt điện", source="sms", external_id="42") != first


def test_cancel_by_external_id_is_idempotent_and_unknown_is_not_found(store):
    notices.post(store, "Hủy tôi", source="hub", external_id="9")
    assert notices.cancel(store, source="hub", external_id="9") is True
    assert notices.cancel(store, source="hub", external_id="9") is False
    with pytest.raises(NotFound):
        notices.cancel(store, source="hub", external_id="10")


@pytest.mark.parametrize("kwargs, message", [
    ({"text": "   "}, "empty"),
    ({"text": "x", "source": "web"}, "source"),
    ({"text": "x", "expires_at": "ngày mai"}, "ISO"),
])
def test_bad_input_is_refused(store, kwargs, message):
    with pytest.raises(InvalidInput, match=message):
        notices.post(store, **kwargs)
    assert notices.current(store) == []
