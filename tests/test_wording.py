"""Fixed texts use one tone-placement style: the traditional one of state documents (hóa, hòa,
xóa, khóa, thủy, khỏe), never the new one (hoá, hoà, xoá, khoá, thuỷ, khoẻ)."""
import re
from pathlib import Path

import pytest

from tests.conftest import ROOT

# An open syllable ending in oa/oe/uy (not after "q", where u is part of the consonant) whose tone
# sits on the last vowel: the new placement. Closed syllables (hoàng, khoảng) are the same in both.
NEW_STYLE = re.compile(r"(?<!\w)(\w*?)(o[àáảãạ]|o[èéẻẽẹ]|u[ỳýỷỹỵ])(?!\w)", re.IGNORECASE)
# Names keep both spellings on purpose (the resident picks the one on their ID card).
DATA_FILES = sorted(p for p in (ROOT / "kiosk" / "data").glob("*.toml") if p.name != "name_syllables.toml")


def new_style_words(text: str) -> list[str]:
    return [m.group(0) for m in NEW_STYLE.finditer(text)
            if not (m.group(2)[0].lower() == "u" and m.group(1).lower().endswith("q"))]


def test_the_check_tells_the_styles_apart():
    assert new_style_words("nhà văn hoá, xoá, khoẻ, thuỷ, Hoà") == ["hoá", "xoá", "khoẻ", "thuỷ", "Hoà"]
    assert new_style_words("nhà văn hóa, xóa, khỏe, thủy, Hòa, hoàng, khoảng, quý, ngoài, hủy") == []


@pytest.mark.parametrize("path", DATA_FILES, ids=lambda p: p.name)
def test_data_files_use_the_traditional_tone_placement(path: Path):
    assert new_style_words(path.read_text("utf-8")) == []
