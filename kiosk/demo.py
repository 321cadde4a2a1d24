"""A demo ward for `tdp demo`: 40 households, 100 residents, the usual organisations and roles.

Deterministic (a fixed random seed), so screenshots, tests and the demo always show the same people.
Seeding twice adds nothing the second time: residents are keyed by phone, households by address.
Most residents consent to SMS; a few never did and two withdrew by SMS, so consent filtering shows.
"""
from __future__ import annotations

import random
import shutil
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sms.storage import Database

from kiosk.directory import residents as directory
from kiosk.directory import phone as phones
from kiosk.appliance.config import Config
from kiosk.directory.residents import Consent
from kiosk import clock
from kiosk.dossiers import lifecycle as dossiers, tracking
from kiosk.errors import InvalidInput
from kiosk.notices import board as notices
from kiosk.volunteers import duty, people as volunteers, rota

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


# --- the demo's data directory, config and a ward in use ------------------------------------

MARKER = ".tdp-demo"


def prepare(data_dir: Path) -> Path:
    """Wipe (only if it is ours) and create the demo directory; write its config; return the config path."""
    if data_dir.exists() and any(data_dir.iterdir()):
        if not (data_dir / MARKER).exists():
            raise InvalidInput(f"{data_dir} is not empty and is not a demo directory; choose another --data")
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / MARKER).write_text("created by `tdp demo`; wiped by the next run\n", encoding="utf-8")
    config_path = data_dir / "tdp.toml"
    config_path.write_text(DEMO_CONFIG.format(db=(data_dir / "tdp.sqlite3").resolve()), encoding="utf-8")
    return config_path


DEMO_CONFIG = """# Written by `tdp demo`. A demo ward on the emulated modem, receipts saved as PDF files.
[site]
ward = "Phường Bách Khoa"
residential_group = "Tổ dân phố số 1"
kiosk_name = "demo"

[storage]
path = "{db}"

[modem]
port = "emulator"

[printer]
queue = ""

[relay]
group_leader_phone = "0912 000 001"
police_phone = "0912 000 113"

[[relay.officials]]
name = "Trần Văn Tổ (tổ trưởng, demo)"
phone = "0912 000 001"
pin = "2468"
"""


DEMO_PIN = "2468"
DEMO_VOLUNTEERS = [
    ("Đỗ Minh Tâm", "0966 100 201", "leader", ("vneid", "cu_tru"), "T2-CN sáng chiều tối"),
    ("Phạm Thu Hà", "0966 100 202", "member", ("bao_tro_xa_hoi",), "T2-T6 tối; T7 CN sáng"),
    ("Nguyễn Đức Huy", "0966 100 203", "member", ("vneid",), "T2-CN sáng chiều tối"),
    ("Lê Ngọc Anh", "0966 100 204", "member", ("dat_dai", "ho_tich"), "T7 CN sáng chiều"),
    ("Vũ Hồng Nhung", "0966 100 205", "member", ("vneid", "ho_tich"), "T2-T6 chiều tối"),
]
DEMO_NOTICES = [
    ("Mời các hộ dự họp tổ dân phố lúc 19h30 thứ Sáu tại Nhà văn hóa.", False),
    ("Cắt điện từ 8h đến 11h sáng Chủ nhật để bảo dưỡng trạm biến áp.", True),
    ("Hạn nộp thuế sử dụng đất phi nông nghiệp năm nay là ngày 31/12.", False),
]


def seed_activity(store, config) -> dict:
    """What a ward in use has besides residents: volunteers (PIN 2468), this week's rota, a few
    requests at different stages and notices on the board."""
    for name, phone, role, skills, availability in DEMO_VOLUNTEERS:
        volunteers.upsert(store, volunteers.NewVolunteer(name, phone, "Tổ CNS số 1", role, skills, availability))
        volunteers.set_pin(store, phone, DEMO_PIN)
    today = clock.local_today(config.site.timezone)
    rota.plan(store, config, today, today + timedelta(days=6))
    duty.check_in(store, DEMO_VOLUNTEERS[0][1], DEMO_PIN, config.volunteers)
    prefix = tracking.prefix(config)
    requests = [("CT-TAMTRU", "Hoàng Văn Nam", "0977 200 301", []),
                ("HT-KS", "Bùi Thị Thảo", "0977 200 302", ["forwarded"]),
                ("BTXH-HUUTRI", "Ngô Văn Lộc", "0977 200 303", ["forwarded", "result_ready"])]
    for procedure, name, phone, steps in requests:
        dossier = dossiers.create(store, procedure_code=procedure, full_name=name, phone=phone, prefix=prefix,
                                  timezone=config.site.timezone, volunteer=DEMO_VOLUNTEERS[0][0])
        for status in steps:
            dossiers.update_status(store, dossier.code, status, by=DEMO_VOLUNTEERS[0][0], prefix=prefix)
    for text, urgent in DEMO_NOTICES:
        notices.post(store, text, source="local", urgent=urgent, posted_by="Tổ trưởng")
    return {"volunteers": len(DEMO_VOLUNTEERS), "requests": len(requests), "notices": len(DEMO_NOTICES)}
