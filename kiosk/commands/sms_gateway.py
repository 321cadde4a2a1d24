"""`tdp sms send|status|outbox|inbox` and `tdp gateway`: queue SMS, watch the queue, run the daemon.

The daemon itself lives in sms.gateway (no kiosk imports); this module wires config, the phone
normaliser and the directory's consenting groups; the daemon is built in kiosk.appliance.wiring.
"""
from __future__ import annotations

import logging
import signal
import threading
import time
import uuid
from contextlib import ExitStack

from sms import gateway as sms_gateway, inbox, outbox

from kiosk.directory import residents as directory
from kiosk.directory import phone as phones
from kiosk.appliance import wiring
from kiosk.errors import InvalidInput



def register(cli) -> None:
    group = cli.group("sms", help="send, inspect and debug SMS")
    send = group.command("send", _send, json=True, help="queue an SMS to one phone or a group's consenting members")
    target = send.add_mutually_exclusive_group(required=True)
    target.add_argument("--to", metavar="PHONE", help="recipient phone (0912 345 678, +84…)")
    target.add_argument("--group", metavar="NAME", help="group code or name (TATCA = everyone who consented)")
    send.add_argument("--text", required=True, help="message text (Vietnamese is fine)")
    send.add_argument("--urgent", action="store_true", help="send first, even in quiet hours")
    send.add_argument("--unaccented", action="store_true",
                      help="drop Vietnamese diacritics: about half the SMS parts")
    send.add_argument("--force", action="store_true", help="allow more parts than sms.max_parts")
    send.add_argument("--wait", type=float, metavar="SECONDS", default=0,
                      help="wait until every part is sent or failed; exit 1 on failure or timeout")
    group.command("status", _status, json=True, help="modem health (per port) and outbox counts")
    listing = group.command("outbox", _outbox, json=True, help="recent outgoing messages and their state")
    listing.add_argument("--to", metavar="PHONE", help="only messages to this phone")
    listing.add_argument("--limit", type=int, default=20, help="how many messages (default 20)")
    received = group.command("inbox", _inbox, json=True, help="recent received messages")
    received.add_argument("--limit", type=int, default=20, help="how many messages (default 20)")
    daemon = cli.command("gateway", _gateway, json=True,
                         help="run the SMS gateway daemon (outbox → modems, modems → inbox)")
    daemon.add_argument("--port", action="append", metavar="URL",
                        help='modem port (repeatable), "emulator", a device or a pyserial URL; '
                             "default: modem.port and modem.extra_ports")
    daemon.add_argument("--once", action="store_true", help="send what is due, read the modem once, then exit")


# --- tdp sms send ---------------------------------------------------------------------------

def _send(ctx):
    args, sms = ctx.args, ctx.config.sms
    if not args.text.strip():
        raise InvalidInput("message text is empty: give --text")
    options = dict(priority="urgent" if args.urgent else "normal", unaccented=args.unaccented,
                   force=args.force, max_parts=sms.max_parts, source="cli")
    if args.to:
        ids = [outbox.enqueue(ctx.store, phones.normalise(args.to), args.text, **options)]
        audience = phones.masked(phones.normalise(args.to))
    else:
        recipients = directory.recipients(ctx.store, args.group)
        if not recipients:
            raise InvalidInput(f"group {args.group!r} has no member who consented to SMS; nothing queued")
        key_prefix = f"cli-{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:6]}"
        ids = outbox.enqueue_many(ctx.store, recipients, args.text, key_prefix=key_prefix, **options)
        audience = f"{len(ids)} members of {args.group}"
    first = outbox.message(ctx.store, ids[0])
    summary = {"message_ids": ids, "recipients": len(ids), "parts_per_message": first["part_count"],
               "encoding": first["encoding"], "priority": first["priority"]}
    if args.wait > 0:
        # ids are consecutive within one transaction, so a range covers a broadcast of any size
        summary.update(outbox.wait_final(ctx.store, min(ids), max(ids), args.wait))
    ctx.emit(summary, lambda: _describe_send(summary, audience))
    if args.wait > 0 and not summary["ok"]:
        return 1
    return 0


def _describe_send(summary: dict, audience: str) -> str:
    per = summary["parts_per_message"]
    line = (f"queued {summary['recipients']} message(s) to {audience}: {per} part(s) each, "
            f"{summary['encoding'].upper()}, {summary['priority']}")
    if "ok" in summary:
        line += "\n" + ("all parts sent" if summary["ok"] else f"NOT SENT: {summary['error']}")
    return line


# --- tdp sms status / outbox / inbox ---------------------------------------------------------

def _status(ctx):
    db = ctx.store
    data = {"modems": sms_gateway.health(db), "queue_depth": outbox.queue_depth(db), "outbox": outbox.counts(db),
            "inbox_waiting_parts": inbox.pending_parts(db)}
    ctx.emit(data, lambda: _describe_status(data))


def _describe_status(data: dict) -> str:
    lines = []
    for modem in data["modems"] or []:
        signal_text = "?" if modem["signal"] in (None, 99) else f"CSQ {modem['signal']}"
        lines.append(f"{modem['port']}: {modem['state'].upper()} {modem['model'] or '-'} {modem['operator'] or ''}"
                     f" {modem['registration']} {signal_text}, sent {modem['sent']}, updated {modem['updated_at']}"
                     + (f"\n  last error: {modem['last_error']}" if modem["last_error"] else ""))
    if not data["modems"]:
        lines.append("no gateway has run yet (start it with `tdp gateway`)")
    parts = {state: n for state, n in data["outbox"]["parts"].items() if n}
    lines.append(f"queue: {data['queue_depth']} parts waiting"
                 + ("; all parts: " + ", ".join(f"{state} {n}" for state, n in parts.items()) if parts else ""))
    return "\n".join(lines)


def _outbox(ctx):
    to = phones.normalise(ctx.args.to) if ctx.args.to else None
    rows = outbox.messages(ctx.store, to=to, limit=ctx.args.limit)
    ctx.emit(rows, lambda: "\n".join(
        f"#{r['id']} {r['created_at']} {phones.masked(r['to'])} {r['state']:<9} {r['part_count']} part(s)"
        f" {r['priority']}: {r['text'][:50]}" for r in rows) or "outbox is empty")


def _inbox(ctx):
    rows = inbox.messages(ctx.store, limit=ctx.args.limit)
    ctx.emit(rows, lambda: "\n".join(
        f"#{r['id']} {r['received_at']} {r['sender']}{' (incomplete)' if r['incomplete'] else ''}: {r['text'][:60]}"
        for r in rows) or "inbox is empty")


# --- tdp gateway -----------------------------------------------------------------------------

def _gateway(ctx):
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    ctx.store  # create and migrate the store before the workers open their own connections
    stop = threading.Event()
    from kiosk.appliance.sdnotify import Watchdog
    watchdog = Watchdog()  # fed from the housekeeping thread: a hung gateway is restarted by systemd
    with ExitStack() as stack:
        gateway = wiring.build_gateway(ctx.config, ctx.config.storage.path, ctx.args.port, stack, on_tick=watchdog.ping)
        if ctx.args.once:
            gateway.run_once()
            ctx.emit({"queue_depth": outbox.queue_depth(ctx.store), "modems": sms_gateway.health(ctx.store)},
                     f"done; {outbox.queue_depth(ctx.store)} parts still queued")
            return 0
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGTERM, signal.SIGINT):
                previous = signal.signal(signum, lambda *_: stop.set())
                stack.callback(signal.signal, signum, previous)
        print(f"tdp gateway: {len(gateway.ports)} modem(s) on {', '.join(gateway.names)}; Ctrl-C to stop",
              file=ctx.stdout, flush=True)
        watchdog.ready(f"{len(gateway.ports)} modem(s)")
        gateway.run(stop)
        watchdog.stopping()
    return 0
