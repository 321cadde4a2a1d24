"""Bounded input files (issue 17): `tdp contacts import` refuses, in one line and at once, files that
would take the appliance's memory or minutes of CPU (huge, zip bombs, too many cells) and anything
that is not a regular file (a symlink to /dev/zero, a FIFO, a folder); the store is untouched.
First boot reports such a list on the boot partition and carries on with the rest."""
from __future__ import annotations

import io
import os
import threading
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from kiosk import tabular

from tests.provisioning.test_firstboot import pi_root, report, run, statuses, write_contacts  # noqa: F401


def good_xlsx(path: Path) -> Path:
    book = Workbook()
    book.active.append(["Họ và tên", "Số điện thoại"])
    book.active.append(["Trần Thị Bình", "0987 654 321"])
    book.save(path)
    return path


def comment_bomb(path: Path, megabytes: int) -> Path:
    """A valid .xlsx whose sheet XML carries a huge comment: a few KB on disk (expat chokes on it)."""
    source = good_xlsx(path.with_name("seed.xlsx"))
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for item in original.infolist():
            data = original.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                head, _, rest = data.partition(b"?>")
                data = head + b"?><!--" + b"x" * (megabytes * 1024 * 1024) + b"-->" + rest
            out.writestr(item, data)
    return path


def import_in_time(tdp, *args, seconds=30):
    """Run `tdp contacts import …`; fails if it does not answer within `seconds` (a stalled read)."""
    result, done = {}, threading.Event()

    def go():
        result["r"] = tdp("contacts", "import", *args)
        done.set()
    threading.Thread(target=go, daemon=True).start()
    assert done.wait(seconds), f"contacts import {args} did not answer within {seconds} s"
    return result["r"]


def residents(store) -> int:
    return store.scalar("SELECT count(*) FROM residents")


@pytest.mark.parametrize("make, reason", [
    (lambda d: os.symlink("/dev/zero", d / "devzero.csv") or d / "devzero.csv", "not a regular file"),
    (lambda d: os.mkfifo(d / "fifo.csv") or d / "fifo.csv", "not a regular file"),
    (lambda d: (d / "dir.csv").mkdir() or d / "dir.csv", "is a folder"),
    (lambda d: (d / "huge.csv").write_bytes(b"Ho va ten,So dien thoai\n" + b"a," * (5 * 1024 * 1024)) and d / "huge.csv",
     "over 8 MB"),
    (lambda d: comment_bomb(d / "bomb.xlsx", 10), "expands"),
])
def test_hostile_files_are_refused_in_one_line_and_the_store_is_untouched(tdp, store, tmp_path, make, reason):
    before = residents(store)
    r = import_in_time(tdp, make(tmp_path))
    assert r.code == 1 and reason in r.err, r.err
    assert len(r.err.strip().splitlines()) == 1 and "internal error" not in r.err
    assert residents(store) == before


def test_too_many_cells_is_refused(tdp, store, tmp_path, monkeypatch):
    monkeypatch.setattr(tabular, "MAX_CELLS", 50)
    book = Workbook()
    book.active.append(["Họ và tên", "Số điện thoại"] + [f"Cột {i}" for i in range(20)])
    for n in range(5):
        book.active.append([f"Người {n}", f"09870000{n:02d}"] + ["x"] * 20)
    book.save(tmp_path / "wide.xlsx")
    r = tdp("contacts", "import", tmp_path / "wide.xlsx")
    assert r.code == 1 and "more than 50 cells" in r.err and residents(store) == 0


def test_an_ordinary_list_still_imports(tdp, store, tmp_path):
    r = tdp("contacts", "import", good_xlsx(tmp_path / "ds.xlsx"))
    assert r.code == 0, r.err
    assert residents(store) == 1


def test_first_boot_reports_a_refused_list_and_carries_on(tdp, pi_root):  # noqa: F811
    boot = pi_root / "boot/firmware"
    os.symlink("/dev/zero", boot / "contacts.xlsx")
    book = Workbook()
    book.active.append(["Họ và tên", "Số điện thoại", "Kỹ năng"])
    book.active.append(["Hoàng Minh Em", "0903 111 222", "dịch vụ công"])
    book.save(boot / "volunteers.xlsx")
    result = {}
    done = threading.Event()
    threading.Thread(target=lambda: (result.setdefault("r", run(tdp, pi_root)), done.set()), daemon=True).start()
    assert done.wait(60), "first boot stalled on a symlink to /dev/zero"
    steps = statuses(result["r"])
    assert steps["contacts"] == "failed" and steps["volunteers"] == "changed"
    text = report(pi_root)
    assert "contacts.xlsx" in text and "not a regular file" in text
    assert steps.get("services") != "failed"
