"""The review's content corrections (docs/../reviews, section 3), each pinned to the fact it fixes."""
from pathlib import Path

import pytest

from hardware import receipts as render
from kiosk.appliance import config as config_module
from kiosk.dossiers import lifecycle as dossiers
from kiosk.dossiers import procedures, receipts

DATA = Path(__file__).resolve().parents[3] / "kiosk" / "data"
CATALOGUE = procedures.default()


def _all_text() -> str:
    return (DATA / "procedures.toml").read_text(encoding="utf-8")


def test_marriage_registration_is_free():  # C1: Luật Hộ tịch 2014, Điều 11
    assert CATALOGUE.get("HT-KH").fee.startswith("Miễn lệ phí")


def test_the_one_stop_is_the_public_service_centre_of_the_ward():  # C2: NĐ 118/2025
    text = _all_text() + (DATA / "ui_strings.toml").read_text(encoding="utf-8")
    assert "Bộ phận một cửa" not in text
    assert "Trung tâm Phục vụ hành chính công phường" in CATALOGUE.get("HT-KS").where


@pytest.mark.parametrize("number", ["123456789", "12345678901", "0012345612345"])
def test_only_the_12_digit_personal_number_is_accepted(number):  # C3: CMND invalid since 2025
    with pytest.raises(dossiers.InvalidCitizenId, match="12 digits"):
        dossiers.validate_citizen_id(number)
    assert dossiers.validate_citizen_id("001 234 561 234") == "001234561234"


def test_no_guide_has_a_volunteer_log_in_with_the_elders_vneid():  # C4
    steps = " ".join(CATALOGUE.get("BTXH-HUUTRI").steps_online)
    assert "của người cao tuổi" not in steps and "tự đăng nhập" in steps and "ủy quyền" in steps
    assert "tài khoản VNeID mức độ 2 của người cao tuổi" not in _all_text()


def test_districts_are_gone_from_the_content():  # C6
    assert "huyện" not in _all_text()


def test_the_household_book_is_named_as_what_it_became():  # C7
    assert "nhập hộ khẩu (thường trú)" not in _all_text()
    assert "trước đây gọi là nhập hộ khẩu" in CATALOGUE.get("LT-KS-TT-BHYT").audience


def test_national_codes_are_printed_never_the_internal_one(store, tmp_path):  # C9
    assert CATALOGUE.get("HT-KS").national_code == "1.001193"
    assert "national_code" in CATALOGUE.get("HT-KS").unreviewed  # moderate confidence: still to check
    config = config_module.Config()
    ks = dossiers.create(store, procedure_code="HT-KS", full_name="A", phone="0912345678", prefix="TDP1")
    tt = dossiers.create(store, procedure_code="CT-TAMTRU", full_name="B", phone="0912345678", prefix="TDP1")
    assert receipts.receipt_data(ks, config).national_code == "1.001193"
    assert receipts.receipt_data(tt, config).national_code == ""  # unknown: nothing printed, not "CT-TAMTRU"
    document = render.receipt_document(receipts.receipt_data(tt, config))
    assert not any("CT-TAMTRU" in (b.text + b.label) for b in document.blocks)


def test_every_guide_links_to_its_own_portal_page_and_marks_it_unreviewed():  # C10
    for procedure in CATALOGUE:
        assert "dvc-trang-chu" not in procedure.portal_url, procedure.code
        assert "portal_url" in procedure.unreviewed, procedure.code
    home = {"procedure": [{**CATALOGUE.get("HT-KS").as_dict(),
                           "portal_url": "https://dichvucong.gov.vn/p/home/dvc-trang-chu.html"}]}
    with pytest.raises(procedures.CatalogueError, match="not the portal's home page"):
        procedures.parse(home, "test")


def test_marital_status_certificate_says_it_lasts_six_months():  # C8
    assert "6 tháng" in CATALOGUE.get("HT-XNTTHN").audience


def test_elder_allowance_states_the_amount():  # C13
    assert "500.000 đồng/tháng" in CATALOGUE.get("BTXH-HUUTRI").fee


def test_vneid_guide_uses_an_en_dash():  # C17
    assert "– hướng dẫn chuẩn bị" in CATALOGUE.get("CA-VNEID-2").name
