"""Dossier tracking codes: short, read aloud and typed by elderly residents, with a check character.

Format: PREFIX-YYMM-SSSC, e.g. TDP1-2611-7Q4K
  PREFIX  the residential group ("Tổ dân phố số 1" → TDP1); a label, not part of the check.
  YYMM    year and month the dossier was received (digits), so staff can date a code at a glance.
  SSS     three random characters from ALPHABET (32 768 per month; random, so codes cannot be
          walked to read other people's dossiers by SMS).
  C       the check character.

ALPHABET has 32 symbols and leaves out O/0 and I/1, which people confuse. The month digits may
contain 0 and 1; for the check they take the values of A and B (a date position only ever holds
digits and a serial position only alphabet symbols, so the value map is injective per position,
and digits 2-9 have the same value wherever they stand).

The check is the Damm algorithm over the field GF(32) (polynomial x^5 + x^2 + 1): the running
interim is i' = 2·i XOR v for each value v, and C is chosen so that the interim over YYMM SSS C
ends at 0. The operation a·x + y with a ∉ {0, 1} is a totally anti-symmetric quasigroup, which
is exactly what guarantees that every single substituted character and every swap of two
adjacent characters (the check character included) changes the result.
"""
from __future__ import annotations

import re
import secrets
from datetime import date
from itertools import product

from kiosk.errors import InvalidInput
from kiosk.text import fold

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
_DIGIT_VALUE = {**{d: _VALUE[d] for d in "23456789"}, "0": _VALUE["A"], "1": _VALUE["B"]}
_POLY = 0b100101  # x^5 + x^2 + 1, irreducible over GF(2)
SERIAL_LENGTH = 3
DEFAULT_PREFIX = "TDP"

# What people type for what they mean: letters in the month part, digits in the serial part.
# Only letters outside ALPHABET: a D, L or Q in the month part may be a serial character swapped
# across the dash, and reading it as a digit would let that swap pass the check.
_DATE_LOOKALIKES = str.maketrans({"O": "0", "I": "1"})
_SHAPE = re.compile(r"^(?:([A-Z0-9]{1,8})-)?(\d{4})-?([A-Z0-9]{4})$")


class InvalidTrackingCode(InvalidInput):
    """The text is not a well-formed tracking code or its check character does not match."""


def _times2(value: int) -> int:
    value <<= 1
    return value ^ _POLY if value & 0b100000 else value


def _values(body: str) -> list[int]:
    """Check values of YYMM+SSS[C]: digit map for the first four, alphabet for the rest."""
    return [_DIGIT_VALUE[ch] for ch in body[:4]] + [_VALUE[ch] for ch in body[4:]]


def _interim(values: list[int]) -> int:
    interim = 0
    for value in values:
        interim = _times2(interim) ^ value
    return interim


def check_char(body: str) -> str:
    """The check character for YYMM + serial (7 characters, already upper-case)."""
    return ALPHABET[_times2(_interim(_values(body)))]


def _checks(body_with_check: str) -> bool:
    return _interim(_values(body_with_check)) == 0


def prefix_for(residential_group: str) -> str:
    """'Tổ dân phố số 1' → 'TDP1'; no number → 'TDP'. Up to 3 digits are kept."""
    digits = re.search(r"\d+", residential_group or "")
    return DEFAULT_PREFIX + (digits.group(0)[-3:] if digits else "")


def new_code(prefix: str, received: date, randbelow=secrets.randbelow) -> str:
    """A fresh code for a dossier received on `received` (local date)."""
    yymm = f"{received.year % 100:02d}{received.month:02d}"
    serial = "".join(ALPHABET[randbelow(len(ALPHABET))] for _ in range(SERIAL_LENGTH))
    body = yymm + serial
    return f"{prefix}-{yymm}-{serial}{check_char(body)}"


def _split(raw: str, prefix: str) -> tuple[str, str, str]:
    """(prefix, YYMM, SSSC) from what a person typed: any case, spaces or dashes, prefix optional."""
    text = re.sub(r"[\s._/]+", "-", fold_keep(raw)).strip("-")
    text = re.sub(r"-+", "-", text)
    if text.startswith(prefix.upper()) and not text.startswith(prefix.upper() + "-"):
        text = prefix.upper() + "-" + text[len(prefix):]
    match = _SHAPE.match(text)
    if match is None:
        compact = text.replace("-", "")
        if compact.startswith(prefix.upper()):
            compact = compact[len(prefix):]
        if len(compact) != 8:
            raise InvalidTrackingCode(
                f"'{raw}' is not a tracking code: expected something like {prefix}-2611-7Q4K "
                f"(mã hồ sơ có dạng {prefix}-2611-7Q4K)")
        return prefix.upper(), compact[:4], compact[4:]
    return (match.group(1) or prefix).upper(), match.group(2), match.group(3)


def fold_keep(raw: str) -> str:
    """Upper-case ASCII with separators kept (fold() would drop the dashes)."""
    return "-".join(fold(part).upper() for part in re.split(r"[-\s]+", str(raw or "")) if part)


def parse(raw: str, prefix: str = DEFAULT_PREFIX) -> str:
    """The canonical code (PREFIX-YYMM-SSSC) or InvalidTrackingCode saying what is wrong.

    Accepts lower case, spaces instead of dashes, a missing prefix, and O/I typed in the month.
    """
    code_prefix, yymm, rest = _split(raw, prefix)
    yymm = yymm.translate(_DATE_LOOKALIKES)
    if not yymm.isdigit():
        raise InvalidTrackingCode(f"'{raw}': the middle part must be 4 digits (year and month)")
    bad = [ch for ch in rest if ch not in _VALUE]
    if bad:
        raise InvalidTrackingCode(
            f"'{raw}': '{bad[0]}' never appears in the last part of a code (no O, 0, I or 1 there)")
    if not _checks(yymm + rest):
        raise InvalidTrackingCode(f"'{raw}': check character does not match; a character is mistyped")
    return f"{code_prefix}-{yymm}-{rest}"


def is_valid(raw: str, prefix: str = DEFAULT_PREFIX) -> bool:
    try:
        parse(raw, prefix)
    except InvalidTrackingCode:
        return False
    return True


def corrections(raw: str, prefix: str = DEFAULT_PREFIX) -> list[str]:
    """Valid codes one typo away from `raw` (one character changed, or two neighbours swapped).

    For "did you mean": the caller keeps the ones that exist. Empty if `raw` is not code-shaped.
    """
    try:
        code_prefix, yymm, rest = _split(raw, prefix)
    except InvalidTrackingCode:
        return []
    body = list(yymm.translate(_DATE_LOOKALIKES) + rest)
    found: set[str] = set()
    for i in range(len(body) - 1):
        swapped = body[:i] + [body[i + 1], body[i]] + body[i + 2:]
        found.add("".join(swapped))
    for i, choice in product(range(len(body)), ALPHABET + "01"):
        found.add("".join(body[:i] + [choice] + body[i + 1:]))
    valid = []
    for candidate in sorted(found):
        if candidate[:4].isdigit() and all(ch in _VALUE for ch in candidate[4:]) and _checks(candidate):
            valid.append(f"{code_prefix}-{candidate[:4]}-{candidate[4:]}")
    return valid


def prefix(config) -> str:
    """The tracking prefix of this kiosk (from `config.site.residential_group`): the one way to get it."""
    return prefix_for(config.site.residential_group)
