"""Household registration for notices, with the phone verified by a 6-digit code sent by SMS.

A registration counts only once the head of household has typed back the code we texted to
their phone: the SMS goes through the outbox like every other message, urgent, so it goes out
at night too (the resident is standing at the kiosk). A code lasts CODE_MINUTES; three wrong
tries retire it, and nothing is texted again until the resident asks ("Gửi lại mã": resend_code).

Anyone at the kiosk can type any phone number, so codes are limited (`[otp]` in the config):
per phone per hour, per kiosk per hour, and a cool-down between two codes to one phone. Each
code is granted by one INSERT … SELECT … WHERE statement, so two screens or processes at once
cannot get past the limits. A refusal is a RateLimited saying in Vietnamese how long to wait.
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
from kiosk.errors import InvalidInput, NotFound, RateLimited
from kiosk.text import clean

CODE_MINUTES = 10
MAX_TRIES = 3
CONSENT_VERSION = "2026-12"
CONSENT_TEXT = (
    "Tôi đồng ý để Tổ dân phố lưu họ tên, số điện thoại, địa chỉ của hộ gia đình tôi và họ tên các "
    "thành viên trong hộ, để gửi thông báo bằng tin nhắn SMS. Thông tin chỉ dùng cho việc này, không "
    "cung cấp cho người khác. Tôi có thể ngừng nhận và xóa thông tin bất cứ lúc nào bằng cách nhắn HUY "
    "đến {number} (Nghị định 13/2023/NĐ-CP về bảo vệ dữ liệu cá nhân)."
)


def consent_text(kiosk_number: str = "") -> str:
    """The consent shown before registration, naming the number to text HUY to when one is set."""
    return CONSENT_TEXT.format(number=f"số {kiosk_number}" if kiosk_number else "số của Tổ dân phố")


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
    """Outcome of typing a code: "ok", "wrong" (tries_left), or "retired" (too many wrong tries
    or expired: the resident may ask for a new code, see resend_code)."""
    outcome: str
    tries_left: int = 0
    verification_id: int = 0


@dataclass(frozen=True)
class OtpLimits:
    """How many codes may be texted: per phone and per kiosk in any hour, seconds between two
    codes to one phone. Defaults are the config's ([otp])."""
    per_phone_per_hour: int = 3
    per_kiosk_per_hour: int = 20
    cooldown_seconds: int = 60

    @classmethod
    def from_config(cls, config) -> "OtpLimits":
        return cls(config.otp.codes_per_phone_per_hour, config.otp.codes_per_kiosk_per_hour,
                   config.otp.cooldown_seconds)


_GRANT_SQL = """
    INSERT INTO phone_verifications (phone, salt, code_hash, created_at, expires_at)
    SELECT :phone, :salt, :hash, :created, :expires
    WHERE (SELECT COUNT(*) FROM phone_verifications WHERE phone = :phone AND created_at > :hour_ago) < :per_phone
      AND (SELECT COUNT(*) FROM phone_verifications WHERE created_at > :hour_ago) < :per_kiosk
      AND NOT EXISTS (SELECT 1 FROM phone_verifications WHERE phone = :phone AND created_at > :cooldown_from)
"""


def _hash(salt: str, code: str) -> str:
    return hashlib.sha256((salt + code).encode()).hexdigest()


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def wait_seconds(db: Database, phone: str, limits: OtpLimits | None = None, now: datetime | None = None) -> int:
    """Seconds until a code may be texted to `phone` (0: now)."""
    limits = limits or OtpLimits()
    now = now or datetime.now(timezone.utc)
    e164 = phones.normalise(phone)
    hour_ago = _stamp(now - timedelta(hours=1))
    waits = [0.0]
    last = db.scalar("SELECT MAX(created_at) FROM phone_verifications WHERE phone = ?", (e164,))
    if last:
        waits.append((datetime.fromisoformat(last) + timedelta(seconds=limits.cooldown_seconds) - now).total_seconds())
    for where, params, cap in (("phone = ? AND", (e164,), limits.per_phone_per_hour), ("", (), limits.per_kiosk_per_hour)):
        recent = [r["created_at"] for r in db.query(
            f"SELECT created_at FROM phone_verifications WHERE {where} created_at > ? ORDER BY created_at DESC",
            (*params, hour_ago))]
        if len(recent) >= cap > 0:
            waits.append((datetime.fromisoformat(recent[cap - 1]) + timedelta(hours=1) - now).total_seconds())
        elif cap <= 0:
            waits.append(3600.0)
    return max(0, int(max(waits) + 0.999))


def _wait_words(seconds: int) -> str:
    return f"{seconds} giây" if seconds < 60 else f"{(seconds + 59) // 60} phút"


def send_code(db: Database, phone: str, *, code: str | None = None, limits: OtpLimits | None = None,
              now: datetime | None = None) -> int:
    """Text a fresh 6-digit code to `phone` within the limits; returns the verification id.
    Raises RateLimited (with the wait, in Vietnamese) when the limits say no."""
    limits = limits or OtpLimits()
    e164 = phones.normalise(phone)
    code = code or f"{secrets.randbelow(10**6):06d}"
    salt = secrets.token_hex(8)
    created = now or datetime.now(timezone.utc)
    with db.transaction() as conn:
        cursor = conn.execute(_GRANT_SQL, {
            "phone": e164, "salt": salt, "hash": _hash(salt, code), "created": _stamp(created),
            "expires": _stamp(created + timedelta(minutes=CODE_MINUTES)),
            "hour_ago": _stamp(created - timedelta(hours=1)), "per_phone": limits.per_phone_per_hour,
            "per_kiosk": limits.per_kiosk_per_hour,
            "cooldown_from": _stamp(created - timedelta(seconds=limits.cooldown_seconds))})
        if cursor.rowcount != 1:
            wait = max(wait_seconds(db, e164, limits, created), 1)
            raise RateLimited(f"too many codes for {phones.masked(e164)}; try again in {wait} s",
                              f"Đã gửi nhiều mã. Xin chờ {_wait_words(wait)} rồi bấm Gửi lại mã.", wait)
        verification_id = cursor.lastrowid
        # Urgent: the resident is standing at the kiosk waiting for it, quiet hours or not.
        outbox.enqueue(db, e164, f"Ma xac nhan TDP: {code}. Hieu luc {CODE_MINUTES} phut. "
                                 f"Khong chia se ma nay.", priority="urgent", kind="direct",
                       key=f"otp:{verification_id}", source="registration")
    return verification_id


def resend_code(db: Database, verification_id: int, *, limits: OtpLimits | None = None,
                now: datetime | None = None) -> int:
    """"Gửi lại mã": retire this verification's code and text a new one to the same phone,
    within the limits (RateLimited says how long to wait). Returns the new verification id."""
    row = db.query_one("SELECT phone, verified_at FROM phone_verifications WHERE id = ?", (verification_id,))
    if row is None:
        raise NotFound("this verification has ended; start the registration again",
                       "Phiên xác nhận đã hết. Xin làm lại từ đầu.")
    if row["verified_at"]:
        return verification_id
    new_id = send_code(db, row["phone"], limits=limits, now=now)
    with db.transaction() as conn:
        conn.execute("UPDATE phone_verifications SET tries = ? WHERE id = ?", (MAX_TRIES, verification_id))
    return new_id


def check_code(db: Database, verification_id: int, code: str) -> CheckResult:
    """Check a typed code. After MAX_TRIES wrong tries (or expiry) the code is retired; a new one
    is texted only when the resident asks (resend_code)."""
    row = db.query_one("SELECT * FROM phone_verifications WHERE id = ?", (verification_id,))
    if row is None:
        raise NotFound("this verification has ended; start the registration again",
                       "Phiên xác nhận đã hết. Xin làm lại từ đầu.")
    if row["verified_at"]:
        return CheckResult("ok", verification_id=verification_id)
    expired = datetime.fromisoformat(row["expires_at"]) < datetime.now(timezone.utc)
    if expired or row["tries"] >= MAX_TRIES:
        return CheckResult("retired", 0, verification_id)
    if hmac.compare_digest(row["code_hash"], _hash(row["salt"], clean(code))):
        with db.transaction() as conn:
            conn.execute("UPDATE phone_verifications SET verified_at = ? WHERE id = ?", (utc_stamp(), verification_id))
        return CheckResult("ok", verification_id=verification_id)
    with db.transaction() as conn:
        tries = conn.execute("UPDATE phone_verifications SET tries = tries + 1 WHERE id = ? RETURNING tries",
                             (verification_id,)).fetchone()[0]
    if tries >= MAX_TRIES:
        return CheckResult("retired", 0, verification_id)
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
