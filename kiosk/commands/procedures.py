"""`tdp procedures list|show|validate`: the procedure catalogue residents are guided through."""
from __future__ import annotations

from kiosk.dossiers import procedures as catalogue_module


def register(cli) -> None:
    group = cli.group("procedures", help="the procedure catalogue (kiosk/data/procedures.toml)")
    p = group.command("list", _list, help="list procedures, optionally matching words", json=True)
    p.add_argument("query", nargs="*", help="words to search for (any case, with or without diacritics)")
    p = group.command("show", _show, help="show one procedure in full", json=True)
    p.add_argument("code", help="procedure code, e.g. HT-KS")
    p = group.command("validate", _validate, help="check a catalogue file against the schema", json=True)
    p.add_argument("file", nargs="?", help="TOML file (default: the bundled catalogue)")


def _list(ctx):
    catalogue = catalogue_module.default()
    found = catalogue.search(" ".join(ctx.args.query)) if ctx.args.query else list(catalogue)
    rows = [{"code": p.code, "name": p.name, "category": p.category, "processing_time": p.processing_time,
             "reviewed_by_ward": p.reviewed_by_ward, "kiosk_request": p.kiosk_request,
             "national_code": p.national_code} for p in found]
    ctx.emit(rows, lambda: "\n".join(f"{r['code']:<15} {r['name']}" for r in rows) or "no procedure matches")
    return 0 if rows else 1


def _show(ctx):
    procedure = catalogue_module.default().get(ctx.args.code)

    def text() -> str:
        lines = [f"{procedure.code}: {procedure.name}",
                 f"Mã thủ tục quốc gia: {procedure.national_code or '(chưa tra được / not known)'}",
                 "Nhận yêu cầu tại kiosk: " + ("có" if procedure.kiosk_request else "không (tình nguyện viên hướng dẫn)"),
                 f"Đối tượng: {procedure.audience}", "Giấy tờ:"]
        lines += [f"  - {d}" for d in procedure.documents]
        lines += ["Trực tuyến:"] + [f"  {i}. {s}" for i, s in enumerate(procedure.steps_online, 1)]
        lines += ["Trực tiếp:"] + [f"  {i}. {s}" for i, s in enumerate(procedure.steps_in_person, 1)]
        lines += [f"Lệ phí: {procedure.fee}", f"Thời hạn: {procedure.processing_time}",
                  f"Nơi nộp: {procedure.where}", "Căn cứ pháp lý: " + "; ".join(procedure.legal_basis),
                  f"Cổng DVC: {procedure.portal_url}"]
        if not procedure.reviewed_by_ward:
            lines.append("(Nội dung chưa được phường kiểm tra / not yet reviewed by the ward)")
        if procedure.unreviewed:
            lines.append("Chưa kiểm chứng / unverified: " + ", ".join(procedure.unreviewed))
        return "\n".join(lines)

    ctx.emit(procedure.as_dict(), text)


def _validate(ctx):
    try:
        catalogue = catalogue_module.load(ctx.args.file)
    except catalogue_module.CatalogueError as exc:
        source = ctx.args.file or str(catalogue_module.DEFAULT_PATH)
        ctx.emit({"ok": False, "source": source, "problems": exc.problems},
                 "\n".join(f"{source}: {problem}" for problem in exc.problems))
        return 1
    unreviewed = [p.code for p in catalogue if not p.reviewed_by_ward]
    ctx.emit({"ok": True, "source": catalogue.source, "procedures": len(catalogue), "unreviewed": unreviewed},
             f"{catalogue.source}: OK, {len(catalogue)} procedures ({len(unreviewed)} not yet reviewed by the ward)")
