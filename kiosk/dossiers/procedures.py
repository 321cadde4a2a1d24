"""The procedure catalogue: data in kiosk/data/procedures.toml, validated against a schema on load.

An official edits the TOML file, runs `tdp procedures validate FILE`, and gets one line per
problem naming the procedure and the field. Every text is NFC-cleaned. `reviewed_by_ward` stays
false until the ward has checked the content (the kiosk shows a "to be checked" note until then);
`unreviewed` names the fields whose values could not be checked at all here (national codes and
portal links above all), so an official knows what to look up on csdl.dichvucong.gov.vn.
`kiosk_request = false` marks procedures the kiosk cannot take a request for (the resident must
be present in person, or the originals seen): their guide offers a volunteer's help instead.
"""
from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlparse

from kiosk.errors import InvalidInput, NotFound
from kiosk.text import clean, fold

DEFAULT_PATH = Path(__file__).resolve().parents[1] / "data" / "procedures.toml"

CATEGORIES = {"ho_tich", "cu_tru", "dinh_danh", "chung_thuc", "bao_tro_xa_hoi", "dat_dai", "kinh_doanh", "lien_thong"}


class CatalogueError(InvalidInput):
    """The catalogue file is unreadable or breaks the schema; `problems` lists every issue."""

    def __init__(self, source: str, problems: list[str]):
        self.problems = problems
        more = f" (+{len(problems) - 1} more; run `tdp procedures validate {source}`)" if len(problems) > 1 else ""
        super().__init__(f"{source}: {problems[0]}{more}")


@dataclass(frozen=True)
class Procedure:
    """One administrative procedure as residents need to know it. Texts are Vietnamese, NFC."""
    code: str
    name: str
    category: str
    audience: str
    steps_online: tuple[str, ...]
    steps_in_person: tuple[str, ...]
    documents: tuple[str, ...]
    fee: str
    processing_time: str
    processing_days: int
    where: str
    legal_basis: tuple[str, ...]
    portal_url: str
    reviewed_by_ward: bool
    kiosk_request: bool
    national_code: str
    unreviewed: tuple[str, ...]
    keywords: tuple[str, ...]

    @property
    def short_where(self) -> str:
        """The place without its alternatives: what fits an SMS or a slip line."""
        return re.split(r"\s*[;(]|\.\s", self.where, maxsplit=1)[0].rstrip(".")

    def as_dict(self) -> dict:
        return {f.name: (list(v) if isinstance(v := getattr(self, f.name), tuple) else v) for f in fields(self)}


# field → (kind, required). "list" means a non-empty list of non-empty texts.
SCHEMA: dict[str, tuple[str, bool]] = {
    "code": ("code", True), "name": ("text", True), "category": ("category", True),
    "audience": ("text", True), "steps_online": ("list", True), "steps_in_person": ("list", True),
    "documents": ("list", True), "fee": ("text", True), "processing_time": ("text", True),
    "processing_days": ("days", True), "where": ("text", True), "legal_basis": ("list", True),
    "portal_url": ("url", True), "reviewed_by_ward": ("bool", True), "kiosk_request": ("bool", True),
    "national_code": ("national_code", False), "unreviewed": ("fields", False), "keywords": ("keywords", False),
}
# A national procedure code as in the national database of administrative procedures: 1.001193.
NATIONAL_CODE = re.compile(r"^\d\.\d{6}$")
# The portal's home page: a guide's QR must open the procedure's own page instead.
PORTAL_HOME = "dvc-trang-chu.html"


@dataclass(frozen=True)
class Catalogue:
    procedures: tuple[Procedure, ...]
    source: str

    def __iter__(self):
        return iter(self.procedures)

    def __len__(self):
        return len(self.procedures)

    def get(self, code: str) -> Procedure:
        """The procedure with this code (case-insensitive) or NotFound with a "did you mean"."""
        wanted = clean(code).upper()
        for procedure in self.procedures:
            if procedure.code == wanted:
                return procedure
        raise NotFound(f"no procedure with code '{code}'{self._did_you_mean(code)}")

    def _did_you_mean(self, code: str) -> str:
        codes = [p.code for p in self.procedures]
        close = difflib.get_close_matches(clean(code).upper(), codes, n=3, cutoff=0.5)
        if not close:
            found = self.search(code)[:3]
            close = [p.code for p in found]
        if close:
            return f" (did you mean {', '.join(close)}?)"
        return " (see `tdp procedures list`)"

    def search(self, query: str) -> list[Procedure]:
        """Procedures matching the words of `query`, ignoring case and diacritics; best first.

        Every word must occur in the code, name, category or keywords; typos fall back to a
        fuzzy match on names so "khai xinh" still finds "Đăng ký khai sinh".
        """
        words = [fold(w) for w in clean(query).split() if fold(w)]
        if not words:
            return list(self.procedures)
        scored = []
        for procedure in self.procedures:
            name = fold(procedure.name)
            haystack = " ".join([fold(procedure.code), name, procedure.category.replace("_", "")]
                                + [fold(k) for k in procedure.keywords])
            if all(w in haystack for w in words):
                scored.append((sum(w in name for w in words) + (fold(procedure.code) == "".join(words)) * 5,
                               procedure))
        if not scored:
            joined = "".join(words)
            for procedure in self.procedures:
                keys = [fold(procedure.name)] + [fold(k) for k in procedure.keywords]
                best = max(difflib.SequenceMatcher(None, joined, key).ratio() for key in keys)
                partial = max(difflib.SequenceMatcher(None, joined, key[i:i + len(joined)]).ratio()
                              for key in keys for i in range(0, max(1, len(key) - len(joined) + 1)))
                if max(best, partial) >= 0.75:
                    scored.append((max(best, partial), procedure))
        scored.sort(key=lambda pair: -pair[0])
        return [procedure for _, procedure in scored]


def _check_field(kind: str, value, label: str) -> tuple[object, str | None]:
    """(cleaned value, problem or None) for one field."""
    if kind in ("text", "code", "category", "url"):
        if not isinstance(value, str) or not clean(value):
            return None, f"{label} must be non-empty text, got {value!r}"
        text = clean(value)
        if kind == "code":
            text = text.upper()
            if not all(ch.isascii() and (ch.isalnum() or ch == "-") for ch in text) or len(text) > 24:
                return None, f"{label} must be up to 24 ASCII letters, digits or dashes, got {value!r}"
        if kind == "category" and text not in CATEGORIES:
            close = difflib.get_close_matches(text, CATEGORIES, n=1)
            hint = f"did you mean {close[0]}?" if close else f"one of {', '.join(sorted(CATEGORIES))}"
            return None, f"{label} '{text}' is not a known category ({hint})"
        if kind == "url":
            parsed = urlparse(text)
            if parsed.scheme != "https" or not (parsed.hostname or "").endswith(".gov.vn"):
                return None, f"{label} must be an https link on a .gov.vn portal (dichvucong.gov.vn), got {value!r}"
            if parsed.path.endswith(PORTAL_HOME) or parsed.path in ("", "/"):
                return None, f"{label} must link to the procedure's own page, not the portal's home page"
        return text, None
    if kind == "national_code":
        if not isinstance(value, str) or not NATIONAL_CODE.match(clean(value)):
            return None, f"{label} must be a national procedure code like 1.001193, got {value!r}"
        return clean(value), None
    if kind == "fields":
        if not isinstance(value, list) or not all(isinstance(v, str) and v in SCHEMA for v in value):
            return None, f"{label} must list field names of this schema, got {value!r}"
        return tuple(value), None
    if kind in ("list", "keywords"):
        if not isinstance(value, list) or (kind == "list" and not value):
            return None, f"{label} must be a non-empty list of texts, got {value!r}"
        items = []
        for i, item in enumerate(value):
            if not isinstance(item, str) or not clean(item):
                return None, f"{label}[{i}] must be non-empty text, got {item!r}"
            items.append(clean(item))
        return tuple(items), None
    if kind == "bool":
        if not isinstance(value, bool):
            return None, f"{label} must be true or false, got {value!r}"
        return value, None
    if kind == "days":
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 120:
            return None, f"{label} must be a whole number of working days from 0 to 120, got {value!r}"
        return value, None
    raise AssertionError(kind)


def parse(raw: dict, source: str) -> Catalogue:
    """Validate parsed TOML (`[[procedure]]` tables); raise CatalogueError listing every problem."""
    problems: list[str] = []
    entries = raw.get("procedure")
    unknown_top = sorted(set(raw) - {"procedure"})
    if unknown_top:
        problems.append(f"unknown top-level key(s) {', '.join(unknown_top)} (only [[procedure]] tables)")
    if not isinstance(entries, list) or not entries:
        raise CatalogueError(source, problems + ["no [[procedure]] tables found"])
    procedures, seen = [], {}
    for index, entry in enumerate(entries, start=1):
        code = clean(entry.get("code", "")).upper() if isinstance(entry.get("code"), str) else ""
        who = f"procedure #{index}" + (f" ({code})" if code else "")
        values, ok = {}, True
        for key in entry:
            if key not in SCHEMA:
                close = difflib.get_close_matches(key, SCHEMA, n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                problems.append(f"{who}: unknown field '{key}'{hint}")
                ok = False
        for key, (kind, required) in SCHEMA.items():
            if key not in entry:
                if required:
                    problems.append(f"{who}: missing field '{key}'")
                    ok = False
                else:
                    values[key] = "" if kind == "national_code" else ()
                continue
            value, problem = _check_field(kind, entry[key], f"field '{key}'")
            if problem:
                problems.append(f"{who}: {problem}")
                ok = False
            values[key] = value
        if code and code in seen:
            problems.append(f"{who}: code {code} is also used by procedure #{seen[code]}")
            ok = False
        seen.setdefault(code, index)
        if ok:
            procedures.append(Procedure(**values))
    if problems:
        raise CatalogueError(source, problems)
    return Catalogue(tuple(procedures), source)


def load(path: str | Path | None = None) -> Catalogue:
    """Read and validate a catalogue file (default: the bundled kiosk/data/procedures.toml)."""
    file = Path(path).expanduser() if path else DEFAULT_PATH
    try:
        with open(file, "rb") as handle:
            raw = tomllib.load(handle)
    except FileNotFoundError:
        raise CatalogueError(str(file), ["file not found"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(str(file), [f"not valid TOML: {exc}"]) from None
    except OSError as exc:
        raise CatalogueError(str(file), [f"cannot read: {exc.strerror}"]) from None
    return parse(raw, str(file))


@lru_cache(maxsize=1)
def default() -> Catalogue:
    """The bundled catalogue, loaded once per process."""
    return load(DEFAULT_PATH)
