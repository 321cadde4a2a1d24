"""The reply budget: how many automatic SMS one incoming number may cause the appliance to send.

Caller ID can be spoofed, so every SMS the relay would send because of an incoming one (a reply,
a refusal, a forward to the leader, an alert) is charged to the number it came from:
- at most `relay.replies_per_hour` in any sliding hour, officials included;
- for residents, at most one SMS back to them (reply or refusal), and one of each other kind
  (forward, withdrawal notice, alert), per `relay.reply_interval_seconds`;
- a refusal to a number that is neither an official nor a resident at most once a day.

Each grant is one INSERT … SELECT … WHERE statement: SQLite runs it under the write lock, so
concurrent gateways, processes or threads can never together exceed the budget.
"""
from __future__ import annotations

from dataclasses import dataclass

from sms.storage import Database, Migration

MIGRATIONS = [
    Migration("0001_budget", """
        CREATE TABLE relay_budget (
            id INTEGER PRIMARY KEY,
            source TEXT NOT NULL,
            kind TEXT NOT NULL,
            channel TEXT NOT NULL,
            at_ts REAL NOT NULL
        );
        CREATE INDEX relay_budget_source ON relay_budget(source, at_ts);
    """),
]

HOUR = 3600.0
DAY = 86400.0

_GRANT_SQL = """
    INSERT INTO relay_budget (source, kind, channel, at_ts)
    SELECT :source, :kind, :channel, :now
    WHERE (SELECT COUNT(*) FROM relay_budget WHERE source = :source AND at_ts > :now - 3600.0) < :per_hour
      AND NOT EXISTS (SELECT 1 FROM relay_budget WHERE source = :source AND channel = :channel
                      AND at_ts > :now - :spacing)
      AND NOT (:once_a_day AND EXISTS (SELECT 1 FROM relay_budget WHERE source = :source AND kind = :kind
                                        AND at_ts > :now - 86400.0))
"""


@dataclass(frozen=True)
class Limits:
    """per_hour: SMS per sliding hour; spacing: seconds between two of the same kind (0: none);
    once_a_day: at most one of this kind per 24 h."""
    per_hour: int
    spacing: float = 0.0
    once_a_day: bool = False


TO_SENDER = ("reply", "refusal")


def grant(db: Database, source: str, kind: str, limits: Limits, now_ts: float) -> bool:
    """True if one more SMS of `kind` caused by `source` is within budget (and it is charged)."""
    channel = "sender" if kind in TO_SENDER else kind
    with db.transaction() as conn:
        return conn.execute(_GRANT_SQL, {
            "source": source, "kind": kind, "channel": channel, "now": now_ts, "per_hour": limits.per_hour,
            "spacing": limits.spacing, "once_a_day": int(limits.once_a_day)}).rowcount == 1


def used(db: Database, source: str, now_ts: float) -> int:
    """SMS charged to `source` in the hour before `now_ts`."""
    return db.scalar("SELECT COUNT(*) FROM relay_budget WHERE source = ? AND at_ts > ?", (source, now_ts - HOUR))


def purge(db: Database, now_ts: float) -> int:
    """Forget charges older than a day (they no longer count toward any limit)."""
    with db.transaction() as conn:
        return conn.execute("DELETE FROM relay_budget WHERE at_ts < ?", (now_ts - DAY,)).rowcount
