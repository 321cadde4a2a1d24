"""Telex composition for the on-screen keyboard: type "Nguyeenx Thij Hoaf" and get "Nguyễn Thị Hoà".

Hand-written because no maintained library composes Telex in Python. The keyboard keeps the word
being typed and calls `compose(word, key)` for each key; the result replaces the word.

- aa→â, aw→ă, ee→ê, oo→ô, ow→ơ, uw→ư, uow→ươ, dd→đ (a second press undoes: aaa→aa).
- s/f/r/x/j add the sắc/huyền/hỏi/ngã/nặng tone; the same key again removes it and types the
  letter; z removes the tone.
- The tone sits on the vowel the modern rules choose (see `_tone_index`), and moves when the
  word grows ("hoa"+"f" → "hoà", +"n" → "hoàn").
"""
from __future__ import annotations

import unicodedata

TONE_KEYS = {"s": "\u0301", "f": "\u0300", "r": "\u0309", "x": "\u0303", "j": "\u0323"}
TONE_MARKS = set(TONE_KEYS.values())
VOWELS = set("aăâeêioôơuưy")
SHAPED = set("ăâêôơư")  # vowels carrying a circumflex, breve or horn
HAT = {"a": "â", "e": "ê", "o": "ô"}
HORN = {"a": "ă", "o": "ơ", "u": "ư"}
HAT_TO_HORN = {"â": "a", "ô": "o"}  # "aaw" means ă: w wins over an earlier hat
# Open diphthongs whose tone goes on the second vowel under the modern rules (hoà, khoẻ, thuỷ).
SECOND_VOWEL_PAIRS = {"oa", "oe", "uy"}


def compose(word: str, key: str) -> str:
    """The word after pressing `key` (one character) with Telex on; always NFC."""
    letters, tone = split_tone(word)
    lower = key.lower()
    if lower in TONE_KEYS and _vowel_span(letters)[1] > _vowel_span(letters)[0]:
        mark = TONE_KEYS[lower]
        if tone == mark:  # pressing the tone key twice types the letter itself
            return place_tone(letters + key, None)
        return place_tone(letters, mark)
    if lower == "z" and tone:
        return place_tone(letters, None)
    if lower in HAT:
        changed = _reshape(letters, {lower: HAT[lower]}, key)
        if changed is not None:
            return place_tone(changed, tone)
    if lower == "w":
        changed = _horn(letters, key)
        if changed is not None:
            return place_tone(changed, tone)
    if lower == "d" and letters[:1] in ("d", "D"):
        return place_tone(("Đ" if letters[0] == "D" else "đ") + letters[1:], tone)
    if lower == "d" and letters in ("đ", "Đ"):  # ddd: undo, as with the vowels
        return ("D" if letters == "Đ" else "d") + key
    return place_tone(letters + key, tone)


MARKS = ("sac", "huyen", "hoi", "nga", "nang", "hat", "horn", "dd")
_MARK_TONES = dict(zip(MARKS, ("s", "f", "r", "x", "j")))


def apply_mark(word: str, mark: str) -> str:
    """The word after tapping an on-screen mark key (one of MARKS); always NFC.

    The same Telex rules as `compose`, for residents who do not know Telex: a tone key puts its
    tone on the vowel `compose` would choose (a second tap takes it off), "hat" gives the last
    a/e/o its circumflex (â ê ô), "horn" gives ă/ơ/ư (uo → ươ), "dd" turns a first d into đ; each
    toggles back on a second tap. A mark that cannot apply leaves the word as it is.
    """
    if mark not in MARKS:
        raise ValueError(f"unknown mark {mark!r}")
    letters, tone = split_tone(word)
    if mark in _MARK_TONES:
        wanted = TONE_KEYS[_MARK_TONES[mark]]
        if _vowel_span(letters)[1] == _vowel_span(letters)[0] and _tone_index(letters) is None:
            return unicodedata.normalize("NFC", word)
        return place_tone(letters, None if tone == wanted else wanted)
    if mark == "hat":
        start, end = _vowel_span(letters)
        for i in range(end - 1, start - 1, -1):
            base = letters[i].lower()
            if base in HAT or base in HAT.values():
                return place_tone(letters[:i] + _same_case(_toggle_hat(base), letters[i]) + letters[i + 1:], tone)
        return unicodedata.normalize("NFC", word)
    if mark == "horn":
        changed = _horn(letters, "")
        return unicodedata.normalize("NFC", word) if changed is None else place_tone(changed, tone)
    if letters[:1] in ("d", "D", "đ", "Đ"):
        first = {"d": "đ", "D": "Đ", "đ": "d", "Đ": "D"}[letters[0]]
        return place_tone(first + letters[1:], tone)
    return unicodedata.normalize("NFC", word)


def _toggle_hat(base: str) -> str:
    return HAT.get(base) or next(k for k, v in HAT.items() if v == base)


def split_tone(word: str) -> tuple[str, str | None]:
    """Separate the tone mark: ("nguyên", "\u0303") for "nguyễn"."""
    tone = None
    kept = []
    for ch in unicodedata.normalize("NFD", word):
        if ch in TONE_MARKS:
            tone = ch
        else:
            kept.append(ch)
    return unicodedata.normalize("NFC", "".join(kept)), tone


def place_tone(letters: str, tone: str | None) -> str:
    """Put `tone` on the vowel the modern rules choose; NFC."""
    letters = unicodedata.normalize("NFC", letters)
    if not tone:
        return letters
    index = _tone_index(letters)
    if index is None:
        return letters
    return unicodedata.normalize("NFC", letters[:index + 1] + tone + letters[index + 1:])


def _vowel_span(letters: str) -> tuple[int, int]:
    """Start and end (exclusive) of the syllable's vowel cluster; "qu" and "gi" count as consonants."""
    lower = letters.lower()
    start = 0
    while start < len(lower) and lower[start] not in VOWELS:
        start += 1
    if lower.startswith("qu") and start == 1:
        start = 2
    elif lower.startswith("gi") and start == 1 and len(lower) > 2 and lower[2] in VOWELS:
        start = 2
    end = start
    while end < len(lower) and lower[end] in VOWELS:
        end += 1
    return start, end


def _tone_index(letters: str) -> int | None:
    start, end = _vowel_span(letters)
    if end == start:
        # "gi" alone ("gì") or "qu" with nothing after: the tone goes on that i/u.
        lower = letters.lower()
        if lower.startswith(("gi", "qu")) and len(lower) >= 2:
            return 1
        return None
    cluster = letters[start:end].lower()
    shaped = [i for i, ch in enumerate(cluster) if ch in SHAPED]
    if shaped:
        return start + shaped[-1]  # ươ → ơ, iê → ê, ưu → ư
    if len(cluster) == 1:
        return start
    if len(cluster) >= 3:
        return start + 1  # ngoài, khuya
    if end < len(letters) or cluster in SECOND_VOWEL_PAIRS:
        return start + 1  # toán, hoà
    return start  # mái, múa, túi


def _reshape(letters: str, mapping: dict[str, str], key: str) -> str | None:
    """Apply aa/ee/oo (or undo it) on the nearest matching vowel of the cluster."""
    start, end = _vowel_span(letters)
    for i in range(end - 1, start - 1, -1):
        ch = letters[i]
        base = ch.lower()
        if base in mapping:
            return letters[:i] + _same_case(mapping[base], ch) + letters[i + 1:]
        if base in mapping.values():  # a second press undoes: â + a → aa
            plain = next(k for k, v in mapping.items() if v == base)
            return letters[:i] + _same_case(plain, ch) + letters[i + 1:] + key
    return None


def _horn(letters: str, key: str) -> str | None:
    start, end = _vowel_span(letters)
    cluster = letters[start:end].lower()
    if "uo" in cluster:
        i = start + cluster.index("uo")
        return letters[:i] + _same_case("ư", letters[i]) + _same_case("ơ", letters[i + 1]) + letters[i + 2:]
    if "ưo" in cluster:  # uwow: the second w completes ươ
        i = start + cluster.index("ưo")
        return letters[:i + 1] + _same_case("ơ", letters[i + 1]) + letters[i + 2:]
    if "ươ" in cluster:
        i = start + cluster.index("ươ")
        return letters[:i] + _same_case("u", letters[i]) + _same_case("o", letters[i + 1]) + letters[i + 2:] + key
    for i in range(end - 1, start - 1, -1):
        base = letters[i].lower()
        if base in HORN or base in HAT_TO_HORN:
            base = HAT_TO_HORN.get(base, base)
            return letters[:i] + _same_case(HORN[base], letters[i]) + letters[i + 1:]
        if base in HORN.values():
            plain = next(k for k, v in HORN.items() if v == base)
            return letters[:i] + _same_case(plain, letters[i]) + letters[i + 1:] + key
    if end == start and (not letters or letters[-1].lower() not in VOWELS):
        return letters + _same_case("ư", key)  # a lone w types ư (tw → tư)
    return None


def _same_case(letter: str, like: str) -> str:
    return letter.upper() if like.isupper() else letter


def type_text(keys: str) -> str:
    """Compose a whole string of keystrokes, word by word (for tests and the CLI)."""
    out, word = [], ""
    for key in keys:
        if key.isalpha():
            word = compose(word, key)
        else:
            out.append(word + key)
            word = ""
    return "".join(out) + word
