"""Every automatic SMS the relay sends: fixed templates whose fields are bounded and never the
sender's own wording (a spoofed sender must not be able to make the ward's SIM say anything).

Fields that come from outside are passed through `code_field` (a code-shaped token, at most 16
characters, or nothing) or `bounded` (invisible characters dropped, cut to a length). Replies
are unaccented so one reply fits one GSM 7-bit part; `fit` cuts a forward to the leader so it
stays within `sms.max_parts`.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sms.segments import SegmentError, segment

_CODE = re.compile(r"[A-Z0-9-]{1,16}")
_INVISIBLE = {"Cc", "Cf", "Cs", "Co", "Cn"}


def visible(text: str) -> str:
    """`text` without control, format (zero-width, bidi), surrogate, private or unassigned
    characters; whitespace controls become spaces."""
    out = []
    for char in text:
        if char in "\n\r\t":
            out.append(" ")
        elif unicodedata.category(char) not in _INVISIBLE:
            out.append(char)
    return "".join(out)


def bounded(text: str, limit: int) -> str:
    """Visible text cut to `limit` characters (with "..." when cut)."""
    text = " ".join(visible(text).split())
    return text if len(text) <= limit else text[:max(limit - 3, 0)].rstrip() + "..."


def code_field(raw: str) -> str:
    """`raw` if it looks like a code ([A-Z0-9-], 1-16 characters, case ignored), else ""."""
    candidate = visible(raw).strip().upper()
    return candidate if _CODE.fullmatch(candidate) else ""


def fit(text: str, max_parts: int) -> str:
    """`text` cut (with "...") so it takes at most `max_parts` SMS parts."""
    text = " ".join(visible(text).split())
    try:
        if segment(text).count <= max_parts:
            return text
    except SegmentError:
        return ""
    low, high = 0, len(text)
    while low < high:  # the longest prefix that fits
        middle = (low + high + 1) // 2
        if segment(text[:middle].rstrip() + "...").count <= max_parts:
            low = middle
        else:
            high = middle - 1
    return text[:low].rstrip() + "..."


# -- officials -------------------------------------------------------------------------------------
CARD = ("TDP: Lenh sai ({problem}). Cu phap: TB <PIN> <NHOM|TATCA> <noi dung>; KC (khan); "
        "HUY <PIN> <so TB>; TT <PIN>; NHOM <PIN>; HG <PIN> <NHOM> <ddmm> <hhmm> <noi dung> (hen gio)")
LOCKED = "TDP: So nay dang bi khoa do nhap sai PIN/ma nhieu lan. Thu lai sau 1 gio."
WRONG_PIN = "TDP: Sai PIN. Con {left} lan thu trong 1 gio."
WRONG_CODE = "TDP: Ma xac nhan khong dung. Con {left} lan thu trong 1 gio."
NOW_LOCKED = "TDP: Sai PIN/ma qua nhieu lan. So nay bi khoa 1 gio."
LOCK_ALERT = "TDP canh bao: so {phone} ({name}) nhap sai PIN/ma {failures} lan, da khoa 1 gio."
UNKNOWN_GROUP = "TDP: Khong tim thay nhom. Cac nhom: {groups}"
TOO_LONG = "TDP: Noi dung qua dai ({parts} tin). Toi da {max_parts} tin."
ALREADY_FROM_HUB = "TDP: Thong bao nay ({group}) da den tu phuong qua mang va da gui cho ba con. Khong gui lai."
OVER_BUDGET = "TDP: Khong gui: {reason}. Tin khan: KC."
NUL_TEXT = "TDP: Noi dung co ky tu khong hop le (NUL). Gui lai bang chu thuong."
AWAITING = ("TDP: TB so {id} se gui {recipients} nguoi ({group}), {parts} tin/nguoi. "
            "Nhan XN {code} trong {minutes} phut de gui.")
SENT = "TDP: Da gui TB so {id} den {recipients} nguoi ({group}). Huy: HUY <PIN> {id}"
CODE_USED = "TDP: Ma nay da dung roi (TB so {id})."
CODE_EXPIRED = "TDP: Ma het han. Gui lai lenh TB."
NO_CODE_LEFT = "TDP: Khong tao duoc ma xac nhan. Thu lai sau."
NO_NOTICE = "TDP: Khong co TB so {id}."
CANCELLED = "TDP: Da huy TB so {id}: {cancelled} tin chua gui da dung."
STATUS = "TDP: Hang doi {depth} tin. {latest}"
GROUPS = "TDP nhom: {groups}"

# -- residents -------------------------------------------------------------------------------------
ANSWER_COUNTED = "TDP: Da ghi nhan tra loi {code} ({label}). Cam on."
DK_HOW = "TDP: De dang ky nhan thong bao, nhan: DK <ho ten>. Vi du: DK Nguyen Van An"
DK_PENDING = "TDP: Da nhan dang ky. To truong se xac nhan; ban cung co the xac nhan tai kiosk."
DK_TO_LEADER = "TDP: {name} ({phone}) xin dang ky nhan thong bao. Xac nhan: tdp relay registrations"
WITHDRAWN = "TDP: Ban se khong nhan thong bao nua. Muon nhan lai: nhan DK <ho ten>."
WITHDRAWN_TO_LEADER = "TDP: {who} da nhan tin ngung nhan thong bao ({phrase}). Da ngung gui."
MAYBE_WITHDRAWAL = "TDP [CAN XEM - co the xin ngung nhan tin] tu {who}: {text}"
HS_HOW = "TDP: Nhan HS <ma ho so> (ma in tren giay bien nhan)."
HOTRO_OPEN = "TDP: Ban da co phieu ho tro so {number}. Tinh nguyen vien se lien lac voi ban."
HOTRO_NEW = "TDP: Da nhan yeu cau ho tro, phieu so {number}. Tinh nguyen vien se lien lac voi ban."
FORWARDED = "TDP: Da chuyen tin nhan cua ban den To truong."
NOT_FORWARDED = "TDP: Da nhan tin nhan cua ban. Xin lien he truc tiep To truong."
FORWARD = "{label} tu {who}: {text}"


@dataclass(frozen=True)
class Reply:
    """An SMS to send because of an incoming one. kind: "reply" (to the sender), "refusal" (to the
    sender, saying no), "forward" (a resident's message, to the leader or police), "alert"."""
    to: str
    text: str
    urgent: bool = False
    kind: str = "reply"
