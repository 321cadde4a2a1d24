"""The notices' rules on a real store: occurrences, claims under concurrency, reply matching,
households, templates and part counts, the budget, the SMS date syntax, and the CLI's errors."""
from __future__ import annotations

import threading
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings, strategies as st

from kiosk.appliance import config as config_module
from kiosk.appliance.store import open_store
from kiosk.directory import residents as directory
from kiosk.directory.residents import Consent
from kiosk.notices import budget, questions, schedule, sms_commands
from kiosk.reports import ward
from sms import outbox
from sms.vietnamese import unaccent

YES = Consent(True, "import", "list.xlsx")
OPTIONS = [("C", "Có"), ("K", "Không")]


@pytest.fixture
def config(store):
    return config_module.from_dict({"storage": {"path": store.path},
                                    "relay": {"group_leader_phone": "0912000002"}})


def _members(store, n=3, group="Hội phụ nữ"):
    for i in range(n):
        directory.upsert_resident(store, f"Nguyễn Thị Hoa {i}", f"+84987{i:06d}", groups=[group], consent=YES)


# --- occurrences ---------------------------------------------------------------------------------

@given(st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2030, 12, 31)).map(
    lambda d: d.replace(second=0, microsecond=0)), st.integers(min_value=0, max_value=60))
def test_monthly_occurrences_keep_their_day_or_the_months_last(first, seq):
    this, following = schedule.occurrence(first, "month", seq), schedule.occurrence(first, "month", seq + 1)
    assert this < following and (this.hour, this.minute) == (first.hour, first.minute)
    assert this.day == first.day or (this.day < first.day and (this + timedelta(days=1)).day == 1)
    months = (this.year - first.year) * 12 + this.month - first.month
    assert months == seq


def test_a_monthly_notice_on_the_31st_goes_on_the_last_day_of_short_months():
    first = datetime(2027, 1, 31, 8, 0)
    assert [schedule.occurrence(first, "month", n).date() for n in range(4)] == [
        date(2027, 1, 31), date(2027, 2, 28), date(2027, 3, 31), date(2027, 4, 30)]
    assert schedule.occurrence(first, "week", 2) == datetime(2027, 2, 14, 8, 0)


def test_parallel_runs_claim_each_occurrence_once(store, config):
    _members(store, 20)
    now = datetime.now(timezone.utc)
    at = (now + timedelta(minutes=1)).astimezone(schedule.ZoneInfo(config.site.timezone)).strftime(schedule.AT_FORMAT)
    notice = schedule.create(store, config, "Họp tổ", group="HPN", at=at, every="day", now=now)
    due = schedule.to_utc(datetime.strptime(at, schedule.AT_FORMAT), config.site.timezone) + timedelta(seconds=1)
    results, barrier = [], threading.Barrier(6)

    def run():
        db = open_store(store.path)   # each a process of its own: its own connection
        try:
            barrier.wait()
            results.append(schedule.run_due(db, config, due))
        finally:
            db.close()
    threads = [threading.Thread(target=run) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(len(r) for r in results) == [0, 0, 0, 0, 0, 1]
    assert len(outbox.messages(store, key_prefix=schedule.key_prefix(notice["id"]), limit=1000)) == 20
    assert [o["state"] for o in schedule.occurrences(store, notice["id"])] == ["queued"]


def test_until_ends_a_daily_notice_and_cancel_withdraws_what_is_unsent(store, config):
    _members(store)
    now = datetime(2027, 3, 1, 0, 0, tzinfo=timezone.utc)   # 07:00 in Vietnam
    notice = schedule.create(store, config, "Phòng dịch", group=None, at="2027-03-01 08:00", every="day",
                             until="2027-03-03", now=now)
    sent = [schedule.run_due(store, config, now + timedelta(days=d, hours=1, seconds=1)) for d in range(5)]
    assert [len(s) for s in sent] == [1, 1, 1, 0, 0]
    assert schedule.get(store, notice["id"])["state"] == "finished"
    other = schedule.create(store, config, "Tiêm chủng", group="HPN", now=now)
    assert schedule.cancel(store, other["id"], now=now) == {"id": other["id"], "cancelled": True,
                                                             "withdrawn_messages": 3}


# --- replies -------------------------------------------------------------------------------------

@pytest.mark.parametrize("reply, expected", [
    ("c", "C"), ("C.", "C"), ("Có ạ", "C"), ("co nhe", "C"), ("  CÓ  ", "C"), ("K", "K"), ("không", "K"),
    ("Khong di duoc a", "K"), ("k!", "K"), ("Cho hỏi mấy giờ?", None), ("", None), ("ok", None),
])
def test_replies_match_with_case_diacritics_and_extra_words_ignored(reply, expected):
    found = questions.match(OPTIONS, reply)
    assert (found[0] if found else None) == expected


_WORDS = st.sampled_from(["a", "nhe", "ạ", "nha", "em", "bác", "đi", "được", "ok", "nhé", "!"])


@given(st.sampled_from(OPTIONS), st.booleans(), st.sampled_from([str.lower, str.upper, str.title, unaccent]),
       st.lists(_WORDS, max_size=4))
@settings(max_examples=200)
def test_any_spelling_of_an_answer_followed_by_any_words_counts(option, by_code, spelling, extra):
    word = spelling(option[0] if by_code else option[1])
    assert questions.match(OPTIONS, " ".join([word, *extra])) == option


def test_a_reply_counts_for_the_newest_open_question_sent_to_that_number_only(store, config):
    _members(store, 2)
    now = datetime.now(timezone.utc)
    first = schedule.create(store, config, "Họp tổ?", group="HPN", ask="C=Có;K=Không", now=now)
    second = schedule.create(store, config, "Đi tiêm?", group="HPN", ask="C=Có;K=Không", now=now)
    assert questions.record_reply(store, "+84987000000", "có", now).send_id == second["id"]
    assert questions.record_reply(store, "+84987000000", "Không ạ", now).code == "K"   # a change of mind
    assert questions.record_reply(store, "+84911111111", "có", now) is None             # never asked
    assert questions.tally(store, second["id"])["counts"] == {"C": 0, "K": 1}
    assert questions.tally(store, first["id"])["counts"] == {"C": 0, "K": 0}
    later = now + timedelta(hours=config.notices.question_hours, seconds=1)
    assert questions.record_reply(store, "+84987000001", "c", later) is None             # closed by time
    assert len(questions.close_due(store, later)) == 2 and questions.close_due(store, later) == []
    tallies = [m for m in outbox.messages(store, to="+84912000002") if m["key"].startswith("question-tally:")]
    assert len(tallies) == 2


@pytest.mark.parametrize("spec, message", [
    ("C=Có", "2 to 9"), ("C=Có;C=Cũng có", "differ"), ("Có;Không", "must look like"),
    ("CCCC=Có;K=Không", "must look like"), ("C=" + "x" * 31 + ";K=Không", "must look like"),
])
def test_bad_questions_are_refused_with_the_fix(spec, message):
    with pytest.raises(questions.QuestionError, match=message):
        questions.parse_options(spec)


# --- households, templates, parts --------------------------------------------------------------

def test_households_go_to_the_head_if_consenting_else_the_first_consenting_member(store):
    a, b, c = (directory.add_household(store, f"Số {n} ngõ 2") for n in (1, 2, 3))
    directory.upsert_resident(store, "Chủ hộ A", "0981000001", household_id=a, is_head=True, consent=YES)
    directory.upsert_resident(store, "Con A", "0981000002", household_id=a, consent=YES)
    directory.upsert_resident(store, "Chủ hộ B", "0981000003", household_id=b, is_head=True)
    directory.upsert_resident(store, "Con B", "0981000004", household_id=b, consent=YES)
    directory.upsert_resident(store, "Cháu B", "0981000005", household_id=b, consent=YES)
    directory.upsert_resident(store, "Chủ hộ C", "0981000006", household_id=c, is_head=True)   # no one consents
    people = directory.audience(store, None, per_household=True)
    assert [p["full_name"] for p in people] == ["Chủ hộ A", "Con B"]
    assert len(directory.audience(store, None)) == 4
    assert directory.registered_households(store) == 2


def test_fields_are_filled_per_recipient_and_a_name_with_diacritics_adds_parts(store, config):
    directory.upsert_resident(store, "An", "0981000001", groups=["Tổ 1"], consent=YES)
    directory.upsert_resident(store, "Nguyễn Thị Phương Thảo", "0981000002", groups=["Tổ 1"], consent=YES)
    text = "Kinh gui {ho_ten}: moi ong ba den hop to dan pho luc 19h30 ngay {ngay} tai nha van hoa to 1, mang theo CCCD"
    preview = schedule.create(store, config, text, group="T1", now=datetime.now(timezone.utc))["preview"]
    assert (preview["parts_min"], preview["parts_per_message"], preview["total_parts"]) == (1, 2, 3)
    texts = {m["to"]: m["text"] for m in outbox.messages(store)}
    today = datetime.now(timezone.utc).astimezone(schedule.ZoneInfo(config.site.timezone)).strftime("%d/%m/%Y")
    assert texts["+84981000001"].startswith(f"Kinh gui An: moi") and today in texts["+84981000001"]
    assert "Nguyễn Thị Phương Thảo" in texts["+84981000002"]


@pytest.mark.parametrize("text, message", [("Chào {ten}", "unknown field {ten}"), ("Chào {ho_ten", "stray brace")])
def test_unknown_or_broken_fields_are_refused(store, config, text, message):
    _members(store)
    with pytest.raises(Exception, match=message):
        schedule.create(store, config, text, group="HPN")
    assert schedule.list_sends(store) == []


# --- budget --------------------------------------------------------------------------------------

def test_a_budget_in_dong_is_the_parts_it_buys_and_urgent_goes_beyond_it(store):
    config = config_module.from_dict({"storage": {"path": store.path}, "sms": {"price_per_part": 350},
                                      "notices": {"budget_dong": 1400}, "relay": {"group_leader_phone": "0912000002"}})
    assert budget.limit_parts(config) == 4
    _members(store, 3)
    schedule.create(store, config, "Hop to", group="HPN")
    assert [m["text"] for m in outbox.messages(store, to="+84912000002")] == []   # 3/4 = 75 % < 80 %
    with pytest.raises(budget.BudgetExceeded, match="3 of 4 parts used"):
        schedule.create(store, config, "Hop to lan 2", group="HPN")
    schedule.create(store, config, "Khan: mat nuoc", group="HPN", urgent=True)
    warnings = [m["text"] for m in outbox.messages(store, to="+84912000002")]
    assert len(warnings) == 1 and "Da dung 6/4 tin SMS" in warnings[0] and "khong khan se bi tu choi" in warnings[0]


def test_a_scheduled_notice_over_budget_is_refused_at_its_time_and_the_sms_sender_told(store):
    config = config_module.from_dict({"storage": {"path": store.path}, "notices": {"budget_parts": 2}})
    _members(store, 3)
    now = datetime(2027, 5, 1, 0, 0, tzinfo=timezone.utc)
    notice = schedule.create(store, config, "Hop", group="HPN", at="2027-05-01 08:00", source="sms",
                             reply_to="+84912000001", now=now)
    (done,) = schedule.run_due(store, config, now + timedelta(hours=1, seconds=1))
    assert done["state"] == "refused" and "monthly SMS budget reached" in done["detail"]
    (told,) = outbox.messages(store, to="+84912000001")
    assert told["text"].startswith(f"TDP: TB so {notice['id']} KHONG gui: Het ngan sach SMS thang 2027-05")
    assert len(outbox.messages(store)) == 1


def test_the_ward_report_shows_the_cost_per_household_against_cong_dan_dien_tu(store, config):
    _members(store, 4)
    schedule.create(store, config, "Hop to", group="HPN")
    for ref in range(4):
        part = outbox.claim_next(store, "m", policy=outbox.Policy(quiet_start="00:00", quiet_end="00:00"))
        outbox.mark_sent(store, part.id, ref, "m")
    today = datetime.now(timezone.utc).astimezone(schedule.ZoneInfo(config.site.timezone)).date()
    start = today.replace(day=1)
    sms = ward.build(store, config, start, start + timedelta(days=29))["sms"]
    assert (sms["households"], sms["estimated_cost"], sms["household_price"]) == (4, 4 * 350, 3000)
    assert sms["cost_per_household_month"] == round(350 / (30 / (365.25 / 12)))


# --- the SMS command's dates ---------------------------------------------------------------------

NOW = datetime(2026, 12, 3, 5, 0, tzinfo=timezone.utc)   # 12:00 in Hanoi


@pytest.mark.parametrize("day, time_, expected", [
    ("0512", "1930", datetime(2026, 12, 5, 19, 30)), ("05/12", "19:30", datetime(2026, 12, 5, 19, 30)),
    ("5.12", "19h30", datetime(2026, 12, 5, 19, 30)), ("3-12", "8h", datetime(2027, 12, 3, 8, 0)),
    ("0301", "0700", datetime(2027, 1, 3, 7, 0)), ("2902", "0800", None),
    ("3102", "0800", None), ("0512", "2460", None), ("hom nay", "1930", None), ("0512", "7", datetime(2026, 12, 5, 7)),
])
def test_the_hg_date_and_time_are_read_as_the_next_such_moment(day, time_, expected):
    assert sms_commands.parse_when(day, time_, "Asia/Ho_Chi_Minh", NOW) == expected


# --- the CLI's errors ----------------------------------------------------------------------------

@pytest.mark.parametrize("args, message", [
    (["--all", "--text", "x", "--until", "2027-01-01"], "--until needs --every"),
    (["--all", "--text", "x", "--at", "mai 8h"], "YYYY-MM-DD HH:MM"),
    (["--all", "--text", "x", "--ask", "Có hay không"], "must look like"),
    (["--group", "KHONGCO", "--text", "x"], "no group"),
    (["--all", "--text", "   "], "empty"),
])
def test_the_cli_refuses_bad_input_in_one_line_and_stores_nothing(tdp, store, args, message):
    result = tdp("notice", "send", *args)
    assert result.code == 1 and message in result.err and len(result.err.strip().splitlines()) == 1
    assert schedule.list_sends(store) == []


def test_show_and_cancel_of_an_unknown_notice_say_so(tdp):
    for command in ("show", "cancel"):
        result = tdp("notice", command, "99")
        assert result.code == 1 and "no notice 99" in result.err


def test_a_hub_notice_handed_out_twice_is_scheduled_once_even_after_the_budget_ran_out(store):
    config = config_module.from_dict({"storage": {"path": store.path}, "notices": {"budget_parts": 3}})
    _members(store, 3)
    first = schedule.create(store, config, "Hop", group="HPN", ask="C=Có;K=Không", source="hub", external_id="7")
    again = schedule.create(store, config, "Hop", group="HPN", ask="C=Có;K=Không", source="hub", external_id="7")
    assert again["id"] == first["id"] and again["preview"] is None
    assert len(schedule.list_sends(store)) == 1 and len(outbox.messages(store)) == 3


# --- hostile SMS ---------------------------------------------------------------------------------

_HOSTILE = st.lists(st.one_of(st.text(max_size=12), st.sampled_from(["HPN", "TATCA", "0512", "1930", "31/02", "25:61",
                                                                   "MOITHANG", "{ho_ten}", "{x", "\x00", "9" * 30])),
                    max_size=8)


@given(_HOSTILE)
@settings(max_examples=150, deadline=None)
def test_any_hg_or_hh_text_from_an_official_gets_one_fixed_reply_and_never_raises(tmp_path_factory, words):
    from kiosk.relay.officials import Relay
    store = open_store(tmp_path_factory.mktemp("hg") / "tdp.sqlite3")
    try:
        config = config_module.from_dict({"storage": {"path": store.path}, "relay": {
            "officials": [{"name": "Tổ trưởng", "phone": "0912000001", "pin": "2468"}]}})
        _members(store, 2)
        for command in ("HG", "HH"):
            replies = Relay(store, config).handle("+84912000001", " ".join([command, "2468", *words]))
            assert len(replies) == 1 and replies[0].to == "+84912000001"
            assert replies[0].text.startswith("TDP: ") and replies[0].kind in ("reply", "refusal")
        assert len(schedule.list_sends(store)) <= 1
    finally:
        store.close()


@pytest.mark.parametrize("text", ["Họp\x00tổ", "Họp\u200btổ", "Họp\u202etổ"])
def test_invisible_characters_are_refused_not_sent(store, config, text):
    _members(store)
    with pytest.raises(schedule.ScheduleError, match="invisible"):
        schedule.create(store, config, text, group="HPN")
    assert outbox.messages(store) == []
