"""Text normalisation shared by the directory, importers and SMS command parsing."""
import re

from sms.vietnamese import nfc, unaccent

_SPACE = re.compile(r"\s+")
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


def clean(text: object) -> str:
    """NFC, with runs of whitespace (including non-breaking spaces) collapsed and ends trimmed."""
    if text is None:
        return ""
    return _SPACE.sub(" ", nfc(str(text)).replace("\u00a0", " ")).strip()


def fold(text: object) -> str:
    """A matching key: case, diacritics, spaces and punctuation ignored ("Hội phụ nữ" → "hoiphunu")."""
    return _NOT_ALNUM.sub("", unaccent(clean(text)).casefold())
