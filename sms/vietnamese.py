"""Vietnamese text helpers that the SMS codec needs and the kiosk reuses."""
import unicodedata

# Letters that NFD does not split into base + combining mark.
_STROKE = str.maketrans({"đ": "d", "Đ": "D"})


def nfc(text: str) -> str:
    """Return text in Unicode NFC, the one form stored, printed and sent."""
    return unicodedata.normalize("NFC", text)


def unaccent(text: str) -> str:
    """Transliterate Vietnamese to plain Latin letters: ă→a, ơ→o, đ→d, tone marks dropped.

    Case is kept. Non-Vietnamese characters pass through unchanged (the SMS segmenter decides
    whether what remains fits GSM 7-bit).
    """
    decomposed = unicodedata.normalize("NFD", text.translate(_STROKE))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", stripped)
