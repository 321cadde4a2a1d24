"""When parts may go out: attempts and backoff, quiet hours, the per-modem rate, validity.

The gateway builds a Policy from its settings (sms/settings.py); sms/outbox.py applies it when a
modem claims a part. Quiet hours hold broadcasts only (see outbox.KINDS).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time as clock_time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import OutboxError


@dataclass(frozen=True)
class Policy:
    """How parts are released to modems; the gateway builds it from config.

    Times in seconds unless named otherwise; quiet hours are "HH:MM" local time in `timezone`.
    """
    max_attempts: int = 5
    quiet_start: str = "21:00"
    quiet_end: str = "06:00"
    timezone: str = "Asia/Ho_Chi_Minh"
    parts_per_minute: int = 0
    validity_hours: float = 24.0
    backoff_base: float = 15.0
    backoff_max: float = 900.0

    def backoff(self, attempts: int) -> float:
        """Seconds to wait before attempt `attempts + 1`: doubling from backoff_base, capped."""
        return min(self.backoff_base * (2 ** max(0, attempts - 1)), self.backoff_max)

    def in_quiet_hours(self, now: datetime) -> bool:
        start, end = _hhmm(self.quiet_start), _hhmm(self.quiet_end)
        if start == end:
            return False
        try:
            local = now.astimezone(ZoneInfo(self.timezone)).time()
        except ZoneInfoNotFoundError:
            raise OutboxError(f"unknown time zone {self.timezone!r} for quiet hours") from None
        if start < end:
            return start <= local < end
        return local >= start or local < end


DEFAULT_POLICY = Policy()


def _hhmm(value: str) -> clock_time:
    try:
        hours, minutes = value.split(":")
        return clock_time(int(hours), int(minutes))
    except ValueError:
        raise OutboxError(f"quiet hours must be HH:MM, got {value!r}") from None
