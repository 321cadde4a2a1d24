"""Every way a resident says stop is honoured (Decree 13/2023/NĐ-CP): the review found that only a
bare HUY worked; "Hủy nhận tin", "HUY DK", "huy tin nhan" were dropped and "Từ chối" forwarded."""
from datetime import datetime, timedelta, timezone

import pytest

from kiosk.directory import residents as directory
from kiosk.relay import stop_words
from sms import outbox
from tests.kiosk.relay.conftest import LEADER, OFFICIAL, run

CERTAIN = [
    "HUY", "Hủy", "HỦY", "huỷ", "HUY!", "huy.", "HUY TIN", "HUY DK", "huydk", "Hủy nhận tin", "huy tin nhan",
    "HUY NHAN TIN", "Huy dang ky", "Huỷ đăng ký", "huy thong bao", "Hủy nhận thông báo nữa", "TU CHOI", "Từ chối",
    "TỪ CHỐI", "tuchoi", "Tuchoi", "TUCHOI nhan tin", "Tu choi nhan tin", "Từ chối nhận tin nhắn", "KHONG NHAN",
    "Không nhận tin nữa", "không muốn nhận tin", "NGUNG", "Ngừng nhận tin", "ngưng", "Dừng gửi", "dung gui tin",
    "Thôi nhận tin", "Bỏ đăng ký", "STOP", "stop", "Unsubscribe", "Xin hủy đăng ký nhận tin", "Cho tôi hủy",
    "  hủy   nhận   tin  ", "HUY, cam on", "Hủy nhận tin. Cảm ơn tổ trưởng", "Tôi không muốn nhận nữa",
]
UNCERTAIN = [
    "Dũng", "Thôi", "Bỏ", "Không", "Không nhận được tin họp tổ", "khong nhan duoc thong bao",
    "Cho tôi xin ngừng nhận tin nhắn", "Nhà tôi muốn huỷ đăng ký", "Làm sao để từ chối tin?",
    "Sao tôi cứ nhận tin mãi, stop đi",
]
NOT_STOP = [
    "Huỳnh Văn Ba xin hỏi lịch họp", "Dũng nhờ hỏi giờ họp", "Đèn đường ngõ 5 bị hỏng", "Nhóm em muốn hỏi về họp tổ",
    "DK Nguyễn Văn An", "HS TDP1-2611-AAAA", "Cảm ơn", "Thông báo mất điện là đúng", "Bố tôi ốm",
]


@pytest.mark.parametrize("text", CERTAIN)
def test_certain_phrasings(text):
    assert stop_words.classify(text) == "certain"


@pytest.mark.parametrize("text", UNCERTAIN)
def test_uncertain_phrasings(text):
    assert stop_words.classify(text) == "uncertain"


@pytest.mark.parametrize("text", NOT_STOP)
def test_ordinary_messages(text):
    assert stop_words.classify(text) == ""


@pytest.mark.parametrize("text", CERTAIN)
def test_each_phrasing_withdraws_at_once_with_one_reply_logged_and_told_to_the_leader(relay_ward, relay_config, text):
    resident = "+84987000001"
    replies, queued = run(relay_ward, relay_config, resident, text)
    assert resident not in directory.recipients(relay_ward)
    to_resident = [r for r in replies if r.to == resident]
    assert len(to_resident) == 1 and "khong nhan thong bao nua" in to_resident[0].text
    assert [r.to for r in replies if r.to != resident] == [LEADER]
    assert "Nguyễn Thị Hoa 1 (0987 000 001) da nhan tin ngung nhan thong bao" in replies[1].text
    assert queued == 2
    log = relay_ward.query_one("SELECT method, source FROM consent_log ORDER BY id DESC LIMIT 1")
    assert log["method"] == "sms" and log["source"] == f"SMS '{stop_words.phrase(text)}'"
    assert relay_ward.scalar("SELECT outcome FROM relay_audit ORDER BY id DESC LIMIT 1") == "consent_withdrawn"


@pytest.mark.parametrize("text", UNCERTAIN)
def test_an_uncertain_one_reaches_the_leader_flagged_and_changes_nothing(relay_ward, relay_config, text):
    replies, _ = run(relay_ward, relay_config, "+84987000001", text)
    assert "+84987000001" in directory.recipients(relay_ward)
    assert replies[0].to == LEADER and replies[0].text.startswith("TDP [CAN XEM - co the xin ngung nhan tin]")
    assert relay_ward.scalar("SELECT reason FROM relay_audit ORDER BY id DESC LIMIT 1") == "maybe_withdrawal"


def test_stop_from_an_officials_phone_is_that_person_saying_stop(relay_ward, relay_config):
    from kiosk.directory.residents import Consent
    directory.upsert_resident(relay_ward, "Trần Văn Tổ", OFFICIAL, consent=Consent(True, "kiosk", "x"))
    replies, _ = run(relay_ward, relay_config, OFFICIAL, "Hủy nhận tin")
    assert OFFICIAL not in directory.recipients(relay_ward) and "khong nhan thong bao nua" in replies[0].text
    # ...while "HUY <PIN> <id>" stays the officials' cancel command.
    replies, _ = run(relay_ward, relay_config, OFFICIAL, "HUY 2468 7")
    assert replies[0].text == "TDP: Khong co TB so 7."


def test_withdrawals_are_listed_for_the_leaders_digest(relay_ward, relay_config):
    before = datetime.now(timezone.utc) - timedelta(seconds=1)
    run(relay_ward, relay_config, "+84987000001", "Từ chối")
    run(relay_ward, relay_config, "+84986000002", "STOP")
    after = datetime.now(timezone.utc) + timedelta(seconds=1)
    rows = directory.withdrawals_between(relay_ward, before.isoformat(timespec="seconds"),
                                         after.isoformat(timespec="seconds"))
    assert [(r["phone"], r["source"]) for r in rows] == [("+84987000001", "SMS 'tu choi'"),
                                                         ("+84986000002", "SMS 'stop'")]
    assert directory.withdrawals_between(relay_ward, "2000-01-01", before.isoformat(timespec="seconds")) == []


def test_a_withdrawal_beyond_the_reply_budget_is_still_honoured_and_on_record(relay_ward, relay_config):
    start = datetime(2026, 12, 3, 9, 0, tzinfo=timezone.utc)
    for i in range(12):  # the resident's hourly budget is spent on ordinary messages first
        run(relay_ward, relay_config, "+84987000001", f"Hỏi lần {i}", now=start + timedelta(minutes=2 * i))
    replies, queued = run(relay_ward, relay_config, "+84987000001", "HUY", now=start + timedelta(minutes=30))
    assert queued == 0 and len(replies) == 2
    assert "+84987000001" not in directory.recipients(relay_ward)
    assert relay_ward.scalar("SELECT COUNT(*) FROM relay_audit WHERE outcome = 'held'") >= 2
    assert outbox.messages(relay_ward, to="+84987000001", limit=100)[0]["text"].startswith("TDP: Da chuyen")
