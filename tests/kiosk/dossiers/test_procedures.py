"""The procedure catalogue: bundled data passes its schema, officials get precise errors, search works."""
import tomllib

import pytest

from kiosk.dossiers import procedures
from kiosk.dossiers.procedures import DEFAULT_PATH
from kiosk.appliance.config import toml_value

REQUIRED_TOPICS = {  # the list of procedures, found by words in their names
    "khai sinh, đăng ký thường trú, cấp thẻ bảo hiểm y tế": "birth + residence + health insurance",
    "khai tử": "death registration", "kết hôn": "marriage", "tình trạng hôn nhân": "marital status",
    "tạm trú": "temporary residence", "đăng ký thường trú": "permanent residence", "tạm vắng": "temporary absence",
    "định danh điện tử mức độ 2": "VNeID level 2", "chứng thực bản sao": "copy certification",
    "hưu trí xã hội": "social pension", "người khuyết tật": "disability allowance",
    "đơn thân": "single parents", "trích đo": "land measurement", "hộ kinh doanh": "household business",
    "xác nhận thông tin về cư trú": "residence confirmation",
}


def test_bundled_catalogue_has_every_required_procedure_marked_for_ward_review():
    catalogue = procedures.load()
    assert len(catalogue) >= 15
    names = [p.name.lower() for p in catalogue]
    for words, topic in REQUIRED_TOPICS.items():
        assert any(words in name for name in names), topic
    for p in catalogue:
        assert p.reviewed_by_ward is False, p.code
        assert p.portal_url.startswith("https://dichvucong.gov.vn"), p.code
        assert p.documents and p.steps_online and p.steps_in_person and p.legal_basis, p.code


def _write(tmp_path, mutate):
    raw = tomllib.loads(DEFAULT_PATH.read_text(encoding="utf-8"))
    mutate(raw["procedure"])
    lines = []
    for entry in raw["procedure"]:
        lines.append("[[procedure]]")
        for key, value in entry.items():
            lines.append(f"{key} = {toml_value(value)}")
    path = tmp_path / "edited.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def test_validate_names_the_procedure_and_the_field(tmp_path, tdp):
    def break_it(entries):
        entries[2]["fee"] = 20000
        del entries[4]["documents"]
        entries[5]["portal_url"] = "http://example.com"
        entries[6]["proccessing_days"] = entries[6].pop("processing_days")
    path = _write(tmp_path, break_it)
    r = tdp("procedures", "validate", path)
    assert r.code == 1
    assert "procedure #3 (HT-KT): field 'fee' must be non-empty text" in r.out
    assert "procedure #7 (CT-THUONGTRU): missing field 'processing_days'" in r.out
    assert len(r.out.splitlines()) == 5
    with pytest.raises(procedures.CatalogueError) as caught:
        procedures.load(path)
    problems = "\n".join(caught.value.problems)
    assert "procedure #5 (HT-XNTTHN): missing field 'documents'" in problems
    assert "procedure #6 (CT-TAMTRU): field 'portal_url' must be an https link" in problems
    assert "unknown field 'proccessing_days' (did you mean processing_days?)" in problems


def test_an_edited_catalogue_is_used_without_code_changes(tmp_path, tdp):
    def add(entries):
        entries.append({**entries[0], "code": "TEST-MOI", "name": "Thủ tục thử nghiệm của phường"})
    path = _write(tmp_path, add)
    r = tdp("procedures", "validate", path, "--json")
    assert r.code == 0 and r.data["procedures"] == len(procedures.load()) + 1


def test_duplicate_codes_and_bad_toml_are_reported(tmp_path, tdp):
    path = _write(tmp_path, lambda entries: entries.append(dict(entries[1])))
    r = tdp("procedures", "validate", path, "--json")
    assert r.code == 1 and r.data["problems"] == ["procedure #17 (HT-KS): code HT-KS is also used by procedure #2"]
    broken = tmp_path / "broken.toml"
    broken.write_text("[[procedure]]\ncode = \n", encoding="utf-8")
    r = tdp("procedures", "validate", broken)
    assert r.code == 1 and "not valid TOML" in r.out and "Traceback" not in r.out + r.err


def test_unknown_code_suggests_close_ones(tdp):
    r = tdp("procedures", "show", "HT-KZ")
    assert r.code == 1 and "did you mean" in r.err and "HT-KS" in r.err
    r = tdp("procedures", "show", "tamtru")
    assert r.code == 1 and "CT-TAMTRU" in r.err


def test_show_and_list(tdp):
    r = tdp("procedures", "show", "ct-tamtru", "--json")
    assert r.code == 0 and r.data["code"] == "CT-TAMTRU" and r.data["processing_days"] == 3
    r = tdp("procedures", "show", "HT-KS")
    assert "Đăng ký khai sinh" in r.out and "chưa được phường kiểm tra" in r.out
    r = tdp("procedures", "list", "--json")
    assert len(r.data) >= 15


@pytest.mark.parametrize("query, expected", [("khai sinh", "HT-KS"), ("TAM TRU", "CT-TAMTRU"),
                                             ("vneid", "CA-VNEID-2"), ("trợ cấp khuyết tật", "BTXH-KHUYETTAT"),
                                             ("ket hon", "HT-KH"), ("khai xinh", "HT-KS")])
def test_search_ignores_case_and_diacritics_and_forgives_typos(query, expected):
    found = [p.code for p in procedures.default().search(query)]
    assert expected in found[:3], found
