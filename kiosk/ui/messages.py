"""What the screen says when something a resident did cannot be done: one plain sentence in the
screen's language, never a traceback. Raise sites give Vietnamese (`.vietnamese`, on kiosk and
hardware errors alike) where they can; these are the fallbacks per class."""
from __future__ import annotations

from hardware.errors import HardwareError
from kiosk.errors import NotFound, TdpError
from kiosk.dossiers.tracking import InvalidTrackingCode
from . import i18n

FALLBACK_KEYS = [
    (InvalidTrackingCode, "error_tracking_code"),
    (NotFound, "error_not_found"),
]


def describe(exc: BaseException, language: str) -> str:
    if isinstance(exc, (TdpError, HardwareError)):
        if language == "en":
            return str(getattr(exc, "message", "") or exc)
        if getattr(exc, "vietnamese", ""):
            return exc.vietnamese
        for kind, key in FALLBACK_KEYS:
            if isinstance(exc, kind):
                return i18n.text(key, language)
    return i18n.text("error_generic", language)
