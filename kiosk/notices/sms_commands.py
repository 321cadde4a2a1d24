"""Officials' SMS commands for scheduled notices, typed on a Nokia keypad:

    HG <PIN> <NHOM|TATCA> <ngày> <giờ> [MOINGAY|MOITUAN|MOITHANG] <nội dung>   schedule (hẹn giờ)
    HH <PIN> <số TB>                                                           cancel it (hủy hẹn)

The date and time are digits only, so no symbol menu is needed: `0512 1930` is 5 December at
19:30 (also accepted: 05/12, 5.12, 19:30, 19h30, 19h). The year is the next one in which that
moment is still ahead. Times are the site's local time. Called by kiosk.relay.officials after it
has checked the sender's number and PIN; replies are short and unaccented (one SMS part).
"""
from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from kiosk.errors import TdpError
from kiosk.notices import schedule
from kiosk.text import clean, fold

COMMANDS = ("HG", "HH")
REPEAT = {"moingay": "day", "moituan": "week", "moithang": "month"}
REPEAT_WORDS = {"day": "moi ngay", "week": "moi tuan", "month": "moi thang"}
_DAY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})$|^(\d{2})(\d{2})$")
_TIME = re.compile(r"^(\d{1,2})(?:[:.hH](\d{2})?)?$|^(\d{2})(\d{2})$")
USAGE = "HG <PIN> <NHOM|TATCA> <ngay ddmm> <gio hhmm> [MOINGAY|MOITUAN|MOITHANG] <noi dung>"


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


def handle(relay, official, sender: str, command: str, args: list[str]) -> list[str]:
    """Run HG or HH for an official whose number and PIN the relay (kiosk.relay.officials.Relay:
    db, config, now, audit) has checked; the texts to reply to the sender."""
    if command == "HH":
        return _cancel(relay, official, sender, args)
    if len(args) < 4:
        return _usage(relay, official, sender, "thieu nhom, ngay, gio hoac noi dung")
    target, day_word, time_word, rest = args[0], args[1], args[2], args[3:]
    zone = relay.config.site.timezone
    when = parse_when(day_word, time_word, zone, relay.now)
    if when is None:
        return _usage(relay, official, sender, f"ngay gio '{day_word} {time_word}' khong hop le")
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
        relay.audit(sender, official.name, "HG", "refused", str(exc)[:200])
        return [f"TDP: Khong hen duoc: {_short(exc)}. Cu phap: {USAGE}"]
    relay.audit(sender, official.name, "HG", "scheduled",
                f"notice {result['id']} to {result['group']} at {result['first']} {every}".strip())
    repeat = f", {REPEAT_WORDS[every]}" if every else ""
    return [f"TDP: Da hen TB so {result['id']} luc {when.strftime('%H:%M %d/%m/%Y')}{repeat} den "
            f"{result['preview']['recipients']} nguoi ({result['group']}), "
            f"{result['preview']['parts_per_message']} tin/nguoi. Huy: HH <PIN> {result['id']}"]


def _cancel(relay, official, sender: str, args: list[str]) -> list[str]:
    if not args or not args[0].isdigit():
        return _usage(relay, official, sender, "thieu so TB")
    try:
        result = schedule.cancel(relay.db, int(args[0]), now=relay.now)
    except TdpError:
        relay.audit(sender, official.name, "HH", "refused", f"no notice {args[0]}")
        return [f"TDP: Khong co TB hen gio so {args[0]}."]
    relay.audit(sender, official.name, "HH", "cancelled", f"notice {result['id']}")
    return [f"TDP: Da huy TB so {result['id']}; {result['withdrawn_messages']} tin chua gui da dung."]


def _usage(relay, official, sender: str, problem: str) -> list[str]:
    relay.audit(sender, official.name, "HG", "malformed", problem)
    return [f"TDP: Lenh sai ({problem}). Cu phap: {USAGE}. Vd: HG 2468 HPN 0512 1930 Hop chi hoi"]


def _short(exc: TdpError) -> str:
    from sms.vietnamese import unaccent
    return unaccent(exc.vietnamese or str(exc))[:90]
