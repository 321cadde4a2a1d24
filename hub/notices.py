"""Notices on the hub: compose (send), show, cancel, list, and the SMS relay fallback for offline kiosks.

A notice goes to kiosks through one delivery row per (notice, kiosk). Its state moves
pending → fetched (handed to the kiosk) → queued (the kiosk queued the SMS) → done, or to
expired / cancelled, or to relayed (the kiosk had already sent it from an official's SMS relay
command, so the hub's copy was not sent again). Sending is one transaction: the notice, every
delivery, the kiosks' feed versions (their ETags) and the audit row, so a failed send leaves
nothing behind. A Compose form carries a one-time token: a second post of the same form (a double
tap, a resend on a slow link) returns the notice the first one made instead of a second notice.
"""
from __future__ import annotations

import json
import re
import unicodedata
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from sms.segments import SegmentError, segment

from sms.vietnamese import unaccent

from . import contract, db
from .admin import iso, record
from .errors import Conflict, InvalidInput, NotFound
from .settings import HubSettings

STATES = ("pending", "fetched", "queued", "done", "expired", "cancelled", "relayed")
# Cancelling withdraws the notice from every kiosk's board, finished ones included.
CANCELLABLE = ("pending", "fetched", "queued", "done", "relayed")
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
TEST_SENDS_PER_HOUR = 5     # an official's test sends to a phone of their choosing, per hour
PHONE_RE = re.compile(r"^\+?[0-9]{9,15}$")
GROUP_RE = re.compile(r"^[A-Z0-9]{1,20}$")
EVERYONE = {"", "TATCA", "ALL"}
MAX_TEXT = 2000
MAX_EXPIRY_HOURS = 24 * 90


def clean_text(text: str) -> str:
    """NFC, trimmed, runs of spaces collapsed (line breaks kept, as the official typed them)."""
    text = unicodedata.normalize("NFC", str(text or ""))
    lines = [" ".join(line.split()) for line in text.replace("\r\n", "\n").split("\n")]
    return "\n".join(lines).strip()


def clean_group(group: str | None) -> str:
    """A group code (HPN, CB…) upper-cased; '' means everyone (TATCA)."""
    code = (group or "").strip().upper()
    if code in EVERYONE:
        return ""
    if not GROUP_RE.match(code):
        raise InvalidInput(f"group code {group!r}: letters and digits only, like HPN or CB (or TATCA)",
                           f"Mã nhóm {group!r} chỉ gồm chữ và số, ví dụ HPN, CB (hoặc TATCA)")
    return code


def parts_of(text: str, unaccented: bool = False) -> dict:
    """SMS parts and encoding of `text` by the same segmenter the kiosk's outbox uses."""
    try:
        seg = segment(text, unaccented=unaccented)
    except SegmentError as exc:
        raise InvalidInput(str(exc)) from None
    return {"parts": seg.count, "encoding": seg.encoding, "chars": len(seg.text)}


def preview(text: str, unaccented: bool = False) -> list[str]:
    """The SMS exactly as residents will read it, part by part (transliterated if `unaccented`)."""
    try:
        return list(segment(text, unaccented=unaccented).parts)
    except SegmentError as exc:
        raise InvalidInput(str(exc)) from None


def count_between(engine: Engine, kiosk_ids: set[int], since: float, until: float) -> int:
    """Notices (not test sends) to any of `kiosk_ids` created in [since, until) Unix seconds."""
    n, d = db.notices, db.deliveries
    query = (sa.select(sa.func.count(sa.distinct(n.c.id))).select_from(n.join(d, d.c.notice_id == n.c.id))
             .where(d.c.kiosk_id.in_(kiosk_ids), n.c.created_at >= since, n.c.created_at < until,
                    n.c.test_phone.is_(None)))
    with db.read(engine) as conn:
        return int(conn.execute(query).scalar() or 0)


def check_text(text: str, settings: HubSettings, unaccented: bool = False) -> tuple[str, int]:
    """The cleaned text and its part count; InvalidInput if empty, too long or over max_parts."""
    text = clean_text(text)
    if not any(not ch.isspace() and unicodedata.category(ch) not in ("Cf", "Cc") for ch in text):
        # Only spaces, zero-width or control characters: a phone would show an empty SMS.
        raise InvalidInput("notice text is empty", "Nội dung thông báo đang trống")
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"notice text is {len(text)} characters; at most {MAX_TEXT}",
                           f"Thông báo dài {len(text)} ký tự; tối đa {MAX_TEXT}")
    parts = parts_of(text, unaccented)["parts"]
    if parts > settings.max_parts:
        raise InvalidInput(f"notice is {parts} SMS parts; at most {settings.max_parts}: shorten it"
                           + ("" if unaccented else " or send it unaccented"),
                           f"Thông báo dài {parts} tin nhắn, vượt mức tối đa {settings.max_parts} tin. Hãy rút gọn"
                           + ("." if unaccented else " hoặc chọn gửi không dấu."))
    return text, parts


def clean_phone(phone: str) -> str:
    """An official's own phone for a test send: digits (and a leading +) only; InvalidInput otherwise."""
    number = "".join(ch for ch in str(phone or "") if ch.isdigit() or ch == "+")
    if not PHONE_RE.match(number):
        raise InvalidInput(f"not a phone number: {phone!r}", "Số điện thoại không đúng (ví dụ 0912 345 678)")
    return number


def _existing(conn, form_token: str | None) -> int | None:
    if not form_token:
        return None
    return conn.execute(sa.select(db.notices.c.id).where(db.notices.c.form_token == form_token)).scalar()


def check_schedule(at: str | None, every: str | None) -> tuple[str | None, str]:
    """(local "YYYY-MM-DD HH:MM" or None, "" | day | week | month); InvalidInput if malformed.

    The time is a wall-clock time: each kiosk reads it in its own timezone, so the hub cannot
    tell whether it is past for a kiosk and does not try."""
    at = (at or "").strip() or None
    every = (every or "").strip().lower()
    if at is not None:
        try:
            at = datetime.strptime(at, contract.NOTICE_AT_FORMAT).strftime(contract.NOTICE_AT_FORMAT)
        except ValueError:
            raise InvalidInput(f"time must be YYYY-MM-DD HH:MM (the kiosk's local time), got {at!r}",
                               "Thời gian phải có dạng YYYY-MM-DD HH:MM") from None
    if every not in contract.NOTICE_EVERY:
        raise InvalidInput("repeat must be day, week or month", "Lặp lại: hằng ngày, hằng tuần hoặc hằng tháng")
    if every and at is None:
        raise InvalidInput("a repeating notice needs its first time (--at)", "Thông báo lặp lại cần thời gian gửi đầu tiên")
    return at, every


def check_ask(ask: str | None) -> str:
    """A question's answers, "C=Có;K=Không" (2 to 9 answers, codes of 1-3 letters or digits), tidied;
    '' for none. The kiosks match and count the replies; the hub only ever sees the counts."""
    ask = clean_text(ask or "").replace("\n", " ")
    if not ask:
        return ""
    pieces = [p for p in ask.split(";") if p.strip()]
    options = []
    for piece in pieces:
        code, sep, label = piece.partition("=")
        code, label = code.strip().upper(), " ".join(label.split())
        if not sep or not contract.ANSWER_CODE_RE.match(code) or not label or len(label) > 30:
            raise InvalidInput(f"question answers must look like C=Có;K=Không, got {piece.strip()!r}",
                               "Câu trả lời phải có dạng C=Có;K=Không")
        options.append(f"{code}={label}")
    if not 2 <= len(options) <= contract.ANSWER_LIMIT or len({o.split("=")[0] for o in options}) != len(options):
        raise InvalidInput("a question needs 2 to 9 answers with different codes",
                           "Câu hỏi cần 2 đến 9 câu trả lời khác nhau")
    tidy = ";".join(options)
    if len(tidy) > contract.NOTICE_ASK_LIMIT:
        raise InvalidInput("the answers are too long", "Các câu trả lời quá dài")
    return tidy


def send(engine: Engine, settings: HubSettings, text: str, *, kiosks: list[str] | None = None,
         group: str | None = None, urgent: bool = False, expires_in_hours: float | None = None,
         unaccented: bool = False, actor: str = "cli", allowed_kiosk_ids: set[int] | None = None,
         at: str | None = None, every: str | None = None, ask: str | None = None,
         form_token: str | None = None, replaces: int | None = None, test_phone: str | None = None) -> dict:
    """Create a notice for the named kiosks (None: every active kiosk); returns {"id": …} (with "repeated": True for a form already sent).

    `allowed_kiosk_ids` limits an official to their kiosks (None: no limit, for the CLI).
    `at` ("YYYY-MM-DD HH:MM", each kiosk's local time) and `every` (day/week/month) schedule it;
    `ask` ("C=Có;K=Không") makes it a question whose counts the kiosks report.
    `form_token`: a token already used returns that notice ({"repeated": True}) and sends nothing.
    `replaces`: this is a correction of that notice, which is cancelled in the same transaction.
    `test_phone`: send only to this phone (one kiosk), not to any group nor onto the board.
    """
    if form_token is not None and not TOKEN_RE.match(form_token):
        raise InvalidInput("malformed form token", "Biểu mẫu không hợp lệ. Vui lòng tải lại trang rồi thử lại.")
    if form_token:
        with db.read(engine) as conn:
            existing = _existing(conn, form_token)
        if existing is not None:
            return {"id": existing, "repeated": True}
    if test_phone is not None:
        test_phone = clean_phone(test_phone)
        if not kiosks or len(kiosks) != 1:
            raise InvalidInput("a test send goes through exactly one kiosk", "Gửi thử cần chọn đúng một kiosk")
    text, parts = check_text(text, settings, unaccented)
    code = clean_group(group)
    at, every = check_schedule(at, every)
    ask = check_ask(ask)
    if expires_in_hours is not None and not 0 < expires_in_hours <= MAX_EXPIRY_HOURS:
        raise InvalidInput(f"expiry must be between 0 and {MAX_EXPIRY_HOURS} hours",
                           f"Thời hạn phải từ 1 đến {MAX_EXPIRY_HOURS} giờ")
    if kiosks is not None and not kiosks:
        raise InvalidInput("choose at least one kiosk (or --all)", "Hãy chọn ít nhất một kiosk")
    notice = {"text": text, "parts": parts, "code": code, "urgent": urgent, "unaccented": unaccented,
              "expires_in_hours": expires_in_hours, "at": at, "every": every, "ask": ask, "replaces": replaces,
              "test_phone": test_phone}
    try:
        return _insert(engine, notice, kiosks, actor, allowed_kiosk_ids, form_token, db.now())
    except sa.exc.IntegrityError:
        # Two posts of one form raced past the check above: the first one's notice stands.
        with db.read(engine) as conn:
            existing = _existing(conn, form_token)
        if existing is None:
            raise
        return {"id": existing, "repeated": True}


def _insert(engine: Engine, notice: dict, kiosks: list[str] | None, actor: str, allowed_kiosk_ids: set[int] | None,
            form_token: str | None, moment: float) -> dict:
    """The send's one transaction (see send); `notice` holds its checked values."""
    text, parts, code, urgent, unaccented = (notice[key] for key in ("text", "parts", "code", "urgent", "unaccented"))
    expires_in_hours, at, every, ask = (notice[key] for key in ("expires_in_hours", "at", "every", "ask"))
    replaces, test_phone = notice["replaces"], notice["test_phone"]
    k = db.kiosks
    with db.write(engine) as conn:
        existing = _existing(conn, form_token)
        if existing is not None:
            return {"id": existing, "repeated": True}
        if test_phone is not None:
            n = db.notices
            recent_tests = conn.execute(sa.select(sa.func.count()).select_from(n).where(
                n.c.created_by == actor, n.c.test_phone.is_not(None), n.c.created_at > moment - 3600)).scalar()
            if recent_tests >= TEST_SENDS_PER_HOUR:
                raise InvalidInput(f"at most {TEST_SENDS_PER_HOUR} test sends an hour",
                                   f"Mỗi giờ chỉ gửi thử được {TEST_SENDS_PER_HOUR} lần. Vui lòng thử lại sau.")
        if kiosks is None:
            query = sa.select(k.c.id, k.c.name, k.c.ward).where(k.c.revoked_at.is_(None))
            if allowed_kiosk_ids is not None:
                query = query.where(k.c.id.in_(allowed_kiosk_ids))
            targets = conn.execute(query).all()
            if not targets:
                raise InvalidInput("no active kiosks to send to (add one with `tdp hub add-kiosk`)")
        else:
            names = list(dict.fromkeys(n.strip() for n in kiosks))
            rows = {r.name: r for r in conn.execute(
                sa.select(k.c.id, k.c.name, k.c.ward, k.c.revoked_at).where(k.c.name.in_(names)))}
            unknown = [n for n in names if n not in rows]
            if allowed_kiosk_ids is not None and any(n in unknown or rows[n].id not in allowed_kiosk_ids for n in names):
                # One answer for another ward's kiosk and a name that does not exist: no probing.
                raise InvalidInput("you may only send to your own kiosks", "Anh/chị chỉ được gửi tới kiosk mình quản lý")
            if unknown:
                raise NotFound(f"unknown kiosk: {', '.join(unknown)}", f"Không có kiosk: {', '.join(unknown)}")
            revoked = [n for n in names if rows[n].revoked_at is not None]
            if revoked:
                raise InvalidInput(f"kiosk revoked: {', '.join(revoked)}", f"Kiosk đã bị thu hồi: {', '.join(revoked)}")
            targets = [rows[n] for n in names]
        notice_id = conn.execute(db.notices.insert().values(
            text=text, urgent=bool(urgent), group_code=code, unaccented=bool(unaccented), parts=parts,
            created_at=moment, expires_at=moment + expires_in_hours * 3600 if expires_in_hours else None,
            created_by=actor, at_local=at, every=every, ask=ask, form_token=form_token or None, replaces=replaces,
            test_phone=test_phone)).inserted_primary_key[0]
        conn.execute(db.deliveries.insert(), [
            {"notice_id": notice_id, "kiosk_id": t.id, "state": "pending", "updated_at": moment} for t in targets])
        conn.execute(k.update().where(k.c.id.in_([t.id for t in targets]))
                     .values(feed_version=k.c.feed_version + 1))
        db.tick_feed_clock(conn)
        for ward, count in _per_ward(t.ward for t in targets).items():
            record(conn, actor, "notice.test" if test_phone else "notice.send",
                   {"id": notice_id, "kiosks": count, "group": code or "TATCA", "urgent": bool(urgent),
                    "parts": parts, "at": at, "every": every, **({"replaces": replaces} if replaces else {})},
                   ward=ward)
        if replaces:
            _cancel_in(conn, replaces, actor, allowed_kiosk_ids, moment, correction=notice_id)
    return {"id": notice_id}


def _per_ward(wards) -> dict[str | None, int]:
    """Kiosk count per ward (None: no ward), so each ward's audit shows only its own kiosks."""
    counts: dict[str | None, int] = {}
    for ward in wards:
        counts[ward or None] = counts.get(ward or None, 0) + 1
    return counts


def _state(delivery_state: str, notice: dict, moment: float) -> str:
    if delivery_state in ("pending", "fetched") and notice["expires_at"] and notice["expires_at"] < moment:
        return "expired"
    return delivery_state


def show(engine: Engine, notice_id: int, *, kiosk_ids: set[int] | None = None) -> dict:
    """A notice with per-kiosk state and counts (only `kiosk_ids` if given, for a group leader)."""
    n, d, k = db.notices, db.deliveries, db.kiosks
    with db.read(engine) as conn:
        notice = conn.execute(sa.select(n).where(n.c.id == notice_id)).mappings().first()
        if notice is None:
            raise NotFound(f"no notice {notice_id}")
        query = (sa.select(k.c.id, k.c.name, d.c.state, d.c.recipients, d.c.sent, d.c.delivered, d.c.failed,
                           d.c.answers, d.c.detail)
                 .join(k, k.c.id == d.c.kiosk_id).where(d.c.notice_id == notice_id).order_by(k.c.name))
        rows = conn.execute(query).mappings().all()
    if kiosk_ids is not None:
        rows = [r for r in rows if r["id"] in kiosk_ids]
        if not rows:
            raise NotFound(f"no notice {notice_id}")
    moment = db.now()
    answers: dict[str, int] = {}
    for r in rows:
        for answer_code, n in json.loads(r["answers"] or "{}").items():
            answers[answer_code] = answers.get(answer_code, 0) + n
    return {
        "id": notice["id"], "text": notice["text"], "group": notice["group_code"] or "TATCA",
        "at": notice["at_local"], "every": notice["every"] or "", "ask": notice["ask"] or "", "answers": answers,
        "urgent": notice["urgent"], "parts": notice["parts"], "created_at": iso(notice["created_at"]),
        "created_by": notice["created_by"], "expires_at": iso(notice["expires_at"]),
        "cancelled": notice["cancelled_at"] is not None, "cancelled_at": iso(notice["cancelled_at"]),
        "unaccented": bool(notice["unaccented"]), "replaces": notice["replaces"],
        "test": notice["test_phone"] is not None,
        "kiosks": [{"name": r["name"], "state": _state(r["state"], notice, moment), "recipients": r["recipients"],
                    "sent": r["sent"], "delivered": r["delivered"], "failed": r["failed"],
                    "answers": json.loads(r["answers"] or "{}"), "detail": r["detail"]} for r in rows],
    }


def cancel(engine: Engine, notice_id: int, *, actor: str = "cli", kiosk_ids: set[int] | None = None) -> dict:
    """Cancel a notice: unsent SMS stop, and every kiosk (finished ones too) takes it off its board."""
    with db.write(engine) as conn:
        changed = _cancel_in(conn, notice_id, actor, kiosk_ids, db.now())
    return {"id": notice_id, "cancelled": True, "kiosks": changed}


def _cancel_in(conn, notice_id: int, actor: str, kiosk_ids: set[int] | None, moment: float,
               correction: int | None = None) -> int:
    n, d, k = db.notices, db.deliveries, db.kiosks
    notice = conn.execute(sa.select(n.c.id, n.c.cancelled_at).where(n.c.id == notice_id)).first()
    if notice is None:
        raise NotFound(f"no notice {notice_id}", f"Không có thông báo #{notice_id}")
    targets = [r[0] for r in conn.execute(sa.select(d.c.kiosk_id).where(d.c.notice_id == notice_id))]
    if kiosk_ids is not None and not set(targets) <= kiosk_ids:
        raise InvalidInput("this notice also went to kiosks you do not manage; ask a ward official",
                           "Thông báo này còn gửi tới kiosk anh/chị không quản lý; hãy nhờ cán bộ phường")
    if notice.cancelled_at is not None:
        raise Conflict(f"notice {notice_id} is already cancelled", f"Thông báo #{notice_id} đã được hủy trước đó")
    conn.execute(n.update().where(n.c.id == notice_id).values(cancelled_at=moment))
    changed = [r[0] for r in conn.execute(
        d.update().where(d.c.notice_id == notice_id, d.c.state.in_(CANCELLABLE))
        .values(state="cancelled", updated_at=moment).returning(d.c.kiosk_id))]
    if changed:
        conn.execute(k.update().where(k.c.id.in_(changed)).values(feed_version=k.c.feed_version + 1))
        db.tick_feed_clock(conn)
    wards = dict(conn.execute(sa.select(k.c.id, k.c.ward).where(k.c.id.in_(targets))).all())
    changed_wards = _per_ward(wards[i] for i in changed)
    for ward in _per_ward(wards.values()):
        record(conn, actor, "notice.cancel", {"id": notice_id, "kiosks": changed_wards.get(ward, 0),
                                              **({"correction": correction} if correction else {})}, ward=ward)
    return len(changed)


def recent(engine: Engine, *, kiosk_ids: set[int] | None = None, limit: int = 50) -> list[dict]:
    """Newest notices with per-kiosk counts, for the console's Notices page."""
    n, d = db.notices, db.deliveries
    query = sa.select(n.c.id).order_by(n.c.id.desc()).limit(limit)
    if kiosk_ids is not None:
        query = query.where(n.c.id.in_(sa.select(d.c.notice_id).where(d.c.kiosk_id.in_(kiosk_ids))))
    with db.read(engine) as conn:
        ids = [r[0] for r in conn.execute(query)]
    return [show(engine, i, kiosk_ids=kiosk_ids) for i in ids]


def relay_command(text: str, group: str | None, urgent: bool = True, unaccented: bool = False) -> dict:
    """The SMS an official texts to an offline kiosk's SIM instead (the relay syntax of issue 7).

    The PIN stays a placeholder: the hub never knows officials' relay PINs.
    """
    keyword = "KC" if urgent else "TB"
    body = clean_text(text).replace("\n", " ")
    if unaccented:
        body = unaccent(body)
    command = f"{keyword} <PIN> {clean_group(group) or 'TATCA'} {body}"
    info = parts_of(command, unaccented)
    return {"command": command, "parts": info["parts"], "encoding": info["encoding"]}
