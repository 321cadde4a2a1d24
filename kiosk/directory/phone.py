"""Vietnamese phone numbers: the one normaliser used everywhere (import, CLI, UI, relay).

Stores E.164 (+84…). Accepts 0xxxxxxxxx, +84…, 84…, 0084… with spaces, dots, dashes and
parentheses; maps the pre-2018 11-digit mobile prefixes to today's 10-digit ones; rejects
landlines and short codes because they cannot receive SMS.
"""
from __future__ import annotations

import re

from kiosk.errors import InvalidInput

# The 2018 conversion of 11-digit mobile numbers (Ministry of Information and Communications,
# completed 2018-11-15): old prefix → new prefix, subscriber digits unchanged.
OLD_TO_NEW_PREFIX = {
    # Viettel
    "0162": "032", "0163": "033", "0164": "034", "0165": "035",
    "0166": "036", "0167": "037", "0168": "038", "0169": "039",
    # MobiFone
    "0120": "070", "0121": "079", "0122": "077", "0126": "076", "0128": "078",
    # VinaPhone
    "0123": "083", "0124": "084", "0125": "085", "0127": "081", "0129": "082",
    # Vietnamobile
    "0186": "056", "0188": "058",
    # Gmobile
    "0199": "059",
}

# Mobile prefixes in service today (10 digits in all, with the leading 0).
MOBILE_PREFIXES = {
    "032", "033", "034", "035", "036", "037", "038", "039", "086", "096", "097", "098",  # Viettel
    "070", "076", "077", "078", "079", "089", "090", "093",                              # MobiFone
    "081", "082", "083", "084", "085", "088", "091", "094",                              # VinaPhone
    "052", "056", "058", "092",                                                          # Vietnamobile
    "059", "099",                                                                        # Gmobile
    "087",                                                                               # iTel
    "055",                                                                               # Reddi
}

_SEPARATORS = re.compile(r"[\s.\-()/\u00a0]+")


class InvalidPhone(InvalidInput):
    """Not a Vietnamese mobile number that can receive SMS; the message says why.

    Every raise gives the reason in English and in plain Vietnamese (for the kiosk screen).
    """


def normalise(raw: object) -> str:
    """Return the number as E.164 (+84xxxxxxxxx) or raise InvalidPhone with a one-line reason."""
    text = "" if raw is None else str(raw).strip()
    if not text:
        raise InvalidPhone("phone number is empty", "Chưa nhập số điện thoại.")
    # Spreadsheets store numbers as floats and drop the leading zero: 912345678.0
    if re.fullmatch(r"\d+\.0", text):
        text = text[:-2]
    compact = _SEPARATORS.sub("", text)
    if not re.fullmatch(r"\+?\d+", compact):
        raise InvalidPhone(f"'{text}' is not a phone number: only digits, spaces, dots, dashes, () and a leading + are allowed",
                          "Số điện thoại chỉ gồm chữ số.")
    national = _to_national(compact)
    if national is None:
        raise InvalidPhone(f"'{text}' is not a Vietnamese number (+84)", "Đây không phải số điện thoại Việt Nam.")
    if national.startswith("0") and not national.startswith(("01800", "01900")) and len(national) < 10:
        raise InvalidPhone(f"'{text}' has {len(national)} digits; a Vietnamese mobile number has 10 (0xxxxxxxxx)",
                          f"Số này mới có {len(national)} chữ số; số di động có 10 chữ số, bắt đầu bằng 0.")
    if len(national) <= 6 or national.startswith(("1800", "1900")):
        raise InvalidPhone(f"'{text}' is a short code or service number; it cannot receive SMS",
                          "Đây là số tổng đài, không nhận được tin nhắn.")
    if not national.startswith("0"):
        raise InvalidPhone(f"'{text}' is not a Vietnamese mobile number (write it as 0xxxxxxxxx or +84xxxxxxxxx)",
                          "Số di động phải có 10 chữ số, bắt đầu bằng 0.")
    if len(national) == 11 and national[:4] in OLD_TO_NEW_PREFIX:
        national = OLD_TO_NEW_PREFIX[national[:4]] + national[4:]
    if national.startswith("02"):
        raise InvalidPhone(f"'{text}' is a landline (area code {national[:3]}); SMS needs a mobile number",
                          "Đây là số máy bàn, không nhận được tin nhắn. Xin nhập số di động.")
    if len(national) != 10:
        raise InvalidPhone(f"'{text}' has {len(national)} digits; a Vietnamese mobile number has 10 (0xxxxxxxxx)",
                          f"Số này có {len(national)} chữ số; số di động phải có 10 chữ số, bắt đầu bằng 0.")
    if national[:3] not in MOBILE_PREFIXES:
        raise InvalidPhone(f"'{text}': prefix {national[:3]} is not a Vietnamese mobile network",
                          f"Đầu số {national[:3]} không phải của mạng di động nào. Xin kiểm tra lại.")
    return "+84" + national[1:]


def _to_national(compact: str) -> str | None:
    """The number with its national 0 prefix, or None when it belongs to another country."""
    if compact.startswith("+"):
        return _national_from_subscriber(compact[3:]) if compact.startswith("+84") else None
    if compact.startswith("0084"):
        return _national_from_subscriber(compact[4:])
    if compact.startswith("84") and len(compact) in (11, 12):
        return _national_from_subscriber(compact[2:])
    if compact.startswith("0"):
        return compact
    # The leading zero lost in a spreadsheet: 9 digits of today's mobiles, 10 of the pre-2018 ones.
    if (len(compact) == 9 and "0" + compact[:2] in MOBILE_PREFIXES) or (
            len(compact) == 10 and "0" + compact[:3] in OLD_TO_NEW_PREFIX):
        return "0" + compact
    return compact


def _national_from_subscriber(digits: str) -> str:
    """The digits after +84 with the trunk 0; people often keep it, as in "+84 (0)912 345 678"."""
    return digits if digits.startswith("0") and len(digits) in (10, 11) else "0" + digits


def is_valid(raw: object) -> bool:
    try:
        normalise(raw)
    except InvalidPhone:
        return False
    return True


def national(e164: str) -> str:
    """+84912345678 → 0912 345 678, the way residents write it."""
    digits = "0" + e164[3:] if e164.startswith("+84") else e164
    return f"{digits[:4]} {digits[4:7]} {digits[7:]}" if len(digits) == 10 else digits


def masked(e164: str) -> str:
    """+84912345678 → 0912 *** 678: enough for a resident to recognise, not to copy."""
    digits = "0" + e164[3:] if e164.startswith("+84") else e164
    return f"{digits[:4]} *** {digits[-3:]}" if len(digits) >= 7 else "***"
