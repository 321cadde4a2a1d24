"""The boot partition's files as text: Wi-Fi settings in, config.txt/cmdline.txt edits out.

Pure functions (no file system writes) used by kiosk.appliance.firstboot; every edit is idempotent, so
applying it to its own output changes nothing.
"""
from __future__ import annotations

import re
import tomllib
import uuid
from pathlib import Path

from kiosk.errors import TdpError

UART_LINES = ("enable_uart=1", "dtoverlay=disable-bt")  # PL011 on GPIO14/15: a steady baud rate
SERIAL_CONSOLES = re.compile(r"^console=(serial0|serial1|ttyAMA0|ttyS0)(,\d+)?$")


def read_wifi(boot: Path) -> tuple[Path | None, dict]:
    """The Wi-Fi file on BOOT (wifi.toml, else wifi.txt with key=value lines) and its settings."""
    toml_file, text_file = boot / "wifi.toml", boot / "wifi.txt"
    if toml_file.is_file():
        try:
            return toml_file, tomllib.loads(toml_file.read_text(encoding="utf-8-sig"))
        except tomllib.TOMLDecodeError as exc:
            raise TdpError(f"not valid TOML: {exc}") from None
    if text_file.is_file():
        settings = {}
        for number, line in enumerate(text_file.read_text(encoding="utf-8-sig").splitlines(), 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            key, sep, value = line.partition("=")
            if not sep:
                raise TdpError(f"line {number}: expected key=value, got {line!r}")
            settings[key.strip().lower()] = value.strip().strip('"')
        return text_file, settings
    return None, {}


def wifi_problems(settings: dict) -> list[str]:
    problems = []
    unknown = set(settings) - {"ssid", "password", "country", "hidden"}
    if unknown:
        problems.append(f"unknown key(s) {', '.join(sorted(unknown))} (known: ssid, password, country, hidden)")
    ssid, password = str(settings.get("ssid", "")), str(settings.get("password", ""))
    country = str(settings.get("country", "VN"))
    if not 1 <= len(ssid.encode()) <= 32:
        problems.append("ssid: the network name must be 1-32 bytes")
    if password and not (8 <= len(password) <= 63):
        problems.append("password: a WPA password has 8-63 characters (leave it empty for an open network)")
    if any(ord(c) < 32 for c in ssid + password):
        problems.append("ssid/password: must not contain control characters or line breaks")
    if not re.fullmatch(r"[A-Z]{2}", country):
        problems.append(f"country: {country!r} must be a two-letter code such as VN")
    return problems


def _keyfile_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace(";", "\\;")


def wifi_keyfile(settings: dict) -> str:
    """A NetworkManager keyfile for the network in `settings` (validated by wifi_problems)."""
    ssid, password = str(settings["ssid"]), str(settings.get("password", ""))
    hidden = str(settings.get("hidden", "false")).lower() in ("1", "true", "yes")
    lines = ["[connection]", "id=tdp-wifi", f"uuid={uuid.uuid5(uuid.NAMESPACE_URL, 'tdp-wifi:' + ssid)}",
             "type=wifi", "autoconnect=true", "", "[wifi]", "mode=infrastructure",
             f"ssid={_keyfile_escape(ssid)}", f"hidden={'true' if hidden else 'false'}", ""]
    if password:
        lines += ["[wifi-security]", "key-mgmt=wpa-psk", f"psk={_keyfile_escape(password)}", ""]
    lines += ["[ipv4]", "method=auto", "", "[ipv6]", "method=auto", "addr-gen-mode=default", ""]
    return "\n".join(lines)


def edit_config_txt(text: str) -> str:
    """config.txt with the UART enabled for the HAT, under an [all] section; idempotent."""
    lines = [line for line in text.splitlines() if line.strip() not in ("enable_uart=0",)]
    section, present = "all", set()
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            section = stripped[1:-1].strip()
        elif section == "all" and stripped in UART_LINES:
            present.add(stripped)
    missing = [line for line in UART_LINES if line not in present]
    if missing:
        lines += ["", "[all]", "# TDP Kiosk: the modem HAT's serial port on GPIO14/15 (first boot)", *missing]
    return "\n".join(lines) + "\n"


def edit_cmdline(text: str, country: str | None) -> str:
    """cmdline.txt (one line) without a serial console and with the Wi-Fi country; idempotent."""
    words = [w for w in text.split() if not SERIAL_CONSOLES.match(w)]
    if country:
        words = [w for w in words if not w.startswith("cfg80211.ieee80211_regdom=")]
        words.append(f"cfg80211.ieee80211_regdom={country}")
    return " ".join(words) + "\n"
