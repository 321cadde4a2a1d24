"""What typing alone cannot catch in a config: values that would make a service fail later.

`problems(config)` returns one line per problem, each starting with the key, so `tdp config
check`, `tdp doctor` and first boot refuse the same things, before the gateway or the UI does.
"""
from __future__ import annotations

import ipaddress
import re
import zoneinfo
from urllib.parse import urlsplit

from kiosk.appliance.config import Config
from kiosk.errors import TdpError

HHMM = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
PAPERS = ("58mm", "80mm", "a5", "a4")
MIN_PIN = 4
# key: (lowest, highest) for numbers where a value outside makes no sense or breaks a service.
RANGES = {
    "sms.parts_per_minute": (0, 600), "sms.max_parts": (1, 255), "sms.max_attempts": (1, 100),
    "sms.validity_hours": (1, 24 * 63), "sms.price_per_part": (0, 100_000), "sms.retry_seconds": (0.1, 3600),
    "sms.send_timeout_seconds": (1, 600), "sms.recovery_seconds": (0.1, 600),
    "sms.incomplete_after_minutes": (0.1, 24 * 60), "modem.baudrate": (1200, 4_000_000),
    "printer.job_timeout": (1, 3600), "ui.width": (320, 10_000), "ui.height": (240, 10_000),
    "ui.dpi": (50, 1000), "ui.idle_seconds": (5, 86_400), "ui.countdown_seconds": (1, 3600),
    "volunteers.min_per_session": (1, 100), "volunteers.pin_max_failures": (1, 100),
    "volunteers.lockout_minutes": (1, 24 * 60), "volunteers.reminder_hour": (0, 23),
    "report.online_target": (0, 1), "relay.pin_failures_per_hour": (1, 100),
    "relay.reply_interval_seconds": (0, 86_400), "relay.confirm_above": (0, 1_000_000),
    "relay.confirm_minutes": (1, 24 * 60), "hub.poll_seconds": (1, 3600), "hub_server.port": (1, 65_535),
    "hub_server.heartbeat_seconds": (1, 3600), "hub_server.offline_after_missed": (1, 1000),
    "hub_server.login_max_failures": (1, 100), "hub_server.account_max_failures": (1, 1000),
    "hub_server.lockout_minutes": (1, 24 * 60),
    "voice.rate": (40, 500), "voice.volume": (0, 200), "gpio.power_key_on_ms": (10, 10_000),
    "gpio.power_key_off_ms": (10, 10_000), "gpio.debounce_ms": (0, 5000),
}
GPIO_PINS = ("help_button", "led_ready", "led_internet", "led_modem", "led_printer", "modem_power_key")


def _value(config: Config, key: str):
    section, name = key.split(".")
    return getattr(getattr(config, section), name)


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def problems(config: Config) -> list[str]:
    """One line per problem, each naming its key; empty if the config is usable."""
    from kiosk.directory.phone import InvalidPhone, normalise
    from kiosk.volunteers import rota
    found = []
    try:
        zoneinfo.ZoneInfo(config.site.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        found.append(f'site.timezone: unknown time zone {config.site.timezone!r} (use "Asia/Ho_Chi_Minh")')
    for key in ("sms.quiet_start", "sms.quiet_end"):
        if not HHMM.fullmatch(_value(config, key)):
            found.append(f"{key}: {_value(config, key)!r} is not a time of day HH:MM (00:00 to 23:59)")
    for check in (rota.templates, rota.session_hours):
        try:
            check(config)
        except TdpError as exc:
            found.append(str(exc))
        except ValueError:
            pass    # an impossible time such as 24:30: reported with its key just below
    for line in config.volunteers.session_hours:
        _, _, hours = line.partition("=")
        if hours and not all(HHMM.fullmatch(part) for part in hours.split("-")):
            found.append(f"volunteers.session_hours: {line!r}: times must be HH:MM (00:00 to 23:59)")
    for key, (low, high) in RANGES.items():
        value = _value(config, key)
        if not low <= value <= high:
            found.append(f"{key}: {value} is out of range ({low} to {high})")
    if config.ui.rotation not in (0, 90, 180, 270):
        found.append(f"ui.rotation: {config.ui.rotation} must be 0, 90, 180 or 270")
    if config.ui.language not in ("vi", "en"):
        found.append(f"ui.language: {config.ui.language!r} must be vi or en")
    if config.printer.paper not in PAPERS:
        found.append(f"printer.paper: {config.printer.paper!r} is not one of {', '.join(PAPERS)}")
    if config.printer.queue and not re.fullmatch(r"[A-Za-z0-9_\-]{1,127}", config.printer.queue):
        found.append(f"printer.queue: {config.printer.queue!r}: use letters, digits, - and _ only")
    for name in GPIO_PINS:
        if not 0 <= getattr(config.gpio, name) <= 27:
            found.append(f"gpio.{name}: {getattr(config.gpio, name)} is not a BCM pin (0 to 27)")
    if not 0 <= config.gpio.buzzer <= 27:
        found.append(f"gpio.buzzer: {config.gpio.buzzer} is not a BCM pin (0 to 27, 0 for none)")
    found += _hub_url(config.hub.url)
    for i, official in enumerate(config.relay.officials):
        pin = official.pin
        if not (pin.isascii() and pin.isdigit() and len(pin) >= MIN_PIN):
            found.append(f"relay.officials[{i}].pin: must be at least {MIN_PIN} digits (SMS commands are "
                         "guarded by it alone)")
        elif len(set(pin)) == 1 or pin in "0123456789" or pin in "9876543210":
            found.append(f"relay.officials[{i}].pin: {'*' * len(pin)} is too easy to guess (repeated or "
                         "consecutive digits)")
    phones = [(f"relay.officials[{i}].phone", o.phone) for i, o in enumerate(config.relay.officials)]
    phones += [("relay.group_leader_phone", config.relay.group_leader_phone),
               ("relay.police_phone", config.relay.police_phone)]
    for key, number in phones:
        if number:
            try:
                normalise(number)
            except InvalidPhone as exc:
                found.append(f"{key}: {exc}")
    return found


def _hub_url(url: str) -> list[str]:
    if not url:
        return []
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port
    except ValueError:
        return [f"hub.url: {url!r} is not a URL"]
    if parts.scheme not in ("http", "https") or not host:
        return [f"hub.url: {url!r} must start with https://"]
    if parts.scheme == "http" and not is_loopback(host):
        return [f"hub.url: {url!r}: use https:// (plain http is allowed only for a hub on this machine)"]
    return []
