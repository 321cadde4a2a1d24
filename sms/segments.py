"""Split a message into SMS parts in the cheapest encoding, before anything is sent.

GSM 7-bit when every character is in the GSM 03.38 default alphabet or extension table
(an extension character costs 2 septets), else UCS-2 (UTF-16 code units; an emoji costs 2).
One part holds 160 septets / 70 units; a concatenated part loses 6 octets to the UDH
(7 with a 16-bit reference) and holds 153 / 67 (152 / 66).

Parts are filled greedily, one whole character at a time, so an escape sequence or a surrogate
pair is never split; for items that cannot be divided and must stay in order, greedy filling
uses the fewest parts possible.
"""
from __future__ import annotations

from dataclasses import dataclass

from .errors import SmsError
from .gsm7 import SEPTET_COST
from .vietnamese import nfc, unaccent

GSM7 = "gsm7"
UCS2 = "ucs2"

# Capacity per part: (single part, concatenated with 8-bit ref, concatenated with 16-bit ref).
CAPACITY = {GSM7: (160, 153, 152), UCS2: (70, 67, 66)}
UNIT_NAME = {GSM7: "septets", UCS2: "UTF-16 units"}

# Typography that word processors put into pasted notices; with --unaccented the sender has
# asked for GSM 7-bit, so these become their plain look-alikes instead of forcing UCS-2.
_PLAIN_TYPOGRAPHY = str.maketrans({
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u2032": "'",
    "\u2013": "-", "\u2014": "-", "\u2212": "-", "\u2022": "-",
    "\u2026": "...", "\u00a0": " ", "\t": " ",
})


class SegmentError(SmsError, ValueError):
    """The text cannot be sent as SMS (empty, or not valid Unicode); the message says why."""


@dataclass(frozen=True)
class Segmentation:
    """How a text will travel: its encoding and the text of each part, in order.

    `parts` joined equals `text`, the exact text sent (NFC, transliterated if `unaccented`).
    Units are septets for GSM 7-bit and UTF-16 code units for UCS-2.
    """
    encoding: str
    parts: tuple[str, ...]
    text: str
    part_units: tuple[int, ...]
    capacity: int
    unaccented: bool = False
    ref16: bool = False

    @property
    def count(self) -> int:
        """Number of SMS parts (each billed and sent separately)."""
        return len(self.parts)

    @property
    def chars(self) -> int:
        """Characters (Unicode code points) in the text sent."""
        return len(self.text)

    @property
    def units(self) -> int:
        """Septets (GSM 7-bit) or UTF-16 code units (UCS-2) the whole text costs."""
        return sum(self.part_units)

    @property
    def unit_name(self) -> str:
        return UNIT_NAME[self.encoding]

    @property
    def remaining(self) -> int:
        """Units still free in the last part before another part would be needed."""
        return self.capacity - self.part_units[-1]

    @property
    def concatenated(self) -> bool:
        return self.count > 1

    def as_dict(self) -> dict:
        """A JSON-ready summary (what `tdp sms segments --json` prints)."""
        return {
            "encoding": self.encoding,
            "count": self.count,
            "parts": list(self.parts),
            "part_units": list(self.part_units),
            "unit": self.unit_name,
            "capacity_per_part": self.capacity,
            "chars": self.chars,
            "units": self.units,
            "remaining_in_last_part": self.remaining,
            "unaccented": self.unaccented,
            "text": self.text,
        }


def prepare(text: str, *, unaccented: bool = False) -> str:
    """The text that would actually be sent: NFC, and transliterated to plain letters if asked.

    Raises SegmentError for non-string, empty (or blank) or unencodable (lone surrogate) text.
    """
    if not isinstance(text, str):
        raise SegmentError(f"message text must be a string, not {type(text).__name__}")
    for ch in text:
        if 0xD800 <= ord(ch) <= 0xDFFF:
            raise SegmentError(f"message text contains an unpaired UTF-16 surrogate U+{ord(ch):04X}")
    prepared = nfc(text)
    if unaccented:
        prepared = unaccent(prepared).translate(_PLAIN_TYPOGRAPHY)
    if not prepared.strip():
        raise SegmentError("message text is empty: write something to send")
    return prepared


def choose_encoding(text: str) -> str:
    """GSM7 when every character has a GSM 7-bit code, else UCS2."""
    return GSM7 if all(ch in SEPTET_COST for ch in text) else UCS2


def unit_costs(text: str, encoding: str) -> list[int]:
    """Cost of each character in units of `encoding` (septets or UTF-16 code units)."""
    if encoding == GSM7:
        return [SEPTET_COST[ch] for ch in text]
    return [2 if ord(ch) > 0xFFFF else 1 for ch in text]


def segment(text: str, *, unaccented: bool = False, ref16: bool = False) -> Segmentation:
    """Split `text` into the fewest SMS parts of the cheapest encoding.

    `unaccented=True` transliterates Vietnamese (and smart quotes, dashes…) to GSM 7-bit first;
    whatever is still outside GSM 7-bit (an emoji, say) makes the message UCS-2.
    `ref16=True` sizes parts for a 16-bit concatenation reference (one unit less per part).
    """
    prepared = prepare(text, unaccented=unaccented)
    encoding = choose_encoding(prepared)
    costs = unit_costs(prepared, encoding)
    single, concat8, concat16 = CAPACITY[encoding]
    total = sum(costs)
    if total <= single:
        return Segmentation(encoding, (prepared,), prepared, (total,), single, unaccented, ref16)
    capacity = concat16 if ref16 else concat8
    parts: list[str] = []
    units: list[int] = []
    start = used = 0
    for index, cost in enumerate(costs):
        if used + cost > capacity:
            parts.append(prepared[start:index])
            units.append(used)
            start, used = index, 0
        used += cost
    parts.append(prepared[start:])
    units.append(used)
    return Segmentation(encoding, tuple(parts), prepared, tuple(units), capacity, unaccented, ref16)
