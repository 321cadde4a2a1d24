"""The request desk's rules: working days with Vietnam's holidays, the portal dossier, guarded
status changes, the evening reminder, which procedures the kiosk takes, and the slip's QR."""
from datetime import date, datetime, timezone

import pytest
from hypothesis import given, strategies as st

from kiosk.appliance import config as config_module
from kiosk.dossiers import lifecycle as dossiers
from kiosk.dossiers import portal, procedures, receipts
from kiosk.dossiers.workdays import add_working_days, holiday_name
from kiosk.errors import InvalidInput, NotFound
from kiosk.volunteers import people
from sms import outbox

PHONE = "0912 345 678"
E164 = "+84912345678"
OFFICIAL = "000.24.35.H42-261203-0001"


def _new(store, procedure="HT-KS", **extra):
    return dossiers.create(store, procedure_code=procedure, full_name="Hồ Bá Vỹ", phone=PHONE, prefix="TDP1",
                           today=date(2026, 12, 3), **extra)


def _texts(store, code):
    return [m["text"] for m in reversed(outbox.messages(store, key_prefix=f"dossier:{code}:"))]


# --- working days -------------------------------------------------------------------------------

def test_tet_2027_is_skipped_by_the_estimate():
    assert holiday_name(date(2027, 2, 6)) is not None  # mùng 1 Tết Đinh Mùi
    assert all(holiday_name(date(2027, 2, d)) for d in range(4, 11))
    # Wednesday 3 Feb 2027: the next working day is Thursday 11 Feb, after the Tết break
    assert add_working_days(date(2027, 2, 3), 1) == date(2027, 2, 11)
    assert add_working_days(date(2027, 2, 5), 0) == date(2027, 2, 11)


def test_national_day_and_weekends_are_not_working_days():
    assert add_working_days(date(2026, 8, 28), 1) == date(2026, 9, 3)  # Fri → (Aug 31, Sep 1-2 off) Thu
    assert add_working_days(date(2026, 11, 27), 1) == date(2026, 11, 30)


def test_the_estimate_adds_the_volunteers_filing_delay(store):
    one = _new(store, filing_days=1)   # HT-KS: 1 processing day; Thu 3 Dec + 2 working days = Mon 7 Dec
    assert one.appointment_date == "2026-12-07"
    assert _new(store, filing_days=0).appointment_date == "2026-12-04"
    with pytest.raises(InvalidInput, match="filing_days"):
        _new(store, filing_days=-1)


# --- the portal dossier code ----------------------------------------------------------------------

def test_portal_codes_are_validated_with_the_part_that_is_wrong():
    assert portal.parse(" 000.24.35.h42-251203-0001 ") == "000.24.35.H42-251203-0001"
    assert portal.parse("000.00.17.G13-260105-000123") == "000.00.17.G13-260105-000123"
    for bad, reason in (("000.24.35.H42-251203", "three parts"), ("000.24.35.42-251203-0001", "province code"),
                        ("000.24.35.H42-251332-0001", "not a real date"), ("000.24.35.H42-2512-0001", "yymmdd"),
                        ("000.24.35.H42-251203-1", "sequence"), ("", "empty")):
        with pytest.raises(portal.InvalidPortalCode, match=reason):
            portal.parse(bad)
    with pytest.raises(portal.InvalidPortalCode, match="future"):
        portal.parse("000.24.35.H42-271203-0001", today=date(2026, 12, 3))


@given(st.text(max_size=80))
def test_any_text_is_a_code_or_one_clear_refusal(raw):
    try:
        code = portal.parse(raw)
    except portal.InvalidPortalCode as exc:
        assert str(exc) and "\n" not in str(exc)
    else:
        assert portal.parse(code) == code


def test_recording_the_portal_dossier_sends_one_sms_and_finds_the_request_by_either_code(store):
    d = _new(store)
    filed = dossiers.record_portal(store, d.code, OFFICIAL.lower(), appointment="2026-12-10",
                                   where="Trung tâm Phục vụ hành chính công phường Nam Hà", by="Sơn", prefix="TDP1")
    assert filed.status == "forwarded" and filed.portal_code == OFFICIAL
    assert filed.official_appointment == "2026-12-10" and filed.best_appointment == "2026-12-10"
    assert dossiers.get(store, OFFICIAL, "TDP1").code == d.code
    texts = _texts(store, d.code)
    assert len(texts) == 2 and OFFICIAL in texts[1] and "10/12/2026" in texts[1]
    dossiers.record_portal(store, d.code, OFFICIAL, prefix="TDP1")  # same values: nothing new
    assert len(_texts(store, d.code)) == 2
    other = _new(store)
    with pytest.raises(InvalidInput, match="already recorded"):
        dossiers.record_portal(store, other.code, OFFICIAL, prefix="TDP1")
    with pytest.raises(portal.InvalidPortalCode):
        dossiers.record_portal(store, other.code, "HS-123", prefix="TDP1")
    with pytest.raises(NotFound):
        dossiers.get(store, "000.24.35.H42-261203-0099", "TDP1")


def test_the_cli_refuses_a_malformed_portal_code_with_its_reason(tdp, store):
    code = _new(store).code
    r = tdp("request", "portal", code, "--portal-code", "000.24.35.H42-251203")
    assert r.code == 1 and "three parts" in r.err and "Traceback" not in r.err
    assert store.scalar("SELECT portal_code FROM dossiers WHERE code = ?", (code,)) is None


# --- status changes that say what to do ------------------------------------------------------------

def test_missing_documents_are_ticked_from_the_procedures_list_and_sent(store):
    d = _new(store)
    dossiers.record_portal(store, d.code, OFFICIAL, prefix="TDP1")
    with pytest.raises(dossiers.NotAllowed, match="which documents"):
        dossiers.update_status(store, d.code, "needs_more_documents", prefix="TDP1")
    with pytest.raises(InvalidInput, match="not one of HT-KS's documents"):
        dossiers.update_status(store, d.code, "needs_more_documents", documents=["Sổ hộ khẩu"], prefix="TDP1")
    paper = procedures.default().get("HT-KS").documents[1]
    dossiers.update_status(store, d.code, "needs_more_documents", documents=[paper], prefix="TDP1")
    assert "cần bổ sung: Giấy chứng sinh." in _texts(store, d.code)[-1]


def test_rejection_needs_a_reason_a_confirmation_and_a_senior_or_official(store):
    d = _new(store)
    people.add(store, people.NewVolunteer("Lê Văn Mới", "0987000001"))
    people.add(store, people.NewVolunteer("Trần Thị Cán Bộ", "0987000002"))
    people.set_desk_role(store, "Trần Thị Cán Bộ", "official")
    with pytest.raises(dossiers.NotAllowed, match="reason"):
        dossiers.update_status(store, d.code, "rejected", by="Trần Thị Cán Bộ", confirmed=True, prefix="TDP1")
    with pytest.raises(dossiers.NotAllowed, match="confirmed"):
        dossiers.update_status(store, d.code, "rejected", note="sai thủ tục", by="Trần Thị Cán Bộ", prefix="TDP1")
    for who in ("Lê Văn Mới", "", "Người Lạ"):
        with pytest.raises(dossiers.NotAllowed, match="only officials and senior"):
            dossiers.update_status(store, d.code, "rejected", note="sai", by=who, confirmed=True, prefix="TDP1")
    assert len(_texts(store, d.code)) == 1 and dossiers.get(store, d.code, "TDP1").status == "received"
    dossiers.update_status(store, d.code, "rejected", note="sai thủ tục", by="Trần Thị Cán Bộ", confirmed=True,
                           prefix="TDP1")
    assert "sai thủ tục" in _texts(store, d.code)[-1]


def test_a_new_volunteer_may_not_reject_until_given_a_desk_role(store):
    people.add(store, people.NewVolunteer("Tổ Trưởng", "0987000003", role="leader"))
    assert people.get_by_name_or_phone(store, "Tổ Trưởng")["desk_role"] == "volunteer"
    assert people.may_reject(store, "Tổ Trưởng") is False
    people.set_desk_role(store, "0987000003", "senior")
    assert people.may_reject(store, "Tổ Trưởng") is True
    people.set_active(store, "Tổ Trưởng", False)
    assert people.may_reject(store, "Tổ Trưởng") is False


# --- the evening reminder ---------------------------------------------------------------------------

def test_the_reminder_goes_once_the_evening_before_in_the_sites_timezone(store):
    d = _new(store)
    dossiers.record_portal(store, d.code, OFFICIAL, appointment="2026-12-10", prefix="TDP1",
                           timezone="Asia/Ho_Chi_Minh")
    afternoon = datetime(2026, 12, 9, 9, 0, tzinfo=timezone.utc)   # 16:00 in Hà Nội
    evening = datetime(2026, 12, 9, 11, 30, tzinfo=timezone.utc)   # 18:30 in Hà Nội
    assert dossiers.send_reminders(store, prefix="TDP1", now=afternoon) == []
    assert dossiers.send_reminders(store, prefix="TDP1", now=evening) == [d.code]
    assert dossiers.send_reminders(store, prefix="TDP1", now=evening) == []
    reminder = _texts(store, d.code)[-1]
    assert reminder.startswith("TDP số 1: nhắc") and "10/12/2026" in reminder and "thẻ căn cước" in reminder
    dossiers.update_status(store, d.code, "result_ready", prefix="TDP1")
    dossiers.update_status(store, d.code, "picked_up", prefix="TDP1")
    assert dossiers.send_reminders(store, prefix="TDP1", now=evening) == []


# --- which procedures the kiosk takes ---------------------------------------------------------------

def test_procedures_that_need_the_resident_in_person_are_not_taken_at_the_kiosk(store):
    catalogue = procedures.default()
    assert {p.code for p in catalogue if not p.kiosk_request} == {"CA-VNEID-2", "CT-SAOY", "HT-KH"}
    with pytest.raises(dossiers.NotAllowed, match="volunteer"):
        _new(store, procedure="CT-SAOY")
    assert _new(store, procedure="CT-SAOY", channel="in_person").status == "received"


# --- the slip's QR -----------------------------------------------------------------------------------

def test_the_slips_qr_is_a_lookup_link_or_plain_text_never_json(store):
    config = config_module.from_dict({"printer": {"kiosk_number": "0912 000 999"}})
    d = _new(store)
    text = receipts.qr_payload(d, config)
    assert text.startswith("TDP số 1 - mã yêu cầu " + d.code) and "HS " + d.code in text and "{" not in text
    filed = dossiers.record_portal(store, d.code, OFFICIAL, prefix="TDP1")
    assert receipts.qr_payload(filed, config) == ("https://dichvucong.gov.vn/p/home/dvc-tra-cuu-ho-so.html"
                                                  f"?ma_ho_so={OFFICIAL}")
    hub = config_module.from_dict({"requests": {"lookup_url": "https://hub.example.vn/tra-cuu/{code}"}})
    assert receipts.qr_payload(filed, hub) == f"https://hub.example.vn/tra-cuu/{d.code}"


def test_the_desk_role_migration_makes_existing_team_leaders_senior(tmp_path):
    from kiosk.volunteers.people import MIGRATIONS
    from sms.storage import Database
    db = Database(tmp_path / "old.sqlite3")
    db.migrate(MIGRATIONS[:1])
    for name, phone, role in (("Tổ Trưởng", "+84987000010", "leader"), ("Thành Viên", "+84987000011", "member")):
        db.execute("INSERT INTO volunteers (name, name_key, phone, role, created_at, updated_at) "
                   "VALUES (?, ?, ?, ?, '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00')",
                   (name, name.lower(), phone, role))
    db.migrate(MIGRATIONS)
    assert people.may_reject(db, "+84987000010") and not people.may_reject(db, "+84987000011")
    db.close()


def test_reminders_from_several_processes_at_once_go_once(store, config_path):
    import threading
    from kiosk.appliance.store import open_store
    d = _new(store)
    dossiers.record_portal(store, d.code, OFFICIAL, appointment="2026-12-10", prefix="TDP1")
    evening = datetime(2026, 12, 9, 12, 0, tzinfo=timezone.utc)
    start, results = threading.Barrier(6), []

    def gateway_tick():
        with open_store(config_path.parent / "data" / "tdp.sqlite3") as db:
            start.wait()
            results.extend(dossiers.send_reminders(db, prefix="TDP1", now=evening))
    threads = [threading.Thread(target=gateway_tick) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == [d.code]
    assert sum("nhắc" in t for t in _texts(store, d.code)) == 1
