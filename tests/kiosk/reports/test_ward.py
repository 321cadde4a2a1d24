"""The ward report: October's figures from the real modules, as xlsx (with a chart), pdf, csv and JSON."""
from __future__ import annotations

import csv
import subprocess
from datetime import date, datetime, timedelta, timezone

import pytest
from openpyxl import load_workbook
from openpyxl.chart import LineChart

from kiosk.appliance import config as config_module
from kiosk.dossiers import lifecycle as dossiers
from kiosk.reports import ratings
from kiosk.volunteers import rota
from kiosk.volunteers import help_tickets as tickets
from kiosk.volunteers import people as vols
from sms import outbox
from kiosk import clock
from kiosk.volunteers import duty

VN = timezone(timedelta(hours=7))


def local(day: int, hour: int = 9, minute: int = 0, month: int = 10) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=VN)


# (local time, procedure, channel). Weeks start on Monday: 28/09, 05/10, 12/10, 19/10, 26/10.
DOSSIERS = [
    (local(30, 23, 59, month=9), "HT-KS", "kiosk"),           # before the period
    (local(1), "HT-KS", "kiosk"), (local(2), "HT-KS", "in_person"),
    (local(6), "HT-KT", "kiosk"), (local(6), "HT-KT", "kiosk"), (local(7), "HT-KT", "kiosk"),
    (local(8), "HT-KT", "in_person"),
    (local(20), "HT-KH", "home"), (local(21), "HT-KH", "home"),
    (local(31, 23, 30), "HT-KS", "sms"),                       # last minute of the period, local time
    (local(1, 0, 30, month=11), "HT-KS", "kiosk"),             # after the period (still 31/10 in UTC)
]
IN_OCTOBER = [d for d in DOSSIERS if local(1, 0) <= d[0] < local(1, 0, month=11)]
WEEKS = [date(2026, 9, 28), date(2026, 10, 5), date(2026, 10, 12), date(2026, 10, 19), date(2026, 10, 26)]


def expected_weekly_shares() -> list[float | None]:
    shares = []
    for monday in WEEKS:
        week = [d for d in IN_OCTOBER if monday <= d[0].date() < monday + timedelta(days=7)]
        shares.append(sum(d[2] != "in_person" for d in week) / len(week) if week else None)
    return shares


@pytest.fixture
def october(store, config_path, monkeypatch):
    """A month of activity written through the real modules: dossiers, SMS, rota, tickets, ratings."""
    config = config_module.from_dict({})
    sent_at = local(10, 10)
    ids = [outbox.enqueue(store, f"+8490500006{n}", text, now=sent_at, source="test") for n, text in
           enumerate(["Nhắc lịch trực", "Thông báo họp tổ dân phố " * 4, "Tin lỗi"])]
    assert [outbox.message(store, i)["part_count"] for i in ids] == [1, 2, 1]
    for ref in (11, 12, 13):  # parts go out in order: message 1, message 2 (two parts)
        part = outbox.claim_next(store, "modem0", now=sent_at)
        outbox.mark_sent(store, part.id, ref, "modem0", now=sent_at)
    outbox.apply_status_report(store, 11, "+84905000060", delivered=True, final=True, status=0,
                               now=sent_at + timedelta(minutes=1))
    failing = outbox.claim_next(store, "modem0", now=sent_at)
    assert failing.message_id == ids[2]
    outbox.mark_failed(store, failing.id, "+CMS ERROR: 500", permanent=True, now=sent_at)

    stamps = iter(clock.utc_stamp(d[0]) for d in DOSSIERS)
    monkeypatch.setattr(dossiers, "utc_stamp", lambda: next(stamps))
    for moment, procedure, channel in DOSSIERS:
        dossiers.create(store, procedure_code=procedure, full_name="Nguyễn Văn Dân", phone="0912345678",
                        channel=channel, today=moment.date())

    for name, phone in (("Nguyễn Thị Lam", "0905000071"), ("Trần Văn Hải", "0905000072")):
        vols.add(store, vols.NewVolunteer(name, phone, team="Đoan Trai", availability="T2-T6 sáng"))
        vols.set_pin(store, name, "4826")
    narrow = config_module.from_dict({"volunteers": {"sessions": ["centre:weekdays:morning", "kiosk:t7:morning"]}})
    rota.plan(store, narrow, date(2026, 10, 5), date(2026, 10, 11))  # 5 full weekday sessions, 1 empty Saturday
    duty.check_in(store, "Nguyễn Thị Lam", "4826", at=local(6, 7, 30))
    duty.check_out(store, "Nguyễn Thị Lam", "4826", at=local(6, 11, 0))

    kiosk_ticket = tickets.create(store, config, "kiosk", note="VNeID", at=local(6, 8))
    tickets.close(store, kiosk_ticket["display_number"], procedure="Kích hoạt VNeID", channel="online_kiosk",
                  submitted_online=True, minutes=20, at=local(6, 8, 30))
    tickets.create(store, config, "sms", phone="0912345678", note="cần hỗ trợ", at=local(7, 9))
    visit = tickets.create(store, config, "home_visit", created_by="Trần Văn Hải", address="5 Lê Lợi",
                           vulnerability="disabled", at=local(8, 15))
    tickets.close(store, "#%d" % visit["id"], procedure="Trợ cấp người khuyết tật", channel="in_person",
                  submitted_online=False, minutes=45, at=local(8, 16))

    for service, score, reason, day in (("help", 1, None, 6), ("help", 2, None, 8), ("request", 4, "staff", 20),
                                        ("guide", 3, None, 21)):
        ratings.add(store, config, service, score, reason, at=local(day, 10))
    ratings.add(store, config, "help", 4, None, at=local(2, 10, month=11))
    return store


def test_monthly_json_matches_what_happened(tdp, october):
    r = tdp("report", "--from", "2026-10-01", "--to", "2026-10-31", "--json")
    assert r.code == 0, r.err
    data = r.data
    req = data["requests"]
    assert (req["total"], req["online"]) == (len(IN_OCTOBER), sum(d[2] != "in_person" for d in IN_OCTOBER)) == (9, 7)
    assert req["online_share"] == round(7 / 9, 4) and req["target"] == 0.8 and req["meets_target"] is False
    assert {r["procedure"]: (r["total"], r["online"]) for r in req["by_procedure"]} == {
        "HT-KS": (3, 2), "HT-KT": (4, 3), "HT-KH": (2, 2)}
    assert {r["channel"]: r["total"] for r in req["by_channel"]} == {"kiosk": 4, "in_person": 2, "home": 2, "sms": 1}
    assert [w["week_start"] for w in data["weekly"]] == [w.isoformat() for w in WEEKS]

    tk = data["help_tickets"]
    assert (tk["total"], tk["closed"], tk["open"], tk["submitted_online"], tk["minutes"]) == (3, 2, 1, 1, 65)
    assert {r["source"]: r["total"] for r in tk["by_source"]} == {"kiosk": 1, "sms": 1, "home_visit": 1}

    vol = data["volunteers"]
    assert (vol["sessions"], vol["covered"], vol["uncovered"]) == (6, 5, 1)
    people = {p["name"]: p for p in vol["people"]}
    assert people["Nguyễn Thị Lam"]["hours"] == 3.5 and people["Nguyễn Thị Lam"]["tickets_closed"] == 1
    assert people["Trần Văn Hải"]["shifts"] == 5 and people["Trần Văn Hải"]["tickets_closed"] == 1

    assert {k: data["sms"][k] for k in ("sent", "delivered", "failed", "estimated_cost")} == {
        "sent": 3, "delivered": 1, "failed": 1, "estimated_cost": 3 * 350}
    assert data["satisfaction"]["responses"] == 4 and data["satisfaction"]["satisfied_share"] == 0.5


def test_summary_text_for_the_official(tdp, october):
    text = tdp("report", "--from", "2026-10-01", "--to", "2026-10-31").out
    assert "Requests: 9, online 7 (77.8%; target 80% – not met)" in text
    assert "SMS parts: 3 sent, 1 delivered, 1 failed; estimated cost 1.050 đ" in text
    assert "Rota sessions: 6 (5 covered, 1 short)" in text


def test_monthly_xlsx_has_a_chart_of_the_weekly_share_that_matches_the_store(tdp, october, tmp_path):
    out = tmp_path / "bao-cao-10-2026.xlsx"
    r = tdp("report", "--from", "2026-10-01", "--to", "2026-10-31", "--out", out)
    assert r.code == 0, r.err
    sheet = load_workbook(out)["Báo cáo"]
    cells = {str(row[0].value): [c.value for c in row[1:]] for row in sheet.iter_rows() if row[0].value}
    assert "UBND PHƯỜNG DEMO" in cells and "Từ ngày 01/10/2026 đến ngày 31/10/2026" in cells
    assert cells["Tổng số hồ sơ"][0] == 9 and cells["Số hồ sơ nộp trực tuyến"][0] == 7
    assert cells["Số phần tin đã gửi"][0] == 3 and cells["Chi phí ước tính (đồng)"][0] == 1050

    charts = sheet._charts
    line = next(c for c in charts if isinstance(c, LineChart))
    assert len(charts) == 2
    share_ref, target_ref = (s.val.numRef.f for s in line.series)

    def values(ref: str) -> list:
        cells_range = ref.split("!")[1].replace("$", "")
        return [row[0].value for row in sheet[cells_range]]

    assert values(share_ref) == pytest.approx(expected_weekly_shares())
    assert values(target_ref) == [0.8] * len(WEEKS)
    categories = line.series[0].cat.numRef or line.series[0].cat.strRef
    assert values(categories.f) == [w.strftime("%d/%m/%Y") for w in WEEKS]


def test_pdf_and_csv_carry_the_same_figures(tdp, october, tmp_path):
    pdf, table = tmp_path / "bao-cao.pdf", tmp_path / "bao-cao.csv"
    assert tdp("report", "--from", "2026-10-01", "--to", "2026-10-31", "--out", pdf).code == 0
    assert tdp("report", "--from", "2026-10-01", "--to", "2026-10-31", "--out", table).code == 0
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "UBND PHƯỜNG DEMO" in text and "Từ ngày 01/10/2026 đến ngày 31/10/2026" in text
    assert "77,8%" in text and "Chưa đạt" in text and "Tỷ lệ hồ sơ trực tuyến theo tuần (%)" in text
    assert "Trợ cấp người khuyết tật" in text and "Kích hoạt VNeID" in text
    assert "Nguyễn Thị Lam" in text and "1.050" in text  # the SMS cost, in đồng
    with open(table, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert ["Tổng số hồ sơ", "9"] in rows and ["Tỷ lệ trực tuyến", "77,8%"] in rows
    assert ["Cộng", "", "4", "2", "50,0%"] in rows and ["Chi phí ước tính (đồng)", "1050"] in rows


def test_an_empty_period_gives_zeros_in_every_format(tdp, tmp_path):
    for name in ("empty.xlsx", "empty.csv", "empty.pdf"):
        r = tdp("report", "--from", "2020-01-01", "--to", "2020-01-31", "--out", tmp_path / name, "--json")
        assert r.code == 0, r.err
        assert (tmp_path / name).stat().st_size > 0
    data = r.data
    assert data["requests"]["total"] == 0 and data["requests"]["online_share"] == 0.0
    assert data["satisfaction"] == {**data["satisfaction"], "responses": 0, "satisfied_share": 0.0}
    assert data["sms"]["estimated_cost"] == 0 and data["volunteers"]["sessions"] == 0
    sheet = load_workbook(tmp_path / "empty.xlsx")["Báo cáo"]
    assert len(sheet._charts) == 2


def test_bad_report_arguments_are_clear(tdp, tmp_path):
    r = tdp("report", "--from", "2026-10-31", "--to", "2026-10-01")
    assert r.code == 1 and "ends" in r.err
    r = tdp("report", "--from", "01/10/2026", "--to", "2026-10-31")
    assert r.code == 1 and "YYYY-MM-DD" in r.err
    r = tdp("report", "--from", "2026-10-01", "--to", "2026-10-31", "--out", tmp_path / "report.docx")
    assert r.code == 1 and ".xlsx, .csv or .pdf" in r.err


def test_the_desk_counts_kiosk_requests_that_reached_the_portal_and_were_collected(tdp, store):
    from kiosk import clock
    from kiosk.dossiers import lifecycle
    made = [lifecycle.create(store, procedure_code="HT-KS", full_name=f"Người {i}", phone="0912345678",
                             prefix="TDP1") for i in range(3)]
    lifecycle.create(store, procedure_code="HT-KS", full_name="Ở quầy", phone="0912345678", prefix="TDP1",
                     channel="in_person")
    today = clock.local_today("Asia/Ho_Chi_Minh")
    for n, dossier in enumerate(made[:2], start=1):
        lifecycle.record_portal(store, dossier.code, f"000.24.35.H42-{today:%y%m%d}-000{n}", prefix="TDP1")
    for status in ("result_ready", "picked_up"):
        lifecycle.update_status(store, made[0].code, status, prefix="TDP1")
    r = tdp("report", "--from", today.isoformat(), "--to", today.isoformat(), "--json")
    assert r.code == 0, r.err
    desk = r.data["desk"]
    assert (desk["kiosk_requests"], desk["reached_portal"], desk["collected"]) == (3, 2, 1)
    assert abs(desk["portal_share"] - 2 / 3) < 1e-3
    assert 0 <= desk["hours_to_portal_median"] < 1 and desk["hours_to_portal_avg"] is not None
