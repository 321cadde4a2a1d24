"""`tdp notice send|list|show|cancel|budget|digest`: officials' notices by SMS, from the kiosk.

Times are the site's local time (config `site.timezone`). Names and numbers shown here (--who,
failed numbers) are on the kiosk only; the hub receives counts.
"""
from __future__ import annotations

from kiosk.errors import InvalidInput


def register(cli) -> None:
    group = cli.group("notice", help="send notices by SMS now, later or every day/week/month; replies; budget")
    p = group.command("send", _send, json=True,
                      help="send a notice by SMS to a group or everyone (now, or --at a local time)")
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--group", metavar="G", help="group code or name (HPN, 'Hội phụ nữ'…)")
    target.add_argument("--all", action="store_true", help="every consenting resident")
    p.add_argument("--text", required=True, metavar="T",
                   help="the message; {ho_ten} {dia_chi} {ngay} are filled per recipient")
    p.add_argument("--at", metavar='"YYYY-MM-DD HH:MM"', help="when (local time); default now")
    p.add_argument("--every", choices=("day", "week", "month"), help="repeat at the same local time")
    p.add_argument("--until", metavar="YYYY-MM-DD", help="last day of a repeating notice (inclusive)")
    p.add_argument("--urgent", action="store_true", help="send in quiet hours and beyond the monthly budget")
    p.add_argument("--unaccented", action="store_true", help="send without diacritics (fewer SMS parts)")
    p.add_argument("--per-household", action="store_true",
                   help="one SMS per household: its head if consenting, else its first consenting member")
    p.add_argument("--ask", metavar='"C=Có;K=Không"', help="a question: replies are matched and counted")
    p.add_argument("--by", default="", help="who sends it, for the record (default: cli)")
    p.add_argument("--dry-run", action="store_true", help="show recipients and SMS parts; store and send nothing")
    group.command("list", _list, json=True, help="notices sent and scheduled, newest first")
    p = group.command("show", _show, json=True,
                      help="one notice: SMS counts by state, failed numbers with names, answers")
    p.add_argument("id", type=int)
    p.add_argument("--who", action="store_true", help="list who answered what (names: on the kiosk only)")
    p = group.command("cancel", _cancel, json=True, help="stop a notice: no further sends, unsent SMS withdrawn")
    p.add_argument("id", type=int)
    group.command("budget", _budget, json=True, help="this month's SMS parts and cost against the budget")


def _send(ctx):
    from kiosk.notices import schedule
    a = ctx.args
    if a.until and not a.every:
        raise InvalidInput("--until needs --every")
    options = dict(group=None if a.all else a.group, at=a.at, every=a.every or "", until=a.until,
                   urgent=a.urgent, unaccented=a.unaccented, per_household=a.per_household, ask=a.ask,
                   source="cli", created_by=a.by or "cli")
    if a.dry_run:
        result = _dry_run(ctx, a.text, options)
        ctx.emit(result, f"would send to {result['recipients']} recipients, {result['parts_per_message']} SMS "
                         f"part(s) each, {result['total_parts']} parts in all (nothing stored)")
        return 0
    result = schedule.create(ctx.store, ctx.config, a.text, **options)
    preview = result["preview"]
    when = "now" if not a.at else f"at {result['first']}"
    repeat = f", every {result['every']}" + (f" until {result['until']}" if result["until"] else "") if result["every"] else ""
    ctx.emit(result, f"notice {result['id']}: {preview['recipients']} recipients, {preview['parts_per_message']} SMS "
                     f"part(s) each ({preview['total_parts']} in all), {when}{repeat}"
                     + (f"; next {result['next']}" if result["next"] and a.at else "")
                     + f". Cancel: tdp notice cancel {result['id']}")


class _Rollback(Exception):
    """Raised inside a dry run's transaction so nothing it did is kept."""


def _dry_run(ctx, text: str, options: dict) -> dict:
    from kiosk.notices import schedule
    db = ctx.store
    found = {}
    try:
        with db.transaction():
            found = schedule.create(db, ctx.config, text, **options)["preview"]
            raise _Rollback
    except _Rollback:
        pass
    return found


def _list(ctx):
    from kiosk.notices import schedule
    rows = schedule.list_sends(ctx.store)

    def text():
        if not rows:
            return "no notices yet (tdp notice send --group G --text T)"
        return "\n".join(f"#{r['id']:<4} {r['state']:<9} {r['group']:<6} {r['first']}"
                         f"{' every ' + r['every'] if r['every'] else ''}"
                         f"{' next ' + r['next'] if r['next'] else ''} sent {r['sent_occurrences']}x"
                         f"{' URGENT' if r['urgent'] else ''}: {r['text'][:50]}" for r in rows)
    ctx.emit(rows, text)


def _show(ctx):
    from kiosk.clock import display_time
    from kiosk.notices import delivery
    data = delivery.show(ctx.store, ctx.args.id, who=ctx.args.who)
    zone = ctx.config.site.timezone

    def text():
        s = data["states"]
        lines = [f"notice {data['id']} ({data['state']}) → {data['group']}: {data['text']}",
                 "SMS: " + ", ".join(f"{k} {v}" for k, v in s.items())]
        for occ in data["occurrences"]:
            lines.append(f"  #{occ['seq']} due {display_time(zone, occ['due_at'])} {occ['state']} {occ['recipients']} recipients"
                         + (f": {occ['detail']}" if occ["detail"] else ""))
        if data["failed"]:
            lines.append("not received (phone them):")
            lines += [f"  {f['name'] or '?':<28} {f['phone']} ({f['state']})" for f in data["failed"]]
        if data["answers"]:
            t = data["answers"]
            lines.append(f"answers ({t['answered']} of {t['asked']}{', open' if t['open'] else ', closed'}): "
                         + ", ".join(f"{o['code']}={o['label']} {t['counts'].get(o['code'], 0)}"
                                     for o in t["options"]))
        for w in data.get("who", []):
            lines.append(f"  {w['answer']}  {w['name'] or '?':<28} {w['phone']}  \"{w['text']}\"")
        return "\n".join(lines)
    ctx.emit(data, text)


def _cancel(ctx):
    from kiosk.notices import schedule
    result = schedule.cancel(ctx.store, ctx.args.id)
    ctx.emit(result, f"notice {result['id']} cancelled; {result['withdrawn_messages']} unsent SMS withdrawn"
             if result["cancelled"] else f"notice {result['id']} was already cancelled")


def _budget(ctx):
    from kiosk.notices import budget
    data = budget.status(ctx.store, ctx.config)
    ctx.emit(data, lambda: f"{data['month']}: {data['used_parts']} SMS parts (~{data['used_dong']:,} đ)"
             + (f" of {data['limit_parts']} ({round(data['share'] * 100)} %)" if data["limit_parts"] else
                ", no budget set (notices.budget_parts / budget_dong)"))
