"""The SMS relay rules: officials' commands, security, residents' keywords (no modem here)."""
from datetime import datetime, timedelta, timezone

import pytest

from kiosk.appliance import config as config_module
from kiosk.directory import residents as directory
from kiosk.dossiers import lifecycle as dossiers
from kiosk.volunteers import help_tickets
from kiosk.notices import board as notices
from kiosk.volunteers import people as volunteers
from kiosk.directory.residents import Consent
from kiosk.relay.residents import confirm_registration, pending_registrations
from sms import outbox
from tests.kiosk.relay.conftest import run as run_and_queue

OFFICIAL = "+84912000001"
LEADER = "+84912000002"
POLICE = "+84912000003"


@pytest.fixture
def config():
    return config_module.from_dict({
        "site": {"residential_group": "Tổ dân phố số 1"},
        "relay": {"officials": [{"name": "Trần Văn Tổ", "phone": "0912 000 001", "pin": "2468"}],
                  "group_leader_phone": "0912000002", "police_phone": "0912000003", "confirm_above": 3},
    })


@pytest.fixture
def ward(relay_ward):
    """Hội phụ nữ with 3 consenting members and one who never consented; Chi bộ with 5."""
    return relay_ward


def run(store, config, sender, text, kind="international", now=None):
    """The replies the router decided (the budget's queueing done as the gateway does)."""
    return run_and_queue(store, config, sender, text, kind, now)[0]


def test_official_broadcast_reaches_consenting_members_and_the_notice_board(ward, config):
    replies = run(ward, config, OFFICIAL, "tb 2468 hoiphunu Họp tổ lúc 19h thứ Bảy tại nhà văn hóa.")
    assert len(replies) == 1 and "Da gui TB so 1 den 3 nguoi (HPN)" in replies[0].text
    sent_to = {m["to"] for m in outbox.messages(ward, key_prefix="relay:1:")}
    assert sent_to == {"+84987000000", "+84987000001", "+84987000002"}
    assert notices.current(ward)[0]["text"] == "Họp tổ lúc 19h thứ Bảy tại nhà văn hóa."
    assert outbox.messages(ward, to=OFFICIAL)[0]["text"].startswith("TDP: Da gui TB")


def test_the_same_text_from_another_phone_is_a_residents_message_for_the_leader(ward, config):
    replies = run(ward, config, "+84977777777", "TB 2468 HPN Tin gia mao")
    assert [r.to for r in replies] == [LEADER, "+84977777777"]
    assert replies[0].text == "Tin nhan tu 0977 777 777: TB **** HPN Tin gia mao"  # the PIN is kept nowhere
    assert outbox.messages(ward, key_prefix="relay:") == [] and notices.current(ward) == []
    assert ward.query("SELECT outcome FROM relay_audit") == [{"outcome": "forwarded"}]


def test_alphanumeric_sender_is_refused(ward, config):
    assert run(ward, config, "VIETTEL", "TB 2468 HPN Khuyen mai", kind="alphanumeric") == []
    assert outbox.queue_depth(ward) == 0


def test_large_broadcast_waits_for_confirmation_and_a_code_works_once(ward, config):
    replies = run(ward, config, OFFICIAL, "KC 2468 CB Mất điện từ 8h đến 11h")
    assert "5 nguoi (CB)" in replies[0].text and "XN" in replies[0].text
    assert outbox.messages(ward, key_prefix="relay:") == []
    code = replies[0].text.split("XN ")[1].split()[0]
    confirmed = run(ward, config, OFFICIAL, f"xn {code}")
    assert "Da gui TB so 1 den 5 nguoi" in confirmed[0].text
    queued = outbox.messages(ward, key_prefix="relay:1:")
    assert len(queued) == 5
    again = run(ward, config, OFFICIAL, f"XN {code}")
    assert "da dung" in again[0].text
    assert len(outbox.messages(ward, key_prefix="relay:1:")) == 5


def test_confirmation_expires_after_ten_minutes(ward, config):
    start = datetime(2026, 11, 22, 9, 0, tzinfo=timezone.utc)
    code = run(ward, config, OFFICIAL, "TB 2468 CB Hop chi bo", now=start)[0].text.split("XN ")[1].split()[0]
    late = run(ward, config, OFFICIAL, f"XN {code}", now=start + timedelta(minutes=11))
    assert "het han" in late[0].text and outbox.messages(ward, key_prefix="relay:") == []


def test_wrong_pins_lock_out_and_alert_the_leader(ward, config):
    for attempt in range(4):
        assert "Sai PIN" in run(ward, config, OFFICIAL, "TB 0000 HPN x")[0].text
    replies = run(ward, config, OFFICIAL, "TB 0000 HPN x")
    assert "khoa 1 gio" in replies[0].text
    assert replies[1].to == LEADER and "sai PIN/ma 5 lan" in replies[1].text
    # Even the right PIN is refused while locked out, and the number hears nothing more.
    assert run(ward, config, OFFICIAL, "TB 2468 HPN Hop") == []
    assert outbox.messages(ward, key_prefix="relay:") == []
    assert ward.scalar("SELECT reason FROM relay_audit ORDER BY id DESC LIMIT 1") == "locked_out"


def test_unknown_group_lists_the_groups_and_malformed_gets_help(ward, config):
    assert "Cac nhom: CB(5), HPN(3), TATCA" in run(ward, config, OFFICIAL, "TB 2468 XYZ Hop")[0].text
    assert "Cu phap" in run(ward, config, OFFICIAL, "TB 2468")[0].text
    assert "CB(5)" in run(ward, config, OFFICIAL, "NHOM 2468")[0].text


def test_cancel_stops_what_is_not_sent(ward, config):
    run(ward, config, OFFICIAL, "TB 2468 HPN Hoãn họp")
    reply = run(ward, config, OFFICIAL, "HUY 2468 1")
    assert "Da huy TB so 1: 3 tin" in reply[0].text
    assert notices.current(ward) == []
    assert all(m["state"] == "cancelled" for m in outbox.messages(ward, key_prefix="relay:1:"))
    assert "Hang doi" in run(ward, config, OFFICIAL, "TT 2468")[0].text


def test_resident_withdraws_consent_immediately(ward, config):
    reply = run(ward, config, "+84987000001", "huy")
    assert "khong nhan thong bao nua" in reply[0].text
    assert "+84987000001" not in directory.recipients(ward, "HPN")
    # A re-import of the official's list never re-subscribes them.
    directory.upsert_resident(ward, "Nguyễn Thị Hoa 1", "0987000001", consent=Consent(True, "import", "list.xlsx"))
    assert "+84987000001" not in directory.recipients(ward, "HPN")


def test_dk_creates_a_pending_registration_confirmed_by_the_leader(ward, config):
    replies = run(ward, config, "+84933000000", "DK Vũ Thị Lan")
    assert "To truong se xac nhan" in replies[0].text and replies[1].to == LEADER
    pending = pending_registrations(ward)
    assert [p["full_name"] for p in pending] == ["Vũ Thị Lan"]
    assert "+84933000000" not in directory.recipients(ward)
    confirm_registration(ward, pending[0]["id"], by="Trần Văn Tổ")
    assert "+84933000000" in directory.recipients(ward)


def test_hs_answers_only_the_phone_that_handed_the_request_in(ward, config):
    dossier = dossiers.create(ward, procedure_code="HT-KS", full_name="Lê Văn An", phone="0987000000", prefix="TDP1")
    assert "Da ghi nhan yeu cau" in _unaccent(run(ward, config, "+84987000000", f"HS {dossier.code}")[0].text)
    other = run(ward, config, "+84987000002", f"HS {dossier.code}")[0].text
    assert "Lê Văn An" not in other and "Không tìm thấy" in other


def test_hotro_opens_a_help_ticket(ward, config):
    volunteers.add(ward, volunteers.NewVolunteer(name="Đỗ Minh Tâm", phone="0966000000", role="leader"))
    replies = run(ward, config, "+84987000000", "HOTRO cài VNeID cho mẹ tôi")
    assert "phieu so 001" in replies[0].text
    ticket = help_tickets.list_tickets(ward)[0]
    assert ticket["source"] == "sms" and ticket["note"] == "cài VNeID cho mẹ tôi"


def test_tamtru_goes_to_the_police_and_anything_else_to_the_leader(ward, config):
    replies = run(ward, config, "+84987000000", "TAMTRU Nguyễn Văn Khách ở nhà tôi từ 20/11 đến 30/11")
    assert replies[0].to == POLICE and "Nguyễn Thị Hoa 0" in replies[0].text
    assert "Cong an khu vuc" in replies[1].text
    replies = run(ward, config, "+84987000002", "Đèn đường ngõ 5 bị hỏng")
    assert replies[0].to == LEADER and replies[0].text.endswith("Đèn đường ngõ 5 bị hỏng")


def test_a_flood_gets_one_reply_per_minute_per_number(ward, config):
    start = datetime(2026, 11, 22, 9, 0, tzinfo=timezone.utc)
    for i in range(30):
        run(ward, config, "+84987000000", f"HS ABC{i}", now=start + timedelta(seconds=i))
    assert len(outbox.messages(ward, to="+84987000000")) == 1
    run(ward, config, "+84987000000", "HS ABC", now=start + timedelta(seconds=61))
    assert len(outbox.messages(ward, to="+84987000000")) == 2


def _unaccent(text):
    from sms.vietnamese import unaccent
    return unaccent(text)
