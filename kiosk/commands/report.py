"""`tdp report --from D --to D [--out FILE.xlsx|FILE.csv|FILE.pdf]`: the ward's progress report."""
from __future__ import annotations

from kiosk.reports import ward as report
from kiosk.reports import export as report_export
from kiosk.volunteers.rota import parse_day


def register(cli) -> None:
    p = cli.command("report", _report, json=True,
                    help="the ward report: requests and online share vs target, help tickets, volunteers, "
                         "SMS and satisfaction")
    p.add_argument("--from", dest="start", required=True, metavar="YYYY-MM-DD")
    p.add_argument("--to", dest="end", required=True, metavar="YYYY-MM-DD")
    p.add_argument("--out", metavar="FILE", help="also write it as .xlsx (with charts), .csv or .pdf")


def _summary(data: dict) -> str:
    req, tk, vol, sms, sat = (data[k] for k in ("requests", "help_tickets", "volunteers", "sms", "satisfaction"))
    return "\n".join([
        f"{data['ward']} – {data['residential_group']}: {data['period']['from']} → {data['period']['to']}",
        f"Requests: {req['total']}, online {req['online']} ({req['online_share']:.1%}; target {req['target']:.0%}"
        f" – {'met' if req['meets_target'] else 'not met'})",
        f"Help tickets: {tk['total']} opened, {tk['closed']} closed, {tk['submitted_online']} submitted online",
        f"Rota sessions: {vol['sessions']} ({vol['covered']} covered, {vol['uncovered']} short); "
        f"{vol['participants']} volunteers, {vol['hours']} hours",
        f"SMS parts: {sms['sent']} sent, {sms['delivered']} delivered, {sms['failed']} failed; "
        f"estimated cost {format(sms['estimated_cost'], ',').replace(',', '.')} đ"
        + (f", {format(sms['cost_per_household_month'], ',').replace(',', '.')} đ per household a month for "
           f"{sms['households']} households (Công dân điện tử: {format(sms['household_price'], ',').replace(',', '.')} đ)"
           if sms["households"] else ""),
        f"Satisfaction: {sat['responses']} responses, {sat['satisfied_share']:.1%} satisfied",
    ])


def _report(ctx):
    data = report.build(ctx.store, ctx.config, parse_day(ctx.args.start), parse_day(ctx.args.end))
    text = _summary(data)
    if ctx.args.out:
        path = report_export.write(data, ctx.args.out)
        data["file"] = str(path)
        text += f"\nwritten to {path}"
    ctx.emit(data, text)
