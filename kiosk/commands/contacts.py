"""`tdp contacts list|import|export`, `tdp groups list`, `tdp consent give|withdraw`."""
from __future__ import annotations

from kiosk.directory import contacts
from kiosk.directory import residents as directory
from kiosk.directory import phone as phones
from kiosk.directory.residents import Consent


def register(cli) -> None:
    group = cli.group("contacts", help="the resident directory: list, import and export contacts")
    p = group.command("list", _list, help="list residents (optionally of one group)", json=True)
    p.add_argument("--group", metavar="G", help="only members of this group (code like HPN, or its name)")

    p = group.command("import", _import, json=True,
                      help="import a contact list (.xlsx, .docx table or .csv: Họ và tên / Chức vụ / "
                           "Phân nhóm / Số điện thoại)")
    p.add_argument("file", metavar="FILE", help="the .xlsx, .docx or .csv file")
    p.add_argument("--group", metavar="G", help="also add every imported contact to this group (created if new)")
    p.add_argument("--dry-run", action="store_true", help="report what would change; write nothing")
    p.add_argument("--no-consent", action="store_true",
                   help="import without SMS consent (default: the list's supplier collected consent)")

    p = group.command("export", _export, json=True,
                      help="write the directory as a contact list .xlsx that imports back unchanged")
    p.add_argument("file", metavar="FILE.xlsx", help="the .xlsx file to write")
    p.add_argument("--group", metavar="G", help="only members of this group")

    groups = cli.group("groups", help="organisations residents belong to (Chi bộ, Hội phụ nữ…)")
    groups.command("list", _groups, help="list groups with their codes and member counts", json=True)

    consent = cli.group("consent", help="record a resident's SMS consent (Decree 13/2023/NĐ-CP)")
    for action, given in (("give", True), ("withdraw", False)):
        p = consent.command(action, _consent_handler(given), json=True,
                            help=f"record that the resident {'gives' if given else 'withdraws'} SMS consent")
        p.add_argument("phone", metavar="PHONE", help="the resident's phone number")
        p.add_argument("--source", default="", metavar="TEXT",
                       help="how the resident said so, e.g. 'phiếu đồng ý ngày 05/03'")


def _list(ctx):
    rows = directory.list_residents(ctx.store, ctx.args.group)
    for row in rows:
        row["phone_national"] = phones.national(row["phone"]) if row["phone"] else ""

    def text() -> str:
        if not rows:
            return "no residents" + (f" in {ctx.args.group}" if ctx.args.group else "")
        lines = [f"{'Họ và tên':<28} {'Chức vụ':<22} {'Số điện thoại':<14} SMS  Nhóm"]
        for r in rows:
            lines.append(f"{r['full_name'][:28]:<28} {r['role'][:22]:<22} {r['phone_national']:<14} "
                         f"{'có ' if r['consent'] else 'không'}  {', '.join(r['groups'])}")
        lines.append(f"{len(rows)} residents, {sum(r['consent'] for r in rows)} consenting to SMS")
        return "\n".join(lines)

    ctx.emit(rows, text)


def _import(ctx):
    args = ctx.args
    report = contacts.import_contacts(
        ctx.store, args.file, group=args.group, consent=not args.no_consent, dry_run=args.dry_run,
        residential_group=ctx.config.site.residential_group, rejects_dir=ctx.config.storage.data_dir)
    ctx.emit(report.as_dict(), report.text)


def _export(ctx):
    title = f"DANH SÁCH LIÊN HỆ NHẬN SMS - {ctx.config.site.residential_group.upper()}, {ctx.config.site.ward.upper()}"
    result = contacts.export_contacts(ctx.store, ctx.args.file, group=ctx.args.group, title=title)
    skipped = f" ({result['without_phone']} without a phone left out)" if result["without_phone"] else ""
    ctx.emit(result, f"exported {result['exported']} contacts to {result['file']}{skipped}")


def _groups(ctx):
    rows = directory.list_groups(ctx.store)

    def text() -> str:
        if not rows:
            return "no groups yet"
        lines = [f"{'Mã':<6} {'Tên nhóm':<28} {'Thành viên':>10} {'Nhận SMS':>9}"]
        lines += [f"{g['code']:<6} {g['name'][:28]:<28} {g['members']:>10} {g['consenting']:>9}" for g in rows]
        return "\n".join(lines)

    ctx.emit(rows, text)


def _consent_handler(given: bool):
    def handler(ctx):
        source = ctx.args.source or "tdp consent " + ("give" if given else "withdraw")
        resident = directory.set_consent(ctx.store, ctx.args.phone, Consent(given, "cli", source))
        data = {"phone": resident["phone"], "full_name": resident["full_name"], "consent": bool(resident["consent"]),
                "consent_at": resident["consent_at"], "consent_method": resident["consent_method"],
                "consent_source": resident["consent_source"]}
        state = "gives" if given else "withdrew"
        ctx.emit(data, f"{resident['full_name']} ({phones.national(resident['phone'])}) {state} SMS consent; recorded")
    return handler
