"""Officials' messaging end to end: `tdp notice …` and SMS commands, through the real gateway
(kiosk.appliance.wiring.build_gateway) and the modem emulator on a real pty.

Time is driven by an injected clock handed to the gateway's notices tick; the tests wait on the
tick counter and the emulator, never on a sleep.
"""
from __future__ import annotations

import threading
from contextlib import ExitStack
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from kiosk.appliance.config import load
from kiosk.appliance.wiring import build_gateway
from kiosk.directory import residents as directory
from kiosk.directory.residents import Consent
from kiosk.notices import schedule
from sms import outbox
from sms.emulator import Emulator
from tests.support.waiting import wait_until

ZONE = "Asia/Ho_Chi_Minh"
LEADER = "+84912000002"   # also an official, PIN 2468
MEMBERS = ["+84987000000", "+84987000001", "+84987000002"]


class Clock:
    """The notices' clock: set by the test, read by the gateway's housekeeping thread."""

    def __init__(self, start: datetime):
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, moment: datetime) -> None:
        with self._lock:
            self._now = moment


class Appliance:
    def __init__(self, config, store, clock: Clock):
        self.config, self.store, self.clock = config, store, clock
        self.ticks = 0
        self._cond = threading.Condition()
        self.stack = ExitStack()
        self.emulator = Emulator()
        port = self.emulator.start()
        self.stack.callback(self.emulator.stop)
        self.gateway = None
        self._port = port

    def _ticked(self) -> None:
        with self._cond:
            self.ticks += 1

    def start(self) -> None:
        """Switch the kiosk on (the gateway and its tick)."""
        self.gateway = build_gateway(self.config, self.config.storage.path, [self._port], self.stack,
                                     now=self.clock, on_tick=self._ticked, sweep_seconds=2.0)
        self.gateway.start()

    def stop(self) -> None:
        """Switch the kiosk off: no more ticks."""
        self.gateway.stop(10)
        self.gateway = None

    def wait_ticks(self, n: int = 3) -> None:
        """Let the tick run `n` more times at the current clock."""
        target = self.ticks + n
        wait_until(lambda: self.ticks >= target, timeout=20, what=f"{n} gateway ticks")

    def texts(self, phone: str) -> list[str]:
        return self.emulator.sent_texts(phone)

    def close(self) -> None:
        if self.gateway is not None:
            self.stop()
        self.stack.close()


def _local(moment: datetime) -> datetime:
    return moment.astimezone(ZoneInfo(ZONE))


def _utc(local_naive: datetime) -> datetime:
    return local_naive.replace(tzinfo=ZoneInfo(ZONE)).astimezone(timezone.utc)


@pytest.fixture
def appliance(config_path, store, request):
    extra = getattr(request, "param", "")
    config_path.write_text(config_path.read_text() + f"""
[site]
timezone = "{ZONE}"
[sms]
quiet_start = "00:00"
quiet_end = "00:00"
[relay]
group_leader_phone = "0912000002"
[[relay.officials]]
name = "Trần Văn Tổ"
phone = "0912000002"
pin = "2468"
{extra}
""", encoding="utf-8")
    config = load(config_path)
    for i, phone in enumerate(MEMBERS):
        directory.upsert_resident(store, f"Nguyễn Thị Hoa {i}", phone, groups=["Hội phụ nữ"],
                                  consent=Consent(True, "import", "list.xlsx"))
    directory.upsert_resident(store, "Lê Thị Không", "0987000099", groups=["Hội phụ nữ"])  # no consent
    kiosk = Appliance(config, store, Clock(datetime.now(timezone.utc)))
    yield kiosk
    kiosk.close()


def test_a_notice_scheduled_a_minute_ahead_goes_in_its_minute_and_never_twice(appliance, tdp):
    now = datetime.now(timezone.utc)
    appliance.clock.set(now)
    due_local = (_local(now) + timedelta(minutes=1)).replace(second=0, microsecond=0, tzinfo=None)
    result = tdp("notice", "send", "--group", "HPN", "--text", "Họp chi hội {ngay} lúc 19h30",
                 "--at", due_local.strftime("%Y-%m-%d %H:%M"), "--json")
    assert result.code == 0, result.err
    notice = result.data
    assert notice["next"] == due_local.strftime("%Y-%m-%d %H:%M") and notice["preview"]["recipients"] == 3
    appliance.start()
    appliance.clock.set(_utc(due_local) - timedelta(seconds=1))
    appliance.wait_ticks()
    assert appliance.emulator.sent == []                     # not a second early
    appliance.clock.set(_utc(due_local) + timedelta(seconds=1))
    appliance.emulator.wait_for_sent(3, timeout=30)
    expected = f"Họp chi hội {due_local.strftime('%d/%m/%Y')} lúc 19h30"
    for member in MEMBERS:
        assert appliance.texts(member) == [expected]
    # Another process running the schedule at the same moment, and later minutes: nothing more.
    assert schedule.run_due(appliance.store, appliance.config, _utc(due_local) + timedelta(seconds=2)) == []
    for minutes in (1, 5, 60 * 24 * 40):
        appliance.clock.set(_utc(due_local) + timedelta(minutes=minutes))
        appliance.wait_ticks()
    assert len(appliance.emulator.sent) == 3
    shown = tdp("notice", "show", notice["id"], "--json").data
    assert shown["state"] == "finished" and [o["state"] for o in shown["occurrences"]] == ["queued"]
    states = lambda: tdp("notice", "show", notice["id"], "--json").data["states"]  # noqa: E731
    wait_until(lambda: states()["sent"] + states()["delivered"] == 3 and states()["queued"] == 0,
               what="the three SMS recorded as sent")


def test_a_monthly_notice_survives_a_kiosk_that_was_off_on_its_day(appliance, tdp):
    first = (_local(datetime.now(timezone.utc)) + timedelta(days=3)).replace(hour=8, minute=0, second=0,
                                                                             microsecond=0, tzinfo=None)
    result = tdp("notice", "send", "--all", "--text", "Chi trả lương hưu tại nhà văn hóa, 8h-11h",
                 "--at", first.strftime("%Y-%m-%d %H:%M"), "--every", "month", "--json")
    assert result.code == 0, result.err
    notice_id = result.data["id"]
    # The kiosk is off on the day; it comes back the next morning, 23 hours late.
    appliance.clock.set(_utc(first) + timedelta(hours=23))
    appliance.start()
    appliance.emulator.wait_for_sent(3, timeout=30)
    appliance.wait_ticks()
    assert sorted(p.number for p in appliance.emulator.sent) == sorted(MEMBERS)
    # A reboot later that day sends nothing again.
    appliance.stop()
    appliance.start()
    appliance.wait_ticks()
    assert len(appliance.emulator.sent) == 3
    # Next month it goes on its day, in its minute.
    second = schedule.occurrence(first, "month", 1)
    appliance.clock.set(_utc(second) + timedelta(seconds=30))
    appliance.emulator.wait_for_sent(6, timeout=30)
    # Off for three days over the third month's day: past notices.late_hours, so skipped, not sent late.
    appliance.stop()
    third = schedule.occurrence(first, "month", 2)
    appliance.clock.set(_utc(third) + timedelta(days=3))
    appliance.start()
    appliance.wait_ticks()
    assert len(appliance.emulator.sent) == 6
    shown = tdp("notice", "show", notice_id, "--json").data
    assert [o["state"] for o in shown["occurrences"]] == ["queued", "queued", "skipped"]
    assert shown["state"] == "scheduled" and shown["next"] == schedule.occurrence(first, "month", 3).strftime(
        "%Y-%m-%d %H:%M")


def test_a_questions_replies_are_counted_and_reported_to_the_official(appliance, tdp, store):
    appliance.start()
    result = tdp("notice", "send", "--group", "HPN", "--text", "Chi hội họp tối thứ Sáu, bác có dự không?",
                 "--ask", "C=Có;K=Không", "--json")
    assert result.code == 0, result.err
    notice_id = result.data["id"]
    appliance.emulator.wait_for_sent(3 * result.data["preview"]["parts_per_message"], timeout=30)
    assert "Trả lời: nhắn C (Có), K (Không)." in appliance.texts(MEMBERS[0])[0]
    for phone, reply in zip(MEMBERS, ["Có ạ", "co nhe", "K"]):
        appliance.emulator.inject_incoming(phone, reply)
    appliance.emulator.inject_incoming("+84977777777", "C")   # never asked: an ordinary message
    wait_until(lambda: store.scalar("SELECT COUNT(*) FROM inbox_messages WHERE handled_at IS NOT NULL") >= 4,
               timeout=30, what="the replies handled")
    shown = tdp("notice", "show", notice_id, "--json").data
    assert shown["answers"]["counts"] == {"C": 2, "K": 1} and shown["answers"]["asked"] == 3
    assert "who" not in shown
    who = tdp("notice", "show", notice_id, "--who", "--json").data["who"]
    assert {(w["name"], w["answer"]) for w in who} == {("Nguyễn Thị Hoa 0", "C"), ("Nguyễn Thị Hoa 1", "C"),
                                                       ("Nguyễn Thị Hoa 2", "K")}
    # TT <PIN> any time, then the tally on its own when the question closes.
    appliance.emulator.inject_incoming(LEADER, "TT 2468")
    wait_until(lambda: any("hoi #" in t for t in appliance.texts(LEADER)), timeout=30, what="TT's reply")
    assert f"hoi #{notice_id} C2/K1 (3/3, dang mo)" in next(t for t in appliance.texts(LEADER) if "hoi #" in t)
    appliance.clock.set(datetime.now(timezone.utc) + timedelta(hours=appliance.config.notices.question_hours, minutes=1))
    wait_until(lambda: any("Ket qua hoi" in t for t in appliance.texts(LEADER)), timeout=30, what="the tally SMS")
    tally = [t for t in appliance.texts(LEADER) if "Ket qua hoi" in t]
    assert tally == [f"TDP: Ket qua hoi TB so {notice_id} (3 nguoi): C (Co) 2, K (Khong) 1, chua tra loi 0."]
    appliance.wait_ticks()
    assert len([t for t in appliance.texts(LEADER) if "Ket qua hoi" in t]) == 1


def test_per_household_reaches_each_household_once(appliance, tdp, store):
    appliance.start()
    first = directory.add_household(store, "Số 5 ngõ 2 Hạ Đình")
    second = directory.add_household(store, "Số 7 ngõ 2 Hạ Đình")
    yes = Consent(True, "import", "list.xlsx")
    directory.upsert_resident(store, "Phạm Văn Chủ", "0981000001", household_id=first, is_head=True, consent=yes)
    directory.upsert_resident(store, "Phạm Thị Vợ", "0981000002", household_id=first, consent=yes)
    directory.upsert_resident(store, "Đỗ Văn Chủ", "0981000003", household_id=second, is_head=True)  # no consent
    directory.upsert_resident(store, "Đỗ Thị Con", "0981000004", household_id=second, consent=yes)
    directory.upsert_resident(store, "Đỗ Văn Út", "0981000005", household_id=second, consent=yes)
    result = tdp("notice", "send", "--all", "--per-household", "--text", "Kính gửi hộ {ho_ten}, {dia_chi}: nộp thuế đất",
                 "--json")
    assert result.code == 0, result.err
    # The two households, plus the three residents of the fixture who have no household (one each).
    expected = {"+84981000001": "Kính gửi hộ Phạm Văn Chủ, Số 5 ngõ 2 Hạ Đình: nộp thuế đất",
                "+84981000004": "Kính gửi hộ Đỗ Thị Con, Số 7 ngõ 2 Hạ Đình: nộp thuế đất"}
    assert result.data["preview"]["recipients"] == 2 + len(MEMBERS)
    wait_until(lambda: outbox.queue_depth(store) == 0, timeout=60, what="the notice sent")
    sent = appliance.emulator.sent_texts()
    assert len(sent) == 5
    for phone, text in expected.items():
        assert appliance.texts(phone) == [text]
    for phone in ("+84981000002", "+84981000003", "+84981000005"):
        assert appliance.texts(phone) == []


def _digest_hour() -> int:
    return (_local(datetime.now(timezone.utc)).hour + 1) % 24


@pytest.mark.parametrize("appliance", [f"[notices]\ndigest_hour = {_digest_hour()}\n"], indirect=True)
def test_the_digest_arrives_at_its_hour_once_and_not_on_an_empty_day(appliance, store):
    now = datetime.now(timezone.utc)
    if _local(now).hour == 23:
        pytest.skip("the digest hour would fall on the next day")   # 23:00-24:00 local only
    appliance.start()
    appliance.emulator.inject_incoming("+84966000001", "DK Vũ Văn Mới")
    appliance.emulator.inject_incoming(MEMBERS[0], "HUY")
    appliance.emulator.inject_incoming("+84966000002", "Đèn đường ngõ 3 bị hỏng")
    wait_until(lambda: store.scalar("SELECT COUNT(*) FROM inbox_messages WHERE handled_at IS NOT NULL") >= 3,
               timeout=30, what="the residents' messages handled")
    hour = (_local(now) + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0, tzinfo=None)
    appliance.clock.set(_utc(hour) - timedelta(seconds=5))
    appliance.wait_ticks()
    assert not [t for t in appliance.texts(LEADER) if "tong ket" in t]
    appliance.clock.set(_utc(hour) + timedelta(seconds=5))
    wait_until(lambda: [t for t in appliance.texts(LEADER) if "tong ket" in t], timeout=30, what="the digest")
    digest = [t for t in appliance.texts(LEADER) if "tong ket" in t]
    assert digest == [f"TDP tong ket {hour.strftime('%d/%m')}: 1 dang ky cho xac nhan, 1 huy nhan tin, "
                      "1 tin nhan cua dan da chuyen. Chi tiet: tdp relay registrations; tdp sms inbox"]
    appliance.stop()
    appliance.start()
    appliance.clock.set(_utc(hour) + timedelta(hours=1))
    appliance.wait_ticks()
    # The next day nothing happened: no digest.
    appliance.clock.set(_utc(hour) + timedelta(days=1, minutes=1))
    appliance.wait_ticks()
    assert len([t for t in appliance.texts(LEADER) if "tong ket" in t]) == 1
    assert store.query("SELECT day, sent FROM digest_days ORDER BY day")[-1]["sent"] == 0


@pytest.mark.parametrize("appliance", ["[notices]\nbudget_parts = 4\n"], indirect=True)
def test_the_budget_stops_a_bulk_send(appliance, tdp, store):
    appliance.start()
    first = tdp("notice", "send", "--group", "HPN", "--text", "Hop to thu Sau", "--json")
    assert first.code == 0, first.err                          # 3 parts of 4: 75 %
    appliance.emulator.wait_for_sent(3, timeout=30)
    assert not [t for t in appliance.texts(LEADER) if "tin SMS thang" in t]
    second = tdp("notice", "send", "--group", "HPN", "--text", "Nhac lai: hop to thu Sau")
    assert second.code == 1 and "monthly SMS budget reached: 3 of 4 parts" in second.err
    assert "Traceback" not in second.err and len(second.err.strip().splitlines()) == 1
    appliance.emulator.inject_incoming(LEADER, "TB 2468 HPN Mai cat dien")
    wait_until(lambda: any("Khong gui" in t for t in appliance.texts(LEADER)), timeout=30, what="the refusal SMS")
    assert "Het ngan sach SMS thang" in next(t for t in appliance.texts(LEADER) if "Khong gui" in t)
    urgent = tdp("notice", "send", "--group", "HPN", "--text", "Khan: mai cat dien 8h-12h", "--urgent")
    assert urgent.code == 0, urgent.err
    wait_until(lambda: all(len(appliance.texts(m)) == 2 for m in MEMBERS), timeout=30, what="the urgent notice")
    wait_until(lambda: any("tin SMS thang" in t for t in appliance.texts(LEADER)), timeout=30,
               what="the leader's budget warning")
    for member in MEMBERS:
        assert appliance.texts(member) == ["Hop to thu Sau", "Khan: mai cat dien 8h-12h"]


def test_an_official_schedules_a_notice_by_sms_and_it_goes_at_its_time(appliance):
    now = datetime.now(timezone.utc)
    appliance.clock.set(now)
    appliance.start()
    due = (_local(now) + timedelta(days=1)).replace(hour=19, minute=30, second=0, microsecond=0, tzinfo=None)
    appliance.emulator.inject_incoming(LEADER, f"HG 2468 HPN {due.strftime('%d%m')} 1930 Mời chị em họp chi hội")
    wait_until(lambda: any("Da hen" in t for t in appliance.texts(LEADER)), timeout=30, what="HG's reply")
    reply = next(t for t in appliance.texts(LEADER) if "Da hen" in t)
    assert f"luc 19:30 {due.strftime('%d/%m/%Y')} den 3 nguoi (HPN)" in reply
    appliance.clock.set(_utc(due) + timedelta(seconds=10))
    wait_until(lambda: all(appliance.texts(m) == ["Mời chị em họp chi hội"] for m in MEMBERS), timeout=30,
               what="the scheduled notice")
