"""The demo ward `tdp demo` seeds: realistic, deterministic, safe to seed twice."""
from __future__ import annotations

import unicodedata

from kiosk import demo
from kiosk.directory import residents as directory
from kiosk.directory import phone
from kiosk.appliance.config import Config
from kiosk.appliance.store import open_store

EXPECTED_GROUPS = {"CB": "Chi bộ", "HPN": "Hội phụ nữ", "TV": "Tự vệ", "DTN": "Đoàn thanh niên",
                   "CCB": "Hội cựu chiến binh", "NCT": "Hội người cao tuổi"}


def test_seed_builds_the_ward_with_groups_roles_and_mostly_consenting_residents(store):
    counts = demo.seed(store, Config())

    assert counts["households"] == counts["added"]["households"] == 40
    assert counts["residents"] == counts["added"]["residents"] == 100
    assert 88 <= counts["consenting"] < 100
    groups = {g["code"]: g for g in directory.list_groups(store)}
    assert {code: g["name"] for code, g in groups.items()} == EXPECTED_GROUPS
    assert all(g["consenting"] >= 3 for g in groups.values())
    residents = directory.list_residents(store)
    roles = {r["role"] for r in residents if r["role"]}
    assert {"Tổ trưởng tổ dân phố", "Tổ phó tổ dân phố", "Bí thư chi bộ", "Chi hội trưởng Hội phụ nữ"} <= roles
    assert all(phone.normalise(r["phone"]) == r["phone"] for r in residents)
    assert all(unicodedata.is_normalized("NFC", r["full_name"]) and len(r["full_name"].split()) >= 3
               for r in residents)
    assert len({r["full_name"] for r in residents}) == 100
    assert store.scalar("SELECT COUNT(*) FROM residents WHERE consent_method = 'sms' AND consent = 0") == 2
    assert all(r["address"] for r in residents)


def test_seeding_twice_adds_nothing(store):
    demo.seed(store, Config())
    before = {t: store.query(f"SELECT * FROM {t} ORDER BY rowid")
              for t in ("households", "residents", "memberships", "groups", "consent_log")}
    again = demo.seed(store, Config())
    assert again["added"] == {"households": 0, "residents": 0}
    assert (again["households"], again["residents"]) == (40, 100)
    assert {t: store.query(f"SELECT * FROM {t} ORDER BY rowid") for t in before} == before


def test_seed_is_deterministic(tmp_path):
    def people(path):
        db = open_store(path)
        try:
            demo.seed(db, Config())
            return [(r["full_name"], r["phone"], r["role"], r["groups"], r["consent"])
                    for r in directory.list_residents(db)]
        finally:
            db.close()
    assert people(tmp_path / "a.sqlite3") == people(tmp_path / "b.sqlite3")
