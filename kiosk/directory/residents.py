"""The resident directory: households, residents, groups (organisations) and SMS consent.

Phones are stored in E.164 and are unique: a resident is identified by phone when importing.
Consent follows Decree 13/2023/NĐ-CP: every change is recorded with when, how and its source,
and only residents whose latest consent is "given" ever receive SMS.
"""
from __future__ import annotations

from dataclasses import dataclass

from hub import contract
from sms.storage import Database, Migration
from sms.vietnamese import unaccent

from kiosk.directory import phone as phones
from kiosk.errors import InvalidInput, NotFound
from kiosk.text import clean, fold
from kiosk.clock import utc_stamp

MIGRATIONS = [
    Migration("0001_directory", """
        CREATE TABLE households (
            id INTEGER PRIMARY KEY,
            address TEXT NOT NULL,
            residential_group TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL
        );
        CREATE TABLE residents (
            id INTEGER PRIMARY KEY,
            household_id INTEGER REFERENCES households(id) ON DELETE SET NULL,
            full_name TEXT NOT NULL,
            role TEXT NOT NULL DEFAULT '',
            phone TEXT UNIQUE,
            is_head INTEGER NOT NULL DEFAULT 0,
            consent INTEGER NOT NULL DEFAULT 0,
            consent_at TEXT,
            consent_method TEXT,
            consent_source TEXT,
            active INTEGER NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE groups (
            id INTEGER PRIMARY KEY,
            code TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            name_key TEXT NOT NULL UNIQUE
        );
        CREATE TABLE memberships (
            resident_id INTEGER NOT NULL REFERENCES residents(id) ON DELETE CASCADE,
            group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
            PRIMARY KEY (resident_id, group_id)
        );
        CREATE INDEX memberships_group ON memberships(group_id);
        CREATE TABLE consent_log (
            id INTEGER PRIMARY KEY,
            resident_id INTEGER NOT NULL REFERENCES residents(id) ON DELETE CASCADE,
            given INTEGER NOT NULL,
            at TEXT NOT NULL,
            method TEXT NOT NULL,
            source TEXT NOT NULL DEFAULT ''
        );
    """),
]

EVERYONE_CODE = contract.EVERYONE_CODE  # "TATCA", as officials type it and the hub sends it
EVERYONE = {fold(EVERYONE_CODE), "all", "everyone", "toanbo"}  # folded aliases

# Codes people already use for the usual organisations; others get their initials.
WELL_KNOWN_CODES = {
    "chibo": "CB", "hoiphunu": "HPN", "tuve": "TV", "doanthanhnien": "DTN",
    "hoicuuchienbinh": "CCB", "hoinguoicaotuoi": "NCT", "mattran": "MT",
    "bancongtacmattran": "MT", "todanpho": "TDP", "hoichuthapdo": "CTD",
}


@dataclass(frozen=True)
class Consent:
    """A consent decision: given or withdrawn, how (import, kiosk, sms, cli) and its source."""
    given: bool
    method: str
    source: str = ""


def household_at(db: Database, address: str) -> int | None:
    """The id of the (first) household at this exact address, or None."""
    row = db.query_one("SELECT id FROM households WHERE address = ? ORDER BY id LIMIT 1", (address,))
    return row["id"] if row else None


def totals(db: Database) -> dict:
    """{"households", "residents", "consenting"}: the directory's size."""
    row = db.query_one("SELECT COUNT(*) AS residents, COALESCE(SUM(consent), 0) AS consenting FROM residents")
    return {"households": db.scalar("SELECT COUNT(*) FROM households"), **row}


def add_household(db: Database, address: str, residential_group: str = "") -> int:
    address = clean(address)
    if not address:
        raise InvalidInput("household address is empty")
    with db.transaction() as conn:
        return conn.execute("INSERT INTO households (address, residential_group, created_at) VALUES (?, ?, ?)",
                            (address, clean(residential_group), utc_stamp())).lastrowid


def group_code_for(name: str) -> str:
    key = fold(name)
    if key in WELL_KNOWN_CODES:
        return WELL_KNOWN_CODES[key]
    words = [w for w in (fold(w) for w in clean(name).split()) if w]
    if len(words) == 1:
        return words[0][:8].upper()  # "BQL" stays BQL rather than becoming "B"
    return "".join(w[0] for w in words).upper() or "G"


def ensure_group(db: Database, name: str, code: str | None = None) -> int:
    """The id of the group named `name` (matched ignoring case, spaces, diacritics), created if new."""
    name = clean(name)
    if not name:
        raise InvalidInput("group name is empty")
    key = fold(name)
    with db.transaction() as conn:
        row = conn.execute("SELECT id FROM groups WHERE name_key = ? OR code = ?", (key, key.upper())).fetchone()
        if row:
            return row[0]
        base = fold(code).upper() if code else group_code_for(name)
        candidate, n = base, 1
        while conn.execute("SELECT 1 FROM groups WHERE code = ? OR name_key = ?",
                           (candidate, candidate.lower())).fetchone():
            n += 1
            candidate = f"{base}{n}"
        return conn.execute("INSERT INTO groups (code, name, name_key) VALUES (?, ?, ?)",
                            (candidate, name, key)).lastrowid


def get_group(db: Database, name_or_code: str) -> dict:
    """A group by its code (HPN) or its name with case, spaces and diacritics ignored (HOIPHUNU)."""
    key = fold(name_or_code)
    row = db.query_one("SELECT id, code, name FROM groups WHERE lower(code) = ? OR name_key = ?", (key, key))
    if row is None:
        known = ", ".join(f"{g['code']} ({g['name']})" for g in list_groups(db)) or "none yet"
        raise NotFound(f"no group '{clean(name_or_code)}'; groups: {known}")
    return row


def list_groups(db: Database) -> list[dict]:
    """Every group with its member and consenting-member counts."""
    return db.query("""
        SELECT g.id, g.code, g.name,
               COUNT(r.id) AS members,
               COALESCE(SUM(r.consent = 1 AND r.active = 1 AND r.phone IS NOT NULL), 0) AS consenting
        FROM groups g
        LEFT JOIN memberships m ON m.group_id = g.id
        LEFT JOIN residents r ON r.id = m.resident_id
        GROUP BY g.id ORDER BY g.code""")


def upsert_resident(db: Database, full_name: str, phone: str | None, *, role: str = "",
                    household_id: int | None = None, groups: list[str] = (),
                    consent: Consent | None = None, is_head: bool = False) -> tuple[int, str]:
    """Add or update a resident identified by phone; returns (id, "added"|"updated"|"unchanged").

    Consent is only ever changed by an explicit `consent`: re-importing a list never overrides
    a withdrawal the resident made by SMS or at the kiosk.
    """
    full_name = clean(full_name)
    if not full_name:
        raise InvalidInput("full name is empty")
    e164 = phones.normalise(phone) if phone not in (None, "") else None
    role = clean(role)
    with db.transaction() as conn:
        row = conn.execute("SELECT id, full_name, role, household_id, consent, consent_method FROM residents "
                           "WHERE phone = ?", (e164,)).fetchone() if e164 else None
        stamp = utc_stamp()
        if row is None:
            resident_id = conn.execute(
                "INSERT INTO residents (household_id, full_name, role, phone, is_head, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)", (household_id, full_name, role, e164, int(is_head), stamp, stamp)
            ).lastrowid
            status = "added"
        else:
            resident_id = row[0]
            changes = {"full_name": full_name}
            if role:
                changes["role"] = role
            if household_id is not None:
                changes["household_id"] = household_id
            current = dict(zip(("full_name", "role", "household_id"), row[1:4]))
            changes = {k: v for k, v in changes.items() if current[k] != v}
            if changes:
                sets = ", ".join(f"{k} = ?" for k in changes)
                conn.execute(f"UPDATE residents SET {sets}, updated_at = ? WHERE id = ?",
                             (*changes.values(), stamp, resident_id))
            status = "updated" if changes else "unchanged"
        for group in groups:
            if not clean(group):
                continue
            group_id = ensure_group(db, group)
            inserted = conn.execute("INSERT OR IGNORE INTO memberships (resident_id, group_id) VALUES (?, ?)",
                                    (resident_id, group_id)).rowcount
            if inserted and status == "unchanged":
                status = "updated"
        if consent is not None and (row is None or consent.given != bool(row[4])):
            # An import may grant consent to a new contact, but never re-grant one that was
            # withdrawn on the resident's word (SMS HUY/TUCHOI, the kiosk, `tdp consent withdraw`).
            if not (row is not None and consent.method == "import" and row[5] not in (None, "import")):
                _record_consent(conn, resident_id, consent)
                if status == "unchanged":
                    status = "updated"
    return resident_id, status


def _record_consent(conn, resident_id: int, consent: Consent) -> None:
    stamp = utc_stamp()
    conn.execute("UPDATE residents SET consent = ?, consent_at = ?, consent_method = ?, consent_source = ?, "
                 "updated_at = ? WHERE id = ?",
                 (int(consent.given), stamp, consent.method, consent.source, stamp, resident_id))
    conn.execute("INSERT INTO consent_log (resident_id, given, at, method, source) VALUES (?, ?, ?, ?, ?)",
                 (resident_id, int(consent.given), stamp, consent.method, consent.source))


def set_consent(db: Database, phone: str, consent: Consent) -> dict:
    """Give or withdraw SMS consent for the resident with this phone; always recorded."""
    resident = resident_by_phone(db, phone)
    with db.transaction() as conn:
        _record_consent(conn, resident["id"], consent)
    return resident_by_phone(db, phone)


def resident_by_phone(db: Database, phone: str) -> dict:
    e164 = phones.normalise(phone)
    row = db.query_one("SELECT * FROM residents WHERE phone = ?", (e164,))
    if row is None:
        raise NotFound(f"no resident with phone {phones.national(e164)}")
    return row


def find_resident_by_phone(db: Database, phone: str) -> dict | None:
    """Like resident_by_phone, but None for an unknown or invalid number (for SMS senders)."""
    try:
        return resident_by_phone(db, phone)
    except (NotFound, InvalidInput):
        return None


def household_slip(db: Database, household_id: int) -> dict | None:
    """What a household's registration slip prints: the head's name, phone and registration time,
    and the groups the head receives notices from (sorted); None when the household has no head."""
    head = db.query_one("SELECT id, full_name, phone, created_at FROM residents WHERE household_id = ? AND is_head = 1",
                        (household_id,))
    if head is None:
        return None
    groups = [row["name"] for row in db.query(
        "SELECT g.name FROM memberships m JOIN groups g ON g.id = m.group_id WHERE m.resident_id = ? ORDER BY g.name",
        (head["id"],))]
    return {"full_name": head["full_name"], "phone": head["phone"], "created_at": head["created_at"], "groups": groups}


def list_residents(db: Database, group: str | None = None) -> list[dict]:
    """Residents (optionally of one group) with their groups' codes, ordered by name."""
    where, params = "", ()
    if group:
        where, params = "WHERE r.id IN (SELECT resident_id FROM memberships WHERE group_id = ?)", (
            get_group(db, group)["id"],)
    rows = db.query(f"""
        SELECT r.id, r.full_name, r.role, r.phone, r.consent, r.consent_method, r.consent_source,
               r.household_id, h.address, r.active,
               COALESCE((SELECT group_concat(g.code, ',') FROM memberships m JOIN groups g ON g.id = m.group_id
                         WHERE m.resident_id = r.id), '') AS groups
        FROM residents r LEFT JOIN households h ON h.id = r.household_id
        {where} ORDER BY r.full_name, r.id""", params)
    for row in rows:
        row["groups"] = sorted(filter(None, row["groups"].split(",")))
        row["consent"] = bool(row["consent"])
        row["active"] = bool(row["active"])
    # SQLite orders by code point, which puts Đặng after Vũ; sort as a Vietnamese reader expects.
    rows.sort(key=lambda r: (unaccent(r["full_name"]).casefold(), r["full_name"], r["id"]))
    return rows


def recipients(db: Database, group: str | None = None) -> list[str]:
    """Phones (E.164) of active, consenting residents: of one group, or everyone for TATCA/None."""
    if group is None or fold(group) in EVERYONE:
        return [r["phone"] for r in db.query(
            "SELECT phone FROM residents WHERE consent = 1 AND active = 1 AND phone IS NOT NULL ORDER BY id")]
    group_id = get_group(db, group)["id"]
    return [r["phone"] for r in db.query(
        "SELECT r.phone FROM residents r JOIN memberships m ON m.resident_id = r.id "
        "WHERE m.group_id = ? AND r.consent = 1 AND r.active = 1 AND r.phone IS NOT NULL ORDER BY r.id",
        (group_id,))]


def withdrawals_between(db: Database, start: str, end: str) -> list[dict]:
    """Consent withdrawals recorded at `start` <= at < `end` (ISO UTC), oldest first: who (name,
    phone), when, how (sms, kiosk, cli…) and its source (for SMS, the words used)."""
    return db.query(
        "SELECT c.at, c.method, c.source, r.id AS resident_id, r.full_name, r.phone FROM consent_log c "
        "JOIN residents r ON r.id = c.resident_id WHERE c.given = 0 AND c.at >= ? AND c.at < ? ORDER BY c.at, c.id",
        (start, end))


def audience(db: Database, group: str | None = None, *, per_household: bool = False) -> list[dict]:
    """Who a notice reaches, as dicts (resident_id, full_name, phone, household_id, address).

    Every active consenting resident with a phone (of one group, or everyone for TATCA/None);
    with `per_household`, one per household: its head if among them, else its first member by id
    (a resident without a household is a household of one). Always one entry per phone.
    """
    where, params = "", ()
    if group is not None and fold(group) not in EVERYONE:
        where, params = "AND r.id IN (SELECT resident_id FROM memberships WHERE group_id = ?)", (
            get_group(db, group)["id"],)
    rows = db.query(f"""
        SELECT r.id AS resident_id, r.full_name, r.phone, r.household_id, r.is_head,
               COALESCE(h.address, '') AS address
        FROM residents r LEFT JOIN households h ON h.id = r.household_id
        WHERE r.consent = 1 AND r.active = 1 AND r.phone IS NOT NULL {where} ORDER BY r.id""", params)
    if per_household:
        chosen: dict = {}
        for row in rows:
            house = row["household_id"] if row["household_id"] is not None else f"resident:{row['resident_id']}"
            if house not in chosen or (row["is_head"] and not chosen[house]["is_head"]):
                chosen[house] = row
        rows = sorted(chosen.values(), key=lambda r: r["resident_id"])
    by_phone: dict = {}
    for row in rows:
        by_phone.setdefault(row["phone"], row)
    return [{k: v for k, v in row.items() if k != "is_head"} for row in by_phone.values()]


def registered_households(db: Database) -> int:
    """Households with at least one active consenting member (a resident without one counts alone)."""
    return db.scalar("""SELECT COUNT(DISTINCT COALESCE('h' || household_id, 'r' || id)) FROM residents
                        WHERE consent = 1 AND active = 1 AND phone IS NOT NULL""") or 0
