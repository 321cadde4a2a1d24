"""The relay under attack, each case from the security review (security-and-bad-input.md #2, #3,
#4, #7, #18, #19, #20): what a spoofer or a flood can make the ward's SIM do."""
import re
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest

from kiosk.appliance.store import open_store
from kiosk.directory import residents as directory
from kiosk.notices import board as notices
from kiosk.relay import budget, officials
from kiosk.relay.router import make_handler
from sms import inbox, outbox
from sms.pdu import decode, encode_deliver
from sms.segments import segment
from tests.kiosk.relay.conftest import LEADER, OFFICIAL, OTHER_OFFICIAL, run

START = datetime(2026, 12, 3, 9, 0, tzinfo=timezone.utc)


def _code(reply_text):
    return re.search(r"XN (\S+) trong", reply_text).group(1)


# -- a resident is never mistaken for an official (#4) ------------------------------------------------
@pytest.mark.parametrize("text", ["Nhóm em muốn hỏi về họp tổ", "TT cho em hỏi lịch tiêm", "KC có cháy ở ngõ 3",
                                  "Tb mất nước", "XN giúp em", "NHOM phụ nữ họp lúc nào"])
def test_a_residents_text_that_starts_like_a_command_reaches_the_leader(relay_ward, relay_config, text):
    replies, queued = run(relay_ward, relay_config, "+84987000001", text)
    assert replies[0].to == LEADER and replies[0].text.endswith(text) and queued == 2
    assert "Da chuyen tin nhan" in replies[1].text
    assert relay_ward.query("SELECT outcome FROM relay_audit") == [{"outcome": "forwarded"}]


def test_alphanumeric_senders_are_logged_and_ignored(relay_ward, relay_config):
    assert run(relay_ward, relay_config, "VIETTEL", "TB 2468 HPN Khuyen mai", kind="alphanumeric") == ([], 0)
    assert relay_ward.scalar("SELECT reason FROM relay_audit") == "not_mobile"


# -- XN can't be guessed (#2) -------------------------------------------------------------------------
def test_codes_have_six_characters_without_look_alikes(relay_ward, relay_config):
    codes = {_code(run(relay_ward, relay_config, OFFICIAL, f"TB 2468 CB Hop {i}")[0][0].text) for i in range(30)}
    assert len(codes) == 30
    for code in codes:
        assert len(code) >= 6 and not set(code) & set("0ODQ1IL2Z5S8B6G")


def test_wrong_codes_lock_the_number_and_a_locked_number_cannot_confirm(relay_ward, relay_config):
    """t_xn.py: the broadcast had been confirmed after 5,826 XN guesses from a locked-out number."""
    code = _code(run(relay_ward, relay_config, OFFICIAL, "TB 2468 TATCA Mai cat nuoc")[0][0].text)
    for guess in ["AAAAAA", "CDEFHJ", "KMNPRT"]:
        assert "Ma xac nhan khong dung. Con" in run(relay_ward, relay_config, OFFICIAL, f"XN {guess}")[0][0].text
    assert "Sai PIN" in run(relay_ward, relay_config, OFFICIAL, "TB 1111 TATCA x")[0][0].text
    replies, _ = run(relay_ward, relay_config, OFFICIAL, "XN UVWXY3")  # 5th failure, PINs and codes together
    assert "bi khoa 1 gio" in replies[0].text and replies[1].to == LEADER
    assert run(relay_ward, relay_config, OFFICIAL, f"XN {code}") == ([], 0)  # even the right code
    assert outbox.messages(relay_ward, key_prefix="relay:") == []
    assert relay_ward.scalar("SELECT state FROM relay_broadcasts") == "awaiting_confirmation"


def test_a_code_is_bound_to_the_number_that_asked(relay_ward, relay_config):
    code = _code(run(relay_ward, relay_config, OFFICIAL, "TB 2468 CB Hop")[0][0].text)
    assert "khong dung" in run(relay_ward, relay_config, OTHER_OFFICIAL, f"XN {code}")[0][0].text
    assert "+84987000001" != OFFICIAL and run(relay_ward, relay_config, "+84987000001", f"XN {code}")[0][0].to == LEADER
    assert outbox.messages(relay_ward, key_prefix="relay:") == []
    assert "Da gui TB so 1 den 5" in run(relay_ward, relay_config, OFFICIAL, f"xn {code.lower()}")[0][0].text
    assert "da dung roi" in run(relay_ward, relay_config, OFFICIAL, f"XN {code}")[0][0].text


def test_code_generation_gives_up_instead_of_looping_forever(relay_ward, relay_config, monkeypatch):
    monkeypatch.setattr(officials, "CODE_ALPHABET", "A")  # every code collides after the first
    assert "XN AAAAAA" in run(relay_ward, relay_config, OFFICIAL, "TB 2468 CB Hop 1")[0][0].text
    assert run(relay_ward, relay_config, OFFICIAL, "TB 2468 CB Hop 2")[0][0].text == "TDP: Khong tao duoc ma xac nhan. Thu lai sau."


# -- the reply budget (#3) ------------------------------------------------------------------------------
def test_a_spoofed_official_number_gets_at_most_the_budget(relay_ward, relay_config):
    """t_flood_official.py: 40 wrong PINs, 40 wrong codes and 40 bare TB had queued 121 SMS."""
    for i in range(40):
        run(relay_ward, relay_config, OTHER_OFFICIAL, "TB", now=START + timedelta(seconds=i))
    assert len(outbox.messages(relay_ward, to=OTHER_OFFICIAL, limit=500)) == 10
    for i in range(40):
        run(relay_ward, relay_config, OFFICIAL, f"TB {1000 + i} TATCA spam", now=START + timedelta(seconds=i))
        run(relay_ward, relay_config, OFFICIAL, f"XN {1000 + i}", now=START + timedelta(seconds=i))
    assert len(outbox.messages(relay_ward, to=OFFICIAL, limit=500)) == 5  # 4 wrong-PIN replies, then "locked"
    assert relay_ward.scalar("SELECT COUNT(*) FROM relay_audit WHERE outcome = 'held'") == 30


def test_the_budget_is_per_hour_and_comes_back(relay_ward, relay_config):
    for i in range(15):
        run(relay_ward, relay_config, OFFICIAL, "NHOM 2468", now=START + timedelta(minutes=i))
    assert len(outbox.messages(relay_ward, to=OFFICIAL, limit=500)) == 10
    run(relay_ward, relay_config, OFFICIAL, "NHOM 2468", now=START + timedelta(minutes=61))
    assert len(outbox.messages(relay_ward, to=OFFICIAL, limit=500)) == 11


def test_refusals_to_unknown_numbers_at_most_once_a_day(relay_ward, relay_config):
    stranger = "+84933000111"
    for hour in range(5):
        run(relay_ward, relay_config, stranger, f"HS ABC{hour}", now=START + timedelta(hours=hour))
    assert len(outbox.messages(relay_ward, to=stranger)) == 1
    run(relay_ward, relay_config, stranger, "HS ABC", now=START + timedelta(hours=25))
    assert len(outbox.messages(relay_ward, to=stranger)) == 2
    # A resident is told every time (once a minute at most).
    for hour in range(3):
        run(relay_ward, relay_config, "+84987000001", "HS ABC", now=START + timedelta(hours=hour))
    assert len(outbox.messages(relay_ward, to="+84987000001")) == 3


def test_the_budget_holds_under_concurrent_processes(tmp_path):
    """Sixteen workers granting at once on one file: exactly the budget gets through."""
    path = tmp_path / "tdp.sqlite3"
    open_store(path).close()
    with ProcessPoolExecutor(4) as pool:
        granted = sum(pool.map(_grant_five, [str(path)] * 16))
    assert granted == 10


def _grant_five(path):
    with open_store(path) as db:
        now = datetime.now(timezone.utc).timestamp()
        return sum(budget.grant(db, "+84912000001", "reply", budget.Limits(per_hour=10), now) for _ in range(5))


# -- replies never echo the sender (#7) -------------------------------------------------------------------
def test_hs_never_echoes_the_senders_text_and_stays_in_one_part(relay_ward, relay_config):
    """t_hs_echo.py: a 10-part "HS …" had got a 24-part reply quoting it."""
    phishing = "HS . UBND phuong thong bao: CCCD cua ban bi khoa, cap nhat ngay tai http://vneid-capnhat.example "
    for text in [phishing * 10, "HS " + "x" * 1500]:
        replies, queued = run(relay_ward, relay_config, "+84966555401", text, now=START)
        assert "vneid" not in replies[0].text and "xxx" not in replies[0].text
        assert segment(replies[0].text).count == 1
    assert run(relay_ward, relay_config, "+84987000001", "HS tdp1-2611-aaaa")[0][0].text.startswith(
        "Không tìm thấy hồ sơ TDP1-2611-AAAA.")


def test_a_long_forward_to_the_leader_is_cut_to_max_parts(relay_ward, relay_config):
    relay_config.sms.max_parts = 2
    replies, queued = run(relay_ward, relay_config, "+84987000001", "Đèn đường hỏng " * 200)
    assert queued == 2 and segment(outbox.messages(relay_ward, to=LEADER)[0]["text"]).count <= 2


# -- group names across words (#6 of the issue) -----------------------------------------------------------
@pytest.mark.parametrize("text, group, body", [
    ("kc 2468 hoi phu nu Mất điện từ 8h", "HPN", "Mất điện từ 8h"),
    ("TB 2468 Hội Phụ Nữ họp lúc 19h", "HPN", "họp lúc 19h"),
    ("TB 2468 chi bo Hop chi bo", "CB", "Hop chi bo"),
    ("TB 2468 HPN Hop", "HPN", "Hop"),
    ("TB 2468 Hội Người Cao Tuổi Khám sức khoẻ", "NCT", "Khám sức khoẻ"),
    ("TB 2468 Hội Khám sức khoẻ", "HOI", "Khám sức khoẻ"),
])
def test_the_longest_run_of_words_naming_a_group_is_the_group(relay_ward, relay_config, text, group, body):
    for name in ("Hội", "Hội người cao tuổi"):
        directory.ensure_group(relay_ward, name)
    relay_config.relay.confirm_above = 50
    replies, _ = run(relay_ward, relay_config, OFFICIAL, text)
    assert f"({group})" in replies[0].text, replies[0].text
    assert relay_ward.query("SELECT group_code, text FROM relay_broadcasts") == [{"group_code": group, "text": body}]


# -- robustness (#18, #19) ------------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["HUY 2468 ²", "HUY 2468 99999999999999999999999", "HUY 2468 ١٢", "HUY 2468 -1"])
def test_odd_notice_numbers_get_the_command_card(relay_ward, relay_config, text):
    assert "Lenh sai (thieu so TB)" in run(relay_ward, relay_config, OFFICIAL, text)[0][0].text


@pytest.mark.parametrize("text, reason", [
    ("TB 2468 HPN \u200b\u200b", "empty_text"), ("TB 2468 HPN \u200b\u2060\ufeff\u202e", "empty_text"),
    ("TB 2468 HPN a\x00b", "nul_text")])
def test_invisible_or_nul_notices_are_refused_with_a_reason(relay_ward, relay_config, text, reason):
    replies, _ = run(relay_ward, relay_config, OFFICIAL, text)
    assert replies and replies[0].kind == "refusal"
    assert notices.current(relay_ward) == [] and outbox.messages(relay_ward, key_prefix="relay:") == []
    assert relay_ward.scalar("SELECT reason FROM relay_audit ORDER BY id DESC LIMIT 1") == reason


# -- no PIN kept in the inbox (#20) ---------------------------------------------------------------------
def test_the_pin_is_masked_in_the_stored_inbox_as_soon_as_the_command_is_parsed(relay_ward, relay_config):
    for sender, text in [(OFFICIAL, "TB 2468 HPN Hop to"), (OFFICIAL, "TT 9999"), ("+84987000001", "TB 2468 HPN x")]:
        pdu = encode_deliver(sender, text, timestamp=START)
        inbox.store(relay_ward, decode(pdu), pdu)
    inbox.dispatch(relay_ward, [make_handler(relay_config)])
    stored = sorted(m["text"] for m in inbox.messages(relay_ward))
    assert stored == ["TB **** HPN Hop to", "TB **** HPN x", "TT ****"]
    assert len(outbox.messages(relay_ward, key_prefix="relay:")) == 3  # the real command still went out


def test_the_budget_holds_for_threads_sharing_one_connection_too(relay_ward):
    from concurrent.futures import ThreadPoolExecutor
    now = START.timestamp()
    with ThreadPoolExecutor(8) as pool:
        granted = sum(pool.map(lambda _: budget.grant(relay_ward, "+84933000999", "forward", budget.Limits(10), now),
                               range(40)))
    assert granted == 10 and budget.used(relay_ward, "+84933000999", now) == 10


def test_the_handler_survives_a_bug_below_it_and_records_it(relay_ward, relay_config, monkeypatch):
    from kiosk.relay import router

    def broken(*args, **kwargs):
        raise ZeroDivisionError("a bug")
    monkeypatch.setattr(router.residents, "handle", broken)
    pdu = encode_deliver("+84987000001", "Đèn hỏng", timestamp=START)
    inbox.store(relay_ward, decode(pdu), pdu)
    assert inbox.dispatch(relay_ward, [make_handler(relay_config)]) == 1
    assert relay_ward.scalar("SELECT handler_error FROM inbox_messages") is None
    assert relay_ward.query_one("SELECT outcome, reason, detail FROM relay_audit") == {
        "outcome": "error", "reason": "handler_error", "detail": "ZeroDivisionError"}


def test_replies_go_out_in_quiet_hours_while_the_broadcast_waits(relay_ward, relay_config):
    relay_config.relay.confirm_above = 50
    night = datetime(2026, 12, 3, 16, 30, tzinfo=timezone.utc)  # 23:30 in Hà Nội
    run(relay_ward, relay_config, OFFICIAL, "TB 2468 HPN Hop to sang mai", now=night)
    claimed = []
    while (part := outbox.claim_next(relay_ward, "w1", now=night)) is not None:
        claimed.append(part.recipient)
        outbox.mark_sent(relay_ward, part.id, len(claimed), "w1", now=night)
    assert claimed == [OFFICIAL]  # "Da gui TB…" at once; the three members' notice waits for 06:00
    assert len(outbox.messages(relay_ward, key_prefix="relay:1:")) == 3


def test_the_sms_fallback_never_resends_a_notice_the_hub_already_delivered(store, relay_config, relay_ward):
    """The hub's copy reached the kiosk first; the official, unsure, texts the same notice: the
    members got it once, so the relay refuses with a reason instead of texting them again."""
    notices.post(store, "Mất nước từ 8h đến 11h sáng mai", source="hub", external_id="41", group_code="HPN")
    replies, queued = run(store, relay_config, OFFICIAL, "TB 2468 HPN mat nuoc tu 8h den 11h sang mai")
    assert [r.kind for r in replies] == ["refusal"] and "Khong gui lai" in replies[0].text
    assert [m["to"] for m in outbox.messages(store, limit=50)] == [OFFICIAL]
    other, _ = run(store, relay_config, OFFICIAL, "TB 2468 HPN Họp chi hội 19h thứ Sáu")
    assert other[0].kind == "reply" and len(outbox.messages(store, limit=50)) == 1 + 1 + 3
