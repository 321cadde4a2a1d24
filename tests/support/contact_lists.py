"""Builders of real contact-list files (.xlsx, .docx, .csv) the way officials' offices make them."""
from __future__ import annotations

import unicodedata
from pathlib import Path

import docx
import openpyxl
from docx.enum.table import WD_TABLE_ALIGNMENT

HEADER = ["STT", "Họ và tên", "Chức vụ", "Phân nhóm", "Số điện thoại nhận SMS"]

# A messy but typical list: rows 6.. of the sheet (row numbers below are sheet rows).
MESSY_ROWS = [
    [1, "  Nguyễn   Văn An ", "Tổ trưởng", "Chi bộ, Tự vệ", 912345678.0],   # row 6: float phone, lost 0
    [2, "Trần Thị Bình", "Tổ phó", "Hội phụ nữ", "0163 456 7890"],        # row 7: old 11-digit prefix
    [3, "Lê Văn Cường", "", "Hội cựu chiến binh", "024 3826 1234"],        # row 8: landline
    [4, "", "", "Hội phụ nữ", "0987 654 321"],                              # row 9: no name
    [5, "Phạm Thị Dung", "", "Hội phụ nữ; Chi bộ\nĐoàn thanh niên", "+84 (0)98 765 4322"],  # row 10
    [6, "Hoàng Văn Em", "", "Tự vệ", "0912.345.678"],                      # row 11: same phone as row 6
    [7, "Vũ Thị Giang", "", "Hội người cao tuổi", "1900 1234"],            # row 12: service number
]


def write_xlsx(path: Path, rows: list[list], *, title: bool = True, header: list[str] = HEADER) -> Path:
    """An .xlsx with a merged title block (rows 1-3), the header on row 4, a column-number row 5."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Danh sách"
    if title:
        sheet.append(["UBND PHƯỜNG ĐỒNG TÂM"])
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
        sheet.append(["DANH SÁCH CÁN BỘ, HỘI VIÊN NHẬN TIN NHẮN SMS"])
        sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=len(header))
        sheet.append([])
    sheet.append(header)
    if title:
        sheet.append([f"({i})" for i in range(1, len(header) + 1)])
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def write_docx(path: Path, header: list[str], rows: list[list[str]], *, merge_column: int | None = None) -> Path:
    """A Word document: title paragraphs, then a table with `header` and `rows`.

    With `merge_column`, that column's cells of the first two data rows are merged vertically
    (one "Phân nhóm" cell covering two people, as officials often do).
    """
    document = docx.Document()
    document.add_paragraph("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    document.add_paragraph("DANH SÁCH THÀNH VIÊN CÁC ĐOÀN THỂ")
    table = document.add_table(rows=1 + len(rows), cols=len(header))
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for column, text in enumerate(header):
        table.cell(0, column).text = text
    for r, row in enumerate(rows, start=1):
        for column, text in enumerate(row):
            table.cell(r, column).text = str(text)
    if merge_column is not None:
        top, below = table.cell(1, merge_column), table.cell(2, merge_column)
        below.text = ""
        top.merge(below)
    document.add_paragraph("Người lập danh sách")
    document.save(path)
    return path


_TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"  # huyền, sắc, ngã, hỏi, nặng


def to_windows_1258(text: str) -> bytes:
    """Encode like Vietnamese Windows does: precomposed base letters (â ê ô ă ơ ư đ) + combining tones."""
    out = bytearray()
    for char in unicodedata.normalize("NFC", text):
        try:
            out += char.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        decomposed = unicodedata.normalize("NFD", char)
        tones = "".join(m for m in decomposed[1:] if m in _TONE_MARKS)
        letter = unicodedata.normalize("NFC", "".join(m for m in decomposed if m not in _TONE_MARKS))
        out += (letter + tones).encode("cp1258")
    return bytes(out)


def csv_text(header: list[str], rows: list[list[str]], delimiter: str = ",") -> str:
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def big_rows(count: int, start: int = 0) -> list[list]:
    """`count` distinct valid contacts: names, roles, groups and 10-digit Viettel/VinaPhone mobiles."""
    groups = ["Hội phụ nữ", "Chi bộ", "Tự vệ", "Đoàn thanh niên", "Hội cựu chiến binh"]
    given = ["An", "Bình", "Cường", "Dũng", "Hạnh", "Hương", "Lan", "Minh", "Nga", "Phúc"]
    rows = []
    for i in range(start, start + count):
        prefix = ("097", "098", "091", "094")[i % 4]
        rows.append([i + 1, f"Nguyễn Văn {given[i % 10]} {i}", "", groups[i % 5], f"{prefix}{i:07d}"])
    return rows


def write_encrypted_xlsx(path: Path, password: str = "1234") -> Path:
    """A real password-protected .xlsx (ECMA-376 agile encryption, what Excel writes): an OLE file."""
    import io

    from msoffcrypto.format.ooxml import OOXMLFile

    plain = io.BytesIO()
    write_xlsx(plain, MESSY_ROWS)
    plain.seek(0)
    with open(path, "wb") as out:
        OOXMLFile(plain).encrypt(password, out)
    return path
