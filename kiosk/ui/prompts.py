"""Every fixed text the kiosk reads aloud, composed in one place.

The Listen bar and `tdp voices render` (`make voices`) build their texts with these same
functions, so a pre-rendered WAV is found in the cache by the exact text the screen asks for.
"""
from __future__ import annotations

import re

from kiosk.ui.screens import SCREENS
from kiosk.ui.i18n import LANGUAGES, text

_MARKUP = re.compile(r"\[/?[a-z]+(=[^\]]*)?\]")
# The volunteer screen is for volunteers, who read; every other screen is a resident's.
RESIDENT_SCREENS = tuple(name for name in SCREENS if name != "volunteer")


def screen_prompt(title_key: str, instruction_key: str, language: str = "vi") -> str:
    """A screen's title and its one instruction (ui_strings keys): what "Nghe" says."""
    title = text(title_key, language).rstrip() if title_key else ""
    instruction = text(instruction_key, language).strip() if instruction_key else ""
    if not title:
        return instruction
    joined = title if title.endswith(("?", "!", ".")) else title + "."
    return f"{joined} {instruction}".strip()


def guide_prompts(procedure, online: bool = True, language: str = "vi") -> list[str]:
    """A procedure guide read one part at a time: its name and step 1, each later step, the documents."""
    if procedure is None:
        return []
    steps = procedure.steps_online if online else procedure.steps_in_person
    heading = text("guides_steps_online" if online else "guides_steps_in_person", language)
    parts = [f"{text('guides_step', language, number=n)} {step}" for n, step in enumerate(steps, 1)]
    if parts:
        parts[0] = f"{procedure.name}. {heading}. {parts[0]}"
    documents = "; ".join(d.rstrip(".") for d in procedure.documents)
    parts.append(f"{text('guides_documents', language)}: {documents}.")
    parts.append(f"{text('guides_fee', language)}: {procedure.fee.rstrip('.')}. "
                 f"{text('guides_time', language)}: {procedure.processing_time.rstrip('.')}. "
                 f"{text('guides_where', language)}: {procedure.where.rstrip('.')}. {text('guides_steps_end', language)}")
    return parts


def visible_texts(root) -> list[str]:
    """The texts a resident sees under `root`, top to bottom: labels (not buttons, not typed fields),
    without markup, skipping hidden or empty ones. What "Nghe" reads on a step."""
    from kivy.uix.button import ButtonBehavior
    from kivy.uix.label import Label
    found = []
    for widget in root.walk(restrict=True):
        if not isinstance(widget, Label) or isinstance(widget, ButtonBehavior):
            continue
        shown = widget.text.strip()
        if shown and widget.opacity > 0 and widget.height > 0 and not _hidden(widget, root):
            found.append(_MARKUP.sub("", shown))
    return found


def _hidden(widget, root) -> bool:
    while widget is not None and widget is not root:
        if widget.opacity == 0:
            return True
        widget = widget.parent
    return False


def all_prompts() -> list[tuple[str, str]]:
    """(language, text) for every fixed prompt: each resident screen in each language, and every
    procedure guide (Vietnamese, the language the catalogue is written in), both ways of applying."""
    from kiosk.dossiers import procedures
    prompts = [(language, screen_prompt(f"{screen}_title", f"{screen}_instruction", language))
               for language in LANGUAGES for screen in RESIDENT_SCREENS]
    for procedure in procedures.default():
        for online in (True, False):
            prompts += [("vi", part) for part in guide_prompts(procedure, online, "vi")]
    return prompts
