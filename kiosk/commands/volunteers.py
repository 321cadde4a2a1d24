"""`tdp volunteers add|list|import|set-pin|check-in|check-out|on-duty|activate|deactivate`."""
from __future__ import annotations

import getpass
import sys

from kiosk.directory import phone as phones
from kiosk.volunteers import people as vols
from kiosk.volunteers import duty
from ..errors import InvalidInput


def register(cli) -> None:
    group = cli.group("volunteers", help="volunteers of the Tổ công nghệ số cộng đồng: list, PINs, duty")
    p = group.command("add", _add, help="add a volunteer", json=True)
    p.add_argument("--name", required=True, help="full name")
    p.add_argument("--phone", required=True, help="mobile phone (unique per volunteer)")
    p.add_argument("--team", default="", help="team, usually the residential group (e.g. 'TDP Đoan Trai')")
    p.add_argument("--role", default="member", help="leader (tổ trưởng) or member (thành viên)")
    p.add_argument("--skills", nargs="*", default=[], metavar="SKILL",
                   help="what they can help with, e.g. VNeID 'trợ cấp xã hội' 'cư trú' 'đất đai'")
    p.add_argument("--availability", default="", metavar="TEXT",
                   help=f"when they are free, e.g. '{vols.AVAILABILITY_EXAMPLE}' (default: any time)")

    p = group.command("list", _list, help="list volunteers", json=True)
    p.add_argument("--active", action="store_true", help="only active volunteers")

    p = group.command("import", _import, json=True,
                      help="import volunteers from .xlsx/.csv/.docx (Họ và tên, SĐT, Tổ/Nhóm, Vai trò, Kỹ năng, "
                           "Lịch rảnh); matched by phone")
    p.add_argument("file", metavar="FILE")

    p = group.command("set-pin", _set_pin, help="set a volunteer's kiosk PIN (4-8 digits)", json=True)
    _pin_args(p)
    for name, handler, text in (("check-in", _check_in, "start duty at the kiosk (asks for the PIN)"),
                                ("check-out", _check_out, "end duty and record the time worked")):
        _pin_args(group.command(name, handler, help=text, json=True))

    p = group.command("desk-role", _desk_role, json=True,
                      help="what a volunteer may do at the request desk (senior and official may reject)")
    p.add_argument("who", metavar="NAME_OR_PHONE")
    p.add_argument("desk_role", choices=("volunteer", "senior", "official"))
    group.command("on-duty", _on_duty, help="who is on duty now (checked in, then rostered)", json=True)
    for name, active in (("activate", True), ("deactivate", False)):
        p = group.command(name, _activation(active), json=True,
                          help=f"mark a volunteer {'active' if active else 'inactive (kept for reports)'}")
        p.add_argument("who", metavar="NAME_OR_PHONE")


def _pin_args(parser) -> None:
    parser.add_argument("who", metavar="NAME_OR_PHONE", help="the volunteer's name or phone")
    parser.add_argument("--pin-stdin", action="store_true", help="read the PIN from standard input")


def _read_pin(ctx) -> str:
    if ctx.args.pin_stdin:
        pin = sys.stdin.readline().strip()
    else:
        try:
            pin = getpass.getpass("PIN: ")
        except EOFError:
            pin = ""
    if not pin:
        raise InvalidInput("no PIN given (type it at the prompt, or pipe it with --pin-stdin)")
    return pin


def _row_text(v: dict) -> str:
    flags = ("" if v["active"] else " (nghỉ)") + ("" if v["has_pin"] else " [chưa có PIN]")
    return (f"{v['name'][:26]:<26} {phones.national(v['phone']):<13} {v['team'][:18]:<18} "
            f"{vols.ROLE_LABELS[v['role']]:<10} {v['availability_text'][:30]}{flags}")


def _add(ctx):
    a = ctx.args
    volunteer = vols.add(ctx.store, vols.NewVolunteer(a.name, a.phone, a.team, a.role,
                                                      tuple(vols.parse_skills(a.skills)), a.availability))
    ctx.emit(volunteer, f"added volunteer {volunteer['name']} ({phones.national(volunteer['phone'])})")


def _list(ctx):
    rows = vols.list_volunteers(ctx.store, active_only=ctx.args.active)

    def text() -> str:
        if not rows:
            return "no volunteers yet: `tdp volunteers add` or `tdp volunteers import FILE`"
        return "\n".join([*map(_row_text, rows), f"{len(rows)} volunteers"])

    ctx.emit(rows, text)


def _import(ctx):
    result = vols.import_file(ctx.store, ctx.args.file)

    def text() -> str:
        lines = [f"{result['added']} added, {result['updated']} updated, {result['unchanged']} unchanged, "
                 f"{len(result['rejected'])} rejected"]
        lines += [f"  {r['row']}: {r['reason']}" for r in result["rejected"]]
        return "\n".join(lines)

    ctx.emit(result, text)


def _set_pin(ctx):
    volunteer = vols.set_pin(ctx.store, ctx.args.who, _read_pin(ctx))
    ctx.emit({"name": volunteer["name"], "has_pin": True}, f"PIN set for {volunteer['name']}")


def _desk_role(ctx):
    volunteer = vols.set_desk_role(ctx.store, ctx.args.who, ctx.args.desk_role)
    ctx.emit({"name": volunteer["name"], "desk_role": volunteer["desk_role"]},
             f"{volunteer['name']}: {vols.DESK_ROLE_LABELS[volunteer['desk_role']]}")


def _check_in(ctx):
    result = duty.check_in(ctx.store, ctx.args.who, _read_pin(ctx), ctx.config.volunteers)
    ctx.emit({"name": result["volunteer"]["name"], "checked_in_at": result["checked_in_at"]},
             f"{result['volunteer']['name']} checked in")


def _check_out(ctx):
    result = duty.check_out(ctx.store, ctx.args.who, _read_pin(ctx), ctx.config.volunteers)
    ctx.emit({"name": result["volunteer"]["name"], "checked_in_at": result["checked_in_at"],
              "checked_out_at": result["checked_out_at"], "minutes": result["minutes"]},
             f"{result['volunteer']['name']} checked out after {result['minutes']} minutes")


def _on_duty(ctx):
    rows = duty.on_duty(ctx.store)
    data = [{"name": v["name"], "phone": v["phone"], "team": v["team"], "role": v["role"],
             "checked_in": v["checked_in"]} for v in rows]

    def text() -> str:
        if not rows:
            return "nobody is on duty now"
        return "\n".join(f"{v['name']:<26} {phones.national(v['phone']):<13} "
                         f"{'đã có mặt' if v['checked_in'] else 'theo lịch'}" for v in rows)

    ctx.emit(data, text)


def _activation(active: bool):
    def handler(ctx):
        volunteer = vols.set_active(ctx.store, ctx.args.who, active)
        ctx.emit(volunteer, f"{volunteer['name']} is now {'active' if active else 'inactive'}")
    return handler
