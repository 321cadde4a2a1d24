"""The monthly SMS budget: config `notices.budget_parts` or `notices.budget_dong` (VND).

What counts is every SMS part created this local calendar month that is sent or still to be sent
(sms.outbox.parts_spent): notices, replies and alerts alike, since the SIM pays for all of them.
The group leader gets one warning SMS when the month reaches `budget_warn_percent` and one when
it is used up. Beyond the budget, non-urgent notices are refused with a reason the sender sees
(the CLI's error line, the hub's console, an SMS to an official); urgent ones always go.
"""
from __future__ import annotations

from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

from sms import outbox
from sms.storage import Database, Migration

from kiosk import clock
from kiosk.appliance.config import Config
from kiosk.errors import TdpError

MIGRATIONS = [
    Migration("0001_budget", """
        CREATE TABLE budget_alerts (
            month TEXT NOT NULL,
            level INTEGER NOT NULL,
            at TEXT NOT NULL,
            PRIMARY KEY (month, level)
        );
    """),
]


class BudgetExceeded(TdpError):
    """A non-urgent send refused because the month's SMS budget would be exceeded."""


def limit_parts(config: Config) -> int | None:
    """The month's budget in parts (the lower of the two settings), or None when there is none."""
    limits = []
    if config.notices.budget_parts > 0:
        limits.append(config.notices.budget_parts)
    if config.notices.budget_dong > 0 and config.sms.price_per_part > 0:
        limits.append(config.notices.budget_dong // config.sms.price_per_part)
    return min(limits) if limits else None


def month_bounds(zone: str, at: datetime) -> tuple[datetime, datetime]:
    """[first of this local month 00:00, first of next) as aware UTC datetimes."""
    day = clock.local_today(zone, at)
    start = date(day.year, day.month, 1)
    end = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    tz = ZoneInfo(zone)
    return (datetime.combine(start, time(0), tz).astimezone(timezone.utc),
            datetime.combine(end, time(0), tz).astimezone(timezone.utc))


def status(db: Database, config: Config, now: datetime | None = None) -> dict:
    """{"month", "used_parts", "used_dong", "limit_parts", "limit_dong", "share"} for this month."""
    now = now or clock.utc_now()
    low, high = month_bounds(config.site.timezone, now)
    used = outbox.parts_spent(db, low.timestamp(), high.timestamp())
    limit = limit_parts(config)
    price = config.sms.price_per_part
    return {"month": clock.local_today(config.site.timezone, now).strftime("%Y-%m"), "used_parts": used,
            "used_dong": used * price, "limit_parts": limit, "limit_dong": None if limit is None else limit * price,
            "share": round(used / limit, 4) if limit else None}


def check(db: Database, config: Config, parts: int, now: datetime | None = None) -> None:
    """BudgetExceeded if sending `parts` more (non-urgent) would go beyond this month's budget."""
    limit = limit_parts(config)
    if limit is None:
        return
    state = status(db, config, now)
    if state["used_parts"] + parts > limit:
        left = max(0, limit - state["used_parts"])
        raise BudgetExceeded(
            f"monthly SMS budget reached: {state['used_parts']} of {limit} parts used in {state['month']}, "
            f"this notice needs {parts} (only {left} left); send it --urgent or raise notices.budget_parts",
            f"Het ngan sach SMS thang {state['month']}: da dung {state['used_parts']}/{limit} tin, "
            f"thong bao can {parts} tin")


def after_send(db: Database, config: Config, now: datetime | None = None) -> str | None:
    """Warn the group leader once a month at the warning share and once at 100 %; the level sent."""
    limit = limit_parts(config)
    if limit is None:
        return None
    from kiosk.directory import phone as phones
    try:
        leader = phones.normalise(config.relay.group_leader_phone)
    except phones.InvalidPhone:
        return None
    state = status(db, config, now)
    share = state["used_parts"] / limit
    level = 100 if share >= 1 else config.notices.budget_warn_percent if share * 100 >= config.notices.budget_warn_percent else None
    if level is None:
        return None
    with db.transaction() as conn:
        if not conn.execute("INSERT INTO budget_alerts (month, level, at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                            (state["month"], level, clock.utc_stamp(now))).rowcount:
            return None
        text = (f"TDP: Da dung {state['used_parts']}/{limit} tin SMS thang {state['month']} "
                f"({round(share * 100)}%, ~{state['used_dong']:,} d)."
                + (" Tin khong khan se bi tu choi." if level == 100 else ""))
        outbox.enqueue(db, leader, text, priority="urgent", key=f"budget:{state['month']}:{level}",
                       unaccented=True, force=True, source="notice", now=now)
    return str(level)
