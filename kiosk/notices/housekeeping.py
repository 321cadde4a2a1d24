"""The notices' periodic work, run from the SMS gateway's housekeeping thread (about once a
second) through `on_tick`: due scheduled notices, questions to close, the evening digest.

Every step claims its work in the store (an occurrence row, a question's closing UPDATE, a
digest day), so a second gateway, a CLI run at the same moment or a restart never repeats it.
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Callable

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


def ticker(config: Config, store_path: str, now: Callable[[], datetime] | None = None,
           then: Callable[[], None] | None = None) -> Callable[[], None]:
    """A function for the gateway's `on_tick`: opens its own store connection on first call (it runs
    on the gateway's housekeeping thread), then does one `tick` per call and calls `then`."""
    from kiosk.appliance.store import open_store
    state: dict = {}

    def on_tick() -> None:
        try:
            if "db" not in state:
                state["db"] = open_store(store_path)
            tick(state["db"], config, now() if now else None)
        finally:
            if then is not None:
                then()

    def close() -> None:
        if "db" in state:
            state.pop("db").close()
    on_tick.close = close
    return on_tick
