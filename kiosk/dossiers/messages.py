"""The SMS a resident gets at each step of a request, from kiosk/data/sms_templates.toml.

Every text starts with who is sending ("TDP số 1: …", from the tracking prefix) and says what to
do next: which papers to bring, where to collect the result. Checked at load: every status and
the two extra steps ("portal", "reminder") present, only known placeholders.
"""
from __future__ import annotations

import re
import tomllib
from functools import lru_cache
from pathlib import Path

from kiosk import clock
from kiosk.errors import InvalidInput
from kiosk.text import clean

TEMPLATES_PATH = Path(__file__).resolve().parents[1] / "data" / "sms_templates.toml"
STEPS = ("received", "portal", "forwarded", "needs_more_documents", "result_ready", "picked_up", "rejected",
         "reminder")
PLACEHOLDERS = {"sender", "code", "portal_code", "date", "note", "where"}
MAX_NOTE = 160  # characters of a document list or reason in one SMS (keeps it to 3 UCS-2 parts)
_PLACEHOLDER = re.compile(r"{(\w*)}")


def sender(prefix: str) -> str:
    """'TDP1' → 'TDP số 1', 'TDP' → 'TDP': the name residents know their group by."""
    digits = prefix[3:] if prefix.upper().startswith("TDP") else ""
    return f"TDP số {digits}" if digits.isdigit() else (prefix or "TDP")


@lru_cache(maxsize=4)
def load_templates(path: str | None = None) -> dict[str, str]:
    file = Path(path) if path else TEMPLATES_PATH
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InvalidInput(f"{file}: cannot read SMS templates: {exc}") from None
    section = raw.get("dossier", {})
    missing = [s for s in STEPS if not isinstance(section.get(s), str) or not clean(section.get(s))]
    if missing:
        raise InvalidInput(f"{file}: [dossier] needs a text for {', '.join(missing)}")
    for step, text in section.items():
        unknown = set(_PLACEHOLDER.findall(text)) - PLACEHOLDERS
        if unknown:
            raise InvalidInput(f"{file}: [dossier] {step}: unknown placeholder {{{sorted(unknown)[0]}}} "
                               f"(use {', '.join('{' + p + '}' for p in sorted(PLACEHOLDERS))})")
    return {s: clean(section[s]) for s in STEPS}


def short_document(document: str) -> str:
    """A document's name without its explanation: 'Giấy chứng sinh (bản chính) do …' → 'Giấy chứng sinh'."""
    head = re.split(r"\s*[(;:,]|\s+-\s+|\.\s", clean(document), maxsplit=1)[0]
    return head.rstrip(".") or clean(document)


def note_text(note: str) -> str:
    text = clean(note)
    return text if len(text) <= MAX_NOTE else text[:MAX_NOTE - 1].rstrip(" ,;") + "…"


def text(step: str, *, prefix: str, code: str, date: str | None = None, portal_code: str = "",
         note: str = "", where: str = "", templates: dict | None = None) -> str:
    """The SMS for `step`; `date` is ISO (yyyy-mm-dd) and printed dd/mm/yyyy."""
    templates = templates or load_templates()
    return templates[step].format(sender=sender(prefix), code=code, portal_code=portal_code or code,
                                  date=clock.display_date(date) or "-", note=note_text(note) or "-",
                                  where=clean(where) or "nhà văn hóa")
