"""Volunteers of the Tổ công nghệ số cộng đồng: who they are, their kiosk PIN, and time worked.

A volunteer has a name, a unique mobile phone (E.164), a team (usually their residential group),
a role (leader or member), skills and weekly availability. The PIN for the kiosk's volunteer mode
is stored only as a salted scrypt hash and compared in constant time; too many wrong PINs in a
row lock the volunteer out for a while. Check-in, check-out and who is on duty live in kiosk.volunteers.duty.
Times are stored as UTC ISO 8601 strings (kiosk.clock.utc_stamp).
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sms.storage import Database, Migration
from sms.vietnamese import unaccent

from kiosk.directory import phone as phones
from kiosk.appliance.config import Volunteers as VolunteerSettings
from kiosk.errors import InvalidInput, NotFound, TdpError
from kiosk.text import clean, fold
from kiosk.clock import parse_utc, utc_stamp

MIGRATIONS = [
    Migration("0001_volunteers", """
        CREATE TABLE volunteers (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            name_key TEXT NOT NULL,
            phone TEXT NOT NULL UNIQUE,
            team TEXT NOT NULL DEFAULT '',
            role TEXT NOT NULL DEFAULT 'member' CHECK (role IN ('leader', 'member')),
            skills TEXT NOT NULL DEFAULT '',
            availability TEXT NOT NULL DEFAULT '',
            active INTEGER NOT NULL DEFAULT 1,
            pin_hash TEXT,
            pin_failures INTEGER NOT NULL DEFAULT 0,
            locked_until TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX volunteers_name_key ON volunteers(name_key);
        -- volunteer_attendance is owned by kiosk.volunteers.duty since the kiosk/ restructure; a
        -- migration is a frozen record of what ran, so its creation stays here.
        CREATE TABLE volunteer_attendance (
            id INTEGER PRIMARY KEY,
            volunteer_id INTEGER NOT NULL REFERENCES volunteers(id) ON DELETE CASCADE,
            shift_id INTEGER,
            checked_in_at TEXT NOT NULL,
            checked_out_at TEXT,
            minutes INTEGER
        );
        CREATE UNIQUE INDEX volunteer_attendance_open ON volunteer_attendance(volunteer_id)
            WHERE checked_out_at IS NULL;
        CREATE INDEX volunteer_attendance_in ON volunteer_attendance(checked_in_at);
    """),
    # Who may do what at the request desk (issue 18): rejecting a request is for officials and
    # senior volunteers. Existing team leaders start as senior.
    Migration("0002_volunteers_desk_role", """
        ALTER TABLE volunteers ADD COLUMN desk_role TEXT NOT NULL DEFAULT 'volunteer'
            CHECK (desk_role IN ('volunteer', 'senior', 'official'));
        UPDATE volunteers SET desk_role = 'senior' WHERE role = 'leader';
    """),
]

ROLES = {"leader": "leader", "member": "member", "totruong": "leader", "truong": "leader",
         "topho": "member", "thanhvien": "member", "tovien": "member", "leaderto": "leader"}
ROLE_LABELS = {"leader": "Tổ trưởng", "member": "Thành viên"}
# desk_role: what a person may do at the request desk. Only senior and official may reject.
DESK_ROLES = {"volunteer": "volunteer", "tinhnguyenvien": "volunteer", "senior": "senior",
              "tinhnguyenvienchinh": "senior", "official": "official", "canbo": "official"}
DESK_ROLE_LABELS = {"volunteer": "Tình nguyện viên", "senior": "Tình nguyện viên chính", "official": "Cán bộ phường"}
MAY_REJECT = ("senior", "official")

SESSIONS = ("morning", "afternoon", "evening")
SESSION_LABELS = {"morning": "Sáng", "afternoon": "Chiều", "evening": "Tối"}
DAY_LABELS = ("T2", "T3", "T4", "T5", "T6", "T7", "CN")

# scrypt at n=2**14, r=8 uses 16 MiB and ~50 ms on a Pi 4: slow for a guesser, quick for a tap.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 14, 8, 1


class VolunteerError(TdpError):
    """A volunteer operation was refused; the message says why."""


class WrongPin(VolunteerError):
    """The PIN did not match; the message says how many tries are left."""


class LockedOut(VolunteerError):
    """Too many wrong PINs: the volunteer must wait until the lockout ends."""


# --- availability ---------------------------------------------------------------------------

_DAY_WORDS = [  # (pattern on unaccented lower text, replacement token)
    (r"\bthu\s*(2|hai)\b", "t2"), (r"\bthu\s*(3|ba)\b", "t3"), (r"\bthu\s*(4|tu)\b", "t4"),
    (r"\bthu\s*(5|nam)\b", "t5"), (r"\bthu\s*(6|sau)\b", "t6"), (r"\bthu\s*(7|bay)\b", "t7"),
    (r"\bchu\s*nhat\b", "cn"), (r"\b(ngay thuong|trong tuan|weekdays?)\b", "t2-t6"),
    (r"\b(cuoi tuan|weekends?)\b", "t7-cn"), (r"\b(hang ngay|moi ngay|daily|every ?day)\b", "t2-cn"),
    (r"\bmon(day)?\b", "t2"), (r"\btue(sday)?\b", "t3"), (r"\bwed(nesday)?\b", "t4"),
    (r"\bthursday\b", "t5"), (r"\bfri(day)?\b", "t6"), (r"\bsat(urday)?\b", "t7"),
    (r"\bsun(day)?\b", "cn"), (r"\b(ca ngay|all ?day)\b", "allday"),
]
SESSION_WORDS = {"sang": "morning", "morning": "morning", "chieu": "afternoon", "afternoon": "afternoon",
                 "toi": "evening", "evening": "evening", "allday": None}  # folded words; None = every session
_FILLER = {"buoi", "va", "and", "ca", "ngay", "thu", "cac", "on"}
_DAY_INDEX = {"t2": 0, "t3": 1, "t4": 2, "t5": 3, "t6": 4, "t7": 5, "cn": 6}
_TOKEN = re.compile(r"(t[2-7]|cn)(?:\s*-\s*(t[2-7]|cn))?|[a-z]+|\d+")
AVAILABILITY_EXAMPLE = "T2-T6 tối; T7 sáng; CN cả ngày"


def parse_days(text: str) -> set[int]:
    """Weekday numbers (0 = Monday) named by `text`: T2-T6, t7, CN, weekdays, weekend, sat, daily…"""
    days, leftover = _scan(text)
    if leftover or not days:
        raise InvalidInput(f"cannot read days '{clean(text)}': use e.g. T2-T6, T7, CN, weekdays, weekend")
    return days


def _scan(item: str) -> tuple[set[int], list[str]]:
    """Day numbers and unrecognised words in one availability item; sessions are left as words."""
    text = unaccent(clean(item)).lower()
    for pattern, token in _DAY_WORDS:
        text = re.sub(pattern, token, text)
    days: set[int] = set()
    words: list[str] = []
    for match in _TOKEN.finditer(text):
        first, last = match.group(1), match.group(2)
        if first:
            a, b = _DAY_INDEX[first], _DAY_INDEX[last or first]
            days.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
        elif match.group(0) not in _FILLER:
            words.append(match.group(0))
    return days, words


def parse_availability(text: str | None) -> str:
    """Canonical availability ("0:evening,5:morning"; "" = any time) from free text.

    Items are separated by ';' or new lines; each names days and sessions, e.g.
    "T2-T6 tối; T7 sáng; CN cả ngày" or "weekdays evening; sat morning". An item with no day
    means every day, one with no session means all sessions.
    """
    slots: set[str] = set()
    for item in re.split(r"[;\n|]+", clean(text).replace(" / ", ";")) if text else []:
        if not item.strip():
            continue
        days, words = _scan(item)
        sessions: set[str] = set()
        for word in words:
            if word not in SESSION_WORDS:
                raise InvalidInput(f"cannot read availability '{clean(item)}' (word '{word}'): "
                                   f"use e.g. '{AVAILABILITY_EXAMPLE}'")
            sessions.update([SESSION_WORDS[word]] if SESSION_WORDS[word] else SESSIONS)
        for day in days or range(7):
            for session in sessions or SESSIONS:
                slots.add(f"{day}:{session}")
    if len(slots) == 7 * len(SESSIONS):
        return ""
    return ",".join(sorted(slots, key=lambda s: (int(s[0]), SESSIONS.index(s[2:]))))


def is_available(availability: str, weekday: int, session: str) -> bool:
    """Whether a canonical availability string covers this weekday (0 = Monday) and session."""
    return not availability or f"{weekday}:{session}" in availability.split(",")


def describe_availability(availability: str) -> str:
    """Canonical availability back as short Vietnamese: "T2 Tối, T7 Sáng" ("Mọi lúc" if any)."""
    if not availability:
        return "Mọi lúc"
    return ", ".join(f"{DAY_LABELS[int(s[0])]} {SESSION_LABELS[s[2:]]}" for s in availability.split(","))


# --- volunteers ------------------------------------------------------------------------------

@dataclass(frozen=True)
class NewVolunteer:
    """One volunteer as entered or imported, before validation."""
    name: str
    phone: str
    team: str = ""
    role: str = "member"
    skills: tuple[str, ...] = ()
    availability: str = ""


def parse_role(raw: str | None) -> str:
    key = fold(raw or "member")
    if key not in ROLES:
        raise InvalidInput(f"unknown role '{clean(raw)}': use leader (tổ trưởng) or member (thành viên)")
    return ROLES[key]


def parse_desk_role(raw: str | None) -> str:
    key = fold(raw or "volunteer")
    if key not in DESK_ROLES:
        raise InvalidInput(f"unknown desk role '{clean(raw)}': use volunteer, senior or official")
    return DESK_ROLES[key]


def set_desk_role(db: Database, name_or_phone: str, desk_role: str) -> dict:
    volunteer = get_by_name_or_phone(db, name_or_phone)
    with db.transaction() as conn:
        conn.execute("UPDATE volunteers SET desk_role = ?, updated_at = ? WHERE id = ?",
                     (parse_desk_role(desk_role), utc_stamp(), volunteer["id"]))
    return get(db, volunteer["id"])


def may_reject(db: Database, name_or_phone: str) -> bool:
    """True when this active volunteer is an official or a senior volunteer; unknown people may not."""
    if not clean(name_or_phone):
        return False
    try:
        volunteer = get_by_name_or_phone(db, name_or_phone)
    except (InvalidInput, NotFound):
        return False
    return volunteer["active"] and volunteer.get("desk_role") in MAY_REJECT


def parse_skills(raw) -> list[str]:
    """Skills from a list or a comma/semicolon separated text, cleaned, duplicates dropped."""
    items = raw if isinstance(raw, (list, tuple)) else re.split(r"[,;\n]+", str(raw or ""))
    seen, skills = set(), []
    for item in items:
        skill = clean(item)
        if skill and fold(skill) not in seen:
            seen.add(fold(skill))
            skills.append(skill)
    return skills


def _validated(entry: NewVolunteer) -> dict:
    name = clean(entry.name)
    if not name:
        raise InvalidInput("volunteer name is empty")
    return {"name": name, "name_key": fold(name), "phone": phones.normalise(entry.phone),
            "team": clean(entry.team), "role": parse_role(entry.role),
            "skills": ", ".join(parse_skills(entry.skills)),
            "availability": parse_availability(entry.availability)}


def add(db: Database, entry: NewVolunteer) -> dict:
    """Add a volunteer; a phone that already belongs to someone is refused."""
    values = _validated(entry)
    with db.transaction() as conn:
        owner = conn.execute("SELECT name FROM volunteers WHERE phone = ?", (values["phone"],)).fetchone()
        if owner:
            raise InvalidInput(f"phone {phones.national(values['phone'])} already belongs to volunteer "
                               f"{owner[0]}; each volunteer needs their own phone")
        stamp = utc_stamp()
        volunteer_id = conn.execute(
            "INSERT INTO volunteers (name, name_key, phone, team, role, skills, availability, created_at, "
            "updated_at) VALUES (:name, :name_key, :phone, :team, :role, :skills, :availability, :at, :at)",
            {**values, "at": stamp}).lastrowid
    return get(db, volunteer_id)


def upsert(db: Database, entry: NewVolunteer) -> tuple[dict, str]:
    """Add, or update the volunteer with this phone (imports); returns (volunteer, added|updated|unchanged)."""
    values = _validated(entry)
    with db.transaction() as conn:
        row = conn.execute("SELECT id, name, team, role, skills, availability FROM volunteers WHERE phone = ?",
                           (values["phone"],)).fetchone()
        if row is None:
            return add(db, entry), "added"
        current = dict(zip(("name", "team", "role", "skills", "availability"), row[1:]))
        changes = {k: values[k] for k in current if current[k] != values[k] and (values[k] or k == "availability")}
        if changes:
            changes["name_key"] = values["name_key"]
            sets = ", ".join(f"{k} = :{k}" for k in changes)
            conn.execute(f"UPDATE volunteers SET {sets}, updated_at = :at WHERE id = :id",
                         {**changes, "at": utc_stamp(), "id": row[0]})
    return get(db, row[0]), "updated" if changes else "unchanged"


def get(db: Database, volunteer_id: int) -> dict:
    row = db.query_one("SELECT * FROM volunteers WHERE id = ?", (volunteer_id,))
    if row is None:
        raise NotFound(f"no volunteer #{volunteer_id}")
    return _public(row)


def _public(row: dict) -> dict:
    """A volunteer as shown and emitted: no PIN hash, skills as a list."""
    data = {k: v for k, v in row.items() if k not in ("pin_hash", "name_key", "pin_failures")}
    data["skills"] = parse_skills(row["skills"])
    data["active"] = bool(row["active"])
    data["has_pin"] = bool(row.get("pin_hash"))
    data["availability_text"] = describe_availability(row["availability"])
    return data


def get_by_name_or_phone(db: Database, name_or_phone: str) -> dict:
    """A volunteer by phone (any written form) or by name (case, spaces and diacritics ignored)."""
    text = clean(name_or_phone)
    if phones.is_valid(text):
        row = db.query_one("SELECT * FROM volunteers WHERE phone = ?", (phones.normalise(text),))
        if row:
            return _public(row)
    rows = db.query("SELECT * FROM volunteers WHERE name_key = ? ORDER BY id", (fold(text),))
    if len(rows) > 1:
        raise InvalidInput(f"{len(rows)} volunteers are named '{text}'; give the phone number instead")
    if not rows:
        raise NotFound(f"no volunteer '{text}'; see `tdp volunteers list`")
    return _public(rows[0])


def list_volunteers(db: Database, *, active_only: bool = False) -> list[dict]:
    where = "WHERE active = 1" if active_only else ""
    return [_public(r) for r in db.query(f"SELECT * FROM volunteers {where} ORDER BY team, role, name, id")]


def set_active(db: Database, name_or_phone: str, active: bool) -> dict:
    volunteer = get_by_name_or_phone(db, name_or_phone)
    with db.transaction() as conn:
        conn.execute("UPDATE volunteers SET active = ?, updated_at = ? WHERE id = ?",
                     (int(active), utc_stamp(), volunteer["id"]))
    return get(db, volunteer["id"])


# --- PIN -------------------------------------------------------------------------------------

def hash_pin(pin: str, salt: bytes | None = None) -> str:
    """A self-describing scrypt hash: "scrypt$n$r$p$salt_hex$key_hex"."""
    salt = salt or secrets.token_bytes(16)
    key = hashlib.scrypt(pin.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${key.hex()}"


def pin_matches(pin: str, stored: str) -> bool:
    """Constant-time check of `pin` against a stored hash."""
    try:
        kind, n, r, p, salt, key = stored.split("$")
    except ValueError:
        return False
    candidate = hashlib.scrypt(pin.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p),
                               dklen=len(key) // 2)
    return kind == "scrypt" and hmac.compare_digest(candidate, bytes.fromhex(key))


def set_pin(db: Database, name_or_phone: str, pin: str) -> dict:
    """Set (or replace) a volunteer's PIN: 4 to 8 digits. Clears any lockout."""
    pin = (pin or "").strip()
    if not re.fullmatch(r"\d{4,8}", pin):
        raise InvalidInput("the PIN must be 4 to 8 digits")
    if len(set(pin)) == 1 or pin in "0123456789" or pin in "9876543210":
        raise InvalidInput("the PIN is too easy to guess (all one digit or a run like 1234)")
    volunteer = get_by_name_or_phone(db, name_or_phone)
    with db.transaction() as conn:
        conn.execute("UPDATE volunteers SET pin_hash = ?, pin_failures = 0, locked_until = NULL, updated_at = ? "
                     "WHERE id = ?", (hash_pin(pin), utc_stamp(), volunteer["id"]))
    return get(db, volunteer["id"])


def verify_pin(db: Database, name_or_phone: str, pin: str, settings: VolunteerSettings | None = None,
               at: datetime | None = None) -> dict:
    """The volunteer if `pin` is theirs; else WrongPin, or LockedOut after too many failures.

    Check and count happen in one write transaction, so two kiosks guessing at once cannot both
    slip under the limit; the count is committed before the error is raised, so a lockout
    survives restarts.
    """
    settings = settings or VolunteerSettings()
    at = at or datetime.now(timezone.utc)
    volunteer = get_by_name_or_phone(db, name_or_phone)
    if not volunteer["active"]:
        raise VolunteerError(f"volunteer {volunteer['name']} is inactive; ask the group leader",
                             "Tài khoản tình nguyện viên đang tạm dừng; xin hỏi tổ trưởng.")
    error: VolunteerError | None = None
    with db.transaction() as conn:
        stored, failures, locked_until = conn.execute(
            "SELECT pin_hash, pin_failures, locked_until FROM volunteers WHERE id = ?", (volunteer["id"],)).fetchone()
        if locked_until and parse_utc(locked_until) > at:
            left = parse_utc(locked_until) - at
            error = LockedOut(f"too many wrong PINs: try again in {_minutes_up(left)} minutes",
                              f"Nhập sai mã PIN quá nhiều lần: thử lại sau {_minutes_up(left)} phút.")
        elif not stored:
            error = VolunteerError(f"volunteer {volunteer['name']} has no PIN yet: `tdp volunteers set-pin`",
                                   "Bạn chưa có mã PIN; xin tổ trưởng đặt mã.")
        elif pin_matches(str(pin or ""), stored):
            conn.execute("UPDATE volunteers SET pin_failures = 0, locked_until = NULL WHERE id = ?",
                         (volunteer["id"],))
        elif failures + 1 >= settings.pin_max_failures:
            conn.execute("UPDATE volunteers SET pin_failures = 0, locked_until = ? WHERE id = ?",
                         (utc_stamp(at + timedelta(minutes=settings.lockout_minutes)), volunteer["id"]))
            error = LockedOut(f"too many wrong PINs: locked for {settings.lockout_minutes} minutes",
                              f"Nhập sai mã PIN quá nhiều lần: tạm khóa {settings.lockout_minutes} phút.")
        else:
            conn.execute("UPDATE volunteers SET pin_failures = ? WHERE id = ?", (failures + 1, volunteer["id"]))
            left = settings.pin_max_failures - failures - 1
            error = WrongPin(f"wrong PIN ({left} tries left)", f"Sai mã PIN. Còn {left} lần thử.")
    if error is not None:
        raise error
    return volunteer


def _minutes_up(delta: timedelta) -> int:
    return max(1, -(-int(delta.total_seconds()) // 60))


# --- import ----------------------------------------------------------------------------------

IMPORT_COLUMNS = {
    "name": ["Họ và tên", "Họ tên", "Tên", "Tình nguyện viên", "Name"],
    "phone": ["Số điện thoại", "SĐT", "Số ĐT", "Điện thoại", "Di động", "Phone"],
    "team": ["Tổ/Nhóm", "Tổ", "Nhóm", "Tổ dân phố", "Tổ công nghệ số", "Team"],
    "role": ["Vai trò", "Chức vụ", "Nhiệm vụ", "Role"],
    "skills": ["Kỹ năng", "Lĩnh vực hỗ trợ", "Lĩnh vực", "Skills"],
    "availability": ["Lịch rảnh", "Thời gian rảnh", "Thời gian có thể hỗ trợ", "Availability"],
}


def import_file(db: Database, path) -> dict:
    """Add or update volunteers from an xlsx/csv/docx list (matched by phone), all in one transaction.

    Returns counts and the rejected rows with the reason and the row number the official sees.
    A row that repeats an earlier row's phone is rejected, never merged silently.
    """
    from kiosk.tabular import read_table

    table = read_table(path, IMPORT_COLUMNS, required=("name", "phone"))
    counts = {"added": 0, "updated": 0, "unchanged": 0}
    rejected, seen = [], {}
    with db.transaction():
        for row in table.rows:
            values = row.values
            if not any(values.values()):
                continue
            try:
                e164 = phones.normalise(values.get("phone"))
                if e164 in seen:
                    raise InvalidInput(f"phone {phones.national(e164)} is already on {seen[e164]}")
                entry = NewVolunteer(values.get("name", ""), e164, values.get("team", ""),
                                     values.get("role") or "member", tuple(parse_skills(values.get("skills", ""))),
                                     values.get("availability", ""))
                _, status = upsert(db, entry)
                seen[e164] = row.label
                counts[status] += 1
            except InvalidInput as exc:
                rejected.append({"row": row.label, "reason": str(exc)})
    return {"file": str(path), **counts, "rejected": rejected}
