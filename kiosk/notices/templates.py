"""Notice templates: {ho_ten}, {dia_chi} and {ngay} filled per recipient, on the kiosk only.

The fields come from the directory (the resident's full name, their household's address) and the
occurrence's local date (dd/mm/yyyy). They are filled here and never on the hub, which never holds
names or addresses. A field's value can change the SMS encoding (a name with diacritics makes
the message UCS-2) and so the part count: the preview counts every recipient's own text.
"""
from __future__ import annotations

import re
import string
from datetime import date

from kiosk.errors import InvalidInput

FIELDS = {"ho_ten": "full_name", "dia_chi": "address", "ngay": None}
# For previews when no one is in the group yet: a long name with diacritics, the costly case.
SAMPLE = {"full_name": "Nguyễn Thị Phương Thảo", "address": "Số 12 ngõ 34 phố Hạ Đình"}
_FORMATTER = string.Formatter()


class TemplateError(InvalidInput):
    """A notice text with an unknown or malformed {field}."""


def fields(text: str) -> list[str]:
    """The {fields} used in `text`; TemplateError for an unknown field or a stray brace."""
    try:
        names = [name for _, name, spec, conv in _FORMATTER.parse(text) if name is not None]
    except ValueError as exc:
        raise TemplateError(f"notice text has a stray brace ({exc}); write fields as {{ho_ten}}, {{dia_chi}}, {{ngay}}",
                            "Nội dung có dấu { } sai") from None
    unknown = [n for n in names if n not in FIELDS]
    if unknown:
        raise TemplateError(f"unknown field {{{unknown[0]}}}; known: {{ho_ten}} {{dia_chi}} {{ngay}}",
                            f"Không có trường {{{unknown[0]}}}")
    return names


def check(text: str) -> None:
    fields(text)


def fill(text: str, person: dict, day: date) -> str:
    """`text` with the fields filled for `person` (a directory.audience row) on `day`."""
    if "{" not in text and "}" not in text:
        return text
    values = {"ho_ten": person.get("full_name") or "", "dia_chi": person.get("address") or "",
              "ngay": day.strftime("%d/%m/%Y")}
    filled = text.format_map(values)
    return re.sub(r"\s+", " ", filled).strip()
