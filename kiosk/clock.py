"""The one home for time: the store's UTC timestamps, and days and times in the site's timezone.

The store keeps every moment as UTC ISO 8601 text with seconds ("2026-12-03T04:05:06+00:00");
people see days and times in the site's timezone (config `site.timezone`), written the way
Vietnamese documents write them (03/12/2026 11:05). sms/ keeps its own (it must not import kiosk).
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

DEFAULT_ZONE = "Asia/Ho_Chi_Minh"


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def utc_stamp(at: datetime | None = None) -> str:
    """`at` (aware; default now) as the store's UTC ISO timestamp with seconds."""
    at = at or utc_now()
    if at.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return at.astimezone(timezone.utc).isoformat(timespec="seconds")


def parse_utc(text: str) -> datetime:
    """A store timestamp back to an aware datetime (naive text is taken as UTC)."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def local_today(zone: str = DEFAULT_ZONE, at: datetime | None = None) -> date:
    """The calendar day at the site (`zone`, an IANA name) at `at` (default now)."""
    return (at or utc_now()).astimezone(ZoneInfo(zone)).date()


def local_time(zone: str, stamp: str | datetime) -> datetime:
    """A store timestamp (or aware datetime) in the site's timezone."""
    moment = parse_utc(stamp) if isinstance(stamp, str) else stamp
    return moment.astimezone(ZoneInfo(zone))


def display_date(iso_day: str | None) -> str:
    """'2026-12-08' → '08/12/2026'; '' for nothing."""
    if not iso_day:
        return ""
    return date.fromisoformat(iso_day[:10]).strftime("%d/%m/%Y")


def display_time(zone: str, stamp: str | None) -> str:
    """A store timestamp as '03/12/2026 11:05' in the site's timezone; '' for nothing."""
    if not stamp:
        return ""
    return local_time(zone, stamp).strftime("%d/%m/%Y %H:%M")
