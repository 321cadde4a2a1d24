"""`tdp help-ticket new|assign|close|list`: residents' requests for a volunteer."""
from __future__ import annotations

from kiosk.volunteers import help_tickets as tickets
from kiosk.directory import phone as phones


def register(cli) -> None:
    group = cli.group("help-ticket", help="help tickets: a resident asks for a volunteer")
    p = group.command("new", _new, help="open a help ticket (assigns an on-duty volunteer and texts them)",
                      json=True)
    p.add_argument("--source", default="kiosk", choices=sorted(tickets.SOURCES),
                   help="kiosk (Call a volunteer), sms (HOTRO) or home_visit (by a volunteer)")
    p.add_argument("--note", default="", help="what the resident needs")
    p.add_argument("--phone", help="the resident's phone (required for sms)")
    p.add_argument("--address", default="", help="household address (home visits)")
    p.add_argument("--vulnerable", metavar="GROUP", help="home visits: elderly, disabled or poor")
    p.add_argument("--by", metavar="NAME_OR_PHONE", help="home visits: the volunteer who will visit")

    p = group.command("assign", _assign, help="give a ticket to a volunteer", json=True)
    p.add_argument("number", metavar="NUMBER", help="the ticket number shown, e.g. 017")
    p.add_argument("volunteer", metavar="NAME_OR_PHONE")

    p = group.command("close", _close, help="close a ticket with its outcome", json=True)
    p.add_argument("number", metavar="NUMBER")
    p.add_argument("--procedure", required=True, help="the procedure helped with, e.g. 'Đăng ký tạm trú'")
    p.add_argument("--channel", required=True, choices=sorted(tickets.CHANNELS),
                   help="online_kiosk, online_home or in_person")
    p.add_argument("--online", choices=("yes", "no"), required=True, help="was the dossier submitted online?")
    p.add_argument("--minutes", type=int, required=True, help="minutes spent helping")
    p.add_argument("--volunteer", metavar="NAME_OR_PHONE", help="who helped, if not the assignee")

    p = group.command("list", _list, help="list tickets, newest first", json=True)
    p.add_argument("--status", choices=("open", "assigned", "closed"))
    p.add_argument("--day", metavar="YYYY-MM-DD", help="only tickets of this local day")


def _line(t: dict) -> str:
    who = t["volunteer_name"] or "chưa có người nhận"
    outcome = ""
    if t["status"] == "closed":
        outcome = (f" → {t['procedure']}, {tickets.CHANNELS[t['channel']]}, "
                   f"{'đã nộp trực tuyến' if t['submitted_online'] else 'chưa nộp trực tuyến'}, {t['minutes']} phút")
    return f"{t['display_number']}  {t['day']}  {tickets.SOURCES[t['source']]:<18} {t['status']:<8} {who}{outcome}"


def _public(t: dict) -> dict:
    """A ticket for output: the resident's phone masked (a list may be read over a shoulder)."""
    data = dict(t)
    if data.get("requester_phone"):
        data["requester_phone"] = phones.masked(data["requester_phone"])
    data.pop("volunteer_phone", None)
    return data


def _new(ctx):
    a = ctx.args
    ticket = tickets.create(ctx.store, ctx.config, a.source, note=a.note, phone=a.phone, address=a.address,
                            vulnerability=a.vulnerable, created_by=a.by)
    told = ", ".join(ticket["notified"]) or "nobody (home visit)"
    ctx.emit(_public(ticket), f"ticket {ticket['display_number']} opened; assigned to "
                              f"{ticket['volunteer_name'] or 'nobody yet'}; SMS to {told}")


def _assign(ctx):
    ticket = tickets.assign(ctx.store, ctx.args.number, ctx.args.volunteer)
    ctx.emit(_public(ticket), _line(ticket))


def _close(ctx):
    a = ctx.args
    ticket = tickets.close(ctx.store, a.number, procedure=a.procedure, channel=a.channel,
                           submitted_online=a.online == "yes", minutes=a.minutes, volunteer=a.volunteer)
    ctx.emit(_public(ticket), _line(ticket))


def _list(ctx):
    rows = tickets.list_tickets(ctx.store, ctx.args.status, ctx.args.day)
    ctx.emit([_public(t) for t in rows], lambda: "\n".join(map(_line, rows)) if rows else "no help tickets")
