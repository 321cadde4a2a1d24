"""GSM 03.38 (3GPP TS 23.038) default alphabet, its extension table, and septet packing.

A GSM 7-bit character costs one septet; an extension-table character costs two (ESC + code).
Packing follows TS 23.038 §6.1.2.1: septets are laid end to end, least significant bit first,
optionally after `fill_bits` zero bits so a text that follows a User Data Header starts on a
septet boundary.
"""
from __future__ import annotations

ESC = 0x1B

# Index = septet value. Position 0x1B is the escape to the extension table, not a character.
DEFAULT_ALPHABET = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
assert len(DEFAULT_ALPHABET) == 128

EXTENSION = {
    0x0A: "\f", 0x14: "^", 0x28: "{", 0x29: "}", 0x2F: "\\",
    0x3C: "[", 0x3D: "~", 0x3E: "]", 0x40: "|", 0x65: "€",
}

_BASIC_CODE = {ch: code for code, ch in enumerate(DEFAULT_ALPHABET) if code != ESC}
_EXTENSION_CODE = {ch: code for code, ch in EXTENSION.items()}

# Septets each character costs; characters missing here cannot be sent as GSM 7-bit.
SEPTET_COST: dict[str, int] = {**{ch: 1 for ch in _BASIC_CODE}, **{ch: 2 for ch in _EXTENSION_CODE}}


def is_gsm7(text: str) -> bool:
    """True when every character of `text` is in the default alphabet or the extension table."""
    return all(ch in SEPTET_COST for ch in text)


def septet_length(text: str) -> int:
    """Septets `text` needs in GSM 7-bit (extension characters count 2). KeyError if not GSM-7."""
    return sum(SEPTET_COST[ch] for ch in text)


def encode_septets(text: str) -> list[int]:
    """Map text to septet values (0–127), escape sequences included.

    Raises ValueError naming the first character that has no GSM 7-bit code.
    """
    septets: list[int] = []
    for ch in text:
        code = _BASIC_CODE.get(ch)
        if code is not None:
            septets.append(code)
            continue
        code = _EXTENSION_CODE.get(ch)
        if code is None:
            raise ValueError(f"character {ch!r} (U+{ord(ch):04X}) is not in the GSM 7-bit alphabet")
        septets.append(ESC)
        septets.append(code)
    return septets


def decode_septets(septets: list[int] | bytes) -> str:
    """Map septet values back to text.

    An escape followed by a code the extension table does not define shows the default-alphabet
    character of that code, as TS 23.038 asks of receivers; a trailing lone escape is dropped.
    """
    out: list[str] = []
    escaped = False
    for value in septets:
        if escaped:
            if value == ESC:  # ESC ESC announces a national table we do not have
                out.append(" ")
            else:
                out.append(EXTENSION.get(value) or DEFAULT_ALPHABET[value])
            escaped = False
        elif value == ESC:
            escaped = True
        else:
            out.append(DEFAULT_ALPHABET[value])
    return "".join(out)


def pack(septets: list[int], fill_bits: int = 0) -> bytes:
    """Pack septets into octets, LSB first, after `fill_bits` (0–6) leading zero bits."""
    value = 0
    shift = fill_bits
    for septet in septets:
        value |= septet << shift
        shift += 7
    return value.to_bytes((shift + 7) // 8, "little")


def unpack(data: bytes, count: int, fill_bits: int = 0) -> list[int]:
    """Unpack `count` septets from `data`, skipping `fill_bits` leading bits.

    Raises ValueError when `data` is too short to hold them.
    """
    needed = (fill_bits + 7 * count + 7) // 8
    if len(data) < needed:
        raise ValueError(f"user data holds {len(data)} octets but {count} septets need {needed}")
    value = int.from_bytes(data[:needed], "little") >> fill_bits
    return [(value >> (7 * i)) & 0x7F for i in range(count)]


def fill_bits_after(header_octets: int) -> int:
    """Zero bits that follow a `header_octets`-long UDH (UDHL included) to reach a septet boundary."""
    return (7 - (header_octets * 8) % 7) % 7


def header_septets(header_octets: int) -> int:
    """Septets a UDH of `header_octets` octets (UDHL included) occupies, fill bits counted."""
    return (header_octets * 8 + 6) // 7
