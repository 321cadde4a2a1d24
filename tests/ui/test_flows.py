"""Complete resident flows under Xvfb, driven by simulated touches on the real app."""

from kiosk.appliance import config as config_module
from kiosk.directory import residents as directory
from kiosk.dossiers import lifecycle as dossiers
from sms import outbox
from kiosk import clock


def test_hand_in_a_request_prints_a_receipt_and_queues_an_sms(kiosk_ui, store, config_path, tdp):
    result = kiosk_ui("tests.ui.scenarios:hand_in_request")
    assert result["typed_name"] == "Nguyễn Văn An"
    assert "Nguyễn Văn An" in result["summary"] and "********7890" in result["summary"]
    assert result["typed_id"] == "001 234 567 890"  # visible while typed, grouped as on the card
    code = result["code"]
    assert code.startswith("TDP1-")
    rows = dossiers.list_dossiers(store)
    assert [d.code for d in rows] == [code]  # three taps on "Hand in", one dossier
    assert rows[0].phone == "+84912345678" and rows[0].channel == "kiosk"
    assert rows[0].citizen_id == "001234567890"
    queued = outbox.messages(store, to="+84912345678")
    assert len(queued) == 1 and code in queued[0]["text"]
    data_dir = config_module.load(config_path).storage.data_dir
    assert (data_dir / "receipts" / f"{code}.pdf").is_file()
    assert result["print_message"] == "Máy in chưa bật, giấy được lưu để in sau"
    assert result["code_after_home"] == ""  # the next resident sees nothing of this one
    # The "Hài lòng" face tapped after handing in shows up, anonymously, in the ward's report.
    today = clock.local_today(config_module.load(config_path).site.timezone).isoformat()
    report = tdp("report", "--from", today, "--to", today, "--json")
    assert report.code == 0, report.err
    assert report.data["satisfaction"]["responses"] == 1
    assert report.data["satisfaction"]["satisfied_share"] == 1.0


def test_check_a_request_by_its_code(kiosk_ui, store, monkeypatch):
    dossier = dossiers.create(store, procedure_code="HT-KS", full_name="Lê Thị Mai", phone="0987654321",
                              citizen_id="079123456789", prefix="TDP1")
    dossiers.update_status(store, dossier.code, "forwarded", by="Phạm Văn Tùng", prefix="TDP1")
    monkeypatch.setenv("TDP_TEST_CODE", dossier.code)
    result = kiosk_ui("tests.ui.scenarios:check_request")
    assert result["error"] == ""
    assert dossier.code in result["text"] and "Đã nộp lên cơ quan giải quyết" in result["text"]
    assert "Đã ghi nhận yêu cầu" in result["text"]  # the history
    for private in ("Lê Thị Mai", "0987", "079123456789", "6789"):
        assert private not in result["text"]


def test_register_a_household_with_the_code_texted_to_the_phone(kiosk_ui, store, config_path):
    result = kiosk_ui("tests.ui.scenarios:register_household", timeout=180)
    assert "máy bàn" in result["landline_error"]  # the reason, in plain Vietnamese
    assert result["error_after_key"] == ""
    assert result["consent_shown"] is True and result["consent_names_members"] is True
    assert result["idle_on_code_step"] == 300 and result["resend_disabled"] is True
    assert "Còn 2 lần thử" in result["wrong_code_error"]
    assert result["done_text"].startswith("Đăng ký xong")
    head = directory.resident_by_phone(store, "0987654321")
    assert head["full_name"] == "Trần Thị Lan" and head["consent"] == 1 and head["consent_method"] == "kiosk"
    members = [r["full_name"] for r in directory.list_residents(store) if r["household_id"] == head["household_id"]]
    assert sorted(members) == ["Trần Minh Khôi", "Trần Thị Lan"]
    data_dir = config_module.load(config_path).storage.data_dir
    assert (data_dir / "receipts" / f"registration-{head['household_id']}.pdf").is_file()


def test_notice_board_shows_current_notices_newest_first(kiosk_ui, store):
    from datetime import datetime, timedelta, timezone

    from kiosk.notices import board as notices
    notices.post(store, "Họp tổ dân phố tối thứ Sáu.", source="local")
    notices.post(store, "Cắt điện sáng Chủ nhật.", source="local", urgent=True)
    notices.post(store, "Thông báo đã hết hạn.", source="local",
                 expires_at=datetime.now(timezone.utc) - timedelta(hours=1))
    result = kiosk_ui("tests.ui.scenarios:notice_board")
    assert result["texts"] == ["Cắt điện sáng Chủ nhật.", "Họp tổ dân phố tối thứ Sáu."]
    assert result["urgent"] == [True, False]


def _volunteer(store, name="Đỗ Minh Tâm", phone="0966100201"):
    from kiosk.volunteers import people as volunteers
    volunteers.add(store, volunteers.NewVolunteer(name=name, phone=phone, role="leader"))
    volunteers.set_pin(store, phone, "2468")


def test_call_a_volunteer_gives_one_number_and_texts_the_leader(kiosk_ui, store):
    from kiosk.volunteers import help_tickets
    _volunteer(store)
    result = kiosk_ui("tests.ui.scenarios:call_volunteer")
    assert result["number"] == "001"
    assert len(help_tickets.list_tickets(store)) == 1  # two taps, one ticket
    texted = outbox.messages(store, to="+84966100201")
    assert len(texted) == 1 and "001" in texted[0]["text"]


def test_volunteer_mode_pin_ticket_close_request_update_and_reprint(kiosk_ui, store, monkeypatch):
    from kiosk.volunteers import help_tickets
    from kiosk.reports import ratings
    _volunteer(store)
    help_tickets.create(store, config_module.Config(), "kiosk")
    dossier = dossiers.create(store, procedure_code="CT-TAMTRU", full_name="Hoàng Văn Nam", phone="0977200301",
                              prefix="TDP1")
    dossiers.record_portal(store, dossier.code, f"000.24.35.H42-{clock.local_today():%y%m%d}-0002", prefix="TDP1")
    dossiers.update_status(store, dossier.code, "needs_more_documents", documents=["1"], prefix="TDP1")
    monkeypatch.setenv("TDP_TEST_CODE", dossier.code)
    result = kiosk_ui("tests.ui.scenarios:volunteer_mode", timeout=180)
    assert result["wrong_pin"] == "Sai mã PIN. Còn 4 lần thử."
    assert result["tickets"] == 1
    assert "đã chờ 0 phút" in result["ticket_text"]  # how long the resident has waited
    assert result["device_status"].startswith("Tình trạng thiết bị: ")  # the technical states live here
    ticket = help_tickets.list_tickets(store)[0]
    assert ticket["status"] == "closed" and ticket["channel"] == "online_kiosk" and ticket["submitted_online"]
    assert store.query("SELECT service, score FROM ratings") == [{"service": "help", "score": 1}]
    assert dossiers.get(store, dossier.code, "TDP1").status == "forwarded"
    queued = [m["key"] for m in outbox.messages(store, to="+84977200301")]
    assert len(queued) == 4  # received, portal code, documents missing, then forwarded again
    assert "lưu để in sau" in result["reprint"]


def test_printer_down_the_request_still_completes_and_the_resident_is_told(kiosk_ui, store, config_path):
    with open(config_path, "a", encoding="utf-8") as handle:
        handle.write('[printer]\nqueue = "tdp-no-such-printer"\n')
    result = kiosk_ui("tests.ui.scenarios:hand_in_request")
    assert result["print_message"].startswith("Máy in chưa in được.")
    assert [d.code for d in dossiers.list_dossiers(store)] == [result["code"]]
    data_dir = config_module.load(config_path).storage.data_dir
    assert (data_dir / "receipts" / f"{result['code']}.pdf").is_file()  # kept for the volunteer to reprint


def test_a_name_typed_with_mark_keys_and_chips_reaches_the_dossier_and_the_slip_in_nfc(kiosk_ui, store, config_path):
    import subprocess
    import unicodedata
    result = kiosk_ui("tests.ui.scenarios:request_without_telex", size="800x480")
    assert result["typed_name"].strip() == "Nguyễn Thị Hoà"
    assert result["taps"] <= 25
    dossier = dossiers.list_dossiers(store)[0]
    assert dossier.full_name == "Nguyễn Thị Hoà" and unicodedata.is_normalized("NFC", dossier.full_name)
    pdf = config_module.load(config_path).storage.data_dir / "receipts" / f"{result['code']}.pdf"
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Nguyễn Thị Hoà" in unicodedata.normalize("NFC", text)


def test_an_address_typed_with_mark_keys_keeps_its_digits_and_punctuation(kiosk_ui):
    result = kiosk_ui("tests.ui.scenarios:address_without_telex", size="800x480")
    assert result["address"] == "Số 5/12, ngõ 3"
    assert result["back_step"] == "phone" and result["phone_kept"] == "0987654321"
    assert result["address_kept"] == "Số 5/12, ngõ 3"


def test_check_screen_history_is_in_local_days():
    from kiosk.ui.check import local_day
    # Filed at 01:00 on 3 December in Hà Nội: 18:00 UTC on the 2nd.
    assert local_day("2026-12-02T18:00:00+00:00", "Asia/Ho_Chi_Minh") == "03/12/2026"



def test_a_ticket_says_how_long_its_resident_has_waited():
    from datetime import datetime, timedelta, timezone

    from kiosk.ui.volunteer import waited_minutes
    now = datetime(2026, 12, 3, 2, 0, tzinfo=timezone.utc)
    assert waited_minutes((now - timedelta(minutes=17, seconds=30)).isoformat(), now) == 17
    assert waited_minutes("2026-12-03T02:00:00", now) == 0  # a naive stamp is UTC, as the store writes it


def test_a_volunteer_can_be_asked_to_type_from_any_typing_step(kiosk_ui, store):
    from kiosk.volunteers import help_tickets
    result = kiosk_ui("tests.ui.scenarios:typing_help", size="800x480")
    assert result["number"] == "001"
    assert len(help_tickets.list_tickets(store)) == 1
