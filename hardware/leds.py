"""Status LED patterns: which state shows which blink code. Pure data and functions, no GPIO.

A pattern is a string of ticks ("1" LED on, "0" off), played in a loop; one tick lasts
`TICK_SECONDS` (100 ms) on the appliance. A code of N short blinks followed by a pause is
easy to count by eye, so every fault is "N blinks, pause". The table in docs/appliance.md is
generated from `BLINK_CODES`, so the documentation cannot drift from the code.
"""
from __future__ import annotations

from dataclasses import dataclass

TICK_SECONDS = 0.1

STEADY_ON = "1"
OFF = "0"
SLOW_BLINK = "1" * 10 + "0" * 10        # 1 s on, 1 s off: working on it, please wait
FAST_BLINK = "10"                       # 100 ms on, 100 ms off: busy right now (power-cycling)

LEDS = ("ready", "internet", "modem", "printer")


def code(blinks: int) -> str:
    """N short blinks (200 ms on, 300 ms off), then a 1.5 s pause, as a tick pattern."""
    if not 1 <= blinks <= 9:
        raise ValueError(f"blink code must be 1-9, got {blinks}")
    return "11000" * blinks + "0" * 15


@dataclass(frozen=True)
class BlinkCode:
    led: str
    state: str
    pattern: str
    meaning_vi: str
    meaning_en: str


BLINK_CODES: tuple[BlinkCode, ...] = (
    BlinkCode("ready", "ready", STEADY_ON, "Máy sẵn sàng", "Kiosk ready"),
    BlinkCode("ready", "starting", SLOW_BLINK, "Đang khởi động", "Starting up"),
    BlinkCode("ready", "help_called", FAST_BLINK, "Đã gọi tình nguyện viên", "Volunteer called (help button)"),
    BlinkCode("ready", "fault", code(1), "Phần mềm lỗi: chạy `tdp doctor`", "Software fault: run `tdp doctor`"),
    BlinkCode("ready", "clock_wrong", code(2), "Đồng hồ sai: kiểm tra Internet/NTP", "Clock wrong: check internet/NTP"),
    BlinkCode("ready", "disk_full", code(3), "Thẻ nhớ sắp đầy", "SD card nearly full"),
    BlinkCode("internet", "online", STEADY_ON, "Kết nối máy chủ tốt", "Hub reachable"),
    BlinkCode("internet", "standalone", OFF, "Không cấu hình máy chủ (chạy độc lập)", "No hub configured (standalone)"),
    BlinkCode("internet", "no_network", code(2), "Mất mạng (Wi-Fi/cáp)", "No network (Wi-Fi/cable)"),
    BlinkCode("internet", "hub_unreachable", code(3), "Có mạng nhưng không tới được máy chủ",
              "Network up, hub unreachable"),
    BlinkCode("modem", "registered", STEADY_ON, "Modem đã đăng ký mạng", "Modem registered on the network"),
    BlinkCode("modem", "searching", SLOW_BLINK, "Modem đang tìm mạng", "Modem searching for a network"),
    BlinkCode("modem", "power_cycling", FAST_BLINK, "Đang khởi động lại modem", "Power-cycling the modem"),
    BlinkCode("modem", "no_modem", code(1), "Modem không trả lời (tin nhắn được giữ trong hàng đợi)",
              "Modem not answering (SMS queue kept)"),
    BlinkCode("modem", "no_sim", code(2), "Không có SIM", "No SIM card"),
    BlinkCode("modem", "sim_locked", code(3), "SIM cần mã PIN hoặc bị khóa", "SIM needs a PIN or is locked"),
    BlinkCode("modem", "denied", code(4), "Nhà mạng từ chối đăng ký", "Registration denied by the carrier"),
    BlinkCode("printer", "ready", STEADY_ON, "Máy in sẵn sàng", "Printer ready"),
    BlinkCode("printer", "pdf_mode", OFF, "Không có máy in: phiếu lưu PDF", "No printer: receipts saved as PDF"),
    BlinkCode("printer", "offline", code(2), "Máy in không kết nối", "Printer not connected"),
    BlinkCode("printer", "stopped", code(3), "Máy in dừng (hết giấy/kẹt giấy)", "Printer stopped (paper out/jam)"),
)

_BY_STATE = {(c.led, c.state): c for c in BLINK_CODES}


def pattern_for(led: str, state: str) -> str:
    """The tick pattern of `led` in `state`; an unknown state is a ValueError naming the known ones."""
    try:
        return _BY_STATE[(led, state)].pattern
    except KeyError:
        known = ", ".join(c.state for c in BLINK_CODES if c.led == led) or "none"
        raise ValueError(f"unknown state {state!r} for LED {led!r} (known: {known})") from None


def describe_pattern(pattern: str) -> str:
    """A short English description of a pattern for the README table."""
    if pattern == STEADY_ON:
        return "steady on"
    if pattern == OFF:
        return "off"
    if pattern == SLOW_BLINK:
        return "slow blink (1 s on, 1 s off)"
    if pattern == FAST_BLINK:
        return "fast flicker (5 per second)"
    blinks = pattern.count("11000")
    return f"{blinks} short blink{'s' if blinks > 1 else ''}, pause"


def blink_table() -> str:
    """The README's markdown table of every LED state."""
    rows = ["| LED | pattern | meaning | ý nghĩa |", "| --- | --- | --- | --- |"]
    rows += [f"| {c.led} | {describe_pattern(c.pattern)} | {c.meaning_en} | {c.meaning_vi} |" for c in BLINK_CODES]
    return "\n".join(rows)


@dataclass(frozen=True)
class Health:
    """Facts the appliance knows about itself; each None means "not known yet"."""
    starting: bool = False
    fault: bool = False
    help_called: bool = False
    clock_ok: bool = True
    disk_ok: bool = True
    hub_configured: bool = False
    network_up: bool | None = None
    hub_reachable: bool | None = None
    modem: str | None = None          # a modem LED state name from BLINK_CODES, e.g. "registered"
    printer: str | None = None        # a printer LED state name, e.g. "pdf_mode"


def states_for(health: Health) -> dict[str, str]:
    """LED name -> state name for these facts. Faults win over "ready" so the worst thing shows."""
    if health.fault:
        ready = "fault"
    elif health.help_called:
        ready = "help_called"
    elif not health.clock_ok:
        ready = "clock_wrong"
    elif not health.disk_ok:
        ready = "disk_full"
    elif health.starting:
        ready = "starting"
    else:
        ready = "ready"
    if not health.hub_configured:
        internet = "standalone"
    elif health.network_up is False:
        internet = "no_network"
    elif health.hub_reachable:
        internet = "online"
    else:
        internet = "hub_unreachable"
    return {
        "ready": ready,
        "internet": internet,
        "modem": health.modem or "searching",
        "printer": health.printer or "pdf_mode",
    }


def patterns_for(health: Health) -> dict[str, str]:
    """LED name -> tick pattern for these facts."""
    return {led: pattern_for(led, state) for led, state in states_for(health).items()}
