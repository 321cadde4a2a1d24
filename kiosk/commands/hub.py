"""`tdp hub serve|add-kiosk|revoke-kiosk|official …|kiosks|notice …`: run and administer the hub.

These run on the hub machine and only call `hub/` functions; the config supplies `[hub_server]`
(database URL, port, heartbeat period) and `[sms]`/`[report]` (part limit, price, online target).
"""
from __future__ import annotations

import functools
import getpass
import sys

from ..errors import TdpError


class HubCommandError(TdpError):
    """A hub error shown as one CLI line."""


def _hub_errors(handler):
    @functools.wraps(handler)
    def wrapped(ctx):
        from hub.errors import HubError
        try:
            return handler(ctx)
        except HubError as exc:
            raise HubCommandError(str(exc)) from None
        finally:
            engine = getattr(ctx, "hub_engine", None)
            if engine is not None:
                engine.dispose()
    return wrapped


def hub_settings(config):
    """HubSettings from the kiosk config (the hub itself never reads kiosk config)."""
    from hub.db import default_url
    from hub.settings import HubSettings
    server = config.hub_server
    return HubSettings(
        database=server.database or default_url(config.source, config.storage.data_dir),
        heartbeat_seconds=server.heartbeat_seconds, offline_after_missed=server.offline_after_missed,
        max_parts=config.sms.max_parts, price_per_part=config.sms.price_per_part,
        online_target=config.report.online_target, login_max_failures=server.login_max_failures,
        account_max_failures=server.account_max_failures, lockout_minutes=server.lockout_minutes,
        timezone=config.site.timezone, quiet_start=config.sms.quiet_start, quiet_end=config.sms.quiet_end)


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _engine(ctx):
    from hub.db import open_hub
    settings = hub_settings(ctx.config)
    ctx.hub_engine = open_hub(settings.database, pool_size=2)
    return settings, ctx.hub_engine


ACCOUNT_ACTIONS = {
    "disable": "stop an account: no more logins, and its open sessions end now",
    "enable": "let a disabled account log in again",
    "unlock": "lift a login lockout of the account",
    "reset-password": "set a new password (its open sessions end, its lockout is lifted)",
    "logout": "end the account's console sessions on every browser",
}


def _official_options(p) -> None:
    p.add_argument("--name", required=True, help="the official's full name")
    p.add_argument("--role", required=True, choices=("ward", "group"))
    p.add_argument("--kiosk", help="a group leader's kiosk")
    p.add_argument("--ward", default="", help="a ward official's ward (empty: every kiosk, and account admin)")
    p.add_argument("--password-stdin", action="store_true", required=True,
                   help="read the password from standard input (never from the command line); at least "
                        "10 characters and not a common one")


def register(cli) -> None:
    grp = cli.group("hub", help="the officials' hub: web console and kiosk API")
    p = grp.command("serve", _hub_errors(_serve), help="run the hub (kiosk API + web console) with uvicorn")
    p.add_argument("--host", help="address to listen on (default [hub_server] host)")
    p.add_argument("--port", type=int, help="TCP port (default [hub_server] port)")
    p = grp.command("add-kiosk", _hub_errors(_add_kiosk), help="register a kiosk and print its token once",
                    json=True)
    p.add_argument("name", help="kiosk name, e.g. tdp1-phuong-demo")
    p.add_argument("--ward", default="", help="ward the kiosk belongs to")
    p.add_argument("--sim", default="", help="the kiosk SIM's phone number (shown for the SMS fallback)")
    p = grp.command("revoke-kiosk", _hub_errors(_revoke_kiosk), help="revoke a kiosk's token", json=True)
    p.add_argument("name")
    p = grp.command("add-official", _hub_errors(_add_official), help="create a console account "
                    "(the same as `official add`)", json=True)
    p.add_argument("--login", required=True)
    _official_options(p)
    official = grp.group("official", help="console accounts: add, list, disable, enable, unlock, "
                                          "reset-password, logout")
    p = official.command("add", _hub_errors(_add_official), help="create a console account", json=True)
    p.add_argument("login", help="login name: letters, digits, '.', '_' or '-'")
    _official_options(p)
    official.command("list", _hub_errors(_official_list), help="every account with its scope and state",
                     json=True)
    for action, helptext in ACCOUNT_ACTIONS.items():
        p = official.command(action, _hub_errors(functools.partial(_official_action, action)), help=helptext,
                             json=True)
        p.add_argument("login", metavar="NAME", help="the official's login")
        if action == "reset-password":
            p.add_argument("--password-stdin", action="store_true", required=True,
                           help="read the new password from standard input (never from the command line)")
    p = grp.command("audit", _hub_errors(_audit), help="the audit log, newest first", json=True)
    p.add_argument("--limit", type=int, default=200, help="at most this many rows (default 200)")
    p = grp.command("release", _hub_errors(_release), json=True,
                    help="offer a tdp-kiosk wheel/sdist to every kiosk: each fetches it and upgrades at night")
    p.add_argument("file", metavar="FILE")
    grp.command("kiosks", _hub_errors(_kiosks), help="list kiosks with online state and last heartbeat", json=True)
    notice = grp.group("notice", help="send, show or cancel notices")
    p = notice.command("send", _hub_errors(_notice_send), help="send a notice to kiosks", json=True)
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--kiosk", action="append", metavar="NAME", help="target kiosk (repeatable)")
    target.add_argument("--all", action="store_true", help="every active kiosk")
    p.add_argument("--group", help="group code (HPN, CB…); default everyone (TATCA)")
    p.add_argument("--text", required=True)
    p.add_argument("--urgent", action="store_true", help="ignores quiet hours and goes first")
    p.add_argument("--expires-in", type=float, metavar="HOURS", help="not sent after this many hours")
    p.add_argument("--unaccented", action="store_true", help="send without diacritics (fewer SMS parts)")
    p.add_argument("--at", metavar='"YYYY-MM-DD HH:MM"', help="when, in each kiosk's own local time; default now")
    p.add_argument("--every", choices=("day", "week", "month"), help="repeat at that local time")
    p.add_argument("--ask", metavar='"C=Có;K=Không"', help="a question: kiosks count the replies, the hub sees counts")
    p = notice.command("show", _hub_errors(_notice_show), help="a notice with per-kiosk state and counts",
                       json=True)
    p.add_argument("id", type=int)
    p = notice.command("cancel", _hub_errors(_notice_cancel), help="cancel a notice", json=True)
    p.add_argument("id", type=int)


def _serve(ctx):
    from hub.app import serve
    server = ctx.config.hub_server
    settings = hub_settings(ctx.config)
    serve(settings, host=ctx.args.host or server.host, port=ctx.args.port or server.port)


def _add_kiosk(ctx):
    from hub import admin
    settings, engine = _engine(ctx)
    result = admin.add_kiosk(engine, ctx.args.name, ctx.args.ward, sim_number=ctx.args.sim, actor=_actor())
    ctx.emit(result, f"kiosk {result['name']} added. Its token (shown only now; put it in the kiosk's "
                     f"[hub] token):\n{result['token']}")


def _revoke_kiosk(ctx):
    from hub import admin
    settings, engine = _engine(ctx)
    ctx.emit(admin.revoke_kiosk(engine, ctx.args.name, actor=_actor()), f"kiosk {ctx.args.name} revoked")


def _add_official(ctx):
    from hub import admin
    password = sys.stdin.readline().rstrip("\r\n")
    settings, engine = _engine(ctx)
    result = admin.add_official(engine, ctx.args.login, ctx.args.name, ctx.args.role, password,
                                kiosk=ctx.args.kiosk, ward=ctx.args.ward, actor=_actor())
    ctx.emit(result, f"official {result['login']} ({result['role']}) added")


def _release(ctx):
    from hub import admin, releases
    settings, engine = _engine(ctx)
    row = releases.add(engine, ctx.args.file, actor=_actor())
    counts = releases.versions_in_use(admin.list_kiosks(engine, settings))
    ctx.emit({**row, "kiosks_per_version": dict(counts)},
             f"release {row['version']} offered ({row['size']} bytes, sha256 {row['sha256'][:12]}…); kiosks fetch it "
             f"on their next sync and install it at night. Now running: "
             + (", ".join(f"{v} on {n}" for v, n in counts) or "no kiosks yet"))


def _official_list(ctx):
    from hub import admin
    settings, engine = _engine(ctx)
    rows = admin.list_officials(engine)

    def text():
        if not rows:
            return "no officials yet (tdp hub official add LOGIN …)"
        return "\n".join(f"{r['login']:<20} {r['role']:<5} {r['kiosk'] or r['ward'] or '(every kiosk)':<24} "
                         f"{'DISABLED' if r['disabled'] else 'locked until ' + r['locked_until'] if r['locked_until'] else 'active'}"
                         f", {r['sessions']} session(s)" for r in rows)
    ctx.emit(rows, text)


def _official_action(action, ctx):
    from hub import admin
    password = sys.stdin.readline().rstrip("\r\n") if action == "reset-password" else None
    settings, engine = _engine(ctx)
    login, actor = ctx.args.login, _actor()
    if action == "reset-password":
        result = admin.reset_password(engine, login, password, actor=actor)
    else:
        result = {"disable": admin.disable_official, "enable": admin.enable_official, "unlock": admin.unlock_official,
                  "logout": admin.logout_official}[action](engine, login, actor=actor)
    lines = {"disable": f"official {login} disabled; {result.get('sessions_ended', 0)} session(s) ended",
             "enable": f"official {login} enabled",
             "unlock": f"official {login} unlocked" + ("" if result.get("was_locked") else " (was not locked)"),
             "reset-password": f"password of {login} changed; {result.get('sessions_ended', 0)} session(s) ended",
             "logout": f"official {login} logged out; {result.get('sessions_ended', 0)} session(s) ended"}
    ctx.emit(result, lines[action])


def _audit(ctx):
    from hub import admin
    settings, engine = _engine(ctx)
    rows = admin.audit_log(engine, limit=max(1, min(ctx.args.limit, 100_000)))
    ctx.emit(rows, lambda: "\n".join(f"{r['at']}  {r['actor']:<24} {r['action']:<24} {r['detail']}" for r in rows)
             or "the audit log is empty")


def _kiosks(ctx):
    from hub import admin
    settings, engine = _engine(ctx)
    rows = admin.list_kiosks(engine, settings)

    def text():
        if not rows:
            return "no kiosks yet (tdp hub add-kiosk NAME)"
        return "\n".join(f"{r['name']:<24} {'online ' if r['online'] else 'OFFLINE'} last seen "
                         f"{r['last_seen'] or 'never'}{'  (revoked)' if r['revoked'] else ''}" for r in rows)
    ctx.emit(rows, text)


def _notice_send(ctx):
    from hub import notices
    settings, engine = _engine(ctx)
    a = ctx.args
    result = notices.send(engine, settings, a.text, kiosks=None if a.all else a.kiosk, group=a.group,
                          urgent=a.urgent, expires_in_hours=a.expires_in, unaccented=a.unaccented,
                          actor=_actor(), at=a.at, every=a.every, ask=a.ask)
    when = f" for {a.at} (each kiosk's local time)" + (f", every {a.every}" if a.every else "") if a.at else ""
    ctx.emit(result, f"notice {result['id']} queued for kiosks{when}")


def _notice_show(ctx):
    from hub import notices
    settings, engine = _engine(ctx)
    data = notices.show(engine, ctx.args.id)

    def text():
        lines = [f"notice {data['id']} → {data['group']}: {data['text']}"
                 + (f" (at {data['at']}{', every ' + data['every'] if data['every'] else ''})" if data["at"] else "")]
        if data["answers"]:
            lines.append("answers: " + ", ".join(f"{code} {n}" for code, n in sorted(data["answers"].items())))
        lines += [f"  {k['name']:<24} {k['state']:<9} recipients {k['recipients']} sent {k['sent']} "
                  f"delivered {k['delivered']} failed {k['failed']}" for k in data["kiosks"]]
        return "\n".join(lines)
    ctx.emit(data, text)


def _notice_cancel(ctx):
    from hub import notices
    settings, engine = _engine(ctx)
    result = notices.cancel(engine, ctx.args.id, actor=_actor())
    ctx.emit(result, f"notice {result['id']} cancelled")
