"""Household registration for notices, with the phone verified by a 6-digit code sent by SMS.

A registration counts only once the head of household has typed back the code we texted to
their phone: the SMS goes through the outbox like every other message. Three wrong tries
retire the code and text a fresh one; a code lasts CODE_MINUTES.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sms import outbox
from sms.storage import Database, Migration

from kiosk.directory import residents as directory
from kiosk.directory import phone as phones
from kiosk.clock import utc_stamp
from kiosk.directory.residents import Consent
from kiosk.errors import InvalidInput, NotFound
from kiosk.text import clean

CODE_MINUTES = 10
MAX_TRIES = 3
CONSENT_VERSION = "2026-11"
CONSENT_TEXT = (
    "Tôi đồng ý để Tổ dân phố lưu họ tên, số điện thoại, địa chỉ của hộ gia đình tôi để gửi thông báo "
    "bằng tin nhắn SMS. Thông tin chỉ dùng cho việc này, không cung cấp cho người khác. Tôi có thể "
    "ngừng nhận bất cứ lúc nào bằng cách nhắn HUY đến số của Tổ dân phố "
    "(Nghị định 13/2023/NĐ-CP về bảo vệ dữ liệu cá nhân)."
)

MIGRATIONS = [
    Migration("0001_phone_verifications", """
        CREATE TABLE phone_verifications (
            id INTEGER PRIMARY KEY,
            phone TEXT NOT NULL,
            salt TEXT NOT NULL,
            code_hash TEXT NOT NULL,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            tries INTEGER NOT NULL DEFAULT 0,
            verified_at TEXT,
            used_at TEXT
        );
    """),
]


@dataclass(frozen=True)
class CheckResult:
    """Outcome of typing a code: "ok", "wrong" (tries_left), or "new_code" (a fresh one was texted)."""
    outcome: str
    tries_left: int = 0
    verification_id: int = 0


def _hash(salt: str, code: str) -> str:
    return hashlib.sha256((salt + code).encode()).hexdigest()


def send_code(db: Database, phone: str, *, code: str | None = None) -> int:
    """Text a fresh 6-digit code to `phone`; returns the verification id to check it against."""
    e164 = phones.normalise(phone)
    code = code or f"{secrets.randbelow(10**6):06d}"
    salt = secrets.token_hex(8)
    created = datetime.now(timezone.utc)
    expires = (created + timedelta(minutes=CODE_MINUTES)).isoformat(timespec="seconds")
    with db.transaction() as conn:
        verification_id = conn.execute(
            "INSERT INTO phone_verifications (phone, salt, code_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
            (e164, salt, _hash(salt, code), created.isoformat(timespec="seconds"), expires)).lastrowid
        # Urgent: the resident is standing at the kiosk waiting for it, quiet hours or not.
        outbox.enqueue(db, e164, f"Ma xac nhan TDP: {code}. Hieu luc {CODE_MINUTES} phut. "
                                 f"Khong chia se ma nay.", priority="urgent",
                       key=f"otp:{verification_id}", source="registration")
    return verification_id


def check_code(db: Database, verification_id: int, code: str) -> CheckResult:
    """Check a typed code. After MAX_TRIES wrong tries (or expiry) a new code is texted."""
    row = db.query_one("SELECT * FROM phone_verifications WHERE id = ?", (verification_id,))
    if row is None:
        raise NotFound("this verification has ended; start the registration again",
                       "Phiên xác nhận đã hết. Xin làm lại từ đầu.")
    if row["verified_at"]:
        return CheckResult("ok", verification_id=verification_id)
    expired = datetime.fromisoformat(row["expires_at"]) < datetime.now(timezone.utc)
    if not expired and hmac.compare_digest(row["code_hash"], _hash(row["salt"], clean(code))):
        with db.transaction() as conn:
            conn.execute("UPDATE phone_verifications SET verified_at = ? WHERE id = ?", (utc_stamp(), verification_id))
        return CheckResult("ok", verification_id=verification_id)
    tries = row["tries"] + 1
    with db.transaction() as conn:
        conn.execute("UPDATE phone_verifications SET tries = ? WHERE id = ?", (tries, verification_id))
    if expired or tries >= MAX_TRIES:
        return CheckResult("new_code", MAX_TRIES, send_code(db, row["phone"]))
    return CheckResult("wrong", MAX_TRIES - tries, verification_id)


@dataclass
class Member:
    full_name: str
    phone: str = ""


def register_household(db: Database, verification_id: int, *, head_name: str, address: str,
                       members: list[Member] = (), groups: list[str] = (), residential_group: str = "") -> dict:
    """Record the household once its head's phone is verified; everything in one transaction.

    The head consents for SMS by the kiosk's consent text; members without their own phone are
    recorded without one, and members' phones are not texted until they register themselves.
    """
    row = db.query_one("SELECT * FROM phone_verifications WHERE id = ?", (verification_id,))
    if row is None or not row["verified_at"]:
        raise InvalidInput("the phone number has not been verified with the SMS code yet",
                           "Số điện thoại chưa được xác nhận bằng mã tin nhắn.")
    if row["used_at"]:
        raise InvalidInput("this verification was already used for a registration",
                           "Mã xác nhận này đã được dùng để đăng ký rồi.")
    if not clean(head_name):
        raise InvalidInput("the head of household's name is empty", "Xin nhập họ và tên chủ hộ.")
    consent = Consent(True, "kiosk", f"kiosk registration, consent text {CONSENT_VERSION}")
    with db.transaction() as conn:
        household_id = directory.add_household(db, address, residential_group)
        head_id, _ = directory.upsert_resident(db, head_name, row["phone"], household_id=household_id,
                                               groups=list(groups), consent=consent, is_head=True)
        for member in members:
            if clean(member.full_name):
                member_phone = member.phone if member.phone and member.phone.strip() else None
                directory.upsert_resident(db, member.full_name, member_phone, household_id=household_id)
        conn.execute("UPDATE phone_verifications SET used_at = ? WHERE id = ?", (utc_stamp(), verification_id))
    return {"household_id": household_id, "head_id": head_id, "phone": row["phone"]}
