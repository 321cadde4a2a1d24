"""What the console says, in plain Vietnamese: kiosk health, delivery states, recipients, audit sentences.

Pure functions over the dicts admin/notices return, so the templates stay simple and every
wording lives in one place (the review's wording table, docs/hub.md).
"""
from __future__ import annotations

import json

from . import times
from .contract import EVERYONE_CODE
from .settings import HubSettings

GROUP_NAMES = {EVERYONE_CODE: "Tất cả người đăng ký nhận tin", "HPN": "Hội phụ nữ", "CB": "Chi bộ",
               "TV": "Tự vệ", "DTN": "Đoàn thanh niên", "CCB": "Hội cựu chiến binh", "NCT": "Hội người cao tuổi"}
MODEM_STATES = {"ok": "tốt", "dead": "không hoạt động", "stopped": "đã tắt", "recovering": "đang khởi động lại",
                "starting": "đang khởi động"}
PRINTER_STATES = {"ready": "sẵn sàng", "pdf": "chưa lắp (biên nhận lưu thành tệp)", "offline": "mất kết nối",
                  "stopped": "dừng (hết giấy, kẹt giấy…)"}
OFFLINE_CHECKLIST = ("Kiểm tra kiosk còn điện (màn hình sáng).",
                     "Kiểm tra mạng 4G hoặc wifi ở nhà văn hóa.",
                     "Kiểm tra SIM của kiosk còn tiền và còn hạn.")
EVERY_WORDS = {"day": "hằng ngày", "week": "hằng tuần", "month": "hằng tháng"}
STATE_WORDS = {"pending": "Chờ kiosk nhận", "fetched": "Kiosk đã nhận, sắp gửi", "queued": "Đang gửi tin nhắn",
               "done": "Đã gửi xong", "expired": "Quá hạn, không gửi", "cancelled": "Đã hủy",
               "relayed": "Đã gửi qua tin nhắn lệnh (không gửi lại)", "refused": "Kiosk từ chối gửi"}


def group_name(code: str, kiosks: list[dict] = ()) -> str:
    """A group's Vietnamese name as a kiosk reported it (else the usual one, else its code)."""
    code = (code or EVERYONE_CODE).upper()
    if code == EVERYONE_CODE:
        return GROUP_NAMES[EVERYONE_CODE]
    for kiosk in kiosks:
        for group in kiosk["heartbeat"].get("groups", []):
            if group.get("code") == code and group.get("name"):
                return group["name"]
    return GROUP_NAMES.get(code, code)


def group_count(kiosk: dict, code: str) -> int | None:
    """Consenting members of `code` at one kiosk (from its last heartbeat); None if unknown."""
    for group in kiosk["heartbeat"].get("groups", []):
        if group.get("code") == (code or EVERYONE_CODE):
            return int(group.get("consenting") or 0)
    if (code or EVERYONE_CODE) == EVERYONE_CODE:
        return None
    return None if not kiosk["heartbeat"].get("groups") else 0


def group_choices(kiosks: list[dict]) -> list[dict]:
    """Compose's group options with their sizes: everyone first, then what the kiosks reported."""
    codes: dict[str, str] = {}
    for kiosk in kiosks:
        for group in kiosk["heartbeat"].get("groups", []):
            if group.get("code") and group["code"] != EVERYONE_CODE:
                codes.setdefault(group["code"], group.get("name") or group["code"])
    if not codes:
        codes = {c: n for c, n in GROUP_NAMES.items() if c != EVERYONE_CODE}
    choices = []
    for code, name in [(EVERYONE_CODE, GROUP_NAMES[EVERYONE_CODE])] + sorted(codes.items(), key=lambda i: i[1]):
        counts = [group_count(k, code) for k in kiosks if not k["revoked"]]
        known = [c for c in counts if c is not None]
        size = sum(known) if known else None
        label = (f"{name} ({size} người)" if code == EVERYONE_CODE else f"{name} – {size} người") \
            if size is not None else name
        choices.append({"code": code, "name": name, "size": size, "label": label})
    return choices


def kiosk_groups_json(kiosk: dict) -> str:
    """{code: consenting} of one kiosk for the live total in Compose (counts only)."""
    return json.dumps({g["code"]: int(g.get("consenting") or 0) for g in kiosk["heartbeat"].get("groups", [])
                       if g.get("code")})


def kiosk_status(kiosk: dict, settings: HubSettings, now: float | None = None) -> dict:
    """{state: online|offline|never|revoked, line, since, ago, checklist, duty} for a kiosk card."""
    zone = settings.timezone
    hb = kiosk["heartbeat"]
    duty = None
    if hb.get("duty_phone"):
        duty = {"name": hb.get("duty_name") or "Tình nguyện viên", "phone": hb["duty_phone"],
                "tel": "".join(ch for ch in hb["duty_phone"] if ch.isdigit() or ch == "+")}
    if kiosk["revoked"]:
        return {"state": "revoked", "line": "Đã thu hồi (không dùng nữa)", "checklist": (), "duty": None}
    if kiosk["last_seen"] is None:
        return {"state": "never", "line": "Chưa kết nối lần nào (kiosk chưa cài đặt xong)", "checklist": (),
                "duty": None}
    seen = times.display(kiosk["last_seen"], zone)
    if kiosk["online"]:
        return {"state": "online", "line": "Đang hoạt động", "seen": seen, "checklist": (), "duty": duty}
    ago = times.ago(kiosk["last_seen"], now)
    ago = ago if ago == "vừa xong" else f"{ago} trước"
    return {"state": "offline", "line": f"Mất kết nối từ {seen} ({ago})", "seen": seen, "ago": ago,
            "since_clock": times.clock_of(kiosk["last_seen"], zone), "checklist": OFFLINE_CHECKLIST, "duty": duty}


def modem_line(hb: dict) -> str:
    """'Sóng điện thoại: tốt (Viettel)', or what is wrong, in words."""
    modems = hb.get("modem") or []
    if not modems:
        return "Bộ phận nhắn tin: chưa có thông tin"
    words = []
    for modem in modems:
        state, signal, operator = modem.get("state"), modem.get("signal"), modem.get("operator") or ""
        if state == "dead":
            words.append("Sóng yếu – bộ phận nhắn tin không hoạt động")
            continue
        if state in ("stopped", "recovering", "starting"):
            words.append(f"Bộ phận nhắn tin {MODEM_STATES[state]}")
            continue
        strength = "chưa rõ" if not isinstance(signal, int) or signal == 99 else \
            "tốt" if signal >= 15 else "trung bình" if signal >= 8 else "yếu"
        words.append(f"Sóng điện thoại: {strength}" + (f" ({operator})" if operator else ""))
    return "; ".join(words)


def printer_line(hb: dict) -> str:
    state = hb.get("printer")
    return "Máy in: " + PRINTER_STATES.get(state, state or "chưa có thông tin")


def phone_spaced(number: str) -> str:
    """'0981234561' → '0981 234 561' (how a phone number is read aloud)."""
    digits = str(number or "")
    if len(digits) == 10 and digits.isdigit():
        return f"{digits[:4]} {digits[4:7]} {digits[7:]}"
    return digits


def delivery_word(delivery: dict, notice: dict, kiosk: dict | None, settings: HubSettings,
                  now: float | None = None) -> str:
    """A delivery's state as the official should read it, with the reason when it waits."""
    state = delivery["state"]
    if state == "queued" and not notice["urgent"] and times.in_quiet_hours(
            settings.timezone, settings.quiet_start, settings.quiet_end, now):
        return f"Chờ đến {times.spoken_hour(settings.quiet_end)} (giờ nghỉ đêm)"
    if state in ("pending", "fetched") and kiosk is not None and not kiosk["online"]:
        status = kiosk_status(kiosk, settings, now)
        if status["state"] == "never":
            return "Chờ kiosk nhận (kiosk chưa kết nối lần nào)"
        return f"Chờ kiosk nhận (kiosk mất kết nối từ {status['seen']})"
    return STATE_WORDS.get(state, state)


def totals(notice: dict) -> dict:
    """Sums across kiosks for the notice page's totals row."""
    return {key: sum(k[key] for k in notice["kiosks"]) for key in ("recipients", "sent", "delivered", "failed")}


def summary_chip(notice: dict) -> str:
    """One short status for the Notices list: 'Đã gửi 44/44', 'Chờ kiosk', 'Đã hủy'."""
    if notice["cancelled"]:
        return "Đã hủy"
    total = totals(notice)
    if total["failed"]:
        return f"Không gửi được {total['failed']}"
    if all(k["state"] in ("done", "relayed") for k in notice["kiosks"]):
        return f"Đã gửi {total['sent']}/{total['recipients']}"
    if any(k["state"] in ("pending", "fetched") for k in notice["kiosks"]):
        return "Chờ kiosk nhận"
    return f"Đang gửi {total['sent']}/{total['recipients']}"


def _detail(row: dict) -> dict:
    try:
        value = json.loads(row["detail"] or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def audit_sentence(row: dict, names: dict[str, str]) -> dict:
    """{who, what, person} for one audit row: officials' actions as sentences, kiosk events apart."""
    actor, action, detail = row["actor"], row["action"], _detail(row)
    person = not actor.startswith("kiosk:")
    who = names.get(actor, actor)
    if actor.startswith("login:"):
        who = f"{actor[6:]} (đăng nhập sai)"
    elif actor.startswith("kiosk:"):
        who = f"Kiosk {actor[6:]}"
    elif actor.startswith("cli"):
        who = "Quản trị (dòng lệnh)"
    group = GROUP_NAMES.get(str(detail.get("group", "")), detail.get("group", ""))
    what = {
        "console.login": "Đăng nhập",
        "console.logout": "Đăng xuất",
        "console.login_failed": "Đăng nhập sai",
        "console.report_download": "Tải báo cáo",
        "notice.send": f"Gửi thông báo #{detail.get('id')} ({group}, {detail.get('parts')} tin/người)"
                       + (f", đính chính thông báo #{detail['replaces']}" if detail.get("replaces") else ""),
        "notice.test": f"Gửi thử thông báo #{detail.get('id')} tới điện thoại của mình",
        "notice.cancel": f"Hủy thông báo #{detail.get('id')}"
                         + (f" (thay bằng đính chính #{detail['correction']})" if detail.get("correction") else ""),
        "api.report": f"báo thông báo #{detail.get('notice')}: đã gửi {detail.get('sent', 0)}/"
                      f"{detail.get('recipients', 0)} ({STATE_WORDS.get(detail.get('state'), '')})",
        "api.fetch": f"nhận thông báo {', '.join('#' + str(i) for i in detail.get('notices', []))}",
        "api.daily": "gửi số liệu theo ngày",
        "api.online": "kết nối lại với máy chủ",
    }.get(action, action)
    return {"who": who, "what": what, "person": person}
