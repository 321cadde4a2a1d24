"""A demo ward for `tdp demo`: 40 households, 100 residents, the usual organisations and roles.

Deterministic (a fixed random seed), so screenshots, tests and the demo always show the same people.
Seeding twice adds nothing the second time: residents are keyed by phone, households by address.
Most residents consent to SMS; a few never did and two withdrew by SMS, so consent filtering shows.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field

from sms.storage import Database

from kiosk.directory import residents as directory
from kiosk.directory import phone as phones
from kiosk.appliance.config import Config
from kiosk.directory.residents import Consent

SEED = 2024
HOUSEHOLDS = 40
RESIDENTS = 100

GROUPS = [("CB", "Chi bộ"), ("HPN", "Hội phụ nữ"), ("TV", "Tự vệ"), ("DTN", "Đoàn thanh niên"),
          ("CCB", "Hội cựu chiến binh"), ("NCT", "Hội người cao tuổi")]

FAMILY = ["Nguyễn", "Nguyễn", "Nguyễn", "Trần", "Trần", "Lê", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ",
          "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Đinh", "Trịnh"]
MALE_MIDDLE = ["Văn", "Văn", "Đức", "Minh", "Quang", "Hữu", "Thành", "Công", "Xuân", "Ngọc", "Mạnh"]
FEMALE_MIDDLE = ["Thị", "Thị", "Thị", "Ngọc", "Thu", "Thanh", "Minh", "Phương", "Hồng", "Kim"]
MALE_GIVEN = ["An", "Bình", "Cường", "Dũng", "Hùng", "Hải", "Hiếu", "Khánh", "Long", "Nam", "Phong", "Quân",
              "Sơn", "Thắng", "Trung", "Tuấn", "Việt", "Vinh", "Huy", "Đạt", "Kiên", "Lâm", "Tùng", "Hưng"]
FEMALE_GIVEN = ["Anh", "Chi", "Dung", "Hà", "Hạnh", "Hoa", "Hương", "Lan", "Linh", "Mai", "Nga", "Nhung",
                "Oanh", "Phương", "Thảo", "Trang", "Tuyết", "Vân", "Yến", "Hằng", "Loan", "Huyền", "Thủy"]
STREETS = ["phố Lê Thanh Nghị", "phố Bạch Mai", "phố Tạ Quang Bửu", "phố Đại La"]

# Roles of the residential group's officials: (title, sex or None, min age, max age, groups).
ROLES = [
    ("Tổ trưởng tổ dân phố", "M", 50, 68, ["CB"]),
    ("Tổ phó tổ dân phố", "F", 42, 62, ["HPN"]),
    ("Bí thư chi bộ", "M", 58, 80, ["CB", "CCB"]),
    ("Chi hội trưởng Hội phụ nữ", "F", 32, 58, ["HPN"]),
    ("Chi hội trưởng Hội cựu chiến binh", "M", 60, 85, ["CCB", "CB"]),
    ("Bí thư chi đoàn", None, 20, 30, ["DTN"]),
    ("Tổ trưởng tự vệ", "M", 24, 45, ["TV"]),
    ("Chi hội trưởng Hội người cao tuổi", None, 68, 90, ["NCT"]),
    ("Trưởng ban công tác Mặt trận", None, 45, 70, []),
]
NEVER_CONSENTED = 4
WITHDREW_BY_SMS = 2


@dataclass
class _Person:
    name: str
    sex: str
    age: int
    phone: str
    household: int
    is_head: bool
    role: str = ""
    groups: set[str] = field(default_factory=set)


def seed(db: Database, config: Config) -> dict:
    """Seed the demo ward into `db` in one transaction.

    Returns the totals now in the directory, and under "added" the households and residents this call added.
    """
    people, addresses = _people(random.Random(SEED))
    added = {"households": 0, "residents": 0}
    with db.transaction():
        for code, name in GROUPS:
            directory.ensure_group(db, name, code)
        household_ids = []
        for address in addresses:
            household_id = directory.household_at(db, address)
            if household_id is None:
                household_id = directory.add_household(db, address, config.site.residential_group)
                added["households"] += 1
            household_ids.append(household_id)
        for index, person in enumerate(people):
            consent = None if index % (len(people) // NEVER_CONSENTED) == 7 else \
                Consent(True, "import", "dữ liệu mẫu (demo)")
            _, status = directory.upsert_resident(
                db, person.name, person.phone, role=person.role, household_id=household_ids[person.household],
                groups=[name for code, name in GROUPS if code in person.groups], consent=consent,
                is_head=person.is_head)
            if status == "added":
                added["residents"] += 1
                if consent is not None and index % (len(people) // WITHDREW_BY_SMS) == 11:
                    directory.set_consent(db, person.phone, Consent(False, "sms", "HUY (demo)"))
    return {**directory.totals(db), "groups": len(directory.list_groups(db)), "added": added}


def _people(rng: random.Random) -> tuple[list[_Person], list[str]]:
    """The demo residents, households first to last; the same list on every call with the same rng."""
    sizes = [3] * (RESIDENTS - 2 * HOUSEHOLDS) + [2] * (3 * HOUSEHOLDS - RESIDENTS)
    rng.shuffle(sizes)
    addresses, people, names, used_phones = [], [], set(), set()
    prefixes = sorted(phones.MOBILE_PREFIXES)
    for number, size in enumerate(sizes):
        street = STREETS[number % len(STREETS)]
        addresses.append(f"Số {number + 3}, ngõ {number // 10 * 4 + 12}, {street}")
        family = rng.choice(FAMILY)
        head_sex = "M" if rng.random() < 0.7 else "F"
        head_age = rng.randint(38, 82)
        members = [(head_sex, head_age, family, True)]
        if size >= 2:
            members.append(("F" if head_sex == "M" else "M", max(30, head_age + rng.randint(-6, 3)),
                            rng.choice(FAMILY), False))
        for _ in range(size - len(members)):
            members.append((rng.choice("MF"), max(16, head_age - rng.randint(22, 32)), family, False))
        for sex, age, surname, is_head in members:
            name = _name(rng, sex, surname, names)
            people.append(_Person(name, sex, age, _phone(rng, prefixes, used_phones), number, is_head))
    for person in people:
        person.groups |= _memberships(rng, person)
    for title, sex, low, high, groups in ROLES:
        holder = next(p for p in people if not p.role and (sex is None or p.sex == sex) and low <= p.age <= high)
        holder.role = title
        holder.groups |= set(groups)
    return people, addresses


def _name(rng: random.Random, sex: str, surname: str, taken: set[str]) -> str:
    while True:
        middle, given = (MALE_MIDDLE, MALE_GIVEN) if sex == "M" else (FEMALE_MIDDLE, FEMALE_GIVEN)
        name = f"{surname} {rng.choice(middle)} {rng.choice(given)}"
        if name not in taken:
            taken.add(name)
            return name


def _phone(rng: random.Random, prefixes: list[str], used: set[str]) -> str:
    while True:
        number = rng.choice(prefixes) + f"{rng.randrange(10**7):07d}"
        if number not in used:
            used.add(number)
            return phones.normalise(number)


def _memberships(rng: random.Random, person: _Person) -> set[str]:
    groups = set()
    if person.sex == "F" and person.age >= 18 and rng.random() < 0.85:
        groups.add("HPN")
    if person.age >= 60:
        groups.add("NCT")
    if person.sex == "M" and person.age >= 55 and rng.random() < 0.4:
        groups.add("CCB")
    if person.age <= 30:
        groups.add("DTN")
    if person.sex == "M" and 18 <= person.age <= 45 and rng.random() < 0.5:
        groups.add("TV")
    if person.age >= 30 and rng.random() < 0.15:
        groups.add("CB")
    return groups
