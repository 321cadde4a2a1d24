"""`tdp request new|show|portal|update|list|remind`: requests made at the kiosk and the portal dossiers
volunteers file for them."""
from __future__ import annotations

from kiosk.dossiers import lifecycle as dossiers
from kiosk.dossiers import receipts
from kiosk.dossiers import tracking
from kiosk.directory import phone as phones
from kiosk import clock


def register(cli) -> None:
    group = cli.group("request", help="requests (dossiers) handed in by residents")
    p = group.command("new", _new, help="record a request and print its tracking code", json=True)
    p.add_argument("--procedure", required=True, metavar="CODE", help="procedure code (tdp procedures list)")
    p.add_argument("--name", required=True, help="resident's full name")
    p.add_argument("--phone", required=True, help="resident's mobile number (SMS updates go there)")
    p.add_argument("--citizen-id", metavar="ID", help="12-digit personal identification number (stored, shown masked)")
    p.add_argument("--notes", default="", metavar="T", help="free notes")
    p.add_argument("--channel", default="kiosk", choices=dossiers.CHANNELS, help="how it was handed in")
    p.add_argument("--volunteer", default="", metavar="NAME", help="volunteer on duty, printed on the receipt")
    p.add_argument("--by", default="", metavar="NAME", help="who records it (default: the volunteer)")
    p.add_argument("--print", dest="print_receipt", action="store_true",
                   help="print the receipt now (kept for reprint if the printer fails)")
    p = group.command("show", _show, help="one request with its history (citizen ID masked)", json=True)
    p.add_argument("code", help="kiosk code (TDP1-2611-7Q4K) or portal dossier code (000.24.35.H42-251203-0001)")
    p = group.command("portal", _portal, json=True,
                      help="record the portal's dossier code, official appointment and where to collect (one SMS)")
    p.add_argument("code", help="kiosk code or portal dossier code")
    p.add_argument("--portal-code", required=True, metavar="P", help="dossier code from dichvucong.gov.vn")
    p.add_argument("--appointment", metavar="YYYY-MM-DD", help="official appointment date from the portal")
    p.add_argument("--where", default="", metavar="TEXT", help="where the resident collects the result")
    p.add_argument("--by", default="", metavar="NAME", help="who filed it")
    p = group.command("update", _update, help="move a request to its next status (SMS queued)", json=True)
    p.add_argument("code", help="kiosk code or portal dossier code")
    p.add_argument("--status", required=True, choices=dossiers.STATUSES, help="new status")
    p.add_argument("--by", default="", metavar="NAME", help="who makes the change (a volunteer's name or phone)")
    p.add_argument("--note", default="", metavar="T", help="note kept in the history (a rejection's reason)")
    p.add_argument("--document", dest="documents", action="append", default=[], metavar="N_OR_TEXT",
                   help="needs_more_documents: a missing document (number or text from the procedure), repeatable")
    p.add_argument("--confirm", action="store_true", help="rejected: confirm the rejection")
    group.command("remind", _remind, json=True,
                  help="queue tonight's reminders for tomorrow's official appointments (idempotent)")
    p = group.command("list", _list, help="list requests, newest first", json=True)
    p.add_argument("--status", choices=dossiers.STATUSES, help="only this status")
    p.add_argument("--phone", metavar="P", help="only this resident's phone")


def _prefix(ctx) -> str:
    return tracking.prefix(ctx.config)


def _new(ctx):
    a = ctx.args
    dossier = dossiers.create(ctx.store, procedure_code=a.procedure, full_name=a.name, phone=a.phone,
                              citizen_id=a.citizen_id, notes=a.notes, channel=a.channel, volunteer=a.volunteer,
                              by=a.by, prefix=_prefix(ctx), timezone=ctx.config.site.timezone,
                              filing_days=ctx.config.requests.filing_days)
    data = {"code": dossier.code, "status": dossier.status, "appointment_date": dossier.appointment_date,
            "procedure_code": dossier.procedure_code}
    lines = [dossier.code,
             f"  {dossier.procedure_name}; hẹn dự kiến {clock.display_date(dossier.appointment_date)}; SMS queued"]
    if a.print_receipt:
        outcome = receipts.print_receipt(ctx.store, ctx.config, dossier.code)
        data["print"] = outcome.as_dict()
        lines.append(f"  receipt: {outcome.message}")
    ctx.emit(data, "\n".join(lines))


def _describe(d: dossiers.Dossier) -> str:
    lines = [f"{d.code}  {d.status} ({d.status_label})",
             f"  {d.procedure_code}: {d.procedure_name}",
             f"  {d.full_name}, {phones.masked(d.phone)}" + (f", ID {d.masked_citizen_id}" if d.citizen_id else ""),
             f"  channel {d.channel}; hẹn dự kiến {clock.display_date(d.appointment_date)}"
             + (f"; volunteer {d.volunteer}" if d.volunteer else "")]
    if d.portal_code:
        lines.append(f"  portal {d.portal_code}; hẹn {clock.display_date(d.official_appointment) or '-'}"
                     + (f"; nhận tại {d.collect_at}" if d.collect_at else ""))
    if d.notes:
        lines.append(f"  notes: {d.notes}")
    for e in d.events:
        lines.append(f"  {e.at}  {e.status:<21} {e.by or '-'}" + (f"  {e.note}" if e.note else ""))
    return "\n".join(lines)


def _show(ctx):
    dossier = dossiers.get(ctx.store, ctx.args.code, _prefix(ctx))
    ctx.emit(dossier.public(), lambda: _describe(dossier))


def _portal(ctx):
    a = ctx.args
    dossier = dossiers.record_portal(ctx.store, a.code, a.portal_code, appointment=a.appointment, where=a.where,
                                     by=a.by, prefix=_prefix(ctx), timezone=ctx.config.site.timezone)
    ctx.emit(dossier.public(), f"{dossier.code}: portal {dossier.portal_code}, "
                               f"hẹn {clock.display_date(dossier.official_appointment) or '-'}; SMS queued")


def _update(ctx):
    a = ctx.args
    dossier = dossiers.update_status(ctx.store, a.code, a.status, by=a.by, note=a.note, documents=a.documents,
                                     confirmed=a.confirm, prefix=_prefix(ctx))
    ctx.emit(dossier.public(), f"{dossier.code}: {dossier.status} ({dossier.status_label}); SMS queued")


def _remind(ctx):
    config = ctx.config
    codes = dossiers.send_reminders(ctx.store, prefix=_prefix(ctx), timezone=config.site.timezone,
                                    evening_hour=config.requests.reminder_hour)
    ctx.emit({"reminded": codes}, f"{len(codes)} reminder(s) queued" + (": " + ", ".join(codes) if codes else ""))


def _list(ctx):
    found = dossiers.list_dossiers(ctx.store, status=ctx.args.status, phone=ctx.args.phone)
    rows = [{k: v for k, v in d.public().items() if k not in ("history", "next_statuses")} for d in found]
    ctx.emit(rows, lambda: "\n".join(
        f"{d.code}  {d.status:<21} {d.procedure_code:<15} {d.full_name}" for d in found) or "no requests")
