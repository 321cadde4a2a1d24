"""`tdp rota plan|show|assign|unassign|sheet|remind`: the volunteers' weekly rota."""
from __future__ import annotations

from datetime import timedelta

from kiosk.directory import phone as phones
from kiosk.volunteers import rota
from kiosk.volunteers import people as vols
from kiosk import clock


def register(cli) -> None:
    group = cli.group("rota", help="the volunteers' rota: plan sessions, show gaps, print, remind")
    p = group.command("plan", _plan, json=True,
                      help="fill every session from FROM to TO fairly from availability and list the gaps")
    p.add_argument("--from", dest="start", required=True, metavar="YYYY-MM-DD")
    p.add_argument("--to", dest="end", required=True, metavar="YYYY-MM-DD")

    p = group.command("show", _show, help="show the rota (default: this week)", json=True)
    p.add_argument("--week", nargs="?", const="", default="", metavar="YYYY-MM-DD",
                   help="the week containing this day (default: this week)")
    p.add_argument("--from", dest="start", metavar="YYYY-MM-DD", help="show from this day (with --to)")
    p.add_argument("--to", dest="end", metavar="YYYY-MM-DD")

    for name, handler, text in (("assign", _assign, "put a volunteer on a session (overlaps are refused)"),
                                ("unassign", _unassign, "take a volunteer off a session")):
        p = group.command(name, handler, help=text, json=True)
        p.add_argument("who", metavar="NAME_OR_PHONE")
        p.add_argument("--day", required=True, metavar="YYYY-MM-DD")
        p.add_argument("--session", required=True, help="morning|afternoon|evening (sáng|chiều|tối)")
        p.add_argument("--place", required=True, help="kiosk|centre|home")

    p = group.command("sheet", _sheet, help="write the printable weekly rota (PDF) with phone numbers")
    p.add_argument("--week", required=True, metavar="YYYY-MM-DD", help="any day of the week to print")
    p.add_argument("--out", required=True, metavar="FILE.pdf")

    p = group.command("remind", _remind, json=True,
                      help="queue the evening-before SMS to everyone on tomorrow's sessions (safe to re-run; "
                           "waits for volunteers.reminder_hour, so an hourly timer is enough)")
    p.add_argument("--now", action="store_true", help="send even before volunteers.reminder_hour")


def _shift_line(s: dict) -> str:
    names = ", ".join(f"{v['name']} ({phones.national(v['phone'])})" for v in s["volunteers"]) or "—"
    gap = f"  THIẾU {s['missing']}" if s["missing"] else ""
    day = rota.parse_day(s["day"])
    return (f"{vols.DAY_LABELS[day.weekday()]} {day:%d/%m} {vols.SESSION_LABELS[s['session']]:<5} "
            f"{s['place_label'][:28]:<28} {names}{gap}")


def _plan(ctx):
    start, end = rota.parse_day(ctx.args.start), rota.parse_day(ctx.args.end)
    result = rota.plan(ctx.store, ctx.config, start, end)

    def text() -> str:
        lines = [f"{len(result['shifts'])} sessions from {start:%d/%m/%Y} to {end:%d/%m/%Y}, "
                 f"{result['assigned_now']} places filled now, {len(result['gaps'])} below the minimum"]
        if result["gaps"]:
            lines.append("Gaps (sessions short of volunteers):")
            lines += ["  " + _shift_line(s) for s in result["gaps"]]
        return "\n".join(lines)

    ctx.emit(result, text)
    return 0


def _show(ctx):
    a = ctx.args
    if a.start or a.end:
        start = rota.parse_day(a.start or a.end)
        end = rota.parse_day(a.end or a.start)
    else:
        start, end = rota.week_of(rota.parse_day(a.week) if a.week else clock.local_today(ctx.config.site.timezone))
    shifts = rota.show(ctx.store, start, end)
    ctx.emit({"from": start.isoformat(), "to": end.isoformat(), "shifts": shifts,
              "gaps": [s for s in shifts if s["missing"]]},
             lambda: "\n".join(map(_shift_line, shifts)) if shifts else
             f"no sessions planned from {start:%d/%m} to {end:%d/%m}: `tdp rota plan --from … --to …`")


def _assign(ctx):
    a = ctx.args
    entry = rota.assign(ctx.store, ctx.config, rota.parse_day(a.day), a.session, a.place, a.who)
    ctx.emit(entry, _shift_line(entry))


def _unassign(ctx):
    a = ctx.args
    entry = rota.unassign(ctx.store, rota.parse_day(a.day), a.session, a.place, a.who)
    ctx.emit(entry, _shift_line(entry))


def _sheet(ctx):
    from kiosk.volunteers.rota_sheet import write_sheet

    start, _ = rota.week_of(rota.parse_day(ctx.args.week))
    path = write_sheet(ctx.store, ctx.config, start, ctx.args.out)
    ctx.emit({"file": str(path)}, f"rota sheet for the week of {start:%d/%m/%Y} written to {path}")


def _remind(ctx):
    sent = rota.remind(ctx.store, ctx.config, early=ctx.args.now)
    tomorrow = clock.local_today(ctx.config.site.timezone) + timedelta(days=1)
    ctx.emit({"day": tomorrow.isoformat(), "queued": sent},
             lambda: f"{len(sent)} reminders queued for {tomorrow:%d/%m/%Y}" +
             ("" if sent or ctx.args.now else
              f" (reminders go out from {ctx.config.volunteers.reminder_hour}:00; --now to send earlier)") +
             "".join(f"\n  {r['name']} ({r['phone']}) {r['session']} {r['place']}" for r in sent))
