"""Probes of single devices: the modem's health row and the printer's queue.

Pure reads with no knowledge of the rest of the appliance, so the status aggregator
(appliance.status) and the hub client (kiosk.sync) can both use them without depending on each other.
"""
from __future__ import annotations

from sms import gateway as sms_gateway

from kiosk.appliance.config import Config


def signal_bars(csq: int | None) -> int:
    """0–5 bars from AT+CSQ's 0–31 (99 = unknown), the way phones show it."""
    if csq is None or csq == 99 or csq <= 0:
        return 0
    return min(5, 1 + csq // 6)


def modem_state(db) -> dict | None:
    """The best modem's health row with `ok` and `bars`, or None when no gateway has reported."""
    rows = sms_gateway.health(db)
    if not rows:
        return None
    best = max(rows, key=lambda r: (r["state"] == "ok", r["signal"] or 0))
    return {**best, "ok": best["state"] == "ok", "bars": signal_bars(best["signal"])}


def printer_state(config: Config) -> str:
    """"pdf" (no queue: receipts saved as files), "ready", "offline" (no such queue, CUPS down) or
    "stopped" (paused, rejecting jobs, out of paper, door open…)."""
    if not config.printer.queue:
        return "pdf"
    from hardware.printer import CupsPrinter, PrinterError, blocking_message
    try:
        status = CupsPrinter(config.printer.queue).status()
    except PrinterError:
        return "offline"
    blocked = status.state == "stopped" or not status.accepting or blocking_message(status.reasons)
    return "stopped" if blocked else "ready"
