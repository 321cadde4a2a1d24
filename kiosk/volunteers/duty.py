"""Who is on duty: volunteers checking in and out at the kiosk, and the time they worked.

Owns the volunteer_attendance table (created by kiosk.volunteers.people's first migration).
The rota is asked through kiosk.volunteers.rota's query functions; volunteers through
kiosk.volunteers.people. A check-in or check-out needs the volunteer's PIN.
"""
from __future__ import annotations

from datetime import datetime

from sms.storage import Database

from kiosk.appliance.config import Volunteers as VolunteerSettings
from kiosk.clock import parse_utc, utc_now, utc_stamp
from kiosk.volunteers import people, rota


def check_in(db: Database, name_or_phone: str, pin: str, settings: VolunteerSettings | None = None,
             at: datetime | None = None) -> dict:
    """Start a spell of duty after checking the PIN; linked to the volunteer's current shift if any."""
    at = at or utc_now()
    volunteer = people.verify_pin(db, name_or_phone, pin, settings, at)
    stamp = utc_stamp(at)
    shift_id = rota.shift_to_check_in(db, volunteer["id"], at)
    with db.transaction() as conn:
        open_row = conn.execute("SELECT checked_in_at FROM volunteer_attendance WHERE volunteer_id = ? "
                                "AND checked_out_at IS NULL", (volunteer["id"],)).fetchone()
        if open_row:
            raise people.VolunteerError(f"{volunteer['name']} is already checked in since {open_row[0]}",
                                        "Bạn đã vào ca rồi.")
        attendance_id = conn.execute(
            "INSERT INTO volunteer_attendance (volunteer_id, shift_id, checked_in_at) VALUES (?, ?, ?)",
            (volunteer["id"], shift_id, stamp)).lastrowid
    return {"volunteer": volunteer, "attendance_id": attendance_id, "checked_in_at": stamp}


def check_out(db: Database, name_or_phone: str, pin: str, settings: VolunteerSettings | None = None,
              at: datetime | None = None) -> dict:
    """End the open spell of duty; records the whole minutes worked."""
    at = at or utc_now()
    volunteer = people.verify_pin(db, name_or_phone, pin, settings, at)
    with db.transaction() as conn:
        row = conn.execute("SELECT id, checked_in_at FROM volunteer_attendance WHERE volunteer_id = ? "
                           "AND checked_out_at IS NULL", (volunteer["id"],)).fetchone()
        if row is None:
            raise people.VolunteerError(f"{volunteer['name']} is not checked in", "Bạn chưa vào ca.")
        minutes = max(0, int((at - parse_utc(row[1])).total_seconds() // 60))
        conn.execute("UPDATE volunteer_attendance SET checked_out_at = ?, minutes = ? WHERE id = ?",
                     (utc_stamp(at), minutes, row[0]))
    return {"volunteer": volunteer, "attendance_id": row[0], "checked_in_at": row[1],
            "checked_out_at": utc_stamp(at), "minutes": minutes}


def on_duty(db: Database, at: datetime | None = None) -> list[dict]:
    """Active volunteers on duty at `at` (default now): checked in first, then those rostered now,
    each by name. Each is the volunteer's public record plus `checked_in` (bool) and `place`
    (rota place or "")."""
    stamp = utc_stamp(at)
    present = db.query("SELECT volunteer_id, shift_id FROM volunteer_attendance WHERE checked_in_at <= :at "
                       "AND (checked_out_at IS NULL OR checked_out_at > :at)", {"at": stamp})
    candidates = [(1, row["volunteer_id"], rota.place_of(db, row["shift_id"])) for row in present]
    candidates += [(0, row["volunteer_id"], row["place"]) for row in rota.rostered_at(db, at)]
    seen, result = set(), []
    for checked_in, volunteer_id, place in candidates:
        if volunteer_id in seen:
            continue
        volunteer = people.get(db, volunteer_id)
        if not volunteer["active"]:
            continue
        seen.add(volunteer_id)
        result.append({**volunteer, "checked_in": bool(checked_in), "place": place})
    result.sort(key=lambda v: (not v["checked_in"], v["name"]))
    return result

