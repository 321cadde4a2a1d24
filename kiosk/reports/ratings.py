"""Anonymous satisfaction ratings taken at the kiosk after each completed service.

A rating is the service (request handed in, guide printed, volunteer help closed), the local
day, a score and, for "Chưa hài lòng", an optional reason. Nothing else is stored: no person,
no request, no time of day (a timestamp could be matched to a request), so a rating can never
be traced back to a resident. The ward report computes counts and the share satisfied with SQL.
"""
from __future__ import annotations

from datetime import datetime

from sms.storage import Database, Migration

from kiosk.appliance.config import Config
from kiosk.errors import InvalidInput
from kiosk import clock

MIGRATIONS = [
    Migration("0001_ratings", """
        CREATE TABLE ratings (
            id INTEGER PRIMARY KEY,
            service TEXT NOT NULL CHECK (service IN ('request', 'guide', 'help')),
            day TEXT NOT NULL,
            score INTEGER NOT NULL CHECK (score BETWEEN 1 AND 4),
            reason TEXT CHECK (reason IN ('waited_too_long', 'hard_to_use', 'missing_information', 'staff'))
        );
        CREATE INDEX ratings_day ON ratings(day);
    """),
]

SERVICES = {"request": "Nộp hồ sơ", "guide": "Hướng dẫn thủ tục", "help": "Hỗ trợ của tình nguyện viên"}
SCORES = {1: "Rất hài lòng", 2: "Hài lòng", 3: "Bình thường", 4: "Chưa hài lòng"}
SATISFIED = (1, 2)
REASONS = {"waited_too_long": "Chờ lâu", "hard_to_use": "Khó sử dụng",
           "missing_information": "Thiếu thông tin", "staff": "Thái độ phục vụ"}


def add(db: Database, config: Config, service: str, score: int, reason: str | None = None,
        at: datetime | None = None) -> dict:
    """Record one rating on today's local date; returns what was stored (no id: it identifies nothing)."""
    if service not in SERVICES:
        raise InvalidInput(f"unknown service '{service}': use {', '.join(SERVICES)}")
    if isinstance(score, bool) or not isinstance(score, int) or score not in SCORES:
        raise InvalidInput(f"score must be 1 to 4 ({', '.join(f'{k} = {v}' for k, v in SCORES.items())})")
    if reason:
        if reason not in REASONS:
            raise InvalidInput(f"unknown reason '{reason}': use {', '.join(REASONS)}")
        if score != 4:
            raise InvalidInput("a reason is only asked for 'Chưa hài lòng' (score 4)")
    day = clock.local_today(config.site.timezone, at).isoformat()
    with db.transaction() as conn:
        conn.execute("INSERT INTO ratings (service, day, score, reason) VALUES (?, ?, ?, ?)",
                     (service, day, score, reason or None))
    return {"service": service, "day": day, "score": score, "label": SCORES[score], "reason": reason or None}
