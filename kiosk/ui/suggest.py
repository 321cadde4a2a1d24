"""Suggestion chips for the word being typed: "hoa" → Hoa, Hòa, Hoà, Hóa, Họa, Hỏa.

The syllables are data (kiosk/data/name_syllables.toml, ranked most common first), validated at
load: one Vietnamese syllable each, lower case, NFC. A chip is offered when its letters without
marks start with what was typed without marks, so a resident who types "n" or "nguyen" (no
Telex, no marks) taps "Nguyễn" once and the word is done.
"""
from __future__ import annotations

import re
import tomllib
import unicodedata
from functools import lru_cache
from importlib import resources

from ..errors import ConfigError
from ..text import fold

MAX_CHIPS = 6
MAX_SYLLABLES = 5000  # the file is the ward's to edit; a runaway paste must not slow typing down
_SYLLABLE = re.compile(r"[a-zàáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ]{1,8}")


LISTS = ("family", "middle", "given", "address")
# Which lists rank first for the word at each position of a name (then the others, in this order).
NAME_ORDER = (("family", "middle", "given"), ("middle", "given", "family"), ("given", "middle", "family"))


@lru_cache(maxsize=1)
def _raw() -> dict:
    raw = tomllib.loads(resources.files("kiosk").joinpath("data/name_syllables.toml").read_text("utf-8"))
    for kind in LISTS:
        _validated(raw, kind)
    return raw


@lru_cache(maxsize=8)
def syllables(kind: str = "names", position: int = 0) -> tuple[str, ...]:
    """The ranked syllables for `kind`: "address", or "names" at word `position` (0 = family name),
    duplicates dropped, the first rank kept."""
    raw = _raw()
    kinds = ("address",) if kind == "address" else NAME_ORDER[min(position, len(NAME_ORDER) - 1)]
    return tuple(dict.fromkeys(s for k in kinds for s in _validated(raw, k)))


def _validated(raw: dict, kind: str) -> tuple[str, ...]:
    entries = raw.get(kind)
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"name_syllables.toml: '{kind}' must be a non-empty list of syllables")
    if len(entries) > MAX_SYLLABLES:
        raise ConfigError(f"name_syllables.toml: '{kind}' has {len(entries)} entries; at most {MAX_SYLLABLES}")
    seen: dict[str, None] = {}
    for entry in entries:
        if not isinstance(entry, str) or not unicodedata.is_normalized("NFC", entry) or not _SYLLABLE.fullmatch(entry):
            raise ConfigError(f"name_syllables.toml: {entry!r} in '{kind}' is not one lower-case Vietnamese "
                              "syllable in NFC (letters only, at most 8)")
        seen.setdefault(entry)
    return tuple(seen)


def suggestions(word: str, kind: str = "names", limit: int = MAX_CHIPS, position: int = 0) -> list[str]:
    """Up to `limit` syllables for the typed `word`, same-letter matches first, in the word's case.

    Exact matches without marks ("hoa" → hòa, hoà, hóa…) rank before longer ones ("hoan"); an
    empty word gets no chips. What the resident already typed is offered first when it is a
    known syllable, so the chip row never hides their own spelling. In a name, the word's
    `position` ranks family names first for the first word, middle names for the second.
    """
    key = fold(word)
    if not key or not word.isalpha():
        return []
    exact, longer = [], []
    for syllable in syllables(kind, position):
        folded = fold(syllable)
        if folded == key:
            exact.append(syllable)
        elif folded.startswith(key):
            longer.append(syllable)
    typed = unicodedata.normalize("NFC", word).lower()
    ranked = sorted(exact, key=lambda s: s != typed) + longer
    return [_like(s, word) for s in ranked[:limit]]


def _like(syllable: str, word: str) -> str:
    if word.isupper() and len(word) > 1:
        return syllable.upper()
    return syllable[:1].upper() + syllable[1:] if word[:1].isupper() else syllable
