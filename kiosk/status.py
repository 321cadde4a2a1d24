"""What the appliance knows about itself right now: duty, modem, printer, hub (Home, doctor, sync)."""
from __future__ import annotations

from .config import Config


def gather(db, config: Config) -> dict:
    """A snapshot: {"on_duty": [names], "modem": {...}|None, "printer": "ready"|"pdf"|"down", "hub": bool|None}."""
    return {
        "on_duty": [],
        "modem": None,
        "printer": "pdf" if not config.printer.queue else "down",
        "hub": None if not config.hub.url else False,
    }
