"""Times as officials read them: the ward's time zone, written dd/mm/yyyy HH:mm, and its quiet hours.

The hub stores Unix seconds (and the kiosks' ISO UTC stamps); nothing is ever shown in UTC.
hub/ may not import kiosk/, so this is the hub's own small counterpart of kiosk/clock.py.
"""
from __future__ import annotations

import time as _time
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import InvalidInput


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown time zone {name!r}", f"Múi giờ {name!r} không tồn tại") from None


def _moment(value: float | str | datetime | None) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, timezone.utc)
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def local(value: float | str | datetime | None, zone_name: str) -> datetime | None:
    """Unix seconds, an ISO stamp or an aware datetime, in the ward's zone."""
    moment = _moment(value)
    return moment.astimezone(zone(zone_name)) if moment else None


def display(value, zone_name: str) -> str:
    """'03/12/2026 02:59' in the ward's zone; '' for nothing."""
    moment = local(value, zone_name)
    return moment.strftime("%d/%m/%Y %H:%M") if moment else ""


def clock_of(value, zone_name: str) -> str:
    """Just 'HH:mm' in the ward's zone."""
    moment = local(value, zone_name)
    return moment.strftime("%H:%M") if moment else ""


def day(iso_day: str) -> str:
    """'2026-12-03' → '03/12/2026'."""
    return date.fromisoformat(iso_day[:10]).strftime("%d/%m/%Y")


def wall(text: str | None) -> str:
    """A kiosk wall-clock time 'YYYY-MM-DD HH:MM' (a schedule) as '24/12/2026 08:00'."""
    if not text:
        return ""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").strftime("%d/%m/%Y %H:%M")


def ago(value, now: float | None = None) -> str:
    """How long ago, in plain Vietnamese: 'vừa xong', '15 phút', '2 giờ', '3 ngày'."""
    moment = _moment(value)
    if moment is None:
        return ""
    seconds = max(0.0, (now if now is not None else _time.time()) - moment.timestamp())
    if seconds < 60:
        return "vừa xong"
    if seconds < 3600:
        return f"{int(seconds // 60)} phút"
    if seconds < 86400:
        return f"{int(seconds // 3600)} giờ"
    return f"{int(seconds // 86400)} ngày"


def today(zone_name: str, now: float | None = None) -> date:
    """The ward's calendar day now (not the UTC one: from 00:00 to 07:00 they differ)."""
    return datetime.fromtimestamp(now if now is not None else _time.time(), zone(zone_name)).date()


def _hhmm(text: str) -> time:
    try:
        hours, minutes = text.split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise InvalidInput(f"not an HH:MM time: {text!r}") from None


def in_quiet_hours(zone_name: str, start: str, end: str, now: float | None = None) -> bool:
    """Whether kiosks are holding non-urgent SMS now (the same rule as sms.outbox.Policy)."""
    current = datetime.fromtimestamp(now if now is not None else _time.time(), zone(zone_name)).time()
    begin, finish = _hhmm(start), _hhmm(end)
    if begin == finish:
        return False
    if begin < finish:
        return begin <= current < finish
    return current >= begin or current < finish


def spoken_hour(text: str) -> str:
    """'06:00' → '6:00 sáng', '21:00' → '21:00' (how the end of the night is said)."""
    moment = _hhmm(text)
    label = f"{moment.hour}:{moment.minute:02d}"
    return f"{label} sáng" if moment.hour < 12 else label
