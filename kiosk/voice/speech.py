"""Prepare Vietnamese screen text for a speech engine: what is written → what a reader would say.

espeak-ng's `vi` voice reads Vietnamese syllables well but stumbles on what a screen abbreviates:
"UBND", "15.000đ", "08/12/2026", "7h30", "TDP1-2611-7Q4K", "0912 345 678". `normalise()` turns
those into words, following Vietnamese reading rules (linh, mươi/mười, mốt, tư, lăm, nghìn,
triệu, tỷ). Pure: no I/O, never raises, always returns NFC text, drops emoji and trims very long
text at a sentence end.
"""
from __future__ import annotations

import logging
import re
import unicodedata

log = logging.getLogger(__name__)

MAX_CHARS = 1000  # about a minute and a half at the kiosk's slow rate; longer text is trimmed
LONG_DIGITS = 10  # digit runs this long (IDs, account numbers) are read digit by digit

DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")

# How a Vietnamese reader names Latin letters when spelling a code aloud.
LETTERS = {
    "A": "a", "B": "bê", "C": "xê", "D": "dê", "Đ": "đê", "E": "e", "F": "ép", "G": "gờ", "H": "hát",
    "I": "i", "J": "gi", "K": "ca", "L": "lờ", "M": "em", "N": "en", "O": "o", "P": "pê", "Q": "quy",
    "R": "rờ", "S": "ét", "T": "tê", "U": "u", "V": "vê", "W": "vê kép", "X": "ích", "Y": "i dài",
    "Z": "dét",
}

# Abbreviations on kiosk screens, notices and procedures (matched as whole words, case-sensitive
# except VNeID, which people write in several ways).
ABBREVIATIONS = {
    "UBND": "Ủy ban nhân dân",
    "HĐND": "Hội đồng nhân dân",
    "TDP": "tổ dân phố",
    "CCCD": "căn cước công dân",
    "CMND": "chứng minh nhân dân",
    "NĐ-CP": "nghị định của Chính phủ",
    "TNV": "tình nguyện viên",
    "SĐT": "số điện thoại",
    "STT": "số thứ tự",
    "TP.": "thành phố",
    "QR": "kiu a",
    "BHYT": "bảo hiểm y tế",
    "BHXH": "bảo hiểm xã hội",
}
VNEID_SPOKEN = "vê en e ai đi"

_VOWELS = set("AEIOUYĂÂÊÔƠƯ")
_EMOJI_CATEGORIES = {"So", "Sk", "Cs", "Co", "Cn"}
_ZERO_WIDTH = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufe0e", "\ufe0f", "\u20e3"}
_SYMBOLS = {"%": " phần trăm ", "&": " và ", "+": " cộng ", "=": " bằng ", "#": " số ", "@": " a còng ",
            "°": " độ ", "₫": " đồng ", "…": ". ", "•": ", ", "·": ", ", "–": ", ", "—": ", "}

_TRACKING = re.compile(r"(?<![\w-])(?:([A-Z][A-Z0-9]{0,7})-)?(\d{4})-([A-Z0-9]{4})(?![\w-])")
_CODE_SPACED = re.compile(r"(?<![\w-])(\d{4}) (?=[A-Z0-9]{0,3}[A-Z])([A-Z0-9]{4})(?![\w-])")  # "2611 7Q4K"
_PHONE = re.compile(r"(?<![\w+])(\+84|0)((?:[ .\-]?\d){9,10})(?![\w])")
_DATE = re.compile(r"(?<![\w/])(ngày\s+)?(\d{1,2})[/\-.](\d{1,2})[/\-.](\d{4})(?![\w/])")
_MONTH_YEAR = re.compile(r"(?<![\w/.])(tháng\s+)?(\d{1,2})/(\d{4})(?![\w/])")
_TIME = re.compile(r"(?<![\w:])(\d{1,2})(?:[hg](\d{2})?(?:['’]|p\b|ph\b|phút\b)?|:(\d{2}))(?![\w:])")
_AMOUNT = re.compile(r"(?<![\w.,])(\d{1,3}(?:\.\d{3})+|\d+(?:,\d+)?)\s?(nghìn|ngàn|triệu|tỷ|tỉ|[kK]|tr)?\s?"
                     r"(đồng|đ|VNĐ|VND|vnđ|₫)(?!\w)")
_THOUSANDS = re.compile(r"(?<![\w.,])\d{1,3}(?:\.\d{3})+(?![\w]|[.,]\d)")
_DECIMAL = re.compile(r"(?<![\w.,])(\d+),(\d+)(?![\w]|[.,]\d)")
_INTEGER = re.compile(r"\d+")
_MIXED = re.compile(r"(?<![\w])(?=[A-ZĐ]*\d)(?=\d*[A-ZĐ])[A-ZĐ0-9]{2,12}(?![\w])")
_LETTER_WORD = re.compile(r"(?<![\w])[^\W\d_]{2,}(?![\w])")
_LEGAL_NUMBER = re.compile(r"(?<![\w/])(\d{1,4})/(\d{4})/(?=[A-ZĐ])")
_VNEID = re.compile(r"(?<![\w])vneid(?![\w])", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?;:\n](?=\s|$)")
_SPACE = re.compile(r"[ \t\u00a0]+")


def normalise(text: object, max_chars: int = MAX_CHARS) -> str:
    """Spoken form of `text` (NFC). Never raises: on an unexpected failure the cleaned text is returned."""
    cleaned = ""
    try:
        cleaned = _clean(text, max_chars)
        return spoken(cleaned)
    except Exception:  # speech is a help, never a reason for a screen to fail
        log.exception("speech normaliser failed; speaking the text as written")
        return unicodedata.normalize("NFC", cleaned)


def clean(text: object, max_chars: int = MAX_CHARS) -> str:
    """Only the cleaning (NFC, no emoji, trimmed, spaces collapsed), for text in other languages."""
    try:
        return _SPACE.sub(" ", _clean(text, max_chars).replace("\n", ". ")).strip()
    except Exception:
        log.exception("speech cleaning failed")
        return ""


def spoken(text: str) -> str:
    """The rules proper, on already cleaned text (raises on a bug; `normalise` is the safe entry)."""
    for rule in (_tracking_codes, _phones, _dates, _times, _amounts, _abbreviations, _mixed_codes,
                 _numbers, _capitals, _symbols):
        text = rule(text)
    text = re.sub(r"\s*\n\s*", ". ", text)
    text = re.sub(r"\s+([,.;:!?])", r"\1", _SPACE.sub(" ", text))
    text = re.sub(r"[,;:] ?(?=[.!?])", "", text)  # "(miễn phí)." → "miễn phí."
    text = re.sub(r"([,.;:!?])(?:[ ]?[,.;:!?])+", r"\1", text)
    return unicodedata.normalize("NFC", text.strip(" ,;"))


# --- cleaning -----------------------------------------------------------------------------------

def _clean(text: object, max_chars: int) -> str:
    """NFC, emoji and control characters dropped, trimmed to `max_chars` at a sentence end."""
    if text is None:
        return ""
    if not isinstance(text, str):
        try:
            text = str(text)
        except Exception:
            return ""
    text = unicodedata.normalize("NFC", text.encode("utf-8", "replace").decode("utf-8"))
    kept = []
    for ch in text:
        if ch in "\n\t":
            kept.append(ch)
            continue
        if ch in _ZERO_WIDTH or ch in "\r\x0b\x0c":
            kept.append(" " if ch in "\r\x0b\x0c" else "")
            continue
        if ch.isdigit() and ch not in "0123456789":
            kept.append(str(unicodedata.digit(ch, "")))  # other scripts' digits and superscripts
            continue
        category = unicodedata.category(ch)
        if category in _EMOJI_CATEGORIES and ch not in _SYMBOLS or category in ("Cc", "Cf"):
            continue
        kept.append(ch)
    text = unicodedata.normalize("NFC", "".join(kept)).strip()
    return _trim(text, max_chars)


def _trim(text: str, max_chars: int) -> str:
    """Cut at the last sentence end (else the last space) before `max_chars`."""
    if len(text) <= max_chars:
        return text
    head = text[:max_chars]
    ends = [m.end() for m in _SENTENCE_END.finditer(head)]
    if ends and ends[-1] > max_chars // 2:
        return head[:ends[-1]].strip()
    space = head.rfind(" ")
    return (head[:space] if space > max_chars // 2 else head).strip()


# --- numbers ------------------------------------------------------------------------------------

def _under_thousand(n: int, full: bool) -> str:
    """0 < n < 1000; `full` when a larger group precedes it (so "không trăm", "linh" are said)."""
    hundreds, tens, units = n // 100, n // 10 % 10, n % 10
    words = []
    if hundreds or full:
        words += [DIGITS[hundreds], "trăm"]
    if tens == 0:
        if units and words:
            words.append("linh")
    elif tens == 1:
        words.append("mười")
    else:
        words += [DIGITS[tens], "mươi"]
    if units:
        if units == 1 and tens >= 2:
            words.append("mốt")
        elif units == 4 and tens >= 2:
            words.append("tư")
        elif units == 5 and tens >= 1:
            words.append("lăm")
        else:
            words.append(DIGITS[units])
    return " ".join(words)


def number_words(n: int) -> str:
    """Vietnamese words for a whole number ≥ 0: 2026 → "hai nghìn không trăm hai mươi sáu"."""
    if n == 0:
        return "không"
    if n >= 10**9:
        head, rest = divmod(n, 10**9)
        words = number_words(head) + " tỷ"
        return words + (" " + _below_billion(rest, full=True) if rest else "")
    return _below_billion(n, full=False)


def _below_billion(n: int, full: bool) -> str:
    words = []
    for size, name in ((10**6, "triệu"), (10**3, "nghìn"), (1, "")):
        group = n // size % 1000
        if group:
            words.append((_under_thousand(group, full) + " " + name).strip())
            full = True
        elif words and size == 1:
            break
    return " ".join(words)


def digit_words(digits: str) -> str:
    """Digit by digit: "0912" → "không chín một hai"."""
    return " ".join(DIGITS[int(d)] for d in digits if d.isdigit())


def _decimal_words(whole: str, fraction: str) -> str:
    fraction = fraction.rstrip("0") or "0"
    tail = digit_words(fraction) if fraction.startswith("0") or len(fraction) > 3 else number_words(int(fraction))
    return f"{_integer_words(whole)} phẩy {tail}"


def _integer_words(digits: str) -> str:
    if len(digits) >= LONG_DIGITS or (len(digits) > 1 and digits.startswith("0")):
        return digit_words(digits)
    return number_words(int(digits))


def spell(code: str) -> str:
    """Character by character with Vietnamese letter names: "7Q4K" → "bảy quy bốn ca"."""
    return " ".join(DIGITS[int(ch)] if ch.isdigit() else LETTERS.get(ch.upper(), ch) for ch in code if ch.isalnum())


# --- rules --------------------------------------------------------------------------------------

def _tracking_codes(text: str) -> str:
    def say(m: re.Match) -> str:
        parts = [p for p in m.groups() if p]
        return " " + ", ".join(spell(p) for p in parts) + ", "
    return _CODE_SPACED.sub(say, _TRACKING.sub(say, text))


def _phones(text: str) -> str:
    def say(m: re.Match) -> str:
        digits = "0" + re.sub(r"\D", "", m.group(2))
        if len(digits) not in (10, 11):
            return m.group(0)
        sizes = (4, 3, 3) if len(digits) == 10 else (3, 4, 4)
        groups, start = [], 0
        for size in sizes:
            groups.append(digit_words(digits[start:start + size]))
            start += size
        return ", ".join(groups) + ","
    return _PHONE.sub(say, text)


def _dates(text: str) -> str:
    def day_month_year(m: re.Match) -> str:
        day, month, year = int(m.group(2)), int(m.group(3)), int(m.group(4))
        if not (1 <= day <= 31 and 1 <= month <= 12):
            return m.group(0)
        return f"ngày {number_words(day)} tháng {_month(month)} năm {number_words(year)}"

    def month_year(m: re.Match) -> str:
        month, year = int(m.group(2)), int(m.group(3))
        if not 1 <= month <= 12:
            return m.group(0)
        return f"tháng {_month(month)} năm {number_words(year)}"
    text = _LEGAL_NUMBER.sub(lambda m: f"số {number_words(int(m.group(1)))} năm {number_words(int(m.group(2)))} ", text)
    return _MONTH_YEAR.sub(month_year, _DATE.sub(day_month_year, text))


def _month(month: int) -> str:
    return "tư" if month == 4 else number_words(month)  # "tháng tư", as everyone says it


def _times(text: str) -> str:
    def say(m: re.Match) -> str:
        hour = int(m.group(1))
        minute_text = m.group(2) or m.group(3)
        minute = int(minute_text) if minute_text else 0
        if hour > 24 or minute > 59:
            return m.group(0)
        if not minute:
            return f"{number_words(hour)} giờ"
        return f"{number_words(hour)} giờ {number_words(minute)}" + (" phút" if minute < 10 else "")
    return _TIME.sub(say, text)


def _amounts(text: str) -> str:
    def say(m: re.Match) -> str:
        number, scale = m.group(1), m.group(2) or ""
        if "." in number:
            words = number_words(int(number.replace(".", "")))
        elif "," in number:
            words = _decimal_words(*number.split(",", 1))
        else:
            words = _integer_words(number)
        scale_words = {"k": "nghìn", "K": "nghìn", "ngàn": "nghìn", "tr": "triệu", "tỉ": "tỷ"}.get(scale, scale)
        return " ".join(w for w in (words, scale_words, "đồng") if w)
    return _AMOUNT.sub(say, text)


def _abbreviations(text: str) -> str:
    text = _VNEID.sub(VNEID_SPOKEN, text)
    for short, long in ABBREVIATIONS.items():
        tail = "" if short.endswith(".") else r"(?![\w])"
        text = re.sub(r"(?<![\w])" + re.escape(short) + tail, long, text)
    return text


def _mixed_codes(text: str) -> str:
    return _MIXED.sub(lambda m: spell(m.group(0)), text)


def _numbers(text: str) -> str:
    text = _THOUSANDS.sub(lambda m: number_words(int(m.group(0).replace(".", ""))), text)
    text = _DECIMAL.sub(lambda m: _decimal_words(m.group(1), m.group(2)), text)
    text = re.sub(r"(?<=\d)/(?=\d)", " trên ", text)
    text = re.sub(r"(?<=\d)\s?[-–]\s?(?=\d)", " đến ", text)  # 3-5 ngày: "ba đến năm ngày"
    return _INTEGER.sub(lambda m: " " + _integer_words(m.group(0)) + " ", text)


def _capitals(text: str) -> str:
    """Acronyms without vowels (TT, BTC, QR) are spelled; capitalised words (KHẨN) are said as words."""
    def say(m: re.Match) -> str:
        word = m.group(0)
        if not word.isupper():
            return word
        base = {unicodedata.normalize("NFD", ch)[0] for ch in word}
        if base & _VOWELS or any(ch in "ĂÂÊÔƠƯ" for ch in word):
            return word.lower()
        return spell(word)
    return _LETTER_WORD.sub(say, text)


def _symbols(text: str) -> str:
    for symbol, said in _SYMBOLS.items():
        text = text.replace(symbol, said)
    text = re.sub(r"(?<=đồng)\s?/\s?(?=\w)", " một ", text)  # 15.000 đồng/lần: "đồng một lần"
    text = re.sub(r"(?<=\w)\s?/\s?(?=\w)", " hoặc ", text)  # "UBND/HĐND", "đất đai / trích đo"
    text = re.sub(r"(?<=[^\W\d_])-(?=[^\W\d_])", " ", text)
    text = re.sub(r"\s*[()\[\]]\s*", ", ", text)  # an aside is a pause, not a silence
    return re.sub(r"[\"“”‘’«»{}*_~^|<>/\\]", " ", text)
