"""What the appliance knows about itself right now: duty, modem, printer, hub.

One place for these facts, read by Home's status line, the hub heartbeat and `tdp doctor`.
"""
from __future__ import annotations

from kiosk.appliance.config import Config
from kiosk.appliance.probes import modem_state, printer_state
from kiosk.sync import hub_state


def modem_led(modem: dict | None) -> str:
    """The modem LED state (hardware.leds.BLINK_CODES) for a gateway health row."""
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
    """The status LEDs' facts (hardware.leds.Health) from a `gather()` snapshot."""
    from hardware.leds import Health
    printer = {"pdf": "pdf_mode", "ready": "ready", "stopped": "stopped"}.get(snapshot["printer"], "offline")
    return Health(help_called=help_called, hub_configured=bool(config.hub.url), hub_reachable=snapshot["hub"],
                  modem=modem_led(snapshot["modem"]), printer=printer)


def on_duty_names(db) -> list[str]:
    from kiosk.volunteers.duty import on_duty
    return [person["name"] for person in on_duty(db)]


def gather(db, config: Config) -> dict:
    """A snapshot: {"on_duty": [names], "modem": {...}|None, "printer": "ready"|"pdf"|"offline"|"stopped", "hub": bool|None}."""
    return {
        "on_duty": on_duty_names(db),
        "modem": modem_state(db),
        "printer": printer_state(config),
        "hub": hub_state(db, config),
    }
