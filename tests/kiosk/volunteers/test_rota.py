"""The rota: an official plans next month and sees the gaps; fair fill; overlaps; sheet; reminders."""
from __future__ import annotations

import subprocess
from collections import Counter
from datetime import date, datetime, timedelta, timezone

from kiosk.appliance import config as config_module
from kiosk.volunteers import rota
from kiosk.volunteers import people as vols
from sms import outbox
from kiosk import clock
from kiosk.volunteers import duty

DECEMBER = (date(2026, 12, 1), date(2026, 12, 31))


def add(store, name, phone, availability=""):
    return vols.add(store, vols.NewVolunteer(name, phone, team="Đoan Trai", availability=availability))


def team(store):
    """Two for office hours, two for evenings, one for Saturday mornings; nobody for Sundays."""
    add(store, "Anh Office", "0905000011", "T2-T6 sáng chiều")
    add(store, "Bình Office", "0905000012", "ngày thường sáng; ngày thường chiều")
    add(store, "Cúc Evening", "0905000013", "T2-T6 tối")
    add(store, "Dũng Evening", "0905000014", "weekdays evening")
    add(store, "Em Saturday", "0905000015", "T7 sáng")


def test_official_plans_next_month_and_sees_the_gaps(tdp, store):
    team(store)
    r = tdp("rota", "plan", "--from", "2026-12-01", "--to", "2026-12-31", "--json")
    assert r.code == 0, r.err
    shifts, gaps = r.data["shifts"], r.data["gaps"]
    weekdays = [d for d in range(1, 32) if date(2026, 12, d).weekday() < 5]
    weekends = [d for d in range(1, 32) if date(2026, 12, d).weekday() >= 5]
    assert len(shifts) == 3 * len(weekdays) + 2 * len(weekends)
    for s in shifts:
        day = date.fromisoformat(s["day"])
        for v in s["volunteers"]:  # nobody is put where they said they cannot be
            assert vols.is_available(vols.get_by_name_or_phone(store, v["phone"])["availability"], day.weekday(), s["session"])
    # Weekday sessions are full; every weekend session is short and listed as a gap.
    assert {(g["day"], g["session"], g["place"]) for g in gaps} == {
        (s["day"], s["session"], s["place"]) for s in shifts if date.fromisoformat(s["day"]).weekday() >= 5}
    saturday_morning = next(g for g in gaps if g["day"] == "2026-12-05" and g["session"] == "morning")
    assert [v["name"] for v in saturday_morning["volunteers"]] == ["Em Saturday"]
    assert saturday_morning["missing"] == 1
    text = tdp("rota", "plan", "--from", "2026-12-01", "--to", "2026-12-31")
    assert "below the minimum" in text.out and "THIẾU 2" in text.out and "CN 06/12" in text.out


def test_fill_is_fair_and_replanning_keeps_what_is_there(store, config_path):
    config = config_module.from_dict({"volunteers": {"sessions": ["centre:weekdays:morning"]}})
    for n in range(4):
        add(store, f"Người {n}", f"090500002{n}")
    first = rota.plan(store, config, *DECEMBER)
    assert first["gaps"] == []
    load = Counter(v["name"] for s in first["shifts"] for v in s["volunteers"])
    assert max(load.values()) - min(load.values()) <= 1 and sum(load.values()) == 2 * 23
    again = rota.plan(store, config, *DECEMBER)
    assert again["assigned_now"] == 0 and again["shifts"] == first["shifts"]
    stricter = config_module.from_dict({"volunteers": {"sessions": ["centre:weekdays:morning"], "min_per_session": 3}})
    third = rota.plan(store, stricter, *DECEMBER)  # the official raised the minimum: top up, keep the rest
    assert third["assigned_now"] == 23 and third["gaps"] == []
    assert all(set(v["id"] for v in old["volunteers"]) < set(v["id"] for v in new["volunteers"])
               for old, new in zip(first["shifts"], third["shifts"]))


def test_overlapping_shifts_are_refused(tdp, store):
    add(store, "Giang", "0905000031")
    ok = tdp("rota", "assign", "Giang", "--day", "2026-12-02", "--session", "sáng", "--place", "centre", "--json")
    assert ok.code == 0, ok.err
    clash = tdp("rota", "assign", "Giang", "--day", "2026-12-02", "--session", "morning", "--place", "kiosk")
    assert clash.code == 1 and "may not overlap" in clash.err
    assert tdp("rota", "assign", "Giang", "--day", "2026-12-02", "--session", "chiều", "--place", "kiosk").code == 0
    shown = tdp("rota", "show", "--week", "2026-12-02", "--json").data
    mine = [(s["session"], s["place"]) for s in shown["shifts"] if s["volunteers"]]
    assert mine == [("morning", "centre"), ("afternoon", "kiosk")]
    unknown = tdp("rota", "assign", "Không Ai", "--day", "2026-12-02", "--session", "tối", "--place", "kiosk")
    assert unknown.code == 1 and "no volunteer" in unknown.err


def test_weekly_sheet_lists_names_phones_and_gaps(tdp, store, tmp_path):
    team(store)
    tdp("rota", "plan", "--from", "2026-12-07", "--to", "2026-12-13")
    out = tmp_path / "lich-truc.pdf"
    r = tdp("rota", "sheet", "--week", "2026-12-09", "--out", out)
    assert r.code == 0, r.err
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert "LỊCH TRỰC TÌNH NGUYỆN VIÊN" in text and "07/12/2026" in text and "13/12/2026" in text
    assert "Cúc Evening" in text and "0905 000 013" in text
    assert "Thiếu 2 người" in text and "Thiếu 1 người" in text
    bad = tdp("rota", "sheet", "--week", "2026-12-09", "--out", tmp_path / "x.docx")
    assert bad.code == 1 and ".pdf" in bad.err


def test_on_duty_includes_who_is_rostered_now(store, config_path):
    config = config_module.from_dict({})
    add(store, "Hoa", "0905000041")
    rota.assign(store, config, date(2026, 12, 2), "evening", "kiosk", "Hoa")
    evening = datetime(2026, 12, 2, 12, 0, tzinfo=timezone.utc)  # 19:00 local
    assert [(v["name"], v["checked_in"]) for v in duty.on_duty(store, evening)] == [("Hoa", False)]
    assert duty.on_duty(store, evening + timedelta(hours=3)) == []


def test_reminders_go_out_once_the_evening_before(store, config_path):
    config = config_module.from_dict({})
    team(store)
    rota.plan(store, config, date(2026, 12, 2), date(2026, 12, 2))
    morning_before = datetime(2026, 12, 1, 3, 0, tzinfo=timezone.utc)  # 10:00 on 01/12 local
    assert rota.remind(store, config, morning_before) == []  # too early: volunteers.reminder_hour is 19
    evening_before = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)  # 19:00 on 01/12 local
    sent = rota.remind(store, config, evening_before)
    assert len(sent) == 6
    rows = sorted(outbox.messages(store, key_prefix="rota-reminder:"), key=lambda m: m["id"])
    assert len(rows) == 6
    assert {r["to"] for r in rows} == {"+84905000011", "+84905000012", "+84905000013", "+84905000014"}
    assert "ngày mai T4 02/12" in rows[0]["text"] and "07:30-11:30" in rows[0]["text"]
    assert rota.remind(store, config, evening_before) == []
    assert len(outbox.messages(store, key_prefix="rota-reminder:")) == 6


def test_remind_command_queues_through_the_outbox(tdp, store):
    tomorrow = clock.local_today(config_module.from_dict({}).site.timezone) + timedelta(days=1)
    add(store, "Khánh", "0905000081")
    assert tdp("rota", "assign", "Khánh", "--day", tomorrow, "--session", "tối", "--place", "kiosk").code == 0
    r = tdp("rota", "remind", "--now", "--json")
    assert r.code == 0, r.err
    assert [x["name"] for x in r.data["queued"]] == ["Khánh"]
    assert len(outbox.messages(store, to="+84905000081")) == 1
    assert tdp("rota", "remind", "--now", "--json").data["queued"] == []
