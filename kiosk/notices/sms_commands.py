"""Officials' SMS commands for scheduled notices, typed on a Nokia keypad:

    HG <PIN> <NHOM|TATCA> <ngày> <giờ> [MOINGAY|MOITUAN|MOITHANG] <nội dung>   schedule (hẹn giờ)
    HH <PIN> <số TB>                                                           cancel it (hủy hẹn)

The date and time are digits only, so no symbol menu is needed: `0512 1930` is 5 December at
19:30 (also accepted: 05/12, 5.12, 19:30, 19h30, 19h). The year is the next one in which that
moment is still ahead. Times are the site's local time. Called by kiosk.relay.officials after it
has checked the sender's number and PIN. Replies are fixed unaccented templates (one SMS part)
whose fields are numbers and codes, never the sender's own words.
"""
from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from kiosk.errors import NotFound, TdpError
from kiosk.notices import budget, questions, schedule, templates
from kiosk.text import clean, fold

COMMANDS = ("HG", "HH")
REPEAT = {"moingay": "day", "moituan": "week", "moithang": "month"}
REPEAT_WORDS = {"day": "moi ngay", "week": "moi tuan", "month": "moi thang"}
_DAY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})$|^(\d{2})(\d{2})$")
_TIME = re.compile(r"^(\d{1,2})(?:[:.hH](\d{2})?)?$|^(\d{2})(\d{2})$")
USAGE = "HG <PIN> <NHOM|TATCA> <ngay ddmm> <gio hhmm> [MOINGAY|MOITUAN|MOITHANG] <noi dung>"
SCHEDULED = ("TDP: Da hen TB so {id} luc {when}{repeat} den {recipients} nguoi ({group}), {parts} tin/nguoi. "
             "Huy: HH <PIN> {id}")
NOT_SCHEDULED = "TDP: Khong hen duoc: {why}. Cu phap: " + USAGE
MALFORMED = "TDP: Lenh sai ({problem}). Cu phap: " + USAGE + ". Vd: HG 2468 HPN 0512 1930 Hop chi hoi"
CANCELLED = "TDP: Da huy TB hen gio so {id}; {withdrawn} tin chua gui da dung."
NO_SUCH = "TDP: Khong co TB hen gio so {id}."
_WHY = [(NotFound, "khong co nhom nay (NHOM <PIN> de xem)"), (budget.BudgetExceeded, "het ngan sach SMS thang"),
        (questions.QuestionError, "cau hoi sai"), (templates.TemplateError, "truong {..} sai"),
        (schedule.ScheduleError, "thoi gian hoac noi dung khong hop le")]


def parse_when(day_word: str, time_word: str, zone: str, now: datetime) -> datetime | None:
    """The naive local datetime a 'ddmm hhmm' pair means next, or None if it is not one."""
    d, t = _DAY.match(day_word), _TIME.match(time_word)
    if not d or not t:
        return None
    day, month = (int(d[1]), int(d[2])) if d[1] else (int(d[3]), int(d[4]))
    hour, minute = (int(t[1]), int(t[2] or 0)) if t[1] else (int(t[3]), int(t[4]))
    if hour > 23 or minute > 59:
        return None
    local_now = now.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    for year in (local_now.year, local_now.year + 1):
        try:
            moment = datetime(year, month, day, hour, minute)
        except ValueError:  # 31/04, or 29/02 outside a leap year
            continue
        if moment >= local_now.replace(second=0, microsecond=0):
            return moment
    return None


def handle(relay, official, sender: str, command: str, args: list[str]) -> list[tuple[str, str]]:
    """Run HG or HH for an official whose number and PIN the relay (kiosk.relay.officials.Relay:
    db, config, now, audit) has checked; the (text, kind) replies to the sender."""
    if command == "HH":
        return _cancel(relay, official, sender, args)
    if len(args) < 4:
        return _usage(relay, official, sender, "thieu nhom, ngay, gio hoac noi dung")
    target, day_word, time_word, rest = args[0], args[1], args[2], args[3:]
    when = parse_when(day_word, time_word, relay.config.site.timezone, relay.now)
    if when is None:
        return _usage(relay, official, sender, "ngay gio khong hop le")
    every = REPEAT.get(fold(rest[0]), "") if rest else ""
    if every:
        rest = rest[1:]
    text = clean(" ".join(rest))
    if not text:
        return _usage(relay, official, sender, "noi dung trong")
    try:
        result = schedule.create(relay.db, relay.config, text, group=target, at=when.strftime(schedule.AT_FORMAT),
                                 every=every, source="sms", created_by=official.name, reply_to=sender,
                                 now=relay.now)
    except TdpError as exc:
        why = next((w for kind, w in _WHY if isinstance(exc, kind)), "khong hop le")
        relay.audit(sender, official.name, "HG", "refused", "not_scheduled", str(exc))
        return [(NOT_SCHEDULED.format(why=why), "refusal")]
    relay.audit(sender, official.name, "HG", "scheduled", "",
                f"notice {result['id']} to {result['group']} at {result['first']} {every}".strip())
    return [(SCHEDULED.format(id=result["id"], when=when.strftime("%H:%M %d/%m/%Y"),
                              repeat=f", {REPEAT_WORDS[every]}" if every else "",
                              recipients=result["preview"]["recipients"], group=result["group"],
                              parts=result["preview"]["parts_per_message"]), "reply")]


def _cancel(relay, official, sender: str, args: list[str]) -> list[tuple[str, str]]:
    if not args or not args[0].isdigit() or len(args[0]) > 9:
        return _usage(relay, official, sender, "thieu so TB")
    try:
        result = schedule.cancel(relay.db, int(args[0]), now=relay.now)
    except TdpError:
        relay.audit(sender, official.name, "HH", "refused", "unknown_notice", f"no notice {args[0]}")
        return [(NO_SUCH.format(id=int(args[0])), "refusal")]
    relay.audit(sender, official.name, "HH", "cancelled", "", f"notice {result['id']}")
    return [(CANCELLED.format(id=result["id"], withdrawn=result["withdrawn_messages"]), "reply")]


def _usage(relay, official, sender: str, problem: str) -> list[tuple[str, str]]:
    relay.audit(sender, official.name, "HG", "malformed", "malformed", problem)
    return [(MALFORMED.format(problem=problem), "refusal")]
