"""Who got a notice and who did not: the kiosk's view of one notice's SMS.

Counts by state (queued, sent, delivered, failed, expired, cancelled) over every occurrence, and,
for the leader to phone them, the failed numbers with the resident's name. Names and numbers are
for the kiosk's own CLI; the hub only ever gets `hub_counts()`.
"""
from __future__ import annotations

from sms import outbox
from sms.storage import Database

from kiosk.directory import residents as directory
from kiosk.notices import questions, schedule

STATES = ("queued", "sent", "delivered", "failed", "expired", "cancelled")
MAX_LISTED = 5000


def states(db: Database, send_id: int) -> dict:
    """Messages per state; "queued" includes those being sent right now."""
    counts = outbox.counts(db, schedule.key_prefix(send_id))["messages"]
    result = {s: counts.get(s, 0) for s in STATES}
    result["queued"] += counts.get("sending", 0)
    return result


def failed(db: Database, send_id: int) -> list[dict]:
    """Numbers whose SMS failed or expired, with the resident's name (kiosk only)."""
    rows = [m for m in outbox.messages(db, key_prefix=schedule.key_prefix(send_id), limit=MAX_LISTED)
            if m["state"] in ("failed", "expired")]
    listed = []
    for row in sorted(rows, key=lambda r: r["id"]):
        resident = directory.find_resident_by_phone(db, row["to"])
        listed.append({"phone": row["to"], "name": resident["full_name"] if resident else "", "state": row["state"],
                       "occurrence": int(row["key"].split(":")[2])})
    return listed


def show(db: Database, send_id: int, *, who: bool = False) -> dict:
    """The notice, its occurrences, SMS counts by state, failed numbers with names, the question's
    counts by answer, and with `who` each answer with the resident's name."""
    data = schedule.get(db, send_id)
    data["occurrences"] = schedule.occurrences(db, send_id)
    data["states"] = states(db, send_id)
    data["failed"] = failed(db, send_id)
    data["answers"] = questions.tally(db, send_id)
    if who:
        data["who"] = questions.who(db, send_id)
    return data


def hub_counts(db: Database, send_id: int) -> dict:
    """What a kiosk reports to the hub for a scheduled hub notice: counts only, never a name or number."""
    s = states(db, send_id)
    data = schedule.get(db, send_id)
    done = data["state"] != "scheduled" and not s["queued"]
    refused = [o for o in schedule.occurrences(db, send_id) if o["state"] == "refused"]
    counts = {"state": "done" if done else "queued", "recipients": sum(s.values()),
              "sent": s["sent"] + s["delivered"], "delivered": s["delivered"], "failed": s["failed"] + s["expired"]}
    tally = questions.tally(db, send_id)
    if tally:
        counts["answers"] = dict(tally["counts"])
    if refused and not counts["recipients"]:
        counts["state"] = "refused"
        counts["detail"] = refused[-1]["detail"][:120]
    return counts
