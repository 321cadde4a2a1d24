"""The hub's own settings (the CLI maps `[hub_server]`/`[sms]` config onto them; hub never reads kiosk config)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class HubSettings:
    """Everything the hub app and admin operations need to know, with units."""
    database: str                      # SQLAlchemy URL
    heartbeat_seconds: int = 30        # seconds between kiosk heartbeats
    offline_after_missed: int = 3      # missed heartbeats before a kiosk counts as offline
    max_parts: int = 10                # a notice over this many SMS parts is refused
    price_per_part: int = 350          # VND per SMS part, for the cost shown while composing
    online_target: float = 0.8         # target share (0-1) of requests submitted online
    login_max_failures: int = 5        # failed logins from one address before that address is locked out
    account_max_failures: int = 20     # failed logins to one account (from any address) before it is locked
    lockout_minutes: int = 15          # first lockout, in minutes; each repeat within a day doubles it
    session_hours: int = 12            # console session lifetime, in hours
    handout_lease_seconds: int = 120   # a notice handed out but never acknowledged is handed again after this
    max_body_bytes: int = 64 * 1024    # largest accepted API request body, in bytes
    change_check_seconds: float = 0.5  # how often each process checks for new notices/revocations, in seconds
    timezone: str = "Asia/Ho_Chi_Minh"  # the ward's IANA time zone: every time shown, the report's days
    quiet_start: str = "21:00"         # kiosks hold non-urgent SMS from this local time (HH:MM)…
    quiet_end: str = "06:00"           # …until this one, so the console can say "chờ đến 6:00 sáng"

    @property
    def offline_after_seconds(self) -> float:
        """Seconds without a heartbeat after which a kiosk is offline."""
        return self.heartbeat_seconds * self.offline_after_missed
