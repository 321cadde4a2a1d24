"""The group leader's evening digest: one SMS at `notices.digest_hour` (site timezone).

It counts the local day so far: registrations (DK) still awaiting confirmation, consent
withdrawals, help tickets opened and closed, residents' messages forwarded, and notices with
failed SMS, and names the command to see the details. A day with nothing to say sends nothing.
Each day is claimed once (`digest_days`), so a restart, a second gateway or a kiosk that comes
back on at 22:00 never sends it twice; a kiosk that was off all evening sends it when it is back,
the same day only.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sms import outbox
from sms.storage import Database, Migration

from kiosk import clock
from kiosk.appliance.config import Config
from kiosk.directory import phone as phones
from kiosk.directory import residents as directory

MIGRATIONS = [
    Migration("0001_digest", """
        CREATE TABLE digest_days (
            day TEXT PRIMARY KEY,
            at TEXT NOT NULL,
            sent INTEGER NOT NULL,
            text TEXT NOT NULL DEFAULT ''
        );
    """),
]

AUDIT_WINDOW = 5000  # audit rows read for one day's forwards: far more than a ward's day holds


def _bounds(zone: str, day: date, until: datetime) -> tuple[datetime, datetime]:
    low = datetime.combine(day, time(0), ZoneInfo(zone)).astimezone(timezone.utc)
    return low, min(until, low + timedelta(days=1))


def counts(db: Database, config: Config, day: date, until: datetime) -> dict:
    """The digest's numbers for local `day`, up to `until` (UTC)."""
    from kiosk.relay.officials import audit_log
    from kiosk.relay.residents import pending_registrations
    from kiosk.volunteers import help_tickets
    low, high = _bounds(config.site.timezone, day, until)
    lo, hi = clock.utc_stamp(low), clock.utc_stamp(high)
    closed_today = [t for t in help_tickets.list_tickets(db, "closed")
                    if t["closed_at"] and lo <= t["closed_at"] < hi]
    notices_failed = {":".join(key.split(":")[:2]) for key in outbox.failed_keys(db, low.timestamp(), high.timestamp())
                      if key.split(":")[0] in ("notice", "relay", "hub")}
    return {
        "registrations": sum(1 for r in pending_registrations(db) if lo <= r["requested_at"] < hi),
        "withdrawals": len(directory.withdrawals_between(db, lo, hi)),
        "help_opened": len(help_tickets.list_tickets(db, day=day.isoformat())),
        "help_closed": len(closed_today),
        "forwarded": sum(1 for r in audit_log(db, AUDIT_WINDOW, since=lo) if r["outcome"] == "forwarded" and r["at"] < hi),
        "notices_failed": len(notices_failed),
    }


def text_for(day: date, c: dict) -> str:
    """One unaccented SMS naming only what happened, and the commands for details."""
    pieces, commands = [], []
    if c["registrations"]:
        pieces.append(f"{c['registrations']} dang ky cho xac nhan")
        commands.append("tdp relay registrations")
    if c["withdrawals"]:
        pieces.append(f"{c['withdrawals']} huy nhan tin")
    if c["help_opened"] or c["help_closed"]:
        pieces.append(f"ho tro {c['help_opened']} mo/{c['help_closed']} dong")
        commands.append("tdp help-ticket list")
    if c["forwarded"]:
        pieces.append(f"{c['forwarded']} tin nhan cua dan da chuyen")
        commands.append("tdp sms inbox")
    if c["notices_failed"]:
        pieces.append(f"{c['notices_failed']} thong bao co tin loi")
        commands.append("tdp notice list")
    return (f"TDP tong ket {day.strftime('%d/%m')}: " + ", ".join(pieces) + ". Chi tiet: "
            + "; ".join(dict.fromkeys(commands or ["tdp relay audit"])))


def run_due(db: Database, config: Config, now: datetime | None = None) -> dict | None:
    """Send today's digest if its hour has come and no one has claimed today yet; what was decided
    ({"day", "sent", "text"}), or None when it is not time (or no digest is configured)."""
    hour = config.notices.digest_hour
    if not 0 <= hour <= 23:
        return None
    try:
        leader = phones.normalise(config.relay.group_leader_phone)
    except phones.InvalidPhone:
        return None
    now = now or clock.utc_now()
    local = now.astimezone(ZoneInfo(config.site.timezone))
    if local.hour < hour:
        return None
    day = local.date()
    if db.scalar("SELECT 1 FROM digest_days WHERE day = ?", (day.isoformat(),)):
        return None
    numbers = counts(db, config, day, now)
    text = text_for(day, numbers) if any(numbers.values()) else ""
    with db.transaction() as conn:
        if not conn.execute("INSERT INTO digest_days (day, at, sent, text) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                            (day.isoformat(), clock.utc_stamp(now), int(bool(text)), text)).rowcount:
            return None
        if text:
            outbox.enqueue(db, leader, text, priority="normal", key=f"digest:{day.isoformat()}", unaccented=True,
                           force=True, source="notice", now=now)
    return {"day": day.isoformat(), "sent": bool(text), "text": text, "counts": numbers}
