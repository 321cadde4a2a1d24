"""Importing officials' contact lists: real .xlsx/.docx/.csv files built here, messy as in the field."""
from __future__ import annotations

import unicodedata

import openpyxl
import pytest

from kiosk.directory import contacts
from kiosk.directory import residents as directory
from kiosk.directory.residents import Consent
from kiosk.tabular import TableError, read_table
from tests.support.contact_lists import (HEADER, MESSY_ROWS, big_rows, csv_text, to_windows_1258,
                                         write_docx, write_encrypted_xlsx, write_xlsx)


def snapshot(db) -> dict:
    """Everything the directory stores, to prove an operation changed nothing."""
    return {table: db.query(f"SELECT * FROM {table} ORDER BY rowid")
            for table in ("households", "residents", "groups", "memberships", "consent_log")}


@pytest.fixture
def messy(tmp_path):
    return write_xlsx(tmp_path / "danh_sach.xlsx", MESSY_ROWS)


def test_messy_xlsx_imports_valid_rows_and_reports_each_reject_by_sheet_row(store, messy):
    report = contacts.import_contacts(store, messy)

    assert (report.added, report.updated, report.unchanged) == (3, 0, 0)
    assert report.header_row == 4
    reasons = {r.row: r.reason for r in report.rejected}
    assert set(reasons) == {"row 8", "row 9", "row 11", "row 12"}
    assert "landline" in reasons["row 8"] and "024 3826 1234" in reasons["row 8"]
    assert reasons["row 9"] == "full name is empty"
    assert "duplicate of row 6 in this file" in reasons["row 11"]
    assert "short code" in reasons["row 12"]

    people = {r["full_name"]: r for r in directory.list_residents(store)}
    assert set(people) == {"Nguyễn Văn An", "Trần Thị Bình", "Phạm Thị Dung"}
    assert people["Nguyễn Văn An"]["phone"] == "+84912345678"        # float cell, lost leading 0
    assert people["Trần Thị Bình"]["phone"] == "+84334567890"        # 0163 → 033
    assert people["Phạm Thị Dung"]["phone"] == "+84987654322"        # +84 (0)…
    assert people["Nguyễn Văn An"]["groups"] == ["CB", "TV"]
    assert people["Phạm Thị Dung"]["groups"] == ["CB", "DTN", "HPN"]  # "; " and a newline in one cell
    assert people["Nguyễn Văn An"]["role"] == "Tổ trưởng"
    assert all(p["consent"] and p["consent_method"] == "import" and p["consent_source"] == "danh_sach.xlsx"
               for p in people.values())


def test_rejects_file_is_utf8_bom_csv_with_row_reason_and_original_values(store, messy):
    report = contacts.import_contacts(store, messy)

    rejects = messy.with_name("danh_sach.rejects.csv")
    assert report.rejects_file == str(rejects)
    raw = rejects.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Dòng (row),Lý do (reason),STT,Họ và tên")
    assert any(line.startswith("row 8,") and "Lê Văn Cường" in line and "024 3826 1234" in line for line in lines)
    assert len(lines) == 1 + 4


def test_reimporting_the_same_file_changes_nothing(store, messy):
    contacts.import_contacts(store, messy)
    before = snapshot(store)

    again = contacts.import_contacts(store, messy)

    assert (again.added, again.updated, again.unchanged, len(again.rejected)) == (0, 0, 3, 4)
    assert snapshot(store) == before


def test_dry_run_reports_the_same_counts_and_writes_nothing(store, messy):
    before = snapshot(store)
    dry = contacts.import_contacts(store, messy, dry_run=True)

    assert snapshot(store) == before
    assert not messy.with_name("danh_sach.rejects.csv").exists()
    real = contacts.import_contacts(store, messy)
    assert (dry.added, dry.updated, dry.unchanged, len(dry.rejected)) == \
           (real.added, real.updated, real.unchanged, len(real.rejected))


def test_group_option_adds_everyone_and_no_consent_imports_without_consent(store, messy):
    report = contacts.import_contacts(store, messy, group="Ban quản lý", consent=False)

    assert report.groups_created and "BQL (Ban quản lý)" in report.groups_created
    assert len(directory.list_residents(store, "BQL")) == 3
    assert directory.recipients(store, "BQL") == []
    assert store.scalar("SELECT COUNT(*) FROM consent_log") == 0


def test_import_never_regrants_consent_the_resident_withdrew(store, messy):
    contacts.import_contacts(store, messy)
    directory.set_consent(store, "0912345678", Consent(False, "sms", "HUY"))
    directory.set_consent(store, "0334567890", Consent(False, "cli", "asked at the office"))
    log_before = store.scalar("SELECT COUNT(*) FROM consent_log")

    report = contacts.import_contacts(store, messy)

    assert report.unchanged == 3
    assert "+84912345678" not in directory.recipients(store)
    assert "+84334567890" not in directory.recipients(store)
    assert store.scalar("SELECT COUNT(*) FROM consent_log") == log_before


def test_import_with_consent_grants_it_to_contacts_imported_earlier_without(store, messy):
    contacts.import_contacts(store, messy, consent=False)
    report = contacts.import_contacts(store, messy)
    assert report.updated == 3
    assert len(directory.recipients(store)) == 3


def test_same_person_listed_under_two_groups_is_one_contact_in_both(store, tmp_path):
    rows = [[1, "Đỗ Văn Hải", "Bí thư chi bộ", "Chi bộ", "0912000111"],
            [2, "Đỗ  Văn Hải", "", "Hội cựu chiến binh", "0912 000 111"]]
    report = contacts.import_contacts(store, write_xlsx(tmp_path / "ds.xlsx", rows))
    assert (report.added, len(report.rejected)) == (1, 0)
    assert "row 7: same person as row 6" in report.notes[0]
    (resident,) = directory.list_residents(store)
    assert resident["groups"] == ["CB", "CCB"]


def test_header_merged_over_two_rows_and_vertically_merged_group_cell(store, tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["UBND PHƯỜNG ĐỒNG TÂM", None, None, None])
    sheet.merge_cells("A1:D1")
    sheet.append(["Họ và tên", "Liên hệ", None, "Phân nhóm"])
    sheet.append([None, "Số ĐT", "Địa chỉ", None])
    sheet.merge_cells("A2:A3")
    sheet.merge_cells("B2:C2")
    sheet.merge_cells("D2:D3")
    sheet.append(["Ngô Thị Lan", "0977 111 222", "Số 5, ngõ 12", "Hội phụ nữ"])
    sheet.append(["Ngô Thị Hoa", "0977 111 333", "Số 5, ngõ 12", None])
    sheet.merge_cells("D4:D5")
    path = tmp_path / "two_row_header.xlsx"
    workbook.save(path)

    report = contacts.import_contacts(store, path, residential_group="Tổ 7")

    assert (report.added, len(report.rejected), report.header_row) == (2, 0, 3)
    residents = directory.list_residents(store, "HPN")
    assert [r["full_name"] for r in residents] == ["Ngô Thị Hoa", "Ngô Thị Lan"]
    assert {r["address"] for r in residents} == {"Số 5, ngõ 12"}
    assert store.scalar("SELECT COUNT(*) FROM households WHERE residential_group = 'Tổ 7'") == 1


def test_docx_table_with_merged_cells_and_multiline_groups(store, tmp_path):
    path = write_docx(tmp_path / "doan_the.docx", ["STT", "Họ tên", "Chức vụ", "Nhóm", "Điện thoại"], [
        ["1", "Bùi Văn Kiên", "Tổ trưởng tự vệ", "Tự vệ", "0868 123 456"],
        ["2", "Bùi Văn Tùng", "", "", "0868 123 457"],
        ["3", "Lý Thị Mai", "Bí thư chi đoàn", "Đoàn thanh niên\nHội phụ nữ", "0386 000 001"],
    ], merge_column=3)

    report = contacts.import_contacts(store, path)

    assert (report.added, len(report.rejected)) == (3, 0)
    assert [r["full_name"] for r in directory.list_residents(store, "TV")] == ["Bùi Văn Kiên", "Bùi Văn Tùng"]
    assert directory.list_residents(store, "DTN")[0]["groups"] == ["DTN", "HPN"]


def test_csv_in_windows_1258_with_decomposed_tones_imports_as_nfc(store, tmp_path):
    names = ["Nguyễn Thị Hường", "Đặng Quốc Việt", "Huỳnh Thị Ngọc Ánh"]
    text = csv_text(["Ho va ten", "Chức vụ", "Nhóm", "Số ĐT"], [
        [names[0], "Chi hội trưởng", "Hội phụ nữ", "0904 111 222"],
        [names[1], "", "Hội cựu chiến binh", "0904 111 223"],
        [names[2], "", "Hội người cao tuổi", "0904 111 224"],
    ])
    raw = to_windows_1258(text)
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert b"\xd2" in raw or b"\xde" in raw or b"\xf2" in raw  # combining tone marks of Windows-1258
    path = tmp_path / "ds_1258.csv"
    path.write_bytes(raw)

    report = contacts.import_contacts(store, path)

    assert (report.added, len(report.rejected)) == (3, 0)
    stored = sorted(r["full_name"] for r in directory.list_residents(store))
    assert stored == sorted(names)
    assert all(unicodedata.is_normalized("NFC", n) for n in stored)
    assert read_table(path, contacts.COLUMNS, required=contacts.REQUIRED).encoding == "cp1258"


def test_csv_utf8_with_bom_and_semicolons(store, tmp_path):
    path = tmp_path / "ds_bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + csv_text(["Họ tên", "SĐT", "Phân nhóm"], [
        ["Trịnh Văn Sơn", "0397 555 666", "Tự vệ, Đoàn thanh niên"],
        ["Trịnh Thị Hà", "abc", "Hội phụ nữ"],
    ], delimiter=";").encode("utf-8"))

    report = contacts.import_contacts(store, path)

    assert (report.added, [r.row for r in report.rejected]) == (1, ["row 3"])
    assert "not a phone number" in report.rejected[0].reason
    assert directory.list_residents(store)[0]["groups"] == ["DTN", "TV"]


@pytest.mark.parametrize("name_header", ["Họ tên", "Ho va ten", "Họ và tên", "HỌ VÀ TÊN", "họ  và tên (*)"])
@pytest.mark.parametrize("phone_header", ["SĐT", "Số ĐT", "Điện thoại", "Số điện thoại", "SỐ ĐIỆN THOẠI NHẬN SMS"])
def test_header_variants_are_recognised(tmp_path, name_header, phone_header):
    path = tmp_path / "v.csv"
    path.write_text(csv_text(["STT", name_header, "Chức vụ", "Phân nhóm", phone_header],
                             [["1", "Lê Văn A", "", "Chi bộ", "0912345678"]]), encoding="utf-8")
    table = read_table(path, contacts.COLUMNS, required=contacts.REQUIRED)
    assert table.rows[0].values["name"] == "Lê Văn A"
    assert table.rows[0].values["phone"] == "0912345678"
    assert table.rows[0].values["groups"] == "Chi bộ"


def test_export_then_reimport_round_trips(store, messy, tmp_path):
    contacts.import_contacts(store, messy, residential_group="Tổ 1")
    directory.upsert_resident(store, "Mai Văn Tiến", "0383 222 444", role="Tổ phó", groups=["Tự vệ"])  # no consent
    directory.set_consent(store, "0912345678", Consent(False, "sms", "HUY"))
    before = snapshot(store)

    out = tmp_path / "export" / "danh_ba.xlsx"
    result = contacts.export_contacts(store, out)
    report = contacts.import_contacts(store, out)

    assert result["exported"] == 4
    assert (report.added, report.updated, report.unchanged, len(report.rejected)) == (0, 0, 4, 0)
    assert snapshot(store) == before
    sheet = openpyxl.load_workbook(out).active
    header = [c.value for c in sheet[3]]
    assert header[1:5] == ["Họ và tên", "Chức vụ", "Phân nhóm", "Số điện thoại"]


def test_export_into_a_fresh_directory_recreates_people_groups_and_consent(store, messy, tmp_path):
    from kiosk.appliance.store import open_store

    contacts.import_contacts(store, messy)
    directory.upsert_resident(store, "Mai Văn Tiến", "0383 222 444", groups=["Tự vệ"])
    out = contacts.export_contacts(store, tmp_path / "all.xlsx")["file"]
    fresh = open_store(tmp_path / "fresh.sqlite3")
    try:
        contacts.import_contacts(fresh, out)
        def view(db):
            return [(r["full_name"], r["phone"], r["role"], r["groups"], r["consent"])
                    for r in directory.list_residents(db)]
        assert view(fresh) == view(store)
    finally:
        fresh.close()


# --- bad input: one line, exit 1, database unchanged --------------------------------------------

@pytest.fixture
def populated(store, messy):
    contacts.import_contacts(store, messy)
    return snapshot(store)


def _bad(tdp, store, before, path, *needles):
    result = tdp("contacts", "import", path)
    assert result.code == 1, result
    assert len(result.err.strip().splitlines()) == 1 and "Traceback" not in result.err
    for needle in needles:
        assert needle in result.err
    assert snapshot(store) == before
    return result


def test_corrupt_xlsx(tdp, store, populated, messy, tmp_path):
    truncated = tmp_path / "cut.xlsx"
    truncated.write_bytes(messy.read_bytes()[:3000])
    _bad(tdp, store, populated, truncated, "damaged")
    garbage = tmp_path / "garbage.xlsx"
    garbage.write_bytes(b"this is not a spreadsheet at all\n" * 10)
    _bad(tdp, store, populated, garbage, "damaged")


def test_password_protected_xlsx(tdp, store, populated, tmp_path):
    path = write_encrypted_xlsx(tmp_path / "locked.xlsx")
    _bad(tdp, store, populated, path, "password-protected: save it without a password")


def test_empty_files(tdp, store, populated, tmp_path):
    (tmp_path / "empty.csv").write_bytes(b"")
    _bad(tdp, store, populated, tmp_path / "empty.csv", "empty")
    (tmp_path / "blank.csv").write_bytes(b"\r\n \r\n")
    _bad(tdp, store, populated, tmp_path / "blank.csv", "empty")
    header_only = write_xlsx(tmp_path / "header_only.xlsx", [])
    result = tdp("contacts", "import", header_only)
    assert result.code == 0 and "0 added" in result.out


def test_no_recognisable_header_names_the_expected_columns(tdp, store, populated, tmp_path):
    path = tmp_path / "prices.csv"
    path.write_text("Mặt hàng,Giá\nGạo,18000\n", encoding="utf-8")
    _bad(tdp, store, populated, path, "no header row with the columns Họ và tên (or Họ tên", "Số điện thoại (or SĐT")
    partial = tmp_path / "no_phone.csv"
    partial.write_text("STT,Họ và tên,Chức vụ\n1,Lê Văn A,\n", encoding="utf-8")
    _bad(tdp, store, populated, partial, "row 1 looks like the header", "SĐT")


def test_hundred_thousand_rows_are_refused_with_the_limit(tdp, store, populated, tmp_path):
    path = tmp_path / "huge.csv"
    path.write_text(csv_text(HEADER, [[str(c) for c in row] for row in big_rows(100_000)]), encoding="utf-8")
    _bad(tdp, store, populated, path, "more than 20,000 rows")


def test_unsupported_and_missing_files(tdp, store, populated, tmp_path):
    (tmp_path / "list.pdf").write_bytes(b"%PDF-1.4\n")
    _bad(tdp, store, populated, tmp_path / "list.pdf", "unsupported file type")
    _bad(tdp, store, populated, tmp_path / "nope.xlsx", "not found")


def test_read_table_errors_are_table_errors(tmp_path):
    (tmp_path / "e.csv").write_bytes(b"")
    with pytest.raises(TableError):
        read_table(tmp_path / "e.csv", contacts.COLUMNS)


def test_cli_import_json_report(tdp, store, messy):
    result = tdp("contacts", "import", messy, "--group", "HPN", "--json")
    assert result.code == 0, result.err
    data = result.data
    assert (data["added"], data["updated"], data["unchanged"], data["rejected"]) == (3, 0, 0, 4)
    assert {"row": "row 9", "reason": "full name is empty"} in data["rejects"]
    assert len(directory.list_residents(store, "HPN")) == 3


def test_every_docx_table_is_read_and_a_table_split_across_pages_continues(store, tmp_path):
    import docx

    document = docx.Document()
    document.add_paragraph("DANH SÁCH TỔ DÂN PHỐ SỐ 4")
    first = document.add_table(rows=3, cols=3)
    for r, cells in enumerate([["Họ và tên", "Số điện thoại", "Phân nhóm"],
                               ["Cao Văn Lực", "0961 000 001", "Tự vệ"],
                               ["Cao Thị Nụ", "0961 000 002", "Hội phụ nữ"]]):
        for c, text in enumerate(cells):
            first.cell(r, c).text = text
    document.add_page_break()
    second = document.add_table(rows=2, cols=3)  # the rest of the list, no header of its own
    for r, cells in enumerate([["Cao Văn Mạnh", "0961 000 003", "Tự vệ"], ["Cao Văn Ninh", "024 3999 0000", ""]]):
        for c, text in enumerate(cells):
            second.cell(r, c).text = text
    path = tmp_path / "split.docx"
    document.save(path)

    report = contacts.import_contacts(store, path)

    assert report.added == 3
    assert [(r.row, "landline" in r.reason) for r in report.rejected] == [("table 2 row 2", True)]
    assert len(directory.list_residents(store, "TV")) == 2


def test_every_sheet_with_a_header_is_read_and_rows_name_their_sheet(store, tmp_path):
    workbook = openpyxl.Workbook()
    cover = workbook.active
    cover.title = "Hướng dẫn"
    cover.append(["Điền danh sách vào các trang sau"])
    for title, rows in [("Chi bộ", [["Lê Văn Tâm", "0945 000 001"]]),
                        ("Hội phụ nữ", [["Lê Thị Tươi", "0945 000 002"], ["", "0945 000 003"]])]:
        sheet = workbook.create_sheet(title)
        sheet.append(["Họ và tên", "SĐT"])
        for row in rows:
            sheet.append(row + [])
    path = tmp_path / "sheets.xlsx"
    workbook.save(path)

    report = contacts.import_contacts(store, path, group="Tổ dân phố")

    assert report.added == 2
    assert [(r.row, r.reason) for r in report.rejected] == [("sheet 'Hội phụ nữ' row 3", "full name is empty")]
    assert len(directory.recipients(store, "TDP")) == 2


def test_a_cell_with_a_landline_and_a_mobile_uses_the_mobile_and_says_so(store, tmp_path):
    rows = [[1, "Kiều Văn Phú", "", "", "024 3826 1234 / 0912 777 888"],
            [2, "Kiều Thị Quý", "", "", "024 3826 1234; 028 3823 4567"]]
    report = contacts.import_contacts(store, write_xlsx(tmp_path / "two.xlsx", rows))
    assert report.added == 1
    assert "used 0912 777 888" in report.notes[0]
    assert report.rejected[0].row == "row 7" and "no mobile number" in report.rejected[0].reason


def test_excel_unicode_text_utf16_tab_separated(store, tmp_path):
    path = tmp_path / "unicode.txt"
    path.write_bytes(csv_text(["Họ và tên", "Số điện thoại"], [["Tạ Thị Xuân", "0916 111 222"]],
                              delimiter="\t").encode("utf-16"))
    assert contacts.import_contacts(store, path).added == 1
    assert directory.list_residents(store)[0]["full_name"] == "Tạ Thị Xuân"


def test_tatca_is_not_a_group_name(tdp, store, messy):
    result = tdp("contacts", "import", messy, "--group", "Tất cả")
    assert result.code == 1 and "means everyone" in result.err
    assert store.scalar("SELECT COUNT(*) FROM residents") == 0


def test_a_clean_reimport_removes_the_stale_rejects_file(store, tmp_path):
    path = write_xlsx(tmp_path / "ds.xlsx", [[1, "Lê Văn A", "", "", "024 3826 1234"]])
    assert contacts.import_contacts(store, path).rejects_file
    write_xlsx(path, [[1, "Lê Văn A", "", "", "0912 345 678"]])  # the official fixed the number
    report = contacts.import_contacts(store, path)
    assert (report.added, report.rejects_file) == (1, "")
    assert not path.with_name("ds.rejects.csv").exists()
