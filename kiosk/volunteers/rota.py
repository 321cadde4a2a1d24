"""The volunteers' rota: sessions at places, filled fairly from availability, with gaps listed.

A shift is one session (morning, afternoon, evening) on one local day at one place: the
cultural-house kiosk, the ward's service centre, or home visits. Which shifts exist comes from
config `volunteers.sessions`, their hours from `volunteers.session_hours`, and every shift needs
`volunteers.min_per_session` volunteers unless its template line says otherwise. A volunteer
never holds two shifts whose hours overlap. Start and end are stored as UTC ISO timestamps so
"who is on duty now" is one indexed comparison.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sms.storage import Database, Migration

from kiosk.directory import phone as phones
from kiosk.volunteers import people as vols
from kiosk.appliance.config import Config
from kiosk.errors import InvalidInput, NotFound
from kiosk.text import fold
from kiosk import clock

MIGRATIONS = [
    Migration("0001_rota", """
        CREATE TABLE rota_shifts (
            id INTEGER PRIMARY KEY,
            day TEXT NOT NULL,
            session TEXT NOT NULL CHECK (session IN ('morning', 'afternoon', 'evening')),
            place TEXT NOT NULL CHECK (place IN ('kiosk', 'centre', 'home')),
            starts_at TEXT NOT NULL,
            ends_at TEXT NOT NULL,
            min_volunteers INTEGER NOT NULL,
            UNIQUE (day, session, place)
        );
        CREATE INDEX rota_shifts_time ON rota_shifts(starts_at, ends_at);
        CREATE TABLE rota_assignments (
            shift_id INTEGER NOT NULL REFERENCES rota_shifts(id) ON DELETE CASCADE,
            volunteer_id INTEGER NOT NULL REFERENCES volunteers(id) ON DELETE CASCADE,
            assigned_at TEXT NOT NULL,
            reminded_at TEXT,
            PRIMARY KEY (shift_id, volunteer_id)
        );
        CREATE INDEX rota_assignments_volunteer ON rota_assignments(volunteer_id);
    """),
]

PLACES = {"kiosk": "Nhà văn hóa (kiosk)", "centre": "Trung tâm Phục vụ HCC phường", "home": "Hỗ trợ tại nhà"}
_PLACE_WORDS = {"kiosk": "kiosk", "nhavanhoa": "kiosk", "nvh": "kiosk", "centre": "centre", "center": "centre",
                "trungtam": "centre", "hcc": "centre", "home": "home", "tainha": "home", "nha": "home"}


class OverlappingShift(vols.VolunteerError):
    """The volunteer already holds a shift at an overlapping time."""


@dataclass(frozen=True)
class Template:
    """One line of the rota template: a place, its weekdays (0 = Monday), a session, a minimum."""
    place: str
    days: frozenset[int]
    session: str
    minimum: int


def parse_place(raw: str) -> str:
    key = fold(raw)
    if key not in _PLACE_WORDS:
        raise InvalidInput(f"unknown place '{raw}': use kiosk, centre or home")
    return _PLACE_WORDS[key]


def parse_session(raw: str) -> str:
    session = vols.SESSION_WORDS.get(fold(raw))
    if session is None:
        raise InvalidInput(f"unknown session '{raw}': use morning, afternoon or evening")
    return session


def templates(config: Config) -> list[Template]:
    """The rota template from config, validated; errors name the offending line."""
    result = []
    for line in config.volunteers.sessions:
        parts = line.split(":")
        if len(parts) not in (3, 4):
            raise InvalidInput(f"volunteers.sessions: '{line}' is not place:days:session[:minimum]")
        minimum = config.volunteers.min_per_session
        if len(parts) == 4:
            if not parts[3].isdigit() or int(parts[3]) < 1:
                raise InvalidInput(f"volunteers.sessions: '{line}': minimum must be a whole number ≥ 1")
            minimum = int(parts[3])
        result.append(Template(parse_place(parts[0]), frozenset(vols.parse_days(parts[1])),
                               parse_session(parts[2]), minimum))
    return result


def session_hours(config: Config) -> dict[str, tuple[time, time]]:
    """Local start and end of each session from config `volunteers.session_hours`."""
    hours = {}
    for line in config.volunteers.session_hours:
        match = re.fullmatch(r"\s*(\w+)\s*=\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", line)
        if not match or match.group(1) not in vols.SESSIONS:
            raise InvalidInput(f"volunteers.session_hours: '{line}' is not session=HH:MM-HH:MM")
        start = time(int(match.group(2)), int(match.group(3)))
        end = time(int(match.group(4)), int(match.group(5)))
        if end <= start:
            raise InvalidInput(f"volunteers.session_hours: '{line}' ends before it starts")
        hours[match.group(1)] = (start, end)
    missing = [s for s in vols.SESSIONS if s not in hours]
    if missing:
        raise InvalidInput(f"volunteers.session_hours: no hours for {', '.join(missing)}")
    return hours


def parse_day(raw: str) -> date:
    try:
        return date.fromisoformat(str(raw).strip())
    except ValueError:
        raise InvalidInput(f"'{raw}' is not a date: use YYYY-MM-DD") from None


def _bounds(config: Config, day: date, session: str, hours) -> tuple[str, str]:
    zone = ZoneInfo(config.site.timezone)
    start, end = hours[session]
    return (clock.utc_stamp(datetime.combine(day, start, zone)), clock.utc_stamp(datetime.combine(day, end, zone)))


def ensure_shifts(db: Database, config: Config, start: date, end: date) -> int:
    """Create the template's shifts for every day from `start` to `end` inclusive.

    Shifts already there take the template's current hours and minimum (the official may have
    changed the config since); their volunteers stay. Returns how many shifts were written.
    """
    if end < start:
        raise InvalidInput(f"the period ends ({end}) before it starts ({start})")
    if (end - start).days > 366:
        raise InvalidInput("plan at most one year at a time")
    lines, hours = templates(config), session_hours(config)
    written = 0
    with db.transaction() as conn:
        day = start
        while day <= end:
            for line in lines:
                if day.weekday() in line.days:
                    starts_at, ends_at = _bounds(config, day, line.session, hours)
                    written += conn.execute(
                        "INSERT INTO rota_shifts (day, session, place, starts_at, ends_at, min_volunteers) "
                        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (day, session, place) DO UPDATE SET "
                        "starts_at = excluded.starts_at, ends_at = excluded.ends_at, "
                        "min_volunteers = excluded.min_volunteers",
                        (day.isoformat(), line.session, line.place, starts_at, ends_at, line.minimum)).rowcount
            day += timedelta(days=1)
    return written


def _overlapping(conn, volunteer_id: int, starts_at: str, ends_at: str) -> dict | None:
    row = conn.execute(
        "SELECT s.day, s.session, s.place FROM rota_assignments a JOIN rota_shifts s ON s.id = a.shift_id "
        "WHERE a.volunteer_id = ? AND s.starts_at < ? AND s.ends_at > ? LIMIT 1",
        (volunteer_id, ends_at, starts_at)).fetchone()
    return dict(zip(("day", "session", "place"), row)) if row else None


def plan(db: Database, config: Config, start: date, end: date) -> dict:
    """Fill every shift from `start` to `end` up to its minimum, fairly; returns shifts and gaps.

    Existing assignments are kept. Candidates are active volunteers available on that weekday
    and session with no overlapping shift; the one with the fewest shifts in the period goes
    first, then the one who served least recently, so the load rotates through the team.
    """
    ensure_shifts(db, config, start, end)
    people = vols.list_volunteers(db, active_only=True)
    added = 0
    with db.transaction() as conn:
        shifts = [dict(zip(("id", "day", "session", "place", "starts_at", "ends_at", "min_volunteers"), r))
                  for r in conn.execute(
                      "SELECT id, day, session, place, starts_at, ends_at, min_volunteers FROM rota_shifts "
                      "WHERE day BETWEEN ? AND ? ORDER BY starts_at, place", (start.isoformat(), end.isoformat()))]
        load = {p["id"]: 0 for p in people}
        last_served = {p["id"]: -1 for p in people}
        assigned: dict[int, set[int]] = {s["id"]: set() for s in shifts}
        for shift_id, volunteer_id in conn.execute(
                "SELECT a.shift_id, a.volunteer_id FROM rota_assignments a JOIN rota_shifts s ON s.id = a.shift_id "
                "WHERE s.day BETWEEN ? AND ?", (start.isoformat(), end.isoformat())):
            assigned[shift_id].add(volunteer_id)
            load[volunteer_id] = load.get(volunteer_id, 0) + 1
        stamp = clock.utc_stamp()
        for index, shift in enumerate(shifts):
            need = shift["min_volunteers"] - len(assigned[shift["id"]])
            if need <= 0:
                for volunteer_id in assigned[shift["id"]]:
                    last_served[volunteer_id] = index
                continue
            weekday = date.fromisoformat(shift["day"]).weekday()
            candidates = [p for p in people if p["id"] not in assigned[shift["id"]]
                          and vols.is_available(p["availability"], weekday, shift["session"])
                          and not _overlapping(conn, p["id"], shift["starts_at"], shift["ends_at"])]
            candidates.sort(key=lambda p: (load[p["id"]], last_served[p["id"]], p["id"]))
            for person in candidates[:need]:
                conn.execute("INSERT INTO rota_assignments (shift_id, volunteer_id, assigned_at) VALUES (?, ?, ?)",
                             (shift["id"], person["id"], stamp))
                assigned[shift["id"]].add(person["id"])
                load[person["id"]] += 1
                last_served[person["id"]] = index
                added += 1
    shown = show(db, start, end)
    return {"from": start.isoformat(), "to": end.isoformat(), "assigned_now": added,
            "shifts": shown, "gaps": [s for s in shown if s["missing"] > 0]}


def assign(db: Database, config: Config, day: date, session: str, place: str, name_or_phone: str) -> dict:
    """Put one volunteer on one shift by hand; an overlapping shift of theirs is refused."""
    session, place = parse_session(session), parse_place(place)
    ensure_shifts(db, config, day, day)
    volunteer = vols.get_by_name_or_phone(db, name_or_phone)
    if not volunteer["active"]:
        raise vols.VolunteerError(f"volunteer {volunteer['name']} is inactive")
    with db.transaction() as conn:
        row = conn.execute("SELECT id, starts_at, ends_at FROM rota_shifts WHERE day = ? AND session = ? AND place = ?",
                           (day.isoformat(), session, place)).fetchone()
        if row is None:
            hours = session_hours(config)
            starts_at, ends_at = _bounds(config, day, session, hours)
            row = (conn.execute(
                "INSERT INTO rota_shifts (day, session, place, starts_at, ends_at, min_volunteers) VALUES (?, ?, ?, ?, ?, ?)",
                (day.isoformat(), session, place, starts_at, ends_at, config.volunteers.min_per_session)).lastrowid,
                starts_at, ends_at)
        clash = _overlapping(conn, volunteer["id"], row[1], row[2])
        if clash:
            raise OverlappingShift(
                f"{volunteer['name']} already has the {clash['session']} shift on {clash['day']} at "
                f"{PLACES[clash['place']]}; shifts of one volunteer may not overlap")
        conn.execute("INSERT INTO rota_assignments (shift_id, volunteer_id, assigned_at) VALUES (?, ?, ?)",
                     (row[0], volunteer["id"], clock.utc_stamp()))
    return shift(db, row[0])


def unassign(db: Database, day: date, session: str, place: str, name_or_phone: str) -> dict:
    volunteer = vols.get_by_name_or_phone(db, name_or_phone)
    with db.transaction() as conn:
        row = conn.execute("SELECT id FROM rota_shifts WHERE day = ? AND session = ? AND place = ?",
                           (day.isoformat(), parse_session(session), parse_place(place))).fetchone()
        removed = row and conn.execute("DELETE FROM rota_assignments WHERE shift_id = ? AND volunteer_id = ?",
                                       (row[0], volunteer["id"])).rowcount
        if not removed:
            raise NotFound(f"{volunteer['name']} is not on that shift")
    return shift(db, row[0])


def shift(db: Database, shift_id: int) -> dict:
    rows = _shifts(db, "s.id = ?", (shift_id,))
    if not rows:
        raise NotFound(f"no shift #{shift_id}")
    return rows[0]


def show(db: Database, start: date, end: date) -> list[dict]:
    """Shifts from `start` to `end` inclusive, in time order, each with its volunteers and shortfall."""
    return _shifts(db, "s.day BETWEEN ? AND ?", (start.isoformat(), end.isoformat()))


def _shifts(db: Database, where: str, params) -> list[dict]:
    rows = db.query(f"""
        SELECT s.id, s.day, s.session, s.place, s.starts_at, s.ends_at, s.min_volunteers, a.volunteer_id
        FROM rota_shifts s LEFT JOIN rota_assignments a ON a.shift_id = s.id
        WHERE {where} ORDER BY s.starts_at, s.place""", params)
    people: dict[int, dict] = {}
    shifts: dict[int, dict] = {}
    for row in rows:
        entry = shifts.setdefault(row["id"], {
            "id": row["id"], "day": row["day"], "session": row["session"], "place": row["place"],
            "place_label": PLACES[row["place"]], "starts_at": row["starts_at"], "ends_at": row["ends_at"],
            "min_volunteers": row["min_volunteers"], "volunteers": []})
        if row["volunteer_id"] is not None:
            person = people.setdefault(row["volunteer_id"], vols.get(db, row["volunteer_id"]))
            entry["volunteers"].append({key: person[key] for key in ("id", "name", "phone", "team", "role")})
    for entry in shifts.values():
        entry["volunteers"].sort(key=lambda v: v["name"])
        entry["missing"] = max(0, entry["min_volunteers"] - len(entry["volunteers"]))
    return list(shifts.values())


def shift_to_check_in(db: Database, volunteer_id: int, at: datetime) -> int | None:
    """The volunteer's shift a check-in at `at` belongs to: the next one not yet over, if it
    starts within the hour (volunteers come early); else None."""
    row = db.query_one("SELECT s.id, s.starts_at FROM rota_shifts s JOIN rota_assignments a ON a.shift_id = s.id "
                       "WHERE a.volunteer_id = ? AND s.ends_at > ? ORDER BY s.starts_at LIMIT 1",
                       (volunteer_id, clock.utc_stamp(at)))
    if row is None or clock.parse_utc(row["starts_at"]) - at > timedelta(hours=1):
        return None
    return row["id"]


def rostered_at(db: Database, at: datetime | None = None) -> list[dict]:
    """[{volunteer_id, place}] of everyone whose shift covers `at` (default now)."""
    return db.query("SELECT ra.volunteer_id, s.place FROM rota_assignments ra JOIN rota_shifts s ON s.id = ra.shift_id "
                    "WHERE s.starts_at <= :at AND s.ends_at > :at", {"at": clock.utc_stamp(at)})


def place_of(db: Database, shift_id: int | None) -> str:
    """The rota place of a shift ("kiosk", "centre", "home"), or "" for none."""
    if shift_id is None:
        return ""
    return db.scalar("SELECT place FROM rota_shifts WHERE id = ?", (shift_id,)) or ""


def week_of(day: date) -> tuple[date, date]:
    """Monday and Sunday of the week containing `day`."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


def reminder_text(entry: dict, config: Config) -> str:
    """The evening-before SMS: short, in Vietnamese, fits two UCS-2 parts."""
    day = date.fromisoformat(entry["day"])
    hours = session_hours(config)[entry["session"]]
    return (f"TDP nhắc lịch trực tình nguyện: ngày mai {vols.DAY_LABELS[day.weekday()]} {day:%d/%m}, "
            f"buổi {vols.SESSION_LABELS[entry['session']].lower()} {hours[0]:%H:%M}-{hours[1]:%H:%M} tại "
            f"{PLACES[entry['place']]}. Cảm ơn anh/chị!")


def remind(db: Database, config: Config, at: datetime | None = None, *, early: bool = False) -> list[dict]:
    """Queue an SMS reminder to every volunteer on tomorrow's (local) shifts not yet reminded.

    Nothing goes out before config `volunteers.reminder_hour` (local) unless `early`, so an hourly
    timer sends them in the evening. Each reminder has an outbox key per shift and volunteer and
    the assignment is marked in the same transaction, so running it again never sends twice.
    """
    from sms.outbox import enqueue

    moment = (at or datetime.now(timezone.utc)).astimezone(ZoneInfo(config.site.timezone))
    if moment.hour < config.volunteers.reminder_hour and not early:
        return []
    tomorrow = clock.local_today(config.site.timezone, at) + timedelta(days=1)
    sent = []
    with db.transaction() as conn:
        for entry in show(db, tomorrow, tomorrow):
            for person in entry["volunteers"]:
                done = conn.execute("SELECT reminded_at FROM rota_assignments WHERE shift_id = ? AND volunteer_id = ?",
                                    (entry["id"], person["id"])).fetchone()[0]
                if done:
                    continue
                enqueue(db, person["phone"], reminder_text(entry, config),
                        key=f"rota-reminder:{entry['id']}:{person['id']}", source="rota")
                conn.execute("UPDATE rota_assignments SET reminded_at = ? WHERE shift_id = ? AND volunteer_id = ?",
                             (clock.utc_stamp(at), entry["id"], person["id"]))
                sent.append({"shift_id": entry["id"], "day": entry["day"], "session": entry["session"],
                             "place": entry["place"], "name": person["name"], "phone": phones.national(person["phone"])})
    return sent
