"""Working days in Vietnam: Monday to Friday, minus the public holidays, Tết included.

The holiday calendar is the `holidays` package's Vietnam calendar (lunar holidays computed: Tết,
Giỗ Tổ Hùng Vương; observed and substituted days as the government announces them). The kiosk
uses it for the estimated appointment date it prints; the official date always comes from the
centre, so a calendar a year out of date costs an estimate, never a promise.
"""
from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays


@lru_cache(maxsize=8)
def _calendar(year: int) -> holidays.HolidayBase:
    # Two years at once: a date near the end of December counts into January.
    return holidays.country_holidays("VN", years=(year, year + 1))


def holiday_name(day: date) -> str | None:
    """The public holiday on `day` (English name from the calendar), or None."""
    return _calendar(day.year).get(day)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and holiday_name(day) is None


def next_working_day(day: date) -> date:
    """`day` itself when it is a working day, else the first working day after it."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def add_working_days(start: date, days: int) -> date:
    """The date `days` working days after `start` (0 → `start`, or the next working day).

    A request made on a holiday or at a weekend counts from the next working day, as the centre does.
    """
    if days < 0:
        raise ValueError(f"days must be 0 or more, got {days}")
    day = next_working_day(start)
    for _ in range(days):
        day = next_working_day(day + timedelta(days=1))
    return day
