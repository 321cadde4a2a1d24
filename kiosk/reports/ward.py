"""The ward's progress report, computed from the store with SQL: nothing is counted by hand.

For a period of local days (inclusive) it gives: requests (dossiers) by procedure and channel,
the share submitted online against config `report.online_target`, the weekly online share,
help tickets by source and outcome, rota sessions covered and uncovered, hours per volunteer,
SMS parts sent, delivered and failed with their estimated cost (config `sms.price_per_part`,
VND) and that cost per registered household and month against what Công dân điện tử charges
(config `notices.household_price`), residents' satisfaction per service and month, and the
request desk: kiosk requests that reached the national portal, the time from kiosk to portal
(hours), and results collected. Shares are fractions 0-1.
Stored times are UTC; periods and weeks are cut at local midnight (config `site.timezone`).
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sms.storage import Database

from kiosk.directory import residents as directory
from kiosk.reports import ratings
from kiosk.appliance.config import Config
from kiosk.errors import InvalidInput

CHANNELS = {"kiosk": "Tại kiosk nhà văn hóa", "home": "Tại nhà (tình nguyện viên hỗ trợ)",
            "sms": "Qua tin nhắn SMS", "in_person": "Trực tiếp tại quầy"}
MAX_DAYS = 3 * 366
DAYS_PER_MONTH = 365.25 / 12


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _has_table(db: Database, name: str) -> bool:
    return bool(db.scalar("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)))


def _utc_bounds(config: Config, start: date, end: date) -> tuple[str, str]:
    """[start 00:00, end+1 00:00) local, as UTC ISO strings comparable with stored stamps."""
    zone = ZoneInfo(config.site.timezone)
    low = datetime.combine(start, time(0), zone).astimezone(timezone.utc)
    high = datetime.combine(end + timedelta(days=1), time(0), zone).astimezone(timezone.utc)
    return low.isoformat(timespec="seconds"), high.isoformat(timespec="seconds")


def _local_modifier(config: Config, start: date) -> str:
    """SQLite date modifier turning a UTC stamp into local time ("+420 minutes" in Vietnam)."""
    offset = ZoneInfo(config.site.timezone).utcoffset(datetime.combine(start, time(12)))
    return f"{int(offset.total_seconds() // 60):+d} minutes"


def build(db: Database, config: Config, start: date, end: date) -> dict:
    """The whole report for local days `start`..`end` as plain data (what --json prints)."""
    if end < start:
        raise InvalidInput(f"the period ends ({end}) before it starts ({start})")
    if (end - start).days > MAX_DAYS:
        raise InvalidInput("a report covers at most three years")
    low, high = _utc_bounds(config, start, end)
    window = {"low": low, "high": high, "start": start.isoformat(), "end": end.isoformat(),
              "local": _local_modifier(config, start)}
    return {
        "ward": config.site.ward,
        "residential_group": config.site.residential_group,
        "period": {"from": start.isoformat(), "to": end.isoformat()},
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "requests": _requests(db, config, window),
        "desk": _desk(db, window),
        "weekly": _weekly(db, config, window, start, end),
        "help_tickets": _help_tickets(db, window),
        "volunteers": _volunteers(db, window),
        "sms": _sms(db, config, window),
        "satisfaction": _satisfaction(db, window),
    }


def _requests(db: Database, config: Config, w: dict) -> dict:
    target = config.report.online_target
    if not _has_table(db, "dossiers"):
        by_procedure, by_channel = [], []
    else:
        by_procedure = db.query("""
            SELECT procedure_code AS procedure, MAX(procedure_name) AS name, COUNT(*) AS total, SUM(online) AS online
            FROM dossiers WHERE created_at >= :low AND created_at < :high
            GROUP BY procedure_code ORDER BY total DESC, procedure""", w)
        by_channel = db.query("""
            SELECT channel, COUNT(*) AS total, SUM(online) AS online FROM dossiers
            WHERE created_at >= :low AND created_at < :high GROUP BY channel ORDER BY total DESC, channel""", w)
        for row in by_procedure:
            row["name"] = row["name"] or row["procedure"]
    for row in by_procedure + by_channel:
        row["online_share"] = _share(row["online"], row["total"])
    for row in by_channel:
        row["label"] = CHANNELS.get(row["channel"], row["channel"])
    total = sum(r["total"] for r in by_channel)
    online = sum(r["online"] for r in by_channel)
    return {"total": total, "online": online, "online_share": _share(online, total), "target": target,
            "meets_target": total > 0 and online / total >= target,
            "by_procedure": by_procedure, "by_channel": by_channel}


def _desk(db: Database, w: dict) -> dict:
    """Kiosk requests made in the period: how many reached the portal, how fast, how many collected."""
    empty = {"kiosk_requests": 0, "reached_portal": 0, "portal_share": 0.0, "hours_to_portal_avg": None,
             "hours_to_portal_median": None, "collected": 0}
    if not _has_table(db, "dossiers"):
        return empty
    rows = db.query("""
        SELECT portal_code IS NOT NULL AS filed, status = 'picked_up' AS collected,
               (julianday(portal_recorded_at) - julianday(created_at)) * 24 AS hours
        FROM dossiers WHERE channel = 'kiosk' AND created_at >= :low AND created_at < :high""", w)
    hours = sorted(r["hours"] for r in rows if r["filed"] and r["hours"] is not None)
    filed = sum(r["filed"] for r in rows)
    median = None
    if hours:
        middle = len(hours) // 2
        median = hours[middle] if len(hours) % 2 else (hours[middle - 1] + hours[middle]) / 2
    return {"kiosk_requests": len(rows), "reached_portal": filed, "portal_share": _share(filed, len(rows)),
            "hours_to_portal_avg": round(sum(hours) / len(hours), 1) if hours else None,
            "hours_to_portal_median": round(median, 1) if median is not None else None,
            "collected": sum(r["collected"] for r in rows)}


def _weekly(db: Database, config: Config, w: dict, start: date, end: date) -> list[dict]:
    """Every week (Monday start) touching the period, with its requests and online share."""
    counts = {}
    if _has_table(db, "dossiers"):
        counts = {r["week"]: r for r in db.query("""
            SELECT date(created_at, :local, '-6 days', 'weekday 1') AS week, COUNT(*) AS total, SUM(online) AS online
            FROM dossiers WHERE created_at >= :low AND created_at < :high GROUP BY week""", w)}
    weeks, monday = [], start - timedelta(days=start.weekday())
    while monday <= end:
        row = counts.get(monday.isoformat(), {"total": 0, "online": 0})
        weeks.append({"week_start": monday.isoformat(), "total": row["total"], "online": row["online"],
                      "online_share": _share(row["online"], row["total"]),
                      "target": config.report.online_target})
        monday += timedelta(days=7)
    return weeks


def _help_tickets(db: Database, w: dict) -> dict:
    by_source = db.query("""
        SELECT source, COUNT(*) AS total, SUM(status = 'closed') AS closed, SUM(status != 'closed') AS open
        FROM help_tickets WHERE created_at >= :low AND created_at < :high GROUP BY source ORDER BY source""", w)
    by_outcome = db.query("""
        SELECT channel, COUNT(*) AS total, SUM(submitted_online) AS submitted_online,
               COALESCE(SUM(minutes), 0) AS minutes
        FROM help_tickets WHERE status = 'closed' AND closed_at >= :low AND closed_at < :high
        GROUP BY channel ORDER BY channel""", w)
    by_procedure = db.query("""
        SELECT procedure, COUNT(*) AS total, SUM(submitted_online) AS submitted_online
        FROM help_tickets WHERE status = 'closed' AND closed_at >= :low AND closed_at < :high
        GROUP BY procedure ORDER BY total DESC, procedure""", w)
    from kiosk.volunteers.help_tickets import CHANNELS as OUTCOMES, SOURCES
    for row in by_source:
        row["label"] = SOURCES.get(row["source"], row["source"])
    for row in by_outcome:
        row["label"] = OUTCOMES.get(row["channel"], row["channel"])
    return {"total": sum(r["total"] for r in by_source), "closed": sum(r["total"] for r in by_outcome),
            "open": sum(r["open"] for r in by_source),
            "submitted_online": sum(r["submitted_online"] for r in by_outcome),
            "minutes": sum(r["minutes"] for r in by_outcome),
            "by_source": by_source, "by_outcome": by_outcome, "by_procedure": by_procedure}


def _volunteers(db: Database, w: dict) -> dict:
    from kiosk.volunteers.rota import PLACES
    coverage = db.query("""
        SELECT s.place, COUNT(*) AS sessions, SUM(n >= s.min_volunteers) AS covered,
               SUM(n < s.min_volunteers) AS uncovered
        FROM rota_shifts s
        JOIN (SELECT s2.id, COUNT(a.volunteer_id) AS n FROM rota_shifts s2
              LEFT JOIN rota_assignments a ON a.shift_id = s2.id WHERE s2.day BETWEEN :start AND :end
              GROUP BY s2.id) c ON c.id = s.id
        GROUP BY s.place ORDER BY s.place""", w)
    for row in coverage:
        row["label"] = PLACES.get(row["place"], row["place"])
    people = db.query("""
        SELECT v.id, v.name, v.team, v.role,
               COALESCE(sh.shifts, 0) AS shifts, COALESCE(at.attended, 0) AS attended,
               ROUND(COALESCE(at.minutes, 0) / 60.0, 2) AS hours, COALESCE(tk.tickets, 0) AS tickets_closed
        FROM volunteers v
        LEFT JOIN (SELECT a.volunteer_id, COUNT(*) AS shifts FROM rota_assignments a
                   JOIN rota_shifts s ON s.id = a.shift_id WHERE s.day BETWEEN :start AND :end
                   GROUP BY a.volunteer_id) sh ON sh.volunteer_id = v.id
        LEFT JOIN (SELECT volunteer_id, COUNT(*) AS attended, SUM(minutes) AS minutes FROM volunteer_attendance
                   WHERE checked_in_at >= :low AND checked_in_at < :high GROUP BY volunteer_id) at
               ON at.volunteer_id = v.id
        LEFT JOIN (SELECT volunteer_id, COUNT(*) AS tickets FROM help_tickets
                   WHERE status = 'closed' AND closed_at >= :low AND closed_at < :high GROUP BY volunteer_id) tk
               ON tk.volunteer_id = v.id
        WHERE sh.shifts IS NOT NULL OR at.attended IS NOT NULL OR tk.tickets IS NOT NULL
        ORDER BY hours DESC, v.name""", w)
    return {"sessions": sum(r["sessions"] for r in coverage), "covered": sum(r["covered"] for r in coverage),
            "uncovered": sum(r["uncovered"] for r in coverage), "by_place": coverage,
            "participants": len(people), "hours": round(sum(p["hours"] for p in people), 2), "people": people}


def _sms(db: Database, config: Config, w: dict) -> dict:
    row = {}
    if _has_table(db, "outbox_parts"):
        row = db.query_one("""
            SELECT COUNT(*) AS parts, SUM(p.sent_at IS NOT NULL) AS sent, SUM(p.state = 'delivered') AS delivered,
                   SUM(p.state IN ('failed', 'expired')) AS failed, SUM(p.state IN ('queued', 'sending')) AS pending
            FROM outbox_messages m JOIN outbox_parts p ON p.message_id = m.id
            WHERE m.created_at >= :low AND m.created_at < :high""", w) or {}
    counts = {k: row.get(k) or 0 for k in ("parts", "sent", "delivered", "failed", "pending")}
    price = config.sms.price_per_part
    cost = counts["sent"] * price
    # Against Công dân điện tử, which charges each household a flat fee a month (3,000 đ in 2015).
    households = directory.registered_households(db) if _has_table(db, "residents") else 0
    months = ((date.fromisoformat(w["end"]) - date.fromisoformat(w["start"])).days + 1) / DAYS_PER_MONTH
    per_household = round(cost / households / months) if households else None
    return {**counts, "price_per_part": price, "estimated_cost": cost, "households": households,
            "cost_per_household_month": per_household, "household_price": config.notices.household_price}


def _satisfaction(db: Database, w: dict) -> dict:
    rows = db.query("""
        SELECT service, substr(day, 1, 7) AS month, COUNT(*) AS responses,
               SUM(score IN (1, 2)) AS satisfied,
               SUM(score = 1) AS s1, SUM(score = 2) AS s2, SUM(score = 3) AS s3, SUM(score = 4) AS s4
        FROM ratings WHERE day BETWEEN :start AND :end GROUP BY service, month ORDER BY month, service""", w)
    for row in rows:
        row["label"] = ratings.SERVICES[row["service"]]
        row["satisfied_share"] = _share(row["satisfied"], row["responses"])
    reasons = {r["reason"]: r["n"] for r in db.query(
        "SELECT reason, COUNT(*) AS n FROM ratings WHERE day BETWEEN :start AND :end AND reason IS NOT NULL "
        "GROUP BY reason", w)}
    responses = sum(r["responses"] for r in rows)
    satisfied = sum(r["satisfied"] for r in rows)
    by_score = {ratings.SCORES[n]: sum(r[f"s{n}"] for r in rows) for n in ratings.SCORES}
    return {"responses": responses, "satisfied": satisfied, "satisfied_share": _share(satisfied, responses),
            "by_score": by_score, "reasons": {ratings.REASONS[k]: reasons.get(k, 0) for k in ratings.REASONS},
            "by_service_month": rows}
