"""Volunteers: adding and importing, the PIN (hashed, locked out after wrong tries), duty time."""
from __future__ import annotations

import csv
import io
import sys
from datetime import datetime, timedelta, timezone

import pytest
from openpyxl import Workbook

from kiosk.appliance import config as config_module
from kiosk.volunteers import people as vols
from kiosk.appliance.store import open_store
from kiosk.volunteers import duty

T0 = datetime(2026, 12, 1, 1, 0, tzinfo=timezone.utc)  # 08:00 in Vietnam


def add(store, name, phone, **kw):
    return vols.add(store, vols.NewVolunteer(name, phone, **kw))


def test_add_and_list_through_the_cli(tdp):
    r = tdp("volunteers", "add", "--name", "Nguyễn Thị Thanh Lam", "--phone", "0905 123 456", "--team",
            "TDP Đoan Trai", "--role", "leader", "--skills", "VNeID", "trợ cấp xã hội",
            "--availability", "T2-T6 tối; T7 sáng", "--json")
    assert r.code == 0, r.err
    assert r.data["phone"] == "+84905123456" and r.data["role"] == "leader"
    assert r.data["skills"] == ["VNeID", "trợ cấp xã hội"]
    listed = tdp("volunteers", "list", "--json").data
    assert [v["name"] for v in listed] == ["Nguyễn Thị Thanh Lam"]
    assert "pin_hash" not in listed[0]
    assert listed[0]["availability_text"] == "T2 Tối, T3 Tối, T4 Tối, T5 Tối, T6 Tối, T7 Sáng"


def test_duplicate_phone_is_a_clear_error_and_keeps_the_first(tdp, store):
    assert tdp("volunteers", "add", "--name", "Trần Văn Hải", "--phone", "0905123456").code == 0
    r = tdp("volunteers", "add", "--name", "Lê Thị Hoa", "--phone", "+84 905 123 456")
    assert r.code == 1
    assert "already belongs to volunteer Trần Văn Hải" in r.err and "Traceback" not in r.err
    assert [v["name"] for v in vols.list_volunteers(store)] == ["Trần Văn Hải"]


def test_unknown_volunteer_and_bad_input_are_one_line_errors(tdp, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("2580\n"))
    r = tdp("volunteers", "set-pin", "Không Có Ai", "--pin-stdin")
    assert r.code == 1 and "no volunteer 'Không Có Ai'" in r.err
    r = tdp("volunteers", "add", "--name", "A", "--phone", "0241234567")
    assert r.code == 1 and "landline" in r.err
    r = tdp("volunteers", "add", "--name", "A", "--phone", "0905123456", "--availability", "thứ hai lúc nào cũng được")
    assert r.code == 1 and "cannot read availability" in r.err


@pytest.mark.parametrize("text, expected", [
    ("T2-T6 tối; T7 sáng", "0:evening,1:evening,2:evening,3:evening,4:evening,5:morning"),
    ("Thứ 7, Chủ nhật cả ngày", ",".join(f"{d}:{s}" for d in (5, 6) for s in vols.SESSIONS)),
    ("weekend morning", "5:morning,6:morning"),
    ("cuối tuần buổi chiều", "5:afternoon,6:afternoon"),
    ("thứ hai, thứ tư chiều", "0:afternoon,2:afternoon"),
    ("sáng", ",".join(f"{d}:morning" for d in range(7))),
    ("", ""),
    ("hằng ngày", ""),
])
def test_availability_is_read_from_vietnamese_or_english(text, expected):
    assert vols.parse_availability(text) == expected


def test_import_from_csv_with_vietnamese_headers(tmp_path, tdp, store):
    path = tmp_path / "tnv.csv"
    with open(path, "w", newline="", encoding="utf-8-sig") as handle:
        out = csv.writer(handle)
        out.writerow(["DANH SÁCH TỔ CÔNG NGHỆ SỐ CỘNG ĐỒNG"])
        out.writerow(["STT", "Họ và tên", "SĐT", "Tổ/Nhóm", "Vai trò", "Kỹ năng", "Lịch rảnh"])
        out.writerow(["1", "Đoàn Văn Hải", "0905 111 222", "Mỹ Thạch Bắc", "Tổ trưởng", "VNeID; đất đai", "T7 sáng"])
        out.writerow(["2", "Nguyễn Thị Lam", "905333444", "Đoan Trai", "Thành viên", "cư trú", "T2-T6 tối"])
        out.writerow(["3", "Người Trùng", "0905111222", "Đoan Trai", "Thành viên", "", ""])
        out.writerow(["4", "Số Sai", "12345", "Đoan Trai", "", "", ""])
    r = tdp("volunteers", "import", path, "--json")
    assert r.code == 0, r.err
    assert (r.data["added"], r.data["updated"], len(r.data["rejected"])) == (2, 0, 2)
    reasons = {x["row"]: x["reason"] for x in r.data["rejected"]}
    assert "already on row 3" in reasons["row 5"] and "row 6" in reasons
    hai = vols.get_by_name_or_phone(store, "doan van hai")
    assert hai["role"] == "leader" and hai["skills"] == ["VNeID", "đất đai"] and hai["availability"] == "5:morning"
    again = tdp("volunteers", "import", path, "--json").data
    assert (again["added"], again["unchanged"]) == (0, 2)


def test_import_from_xlsx(tmp_path, store):
    book = Workbook()
    sheet = book.active
    sheet.append(["Họ tên", "Số điện thoại", "Tổ", "Vai trò", "Lịch rảnh"])
    sheet.append(["Phạm Minh Tuấn", 912345678, "Đoan Trai", "member", "weekdays evening"])
    book.save(tmp_path / "tnv.xlsx")
    result = vols.import_file(store, tmp_path / "tnv.xlsx")
    assert result["added"] == 1
    assert vols.get_by_name_or_phone(store, "0912345678")["availability"].startswith("0:evening")


def test_pin_is_stored_salted_and_hashed(store):
    add(store, "An", "0905000001")
    add(store, "Bình", "0905000002")
    vols.set_pin(store, "An", "2580")
    vols.set_pin(store, "Bình", "2580")
    hashes = [r["pin_hash"] for r in store.query("SELECT pin_hash FROM volunteers ORDER BY id")]
    for stored in hashes:  # the PIN itself is nowhere: only scrypt's parameters, salt and key
        kind, n, r, p, salt, key = stored.split("$")
        assert (kind, len(salt), len(key)) == ("scrypt", 32, 64)
        assert int(n) >= 2 ** 14 and vols.pin_matches("2580", stored) and not vols.pin_matches("2581", stored)
    assert hashes[0] != hashes[1]  # a salt per volunteer
    with pytest.raises(vols.InvalidInput, match="4 to 8 digits"):
        vols.set_pin(store, "An", "12a4")
    with pytest.raises(vols.InvalidInput, match="too easy"):
        vols.set_pin(store, "An", "1111")


def test_wrong_pins_lock_the_volunteer_out_even_across_restarts(store, config_path):
    settings = config_module.from_dict({"volunteers": {"pin_max_failures": 3, "lockout_minutes": 15}}).volunteers
    add(store, "Lan", "0905000003")
    vols.set_pin(store, "Lan", "4826")
    with pytest.raises(vols.WrongPin, match="2 tries left"):
        vols.verify_pin(store, "Lan", "0000", settings, T0)
    with pytest.raises(vols.WrongPin, match="1 tries left"):
        vols.verify_pin(store, "Lan", "0001", settings, T0)
    with pytest.raises(vols.LockedOut, match="locked for 15 minutes"):
        vols.verify_pin(store, "Lan", "0002", settings, T0)
    reopened = open_store(store.path)  # another process (the kiosk UI) sees the same lockout
    try:
        with pytest.raises(vols.LockedOut, match="try again in 5 minutes"):
            duty.check_in(reopened, "Lan", "4826", settings, T0 + timedelta(minutes=10))
    finally:
        reopened.close()
    assert vols.verify_pin(store, "Lan", "4826", settings, T0 + timedelta(minutes=16))["name"] == "Lan"


def test_check_in_with_pin_records_time_worked_and_shows_on_duty(tdp, store, monkeypatch):
    add(store, "Võ Thị Mai", "0905000004")
    monkeypatch.setattr(sys, "stdin", io.StringIO("4826\n"))
    assert tdp("volunteers", "set-pin", "Võ Thị Mai", "--pin-stdin").code == 0
    monkeypatch.setattr(sys, "stdin", io.StringIO("9999\n"))
    r = tdp("volunteers", "check-in", "0905000004", "--pin-stdin")
    assert r.code == 1 and "wrong PIN" in r.err
    assert tdp("volunteers", "on-duty", "--json").data == []
    monkeypatch.setattr(sys, "stdin", io.StringIO("4826\n"))
    assert tdp("volunteers", "check-in", "vo thi mai", "--pin-stdin").code == 0
    assert [v["name"] for v in tdp("volunteers", "on-duty", "--json").data] == ["Võ Thị Mai"]
    monkeypatch.setattr(sys, "stdin", io.StringIO("4826\n"))
    again = tdp("volunteers", "check-in", "Võ Thị Mai", "--pin-stdin")
    assert again.code == 1 and "already checked in" in again.err
    monkeypatch.setattr(sys, "stdin", io.StringIO("4826\n"))
    r = tdp("volunteers", "check-out", "Võ Thị Mai", "--pin-stdin", "--json")
    assert r.code == 0 and r.data["minutes"] == 0
    assert tdp("volunteers", "on-duty", "--json").data == []


def test_minutes_worked_between_check_in_and_out(store):
    add(store, "Hà", "0905000005")
    vols.set_pin(store, "Hà", "4826")
    duty.check_in(store, "Hà", "4826", at=T0)
    assert [v["name"] for v in duty.on_duty(store, T0 + timedelta(hours=1))] == ["Hà"]
    out = duty.check_out(store, "Hà", "4826", at=T0 + timedelta(hours=2, minutes=30, seconds=40))
    assert out["minutes"] == 150
    assert duty.on_duty(store, T0 + timedelta(hours=3)) == []
    assert store.scalar("SELECT minutes FROM volunteer_attendance") == 150


def test_inactive_volunteer_cannot_check_in(tdp, store):
    add(store, "Nghỉ", "0905000006")
    vols.set_pin(store, "Nghỉ", "4826")
    assert tdp("volunteers", "deactivate", "Nghỉ").code == 0
    with pytest.raises(vols.VolunteerError, match="inactive"):
        duty.check_in(store, "Nghỉ", "4826", at=T0)
