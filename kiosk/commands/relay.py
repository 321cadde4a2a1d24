"""`tdp relay simulate|audit|registrations|confirm`: the SMS relay rules, without a modem."""
from __future__ import annotations

from kiosk.relay.residents import confirm_registration, handle, pending_registrations
from kiosk.relay.officials import audit_log


def register(cli) -> None:
    group = cli.group("relay", help="officials' SMS commands and residents' SMS keywords")
    p = group.command("simulate", _simulate, json=True,
                      help="run one SMS through the rules and print what would be sent (nothing is stored)")
    p.add_argument("--from", dest="sender", required=True, metavar="PHONE", help="sender's number")
    p.add_argument("--text", required=True, help="the message text")
    p = group.command("audit", _audit, help="the relay's audit log, newest first", json=True)
    p.add_argument("--limit", type=int, default=50)
    group.command("registrations", _registrations, help="residents' DK requests waiting for confirmation",
                  json=True)
    p = group.command("confirm", _confirm, help="confirm a resident's DK request", json=True)
    p.add_argument("id", type=int, help="request id from `tdp relay registrations`")
    p.add_argument("--by", required=True, help="who confirms (group leader's name)")


class _Rollback(Exception):
    """Raised inside the simulation's transaction so nothing it did is kept."""


def _simulate(ctx):
    from sms.inbox import InboundMessage

    db = ctx.store
    sender = ctx.args.sender
    kind = "alphanumeric" if not sender.lstrip("+").isdigit() else "international"
    message = InboundMessage(id=0, sender=sender, sender_type=kind, text=ctx.args.text, received_at="")
    result = {}
    try:
        with db.transaction() as conn:
            before = conn.execute("SELECT COALESCE(MAX(id), 0) FROM outbox_messages").fetchone()[0]
            replies = handle(db, ctx.config, message)
            broadcast = conn.execute("SELECT recipient FROM outbox_messages WHERE id > ?", (before,)).fetchall()
            last = conn.execute("SELECT outcome, detail FROM relay_audit ORDER BY id DESC LIMIT 1").fetchone()
            result = {"replies": [{"to": r.to, "text": r.text} for r in replies],
                      "queued_to": len(broadcast), "outcome": last[0] if last else "",
                      "detail": last[1] if last else ""}
            raise _Rollback
    except _Rollback:
        pass
    lines = [f"{r['to']}: {r['text']}" for r in result["replies"]] or ["(no reply)"]
    if result["queued_to"]:
        lines.append(f"would queue the notice for {result['queued_to']} recipients")
    lines.append(f"audit: {result['outcome']} {result['detail']}".rstrip())
    ctx.emit(result, "\n".join(lines))


def _audit(ctx):
    rows = audit_log(ctx.store, ctx.args.limit)
    ctx.emit(rows, lambda: "\n".join(f"{r['at']} {r['sender']} {r['official'] or '-'} {r['command']} "
                                     f"{r['outcome']} {r['detail']}" for r in rows) or "audit log is empty")


def _registrations(ctx):
    rows = pending_registrations(ctx.store)
    ctx.emit(rows, lambda: "\n".join(f"#{r['id']} {r['requested_at']} {r['phone']} {r['full_name']}"
                                     for r in rows) or "no pending registrations")


def _confirm(ctx):
    resident = confirm_registration(ctx.store, ctx.args.id, ctx.args.by)
    ctx.emit({"id": resident["id"], "full_name": resident["full_name"], "consent": bool(resident["consent"])},
             f"confirmed: {resident['full_name']} now receives notices")
