"""What the appliance knows about itself right now: duty, modem, printer, hub.

One place for these facts, read by Home's status line, the hub heartbeat and `tdp doctor`.
"""
from __future__ import annotations

from sms import gateway as sms_gateway

from .config import Config


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


def modem_led(modem: dict | None) -> str:
    """The modem LED state (hardware.status.BLINK_CODES) for a gateway health row."""
    if modem is None or modem["state"] in ("dead", "stopped"):
        return "no_modem"
    error = (modem.get("last_error") or "").lower()
    if "sim not inserted" in error:
        return "no_sim"
    if "sim pin" in error or "sim puk" in error:
        return "sim_locked"
    registration = modem.get("registration") or ""
    if registration in ("home", "roaming"):
        return "registered"
    return "denied" if registration == "denied" else "searching"


def led_health(snapshot: dict, config: Config, *, help_called: bool = False):
    """The status LEDs' facts (hardware.status.Health) from a `gather()` snapshot."""
    from hardware.status import Health
    printer = {"pdf": "pdf_mode", "ready": "ready", "stopped": "stopped"}.get(snapshot["printer"], "offline")
    return Health(help_called=help_called, hub_configured=bool(config.hub.url), hub_reachable=snapshot["hub"],
                  modem=modem_led(snapshot["modem"]), printer=printer)


def on_duty_names(db) -> list[str]:
    from .volunteers import on_duty
    return [person["name"] for person in on_duty(db)]


def gather(db, config: Config) -> dict:
    """A snapshot: {"on_duty": [names], "modem": {...}|None, "printer": "ready"|"pdf"|"down", "hub": bool|None}."""
    from .sync import hub_state
    return {
        "on_duty": on_duty_names(db),
        "modem": modem_state(db),
        "printer": printer_state(config),
        "hub": hub_state(db, config),
    }
