"""Receipt rendering: thermal PNG widths, PDFs whose Vietnamese text and QR code read back."""
import io
import json
import subprocess

import pytest
from PIL import Image

from hardware import receipts
from hardware.receipt_layout import RenderError

PAYLOAD = json.dumps({"v": 1, "ma_ho_so": "TDP1-2611-7Q4K", "ma_tthc": "HT-KS", "ma_dinh_danh": "********1234",
                      "ten_giay_to": "Giay tiep nhan ho so va hen tra ket qua", "he_thong": "TDP Kiosk/demo",
                      "thoi_gian": "2026-11-22T19:40:00+07:00", "hen_tra": "2026-12-08"}, separators=(",", ":"))

DATA = receipts.ReceiptData(
    ward="Phường Nam Hà", residential_group="Tổ dân phố số 1",
    procedure_name="Liên thông đăng ký khai sinh, đăng ký thường trú, cấp thẻ bảo hiểm y tế cho trẻ em dưới 6 tuổi",
    procedure_code="LT-KS-TT-BHYT", code="TDP1-2611-7Q4K", full_name="Nguyễn Thị Huyền",
    appointment_date="08/12/2026", issued_at="22/11/2026 19:40", qr_payload=PAYLOAD,
    citizen_id_masked="********1234", volunteer="Trần Văn Sơn",
    help_lines=("Nhắn tin: HS TDP1-2611-7Q4K", "gửi tới số 0912 345 678"))


def pdf_text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return " ".join(out.split())


def qr_texts(png_path) -> list[str]:
    result = subprocess.run(["zbarimg", "--raw", "-q", str(png_path)], capture_output=True, text=True)
    return [line for line in result.stdout.splitlines() if line]


@pytest.mark.parametrize("paper, dots", [("58mm", 384), ("80mm", 576)])
def test_thermal_png_is_exactly_the_printhead_width_and_its_qr_decodes(paper, dots, tmp_path):
    png = receipts.render_receipt(DATA, paper, "png")
    image = Image.open(io.BytesIO(png))
    assert image.size[0] == dots and image.mode == "1" and image.size[1] > dots
    path = tmp_path / "r.png"
    path.write_bytes(png)
    assert qr_texts(path) == [PAYLOAD]


@pytest.mark.parametrize("paper, size_mm", [("a5", (148, 210)), ("a4", (210, 297)), ("80mm", (80, None))])
def test_pdf_has_real_vietnamese_text_on_the_right_page_size(paper, size_mm, tmp_path):
    pdf = receipts.render_receipt(DATA, paper, "pdf")
    text = pdf_text(pdf, tmp_path)
    for expected in ("PHƯỜNG NAM HÀ", "Tổ dân phố số 1", "TDP1-2611-7Q4K", "Nguyễn Thị Huyền", "********1234",
                     "Ngày hẹn trả: 08/12/2026", "Trần Văn Sơn", "HS TDP1-2611-7Q4K", "trẻ em dưới 6 tuổi"):
        assert expected in text, expected
    info = subprocess.run(["pdfinfo", str(tmp_path / "doc.pdf")], capture_output=True, text=True).stdout
    width_pt = float(info.split("Page size:")[1].split()[0])
    assert abs(width_pt - size_mm[0] * 72 / 25.4) < 1
    fonts = subprocess.run(["pdffonts", str(tmp_path / "doc.pdf")], capture_output=True, text=True).stdout
    assert "DejaVuSans" in fonts and " yes " in fonts  # embedded


def test_pdf_qr_code_decodes_after_rasterising(tmp_path):
    (tmp_path / "r.pdf").write_bytes(receipts.render_receipt(DATA, "a5", "pdf"))
    subprocess.run(["pdftoppm", "-r", "150", "-png", str(tmp_path / "r.pdf"), str(tmp_path / "page")], check=True)
    assert qr_texts(next(tmp_path.glob("page*.png"))) == [PAYLOAD]


def test_long_words_wrap_inside_the_paper(tmp_path):
    long = receipts.ReceiptData(**{**DATA.__dict__, "full_name": "Tôn Nữ " + "Thị" * 40})
    image = Image.open(io.BytesIO(receipts.render_receipt(long, "58mm", "png")))
    assert image.size[0] == 384
    assert "ThịThịThị" in pdf_text(receipts.render_receipt(long, "58mm", "pdf"), tmp_path)


def test_checklist_lists_what_to_bring(tmp_path):
    data = receipts.ChecklistData(
        ward="Phường Nam Hà", residential_group="Tổ dân phố số 1", procedure_name="Đăng ký tạm trú",
        procedure_code="CT-TAMTRU", documents=("Tờ khai thay đổi thông tin cư trú (mẫu CT01).", "Thẻ căn cước."),
        fee="15.000 đồng", processing_time="3 ngày làm việc", where="Công an phường",
        steps=("Đến Công an phường.",), portal_url="https://dichvucong.gov.vn/p/home/dvc-trang-chu.html",
        unreviewed_note="Nội dung đang chờ phường kiểm tra.")
    text = pdf_text(receipts.render_checklist(data, "a4", "pdf"), tmp_path)
    assert "CẦN MANG THEO" in text and "☐ Thẻ căn cước." in text and "Lệ phí: 15.000 đồng" in text
    assert "chờ phường kiểm tra" in text


def test_registration_slip_for_the_ui(tmp_path):
    pdf = receipts.render_registration(ward="Phường Nam Hà", residential_group="Tổ dân phố số 1",
                                       head_name="Hồ Bá Vỹ", phone_masked="0912 *** 678",
                                       groups=["Hội Phụ nữ", "Chi bộ"], registered_at="22/11/2026")
    text = pdf_text(pdf, tmp_path)
    assert "Chủ hộ: Hồ Bá Vỹ" in text and "0912 *** 678" in text and "Hội Phụ nữ, Chi bộ" in text
    png = receipts.render_registration(ward="P", residential_group="T", head_name="A", phone_masked="x",
                                       paper="58mm", fmt="png")
    assert Image.open(io.BytesIO(png)).size[0] == 384


def test_unknown_paper_or_format_is_a_clear_error():
    with pytest.raises(RenderError, match="unknown paper 'a3'"):
        receipts.render_receipt(DATA, "a3", "pdf")
    with pytest.raises(RenderError, match="png or pdf"):
        receipts.render_receipt(DATA, "80mm", "jpg")


def test_oversized_qr_payload_is_a_clear_error():
    with pytest.raises(RenderError, match="too long"):
        receipts.render_receipt(receipts.ReceiptData(**{**DATA.__dict__, "qr_payload": "x" * 5000}), "80mm", "png")
