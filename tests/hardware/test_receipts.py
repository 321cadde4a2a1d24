"""Receipt rendering: thermal PNG widths, PDFs whose Vietnamese text and QR code read back."""
import io
import subprocess

import pytest
from hypothesis import given, strategies as st
from PIL import Image

from hardware import receipts
from hardware.receipt_layout import RenderError

PAYLOAD = "https://dichvucong.gov.vn/p/home/dvc-tra-cuu-ho-so.html?ma_ho_so=000.24.35.H42-251203-0001"

DATA = receipts.ReceiptData(
    ward="Phường Nam Hà", residential_group="Tổ dân phố số 1",
    procedure_name="Liên thông đăng ký khai sinh, đăng ký thường trú, cấp thẻ bảo hiểm y tế cho trẻ em dưới 6 tuổi",
    national_code="1.001193", code="TDP1-2611-7Q4K", full_name="Nguyễn Thị Huyền",
    appointment_date="08/12/2026", issued_at="22/11/2026 19:40", qr_payload=PAYLOAD,
    citizen_id_masked="********1234", volunteer="Trần Văn Sơn",
    collect_at="Trung tâm Phục vụ hành chính công phường", documents=("Giấy chứng sinh", "Thẻ căn cước"),
    help_lines=("Nhắn tin: HS TDP1-2611-7Q4K", "gửi tới số 0912 345 678"))
# The longest values a slip can carry: a 3-digit group prefix, a portal code with four agency
# groups and a 6-digit sequence, the longest procedure name, an amount with its unit.
LONGEST = receipts.ReceiptData(**{
    **DATA.__dict__, "code": "TDP123-2612-JRZW", "portal_code": "000.000.00.H42-261231-000001",
    "official_appointment": "31/12/2026", "appointment_date": "28/12/2026", "issued_at": "03/12/2026 23:59",
    "procedure_name": "Trích lục, trích đo bản đồ địa chính thửa đất (phục vụ cấp Giấy chứng nhận quyền sử dụng đất)",
    "note": "Mức trợ cấp 500.000\u00a0đồng/tháng", "full_name": "Tôn Nữ Thị Phương Hoàng Quỳnh Hương"})


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
                     "PHIẾU HẸN – BIÊN NHẬN YÊU CẦU", "NGÀY HẸN DỰ KIẾN: 08/12/2026", "Trần Văn Sơn",
                     "HS TDP1-2611-7Q4K", "trẻ em dưới 6 tuổi", "Mã thủ tục: 1.001193", "☐ Giấy chứng sinh",
                     "Nhận kết quả tại: Trung tâm Phục vụ hành chính công phường",
                     "Phiếu này không thay giấy tiếp nhận của Trung tâm Phục vụ hành chính công phường"):
        assert expected in text, expected
    assert "GIẤY TIẾP NHẬN HỒ SƠ" not in text and "Ngày hẹn trả" not in text
    info = subprocess.run(["pdfinfo", str(tmp_path / "doc.pdf")], capture_output=True, text=True).stdout
    width_pt = float(info.split("Page size:")[1].split()[0])
    assert abs(width_pt - size_mm[0] * 72 / 25.4) < 1
    fonts = subprocess.run(["pdffonts", str(tmp_path / "doc.pdf")], capture_output=True, text=True).stdout
    assert "DejaVuSans" in fonts and " yes " in fonts  # embedded


def test_pdf_qr_code_decodes_after_rasterising(tmp_path):
    (tmp_path / "r.pdf").write_bytes(receipts.render_receipt(DATA, "a5", "pdf"))
    subprocess.run(["pdftoppm", "-r", "150", "-png", str(tmp_path / "r.pdf"), str(tmp_path / "page")], check=True)
    assert qr_texts(next(tmp_path.glob("page*.png"))) == [PAYLOAD]


def test_a_word_wider_than_the_paper_stays_whole_in_a_smaller_size(tmp_path):
    long = receipts.ReceiptData(**{**DATA.__dict__, "full_name": "Tôn Nữ " + "Thị" * 40})
    image = Image.open(io.BytesIO(receipts.render_receipt(long, "58mm", "png")))
    assert image.size[0] == 384
    assert "Thị" * 40 in pdf_text(receipts.render_receipt(long, "58mm", "pdf"), tmp_path)


def _lines(pdf: bytes, tmp_path) -> list[str]:
    path = tmp_path / "slip.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return [" ".join(line.split()) for line in out.splitlines() if line.strip()]


@pytest.mark.parametrize("paper", ["58mm", "80mm"])
def test_dates_codes_and_amounts_are_never_split_on_thermal_paper(paper, tmp_path):
    lines = _lines(receipts.render_receipt(LONGEST, paper, "pdf"), tmp_path)
    for value in ("TDP123-2612-JRZW", "000.000.00.H42-261231-000001", "31/12/2026", "03/12/2026", "1.001193",
                  "500.000\u00a0đồng/tháng".replace("\u00a0", " ")):
        assert any(value in line for line in lines), (value, lines)
    assert not any(line.endswith("/202") or line == "6" for line in lines)
    png = tmp_path / "slip.png"
    png.write_bytes(receipts.render_receipt(LONGEST, paper, "png"))
    assert qr_texts(png) == [PAYLOAD]
    (tmp_path / "slip.pdf").write_bytes(receipts.render_receipt(LONGEST, paper, "pdf"))
    subprocess.run(["pdftoppm", "-r", "300", "-png", str(tmp_path / "slip.pdf"), str(tmp_path / "page")], check=True)
    assert qr_texts(next(tmp_path.glob("page*.png"))) == [PAYLOAD]


def test_the_estimated_date_is_whole_on_58mm_where_it_used_to_split(tmp_path):
    lines = _lines(receipts.render_receipt(DATA, "58mm", "pdf"), tmp_path)
    assert "08/12/2026" in lines and "NGÀY HẸN DỰ KIẾN:" in lines


def test_checklist_lists_what_to_bring(tmp_path):
    data = receipts.ChecklistData(
        ward="Phường Nam Hà", residential_group="Tổ dân phố số 1", procedure_name="Đăng ký tạm trú",
        national_code="", documents=("Tờ khai thay đổi thông tin cư trú (mẫu CT01).", "Thẻ căn cước."),
        fee="15.000 đồng", processing_time="3 ngày làm việc", where="Công an phường",
        steps=("Đến Công an phường.",), portal_url="https://dichvucong.gov.vn/p/home/dvc-tthc-thu-tuc-hanh-chinh.html",
        unreviewed_note="Nội dung đang chờ phường kiểm tra.")
    text = pdf_text(receipts.render_checklist(data, "a4", "pdf"), tmp_path)
    assert "GIẤY TỜ CẦN MANG THEO" in text and "Mã thủ tục" not in text and "☐ Thẻ căn cước." in text and "Lệ phí: 15.000 đồng" in text
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


@given(st.lists(st.text(alphabet="0123456789/.-ABCDĐăâêôơưáàảãạ", min_size=1, max_size=40), min_size=1, max_size=12),
       st.floats(min_value=20, max_value=200))
def test_wrap_never_cuts_a_word(words, width):
    from hardware.receipt_layout import wrap
    from hardware.receipt_pdf import _PdfSurface, register_fonts
    register_fonts()
    lines = wrap(_PdfSurface(None, 0, 0), " ".join(words), 10, True, width, first_width=width / 2)
    assert " ".join(" ".join(lines).split()) == " ".join(words)
    assert all(word in [w for line in lines for w in line.split()] for word in words)
