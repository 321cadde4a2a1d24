"""Requests (dossiers): tracking codes, lifecycle, history, masked IDs, and an SMS for every change."""
from datetime import date

import pytest

from kiosk.dossiers import lifecycle as dossiers
from kiosk.dossiers import messages
from kiosk.dossiers import tracking
from sms import outbox
from sms.segments import segment
from kiosk import clock

PHONE = "0912 345 678"
E164 = "+84912345678"


def _new(tdp, *extra):
    r = tdp("request", "new", "--procedure", "HT-KS", "--name", "Nguyễn Thị Huyền", "--phone", PHONE,
            "--citizen-id", "001234561234", "--volunteer", "Trần Văn Sơn", *extra, "--json")
    assert r.code == 0, r.err
    return r.data["code"]


def _sms(store, code):
    """The resident's queued messages for this dossier, oldest first, via the outbox's own API."""
    return [{"recipient": m["to"], "text": m["text"], "state": m["state"]}
            for m in reversed(outbox.messages(store, key_prefix=f"dossier:{code}:"))]


def test_new_request_gets_a_valid_code_an_event_and_a_queued_sms(tdp, store):
    code = _new(tdp)
    assert tracking.is_valid(code, "TDP1") and code.startswith("TDP1-")
    row = store.query_one("SELECT * FROM dossiers WHERE code = ?", (code,))
    assert row["phone"] == E164 and row["status"] == "received" and row["online"] == 1
    assert row["channel"] == "kiosk" and row["volunteer"] == "Trần Văn Sơn"
    events = store.query("SELECT status, \"by\" FROM dossier_events WHERE dossier_id = ?", (row["id"],))
    assert events == [{"status": "received", "by": "Trần Văn Sơn"}]
    messages = _sms(store, code)
    assert len(messages) == 1 and messages[0]["recipient"] == E164 and messages[0]["state"] == "queued"
    assert code in messages[0]["text"] and clock.display_date(row["appointment_date"]) in messages[0]["text"]


def test_lifecycle_with_history_and_an_sms_per_change(tdp, store):
    code = _new(tdp)
    steps = [("forwarded", "Lan"), ("needs_more_documents", "Cán bộ một cửa"), ("forwarded", "Lan"),
             ("result_ready", "Cán bộ một cửa"), ("picked_up", "Lan")]
    for status, by in steps:
        r = tdp("request", "update", code, "--status", status, "--by", by, "--note", f"ghi chú {status}", "--json")
        assert r.code == 0, r.err
        assert r.data["status"] == status
    shown = tdp("request", "show", code, "--json").data
    assert [h["status"] for h in shown["history"]] == ["received"] + [s for s, _ in steps]
    assert shown["history"][2]["by"] == "Cán bộ một cửa" and shown["history"][2]["note"] == "ghi chú needs_more_documents"
    assert all(h["at"] for h in shown["history"])
    texts = [m["text"] for m in _sms(store, code)]
    assert len(texts) == 6  # forwarded twice: both reach the resident
    assert "bổ sung" in texts[2] and "có kết quả" in texts[4]


def test_out_of_order_change_is_refused_and_changes_nothing(tdp, store):
    code = _new(tdp)
    r = tdp("request", "update", code, "--status", "picked_up")
    assert r.code == 1
    assert "cannot change it to picked_up (allowed next: forwarded, rejected)" in r.err
    assert store.scalar("SELECT status FROM dossiers WHERE code = ?", (code,)) == "received"
    assert len(_sms(store, code)) == 1
    assert tdp("volunteers", "add", "--name", "Trần Văn Tổ", "--phone", "0912000002").code == 0
    assert tdp("volunteers", "desk-role", "Trần Văn Tổ", "senior").code == 0
    assert tdp("request", "update", code, "--status", "rejected", "--note", "thiếu giấy", "--by", "Trần Văn Tổ",
               "--confirm").code == 0
    r = tdp("request", "update", code, "--status", "forwarded")
    assert r.code == 1 and "rejected is final" in r.err


def test_citizen_id_is_stored_but_only_ever_shown_masked(tdp, store):
    code = _new(tdp)
    assert store.scalar("SELECT citizen_id FROM dossiers WHERE code = ?", (code,)) == "001234561234"
    for args in (("request", "show", code), ("request", "show", code, "--json"), ("request", "list", "--json"),
                 ("request", "list")):
        out = tdp(*args).out
        assert "001234561234" not in out and "0012345" not in out
    assert tdp("request", "show", code, "--json").data["citizen_id"] == "********1234"


@pytest.mark.parametrize("bad", ["12345", "00123456123X", "0012345612345"])
def test_bad_citizen_id_is_refused_before_anything_is_stored(tdp, store, bad):
    r = tdp("request", "new", "--procedure", "HT-KS", "--name", "A", "--phone", PHONE, "--citizen-id", bad)
    assert r.code == 1 and "12 digits" in r.err
    assert store.scalar("SELECT COUNT(*) FROM dossiers") == 0


def test_bad_input_gets_one_clear_line(tdp):
    r = tdp("request", "new", "--procedure", "HT-KZ", "--name", "A", "--phone", PHONE)
    assert r.code == 1 and "did you mean" in r.err
    r = tdp("request", "new", "--procedure", "HT-KS", "--name", "A", "--phone", "024 3825 1234")
    assert r.code == 1 and "landline" in r.err
    r = tdp("request", "new", "--procedure", "HT-KS", "--name", "A", "--phone", PHONE, "--channel", "fax")
    assert r.code == 2


def test_mistyped_code_suggests_the_existing_one(tdp):
    code = _new(tdp)
    last = code[-1]
    typo = code[:-1] + ("Z" if last != "Z" else "Y")
    r = tdp("request", "show", typo)
    assert r.code == 1 and "check character" in r.err and f"did you mean {code}" in r.err
    swapped = code[:-2] + code[-1] + code[-2]
    if swapped != code:
        r = tdp("request", "show", swapped)
        assert r.code == 1 and code in r.err
    assert tdp("request", "show", code.lower().replace("-", " ")).code == 0
    unknown = tracking.new_code("TDP1", date(2020, 1, 1))
    r = tdp("request", "show", unknown)
    assert r.code == 1 and "no dossier" in r.err


def test_list_filters_by_status_and_phone(tdp):
    a = _new(tdp)
    r = tdp("request", "new", "--procedure", "CT-TAMTRU", "--name", "Hồ Bá Vỹ", "--phone", "0987654321",
            "--channel", "in_person", "--json")
    b = r.data["code"]
    tdp("request", "update", a, "--status", "forwarded")
    assert [d["code"] for d in tdp("request", "list", "--status", "forwarded", "--json").data] == [a]
    assert [d["code"] for d in tdp("request", "list", "--phone", "+84987654321", "--json").data] == [b]
    rows = tdp("request", "list", "--json").data
    assert {d["code"]: d["online"] for d in rows} == {a: True, b: False}


def test_creation_event_and_sms_are_one_transaction(store, monkeypatch):
    # A text the real outbox refuses (over its part limit) must leave no dossier and no event behind.
    monkeypatch.setattr(dossiers.messages, "text", lambda *a, **k: "Hồ sơ " * 400)
    with pytest.raises(Exception, match="parts"):
        dossiers.create(store, procedure_code="HT-KS", full_name="A", phone=PHONE, prefix="TDP1")
    assert store.scalar("SELECT COUNT(*) FROM dossiers") == 0
    assert store.scalar("SELECT COUNT(*) FROM dossier_events") == 0


def test_every_template_names_the_sender_and_fits_three_sms_parts():
    code = "TDP12-2611-7Q4K"
    for step in messages.STEPS:
        text = messages.text(step, prefix="TDP12", code=code, date="2026-12-08", portal_code="000.24.35.H42-261203-0001",
                             note="Giấy chứng sinh; Thẻ căn cước", where="Trung tâm Phục vụ hành chính công phường")
        assert text.startswith("TDP số 12: "), text
        assert segment(text).count <= 3, (step, text)
        assert (code in text) or ("000.24.35.H42-261203-0001" in text)
    assert "mang thẻ căn cước" in messages.text("result_ready", prefix="TDP1", code=code, where="Trung tâm")


def test_status_reply_only_tells_the_phone_that_handed_it_in(tdp, store):
    code = _new(tdp)
    assert "Đã ghi nhận yêu cầu" in dossiers.status_reply(store, E164, code, "TDP1")
    stranger = dossiers.status_reply(store, "+84987654321", code, "TDP1")
    assert "Không tìm thấy" in stranger and "Đã ghi nhận" not in stranger


def test_receipt_and_checklist_render_to_files_from_the_cli(tdp, tmp_path):
    import subprocess

    from PIL import Image
    code = _new(tdp)
    r = tdp("receipt", "render", code, "--out", tmp_path / "r.png", "--paper", "58mm", "--json")
    assert r.code == 0 and Image.open(tmp_path / "r.png").size[0] == 384
    assert tdp("receipt", "render", code, "--out", tmp_path / "r.pdf").code == 0
    text = subprocess.run(["pdftotext", str(tmp_path / "r.pdf"), "-"], capture_output=True, text=True).stdout
    assert code in text and "Nguyễn Thị Huyền" in text and "********1234" in text and "001234561234" not in text
    r = tdp("receipt", "render", code, "--out", tmp_path / "r.jpg")
    assert r.code == 1 and ".png or .pdf" in r.err
    assert tdp("receipt", "checklist", "ct-tamtru", "--out", tmp_path / "c.pdf").code == 0
    text = subprocess.run(["pdftotext", str(tmp_path / "c.pdf"), "-"], capture_output=True, text=True).stdout
    assert "Đăng ký tạm trú" in text and "CT01" in text
