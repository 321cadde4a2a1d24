"""Printing through a REAL CUPS server with cups-pdf queues (started by tests/support/cups.py).

The PDF that cups-pdf writes is read back with pdftotext and zbarimg: what a resident would
hold in their hand, after the whole CUPS filter chain.
"""
import subprocess

import cups
import pytest

from hardware import printer as printing
from tests.support.cups import add_pdf_queue, cups_server, disable, find_output, pdf_queue, remove_queue  # noqa: F401

NAME = "Nguyễn Thị Huyền"


def _configure(config_path, queue):
    config_path.write_text(config_path.read_text(encoding="utf-8") + f"""
[site]
ward = "Phường Nam Hà"
residential_group = "Tổ dân phố số 1"
[printer]
queue = "{queue}"
paper = "80mm"
job_timeout = 60
kiosk_number = "0912 345 678"
""", encoding="utf-8")


def _new(tdp, *extra):
    r = tdp("request", "new", "--procedure", "CT-TAMTRU", "--name", NAME, "--phone", "0987 654 321",
            "--citizen-id", "042095001234", "--volunteer", "Trần Văn Sơn", *extra, "--json")
    assert r.code == 0, r.err
    return r.data


def _text(pdf_path) -> str:
    out = subprocess.run(["pdftotext", str(pdf_path), "-"], capture_output=True, text=True, check=True).stdout
    return " ".join(out.split())


def _qr(pdf_path, tmp_path) -> list[str]:
    subprocess.run(["pdftoppm", "-r", "200", "-png", str(pdf_path), str(tmp_path / "page")], check=True)
    found = []
    for png in sorted(tmp_path.glob("page*.png")):
        result = subprocess.run(["zbarimg", "--raw", "-q", str(png)], capture_output=True, text=True)
        found += [line for line in result.stdout.splitlines() if line]
    return found


def test_request_from_the_cli_comes_out_of_a_real_queue_with_text_and_qr(tdp, config_path, pdf_queue, tmp_path):
    _configure(config_path, pdf_queue)
    data = _new(tdp, "--print")
    job = data["print"]
    assert job["status"] == "printed" and job["queue"] == pdf_queue and isinstance(job["job_id"], int), job
    assert cups.Connection().getJobAttributes(job["job_id"])["job-state"] == 9  # completed
    pdf = find_output(job["job_id"])
    text = _text(pdf)
    for expected in (data["code"], NAME, "Đăng ký tạm trú", "PHƯỜNG NAM HÀ", "Tổ dân phố số 1", "********1234",
                     "Trần Văn Sơn", f"HS {data['code']}", "0912 345 678"):
        assert expected in text, expected
    assert "042095001234" not in text
    # the honest words: a group's slip with an estimated date, not the centre's official receipt
    estimate = "/".join(reversed(data["appointment_date"].split("-")))
    for expected in ("PHIẾU HẸN – BIÊN NHẬN YÊU CẦU", f"NGÀY HẸN DỰ KIẾN: {estimate}",
                     "Phiếu này không thay giấy tiếp nhận của Trung tâm Phục vụ hành chính công phường",
                     "mã hồ sơ chính thức", "Nhận kết quả tại: Công an phường nơi đến tạm trú", "☐ Thẻ căn cước",
                     "0987 *** 321"):
        assert expected in text, expected
    assert "GIẤY TIẾP NHẬN HỒ SƠ" not in text and "Mã thủ tục: CT-TAMTRU" not in text
    (payload,) = _qr(pdf, tmp_path)
    assert payload == f"TDP số 1 - mã yêu cầu {data['code']}. Tra cứu: nhắn HS {data['code']} gửi 0912 345 678."


def test_a_reprint_after_filing_carries_the_portal_code_and_its_qr_opens_the_portal_lookup(
        tdp, config_path, pdf_queue, tmp_path):
    from kiosk import clock
    _configure(config_path, pdf_queue)
    data = _new(tdp, "--print")
    official = f"000.24.35.H42-{clock.local_today('Asia/Ho_Chi_Minh'):%y%m%d}-0001"
    assert tdp("request", "portal", data["code"], "--portal-code", official, "--appointment", "2099-12-31").code == 0
    r = tdp("receipt", "reprint", data["code"], "--json")
    assert r.code == 0, r.err
    pdf = find_output(r.data["job_id"])
    text = _text(pdf)
    assert f"Đã nộp trên Cổng Dịch vụ công, mã hồ sơ: {official}" in text
    assert "NGÀY HẸN TRẢ KẾT QUẢ: 31/12/2099" in text and "DỰ KIẾN" not in text
    assert _qr(pdf, tmp_path) == [f"https://dichvucong.gov.vn/p/home/dvc-tra-cuu-ho-so.html?ma_ho_so={official}"]


@pytest.fixture
def stopped_queue(cups_server):
    name = add_pdf_queue("tdp-pdf-stopped")
    disable(name, "giấy hết (test)")
    yield name
    remove_queue(name)


def test_stopped_queue_keeps_the_request_and_the_receipt_for_reprint(tdp, config_path, stopped_queue, store):
    _configure(config_path, stopped_queue)
    data = _new(tdp, "--print")
    assert data["print"]["status"] == "failed"
    assert "paused" in data["print"]["message"] and f"tdp receipt reprint {data['code']}" in data["print"]["message"]
    assert "tạm dừng" in data["print"]["message_vi"] and "in lại" in data["print"]["message_vi"]
    assert store.scalar("SELECT status FROM dossiers WHERE code = ?", (data["code"],)) == "received"
    assert data["code"] in _text(data["print"]["pdf_path"])  # kept, complete
    assert [r["code"] for r in tdp("receipt", "failed", "--json").data] == [data["code"]]
    r = tdp("receipt", "print", data["code"])
    assert r.code == 1 and "paused" in r.out
    subprocess.run(["cupsenable", stopped_queue], check=True)
    r = tdp("receipt", "reprint", data["code"], "--json")
    assert r.code == 0 and r.data["status"] == "printed", r.out
    assert data["code"] in _text(find_output(r.data["job_id"]))
    assert tdp("receipt", "failed", "--json").data == []


def test_missing_queue_is_a_clear_message_and_the_request_is_saved(tdp, config_path, cups_server, store):
    _configure(config_path, "tdp-no-such-printer")
    data = _new(tdp, "--print")
    assert data["print"]["status"] == "failed" and "does not exist" in data["print"]["message"]
    assert "Không có máy in" in data["print"]["message_vi"]
    assert store.scalar("SELECT COUNT(*) FROM dossiers") == 1
    r = tdp("receipt", "reprint", data["code"])
    assert r.code == 1 and "does not exist" in r.out and "Traceback" not in r.out + r.err


def test_rejecting_queue_is_refused_before_submitting(cups_server, tmp_path):
    name = add_pdf_queue("tdp-pdf-rejecting")
    try:
        subprocess.run(["cupsreject", name], check=True)
        (tmp_path / "x.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
        with pytest.raises(printing.PrinterUnavailable, match="not accepting"):
            printing.CupsPrinter(name).submit(str(tmp_path / "x.pdf"), "x")
    finally:
        remove_queue(name)


def test_a_job_that_never_prints_times_out_and_is_cancelled(pdf_queue, tmp_path):
    from hardware.receipts import ReceiptData, render_receipt
    pdf = tmp_path / "held.pdf"
    pdf.write_bytes(render_receipt(ReceiptData("P", "T", "Thủ tục", "X", "TDP-2611-22222", "A", "-", "-", "q")))
    printer = printing.CupsPrinter(pdf_queue)
    job_id = printer.submit(str(pdf), "held", {"job-hold-until": "indefinite"})
    with pytest.raises(printing.PrintTimeout, match="not printed within 1 s"):
        printer.wait(job_id, timeout=1.0)
    assert cups.Connection().getJobAttributes(job_id)["job-state"] == 7  # canceled: no late duplicate


def test_empty_queue_saves_the_pdf_in_the_data_dir(tdp, config_path):
    _configure(config_path, "")
    data = _new(tdp)
    r = tdp("receipt", "print", data["code"], "--json")
    assert r.code == 0 and r.data["status"] == "saved"
    assert r.data["pdf_path"].startswith(str(config_path.parent / "data" / "receipts"))
    assert data["code"] in _text(r.data["pdf_path"])


@pytest.mark.parametrize("reasons, blocking, words", [
    (["media-empty-error"], True, "out of paper"),
    (["media-needed"], True, "needs paper"),
    (["door-open-report"], True, "door is open"),
    (["offline-report"], True, "offline"),
    (["toner-low-warning"], False, "Toner is low"),
    (["media-empty-warning"], False, "out of paper"),
    (["none"], None, ""),
    (["fuser-over-temp-error"], True, "fuser-over-temp"),
])
def test_printer_state_reasons_become_clear_messages(reasons, blocking, words):
    explained = printing.explain(reasons)
    if blocking is None:
        assert explained == [] and printing.blocking_message(reasons) is None
        return
    (reason,) = explained
    assert reason.blocking is blocking and words in reason.en and reason.vi
    assert (printing.blocking_message(reasons) is not None) is blocking


def test_unreachable_cups_server_is_a_clear_message(tmp_path):
    nowhere = printing.CupsPrinter("tdp-pdf", connect=lambda: cups.Connection(host="127.0.0.1", port=9))
    with pytest.raises(printing.PrinterUnavailable, match="cannot reach the CUPS server") as caught:
        nowhere.submit(str(tmp_path / "x.pdf"), "x")
    assert "Không kết nối được" in caught.value.vietnamese
