"""`tdp db`: officials can look into any table, and nothing secret or personal beyond need comes out."""
from __future__ import annotations

import csv
import io
import json

from kiosk.directory import residents as directory
from kiosk.dossiers import lifecycle as dossiers
from kiosk.volunteers import people


def test_tables_lists_the_store_with_row_counts(tdp, store):
    directory.upsert_resident(store, "Trần Thị Mai", "0912345678")
    listed = tdp("db", "tables", "--json")
    assert listed.code == 0, listed.err
    by_name = {t["name"]: t for t in listed.data}
    assert by_name["residents"]["rows"] == 1 and "phone" in by_name["residents"]["columns"]
    assert "outbox_parts" in by_name and "volunteers" in by_name


def test_a_dump_is_formula_safe_and_keeps_vietnamese(tdp, store):
    directory.upsert_resident(store, "=HYPERLINK(\"http://x\",\"Bấm\")", "0912345678")
    directory.upsert_resident(store, "Nguyễn Thị Hoà", "0912345679")
    dumped = tdp("db", "dump", "residents")
    assert dumped.code == 0, dumped.err
    names = [row["full_name"] for row in csv.DictReader(io.StringIO(dumped.out))]
    assert names == ["'=HYPERLINK(\"http://x\",\"Bấm\")", "Nguyễn Thị Hoà"]


def test_secrets_never_leave_and_citizen_ids_are_masked(tdp, store):
    people.add(store, people.NewVolunteer(name="Lê Văn An", phone="0905000001"))
    people.set_pin(store, "Lê Văn An", "4826")
    volunteers = tdp("db", "dump", "volunteers", "--format", "json")
    assert volunteers.code == 0, volunteers.err
    (row,) = json.loads(volunteers.out)
    assert row["name"] == "Lê Văn An" and "pin_hash" not in row and "4826" not in volunteers.out
    dossiers.create(store, procedure_code="HT-KS", full_name="Phạm Văn Bình", phone="0912345670",
                    citizen_id="001234567890")
    dumped = tdp("db", "dump", "dossiers", "--format", "json")
    assert dumped.code == 0, dumped.err
    assert "001234567890" not in dumped.out and "********7890" in dumped.out


def test_an_unknown_table_is_one_line_naming_the_tables(tdp):
    result = tdp("db", "dump", "resident")
    assert result.code == 1
    assert result.err.count("\n") == 1 and "no table 'resident'" in result.err and "residents" in result.err

