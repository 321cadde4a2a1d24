"""`tdp relay simulate|audit|stats|registrations|confirm`: the SMS relay rules, without a modem."""
from __future__ import annotations

from kiosk.relay.officials import audit_log, stats
from kiosk.relay.residents import confirm_registration, pending_registrations
from kiosk.relay.router import simulate


def register(cli) -> None:
    group = cli.group("relay", help="officials' SMS commands and residents' SMS keywords")
    p = group.command("simulate", _simulate, json=True,
                      help="run one SMS through the rules and print what would be sent (nothing is stored)")
    p.add_argument("--from", dest="sender", required=True, metavar="PHONE", help="sender's number")
    p.add_argument("--text", required=True, help="the message text")
    p = group.command("audit", _audit, json=True,
                      help="the relay's audit log, newest first: every decision, refusal and rate-limited SMS")
    p.add_argument("--limit", type=int, default=50, help="at most this many lines (default 50)")
    p.add_argument("--problems", action="store_true", help="only refusals and rate-limited (held) messages")
    p.add_argument("--since", metavar="ISO", help="only lines at or after this UTC time, e.g. 2026-12-03")
    p = group.command("stats", _stats, json=True, help="audit lines by outcome, refusals and held SMS by reason")
    p.add_argument("--since", metavar="ISO", help="only lines at or after this UTC time")
    group.command("registrations", _registrations, help="residents' DK requests waiting for confirmation",
                  json=True)
    p = group.command("confirm", _confirm, help="confirm a resident's DK request", json=True)
    p.add_argument("id", type=int, help="request id from `tdp relay registrations`")
    p.add_argument("--by", required=True, help="who confirms (group leader's name)")


def _simulate(ctx):
    result = simulate(ctx.store, ctx.config, ctx.args.sender, ctx.args.text)
    lines = [f"{r['to']}: {r['text']}" for r in result["replies"]] or ["(no reply)"]
    if result["queued_to"]:
        lines.append(f"would queue the notice for {result['queued_to']} recipients")
    lines.append(f"audit: {result['outcome']} {result['reason']} {result['detail']}".rstrip())
    ctx.emit(result, "\n".join(lines))


def _audit(ctx):
    rows = audit_log(ctx.store, max(ctx.args.limit, 1), problems_only=ctx.args.problems, since=ctx.args.since)
    ctx.emit(rows, lambda: "\n".join(f"{r['at']} {r['sender']} {r['official'] or '-'} {r['command']} "
                                     f"{r['outcome']} {r['reason'] or '-'} {r['detail']}" for r in rows)
             or "audit log is empty")


def _stats(ctx):
    data = stats(ctx.store, ctx.args.since)
    ctx.emit(data, lambda: "\n".join(
        [f"{data['total']} audit lines"] + [f"  {k}: {v}" for k, v in data["by_outcome"].items()]
        + ["refused or held, by reason:"] + [f"  {k}: {v}" for k, v in data["refused_by_reason"].items()]))


def _registrations(ctx):
    rows = pending_registrations(ctx.store)
    ctx.emit(rows, lambda: "\n".join(f"#{r['id']} {r['requested_at']} {r['phone']} {r['full_name']}"
                                     for r in rows) or "no pending registrations")


def _confirm(ctx):
    resident = confirm_registration(ctx.store, ctx.args.id, ctx.args.by)
    ctx.emit({"id": resident["id"], "full_name": resident["full_name"], "consent": bool(resident["consent"])},
             f"confirmed: {resident['full_name']} now receives notices")
