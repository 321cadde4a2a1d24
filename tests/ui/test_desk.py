"""The request desk on screen (issue 18): honest words, kiosk-only procedures, lookup by the portal
code, and the volunteer's portal entry, document ticking and guarded rejection, under Xvfb."""
from datetime import timedelta

from kiosk import clock
from kiosk.dossiers import lifecycle as dossiers
from kiosk.volunteers import help_tickets, people
from sms import outbox


def test_the_resident_asks_for_help_and_is_told_what_happens_next(kiosk_ui, store):
    result = kiosk_ui("tests.ui.desk_scenarios:resident_request")
    assert result["tile"] == "Nhờ làm thủ tục"
    assert "HT-KS" in result["offered"]
    assert not {"CA-VNEID-2", "CT-SAOY", "HT-KH"} & set(result["offered"])
    assert "12 chữ số" in result["cmnd_error"] and "CMND" not in result["cmnd_error"]
    assert result["confirm_button"] == "Gửi yêu cầu"
    done = result["done_text"]
    assert "Đã ghi nhận yêu cầu" in done and "Ngày hẹn dự kiến" in done
    assert "Giấy chứng sinh" in done and "Tình nguyện viên sẽ gọi điện" in done
    assert "Đã nhận hồ sơ" not in done
    (sms,) = outbox.messages(store, to="+84912345678")
    assert sms["text"].startswith(f"TDP số 1: đã ghi nhận yêu cầu {result['code']}")


def test_a_guide_the_kiosk_cannot_take_calls_a_volunteer_for_that_procedure(kiosk_ui, store):
    result = kiosk_ui("tests.ui.desk_scenarios:guide_without_kiosk_request")
    assert result["button"] == "Nhờ tình nguyện viên hướng dẫn" and result["qr"]
    assert result["screen"] == "guides"  # no request form for it
    (ticket,) = help_tickets.list_tickets(store)
    assert "CT-SAOY" in ticket["note"] and ticket["display_number"] in result["message"]
    assert dossiers.list_dossiers(store) == []


def test_the_check_screen_finds_a_request_by_its_portal_code(kiosk_ui, store, monkeypatch):
    dossier = dossiers.create(store, procedure_code="HT-KS", full_name="Lê Thị Mai", phone="0987654321", prefix="TDP1")
    official = f"000.24.35.H42-{clock.local_today():%y%m%d}-0007"
    dossiers.record_portal(store, dossier.code, official, prefix="TDP1")
    monkeypatch.setenv("TDP_TEST_PORTAL", official)
    result = kiosk_ui("tests.ui.desk_scenarios:check_by_portal_code")
    assert result["error"] == ""
    assert dossier.code in result["text"] and official in result["text"]
    assert "Đã nộp lên cơ quan giải quyết" in result["text"] and "Lê Thị Mai" not in result["text"]


def test_the_volunteer_desk_records_the_portal_ticks_papers_and_rejects_only_when_confirmed(
        kiosk_ui, store, monkeypatch):
    people.add(store, people.NewVolunteer(name="Đỗ Minh Tâm", phone="0966100201"))
    people.set_pin(store, "0966100201", "2468")
    people.set_desk_role(store, "0966100201", "senior")
    dossier = dossiers.create(store, procedure_code="HT-KS", full_name="Hồ Bá Vỹ", phone="0912345678", prefix="TDP1")
    today = clock.local_today()
    official = f"000.24.35.H42-{today:%y%m%d}-0001"
    appointment = today + timedelta(days=7)
    monkeypatch.setenv("TDP_TEST_CODE", dossier.code)
    monkeypatch.setenv("TDP_TEST_PORTAL", official)
    monkeypatch.setenv("TDP_TEST_DATE", f"{appointment:%d%m%Y}")
    result = kiosk_ui("tests.ui.desk_scenarios:volunteer_desk", timeout=180)
    assert result["actions_received"] == ["portal", "rejected"]
    assert "chưa đúng dạng" in result["portal_error"]
    assert result["after_portal"] == "forwarded"
    assert "Chọn ít nhất một giấy tờ" in result["documents_error"]
    assert result["ticked"] == [dossiers.catalogue_module.default().get("HT-KS").documents[1]]
    assert "rejected" in result["actions_missing"] and "portal" in result["actions_missing"]
    assert result["status_after_cancel"] == "needs_more_documents"
    assert dossier.code in result["confirm_text"] and "Không thuộc thẩm quyền" in result["confirm_text"]
    stored = dossiers.get(store, dossier.code, "TDP1")
    assert stored.status == "rejected" and stored.portal_code == official
    assert stored.official_appointment == appointment.isoformat()
    texts = [m["text"] for m in reversed(outbox.messages(store, to="+84912345678"))]
    assert len(texts) == 4  # received, portal, documents, rejection: one each
    assert official in texts[1] and f"{appointment:%d/%m/%Y}" in texts[1]
    assert "cần bổ sung: Giấy chứng sinh." in texts[2]
    assert "Không thuộc thẩm quyền" in texts[3] and all(t.startswith("TDP số 1: ") for t in texts)
