"""The resident directory: households, residents, groups by code or folded name, consent and recipients."""
from __future__ import annotations

import pytest

from kiosk.directory import residents as directory
from kiosk.directory.residents import Consent
from kiosk.errors import InvalidInput, NotFound


@pytest.fixture
def ward(store):
    hh = directory.add_household(store, "Số 12,  ngõ 5 phố Đại La", "Tổ 3")
    directory.upsert_resident(store, "Nguyễn Thị Lan", "0912 000 001", role="Chi hội trưởng", household_id=hh,
                              groups=["Hội phụ nữ"], consent=Consent(True, "kiosk"))
    directory.upsert_resident(store, "Trần Văn Bình", "0912 000 002", household_id=hh,
                              groups=["Tự vệ", "Chi bộ"], consent=Consent(True, "import", "ds.xlsx"))
    directory.upsert_resident(store, "Đặng Thị Hoa", "0912 000 003", groups=["Hội phụ nữ"])  # no consent
    return store


@pytest.mark.parametrize("spelling", ["HPN", "hpn", "Hội phụ nữ", "HOIPHUNU", "hoi phu nu", "  Hội  Phụ Nữ "])
def test_a_group_is_found_by_code_or_by_name_ignoring_case_spaces_and_diacritics(ward, spelling):
    assert directory.get_group(ward, spelling)["code"] == "HPN"


def test_unknown_group_lists_the_known_ones(ward):
    with pytest.raises(NotFound) as caught:
        directory.get_group(ward, "Hội nông dân")
    assert "no group 'Hội nông dân'" in str(caught.value) and "HPN (Hội phụ nữ)" in str(caught.value)


def test_group_codes_well_known_initials_and_single_words(store):
    assert directory.group_code_for("Hội cựu chiến binh") == "CCB"
    assert directory.group_code_for("Ban quản lý chung cư") == "BQLCC"
    assert directory.group_code_for("Zalo") == "ZALO"
    first = directory.ensure_group(store, "Ban quản lý")
    assert directory.ensure_group(store, "ban quan ly") == first
    other = directory.ensure_group(store, "Ban quốc lộ")  # same initials: gets a numbered code
    assert directory.get_group(store, "BQL")["id"] == first
    assert directory.get_group(store, "BQL2")["id"] == other


def test_upsert_reports_added_updated_unchanged_and_keys_on_the_normalised_phone(ward):
    resident_id, status = directory.upsert_resident(ward, "Nguyễn Thị Lan", "+84912000001")
    assert status == "unchanged"
    again, status = directory.upsert_resident(ward, "Nguyễn  Thị   Lan", "0912.000.001", role="Tổ phó")
    assert (again, status) == (resident_id, "updated")
    row = directory.resident_by_phone(ward, "0912000001")
    assert (row["full_name"], row["role"]) == ("Nguyễn Thị Lan", "Tổ phó")


def test_upsert_rejects_empty_names_and_bad_phones(store):
    with pytest.raises(InvalidInput, match="full name is empty"):
        directory.upsert_resident(store, "   ", "0912000001")
    with pytest.raises(InvalidInput, match="landline"):
        directory.upsert_resident(store, "Lê A", "024 3826 1234")
    assert store.scalar("SELECT COUNT(*) FROM residents") == 0


def test_recipients_are_the_consenting_active_members(ward):
    assert directory.recipients(ward, "HPN") == ["+84912000001"]
    assert directory.recipients(ward, "TATCA") == ["+84912000001", "+84912000002"]
    assert directory.recipients(ward) == directory.recipients(ward, "tất cả")
    ward.execute("UPDATE residents SET active = 0 WHERE phone = '+84912000002'")
    assert directory.recipients(ward, "Chi bộ") == []


def test_every_consent_change_is_logged_with_when_how_and_source(ward):
    directory.set_consent(ward, "0912000003", Consent(True, "cli", "phiếu đồng ý 05/03"))
    directory.set_consent(ward, "0912000003", Consent(False, "sms", "HUY"))
    log = ward.query("SELECT given, method, source, at FROM consent_log WHERE resident_id = "
                     "(SELECT id FROM residents WHERE phone = '+84912000003') ORDER BY id")
    assert [(e["given"], e["method"], e["source"]) for e in log] == [(1, "cli", "phiếu đồng ý 05/03"), (0, "sms", "HUY")]
    assert all(e["at"].endswith("+00:00") for e in log)
    assert "+84912000003" not in directory.recipients(ward)


@pytest.mark.parametrize("method", ["sms", "kiosk", "cli"])
def test_an_import_never_regrants_a_withdrawal_but_the_resident_can(ward, method):
    directory.set_consent(ward, "0912000001", Consent(False, method))
    _, status = directory.upsert_resident(ward, "Nguyễn Thị Lan", "0912000001", consent=Consent(True, "import", "x.xlsx"))
    assert status == "unchanged"
    assert "+84912000001" not in directory.recipients(ward)
    directory.set_consent(ward, "0912000001", Consent(True, "sms", "DONGY"))
    assert "+84912000001" in directory.recipients(ward)


def test_group_counts_and_vietnamese_name_order(ward):
    groups = {g["code"]: g for g in directory.list_groups(ward)}
    assert (groups["HPN"]["members"], groups["HPN"]["consenting"]) == (2, 1)
    names = [r["full_name"] for r in directory.list_residents(ward)]
    assert names == ["Đặng Thị Hoa", "Nguyễn Thị Lan", "Trần Văn Bình"]  # Đ sorts with D, not after T
    lan = directory.list_residents(ward, "hoi phu nu")[1]
    assert lan["address"] == "Số 12, ngõ 5 phố Đại La" and lan["groups"] == ["HPN"]


def test_unknown_phone_lookups(ward):
    with pytest.raises(NotFound, match="no resident with phone 0999 999 999"):
        directory.resident_by_phone(ward, "0999999999")
    assert directory.find_resident_by_phone(ward, "not a phone") is None
