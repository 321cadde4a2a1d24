"""Every way a resident says "stop": withdrawal of SMS consent (Decree 13/2023/NĐ-CP).

`classify(text)` is "certain" when the first words mean stop (case, diacritics, punctuation and
the spaces between the words ignored: "Hủy nhận tin", "HUY DK", "huydk", "TỪ CHỐI", "tu choi",
"Không nhận tin nữa", "STOP"), "uncertain" when a stop phrase appears later or the words are
ambiguous alone ("Dũng", "thôi" and "bỏ" are also names or ordinary words), and "" otherwise.
A certain withdrawal is honoured at once; an uncertain one goes to the group leader, flagged.

"Huy" is also a given name; the ward chose to honour "HUY ..." as stop anyway (a wrong
withdrawal is undone with DK, a missed one breaks the law), and the leader hears of each.
"""
from __future__ import annotations

from kiosk.text import clean, fold

# Folded, spaces removed. A message is a certain withdrawal when its first 1-6 words, joined,
# equal LEAD + TAIL for some lead and tail.
LEADS = (
    "huy", "huybo", "xinhuy", "toimuonhuy", "chotoihuy", "tuchoi", "xintuchoi", "toituchoi",
    "khongnhan", "khongmuonnhan", "xinkhongnhan", "toikhongmuonnhan", "ngung", "xinngung", "ngunggui",
    "dunggui", "dungnhan", "xindung", "thoinhan", "thoigui", "bodangky", "bodk", "stop", "unsubscribe",
    "cancel", "optout",
)
TAILS = ("", "dk", "dangky", "tin", "tinnhan", "nhantin", "nhan", "thongbao", "tb", "sms", "nua", "gui",
         "nhantinnua", "tinnhannua", "thongbaonua", "nhanthongbao", "guitin", "guitinnhan")
CERTAIN = frozenset(lead + tail for lead in LEADS for tail in TAILS)

# After these, "khong nhan ..." is a complaint ("không nhận được tin" = "I did not get it").
NOT_STOP_AFTER = frozenset({"duoc", "dc"})

# Anywhere in a message: worth the leader's eye, not acted on. ALONE: only as the whole message.
HINTS = frozenset({"huy", "tuchoi", "ngung", "khongnhan", "khongmuonnhan", "dunggui", "dungnhan", "thoigui",
                   "thoinhan", "stop", "bodangky", "huydangky", "unsubscribe"})
ALONE = frozenset({"dung", "thoi", "bo", "khong", "thoinhe", "thoidung"})
_WINDOW = 6


def words(text: str) -> list[str]:
    return [w for w in (fold(w) for w in clean(text).split()) if w]


def classify(text: str) -> str:
    """"certain", "uncertain" or "" for an SMS from a resident (see the module docstring)."""
    tokens = words(text)
    if not tokens:
        return ""
    for k in range(1, min(len(tokens), _WINDOW) + 1):
        if "".join(tokens[:k]) in CERTAIN:
            if k < len(tokens) and tokens[k] in NOT_STOP_AFTER:
                return "uncertain"
            return "certain"
    if "".join(tokens) in ALONE:
        return "uncertain"
    for start in range(len(tokens)):
        for k in range(1, min(len(tokens) - start, 3) + 1):
            if "".join(tokens[start:start + k]) in HINTS:
                return "uncertain"
    return ""


def phrase(text: str) -> str:
    """The first words of a withdrawal, folded and bounded, for the log ("huy nhan tin")."""
    return " ".join(words(text)[:4])[:40]
