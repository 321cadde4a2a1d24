"""The notices' periodic work, run from the SMS gateway's housekeeping thread (about once a
second, kiosk.appliance.wiring.KioskTicker): due scheduled notices, questions to close, the
evening digest.

Every step claims its work in the store (an occurrence row, a question's closing UPDATE, a
digest day), so a second gateway, a CLI run at the same moment or a restart never repeats it.
"""
from __future__ import annotations

import logging
from datetime import datetime

from sms.storage import Database

from kiosk import clock
from kiosk.appliance.config import Config
from kiosk.notices import digest, questions, schedule

log = logging.getLogger(__name__)


def tick(db: Database, config: Config, now: datetime | None = None) -> dict:
    """One pass at `now` (UTC): what was sent, closed and digested."""
    now = now or clock.utc_now()
    return {"occurrences": schedule.run_due(db, config, now), "questions_closed": questions.close_due(db, now),
            "digest": digest.run_due(db, config, now)}
