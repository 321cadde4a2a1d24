"""The national portal's dossier code (mã hồ sơ on dichvucong.gov.vn) and its lookup link.

A code looks like 000.24.35.H42-251203-0001:
    000.24.35.H42   the receiving agency's code: dotted groups of digits ending in a province
                    code (a letter and two digits, e.g. H42 Hà Tĩnh, G13 …)
    251203          the filing date, yymmdd
    0001            the agency's sequence number for that day
A volunteer copies it from the portal's receipt; a typo here would send the resident's children
to the wrong dossier, so a malformed code is refused with the part that is wrong.
"""
from __future__ import annotations

import re
from datetime import date
from urllib.parse import quote

from kiosk.errors import InvalidInput
from kiosk.text import clean

EXAMPLE = "000.24.35.H42-251203-0001"
MAX_LENGTH = 40
_AGENCY = re.compile(r"^(\d{2,3}\.){1,4}[A-Z]\d{2}$")
_SEQUENCE = re.compile(r"^\d{3,6}$")
# The usual shape typed on a keyboard without '.' or '-': 000 24 35 H42 251203 0001.
_COMPACT = re.compile(r"^(\d{3})(\d{2})(\d{2})([A-Z]\d{2})(\d{6})(\d{3,6})$")
# Where the portal shows a dossier by its code. The link is not documented by the portal: an
# installer should check it and may override it in config ([requests] portal_lookup_url).
DEFAULT_LOOKUP_URL = "https://dichvucong.gov.vn/p/home/dvc-tra-cuu-ho-so.html?ma_ho_so={portal_code}"


class InvalidPortalCode(InvalidInput):
    """Not a national portal dossier code; the message says which part is wrong."""


def parse(raw: object, *, today: date | None = None) -> str:
    """The canonical code (upper case, no spaces) or InvalidPortalCode with the reason.

    The usual shape typed without its dots and dashes ("0002435H422512030001") is accepted too.

    `today` (local) bounds the filing date: a code cannot be filed in the future.
    """
    text = re.sub(r"\s+", "", clean(raw)).upper()
    usual = _COMPACT.match(text)
    if usual:
        text = "{}.{}.{}.{}-{}-{}".format(*usual.groups())
    if not text:
        raise InvalidPortalCode(f"the portal dossier code is empty (mã hồ sơ trên Cổng có dạng {EXAMPLE})")
    if len(text) > MAX_LENGTH:
        raise InvalidPortalCode(f"a portal dossier code has at most {MAX_LENGTH} characters, got {len(text)}")
    parts = text.split("-")
    if len(parts) != 3:
        raise InvalidPortalCode(f"'{text}': expected three parts separated by '-', like {EXAMPLE} "
                                f"(mã hồ sơ có dạng {EXAMPLE})")
    agency, filed, sequence = parts
    if not _AGENCY.match(agency):
        raise InvalidPortalCode(f"'{agency}' is not an agency code: dotted digit groups ending in a province "
                                f"code such as H42 (ví dụ 000.24.35.H42)")
    if not (filed.isdigit() and len(filed) == 6):
        raise InvalidPortalCode(f"'{filed}' is not a filing date: six digits yymmdd, e.g. 251203")
    try:
        filed_on = date(2000 + int(filed[:2]), int(filed[2:4]), int(filed[4:]))
    except ValueError:
        raise InvalidPortalCode(f"'{filed}' is not a real date (yymmdd)") from None
    if today is not None and filed_on > today:
        raise InvalidPortalCode(f"'{filed}': the filing date {filed_on:%d/%m/%Y} is in the future")
    if not _SEQUENCE.match(sequence):
        raise InvalidPortalCode(f"'{sequence}' is not a sequence number: 3 to 6 digits, e.g. 0001")
    return text


def is_valid(raw: object) -> bool:
    try:
        parse(raw)
    except InvalidPortalCode:
        return False
    return True


def looks_like(raw: object) -> bool:
    """True when the text has the portal code's shape (dots or three dashed parts), valid or not.

    Lets a lookup box that takes either code tell a mistyped portal code from a kiosk code."""
    text = re.sub(r"\s+", "", clean(raw))
    return "." in text or text.count("-") == 2 and len(text.split("-")[1]) == 6


MIN_COMPACT = 14  # letters and digits of the shortest portal code (00.H42-251203-001)


def compact(raw: object) -> str:
    """Only the letters and digits, upper case: a portal code typed on a keyboard with no '.' or '-'."""
    return re.sub(r"[^0-9A-Za-z]", "", clean(raw)).upper()


def lookup_url(portal_code: str, template: str = DEFAULT_LOOKUP_URL) -> str:
    return template.format(portal_code=quote(portal_code, safe=".-"))
