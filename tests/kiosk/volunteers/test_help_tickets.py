"""Help tickets: a resident calls a volunteer; the volunteer on duty is texted, helps, and closes it."""
from __future__ import annotations

import io
import sys
from datetime import datetime, timezone

import pytest

from kiosk.appliance import config as config_module
from kiosk.volunteers import help_tickets as tickets
from kiosk.volunteers import people as vols
from kiosk.errors import InvalidInput, NotFound
from sms import outbox
from kiosk.volunteers import duty

NOON = datetime(2026, 12, 2, 5, 0, tzinfo=timezone.utc)  # 12:00 local


def add(store, name, phone, role="member"):
    volunteer = vols.add(store, vols.NewVolunteer(name, phone, team="Đoan Trai", role=role))
    vols.set_pin(store, name, "4826")
    return volunteer


def sms_to(store, phone):
    return [{"text": m["text"], "priority": m["priority"]} for m in outbox.messages(store, to=phone)]


def test_volunteer_checks_in_gets_the_kiosk_call_and_closes_it(tdp, store, monkeypatch):
    add(store, "Nguyễn Thị Lam", "0905000051")
    add(store, "Trần Văn Hải", "0905000052", role="leader")
    monkeypatch.setattr(sys, "stdin", io.StringIO("4826\n"))
    assert tdp("volunteers", "check-in", "Nguyễn Thị Lam", "--pin-stdin").code == 0

    r = tdp("help-ticket", "new", "--note", "Cần cài VNeID mức 2", "--json")
    assert r.code == 0, r.err
    ticket = r.data
    assert ticket["display_number"] == "001" and ticket["volunteer_name"] == "Nguyễn Thị Lam"
    assert ticket["notified"] == ["0905 000 051"]  # only who is on duty; the leader is not disturbed
    [message] = sms_to(store, "+84905000051")
    assert "Phiếu hỗ trợ số 001" in message["text"] and "Cần cài VNeID mức 2" in message["text"]
    assert message["priority"] == "urgent"  # a resident is waiting at the kiosk
    assert sms_to(store, "+84905000052") == []

    second = tdp("help-ticket", "new", "--json").data
    assert second["display_number"] == "002"

    closed = tdp("help-ticket", "close", "001", "--procedure", "Đăng ký tạm trú", "--channel", "online_kiosk",
                 "--online", "yes", "--minutes", "25", "--json")
    assert closed.code == 0, closed.err
    assert (closed.data["status"], closed.data["submitted_online"], closed.data["minutes"]) == ("closed", True, 25)
    listed = tdp("help-ticket", "list", "--status", "closed", "--json").data
    assert [t["display_number"] for t in listed] == ["001"]
    again = tdp("help-ticket", "close", "001", "--procedure", "x", "--channel", "in_person", "--online", "no",
                "--minutes", "5")
    assert again.code == 1 and "already closed" in again.err


def test_sms_hotro_creates_a_ticket_and_nobody_on_duty_alerts_the_leaders(store, config_path):
    config = config_module.from_dict({})
    add(store, "Thành Viên", "0905000053")
    add(store, "Tổ Trưởng", "0905000054", role="leader")
    ticket = tickets.from_sms(store, config, "+84912345678", "HOTRO: nhà tôi ở ngõ 5, cần làm trợ cấp", at=NOON)
    assert ticket["source"] == "sms" and ticket["note"] == "nhà tôi ở ngõ 5, cần làm trợ cấp"
    assert ticket["status"] == "open" and ticket["notified"] == ["0905 000 054"]
    [message] = sms_to(store, "+84905000054")
    assert "0912 345 678" in message["text"] and "Chưa có ai trực" in message["text"]


def test_on_duty_pick_prefers_the_checked_in_and_least_busy(store, config_path):
    config = config_module.from_dict({})
    add(store, "Một", "0905000055")
    add(store, "Hai", "0905000056")
    duty.check_in(store, "Một", "4826", at=NOON)
    duty.check_in(store, "Hai", "4826", at=NOON)
    first = tickets.create(store, config, "kiosk", at=NOON)
    second = tickets.create(store, config, "kiosk", at=NOON)
    assert {first["volunteer_name"], second["volunteer_name"]} == {"Một", "Hai"}
    assert sorted(first["notified"]) == ["0905 000 055", "0905 000 056"]


def test_home_visit_is_created_by_a_volunteer_for_a_vulnerable_household(tdp, store):
    add(store, "Lê Thị Hoa", "0905000057")
    r = tdp("help-ticket", "new", "--source", "home_visit", "--by", "Lê Thị Hoa", "--address", "12 Lê Lợi",
            "--vulnerable", "người cao tuổi", "--note", "trợ cấp hưu trí xã hội", "--json")
    assert r.code == 0, r.err
    assert (r.data["vulnerability"], r.data["volunteer_name"], r.data["notified"]) == ("elderly", "Lê Thị Hoa", [])
    missing = tdp("help-ticket", "new", "--source", "home_visit", "--by", "Lê Thị Hoa", "--address", "12 Lê Lợi")
    assert missing.code == 1 and "vulnerable household" in missing.err
    closed = tdp("help-ticket", "close", r.data["display_number"], "--procedure", "Trợ cấp hưu trí xã hội",
                 "--channel", "online_home", "--online", "yes", "--minutes", "40", "--json")
    assert closed.code == 0 and closed.data["channel"] == "online_home"


def test_close_refuses_contradictions_and_unknown_tickets(store, config_path):
    config = config_module.from_dict({})
    add(store, "Vân", "0905000058")
    ticket = tickets.create(store, config, "kiosk", at=NOON)
    with pytest.raises(InvalidInput, match="has no volunteer"):
        tickets.close(store, "001", procedure="Khai sinh", channel="online_kiosk", submitted_online=True, minutes=5)
    with pytest.raises(InvalidInput, match="cannot be submitted online"):
        tickets.close(store, "001", procedure="Khai sinh", channel="in_person", submitted_online=True, minutes=5,
                      volunteer="Vân")
    with pytest.raises(InvalidInput, match="minutes"):
        tickets.close(store, "001", procedure="Khai sinh", channel="online_kiosk", submitted_online=True,
                      minutes=-3, volunteer="Vân")
    with pytest.raises(NotFound, match="number 042"):
        tickets.get_by_number(store, "42")
    closed = tickets.close(store, "Số 001", procedure="Khai sinh", channel="online_kiosk", submitted_online=True,
                           minutes=5, volunteer="Vân")
    assert closed["id"] == ticket["id"] and closed["volunteer_name"] == "Vân"
    assert store.scalar("SELECT status FROM help_tickets WHERE id = ?", (ticket["id"],)) == "closed"
