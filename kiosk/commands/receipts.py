"""`tdp receipt print|render|reprint|checklist`: printed receipts for dossiers and procedures."""
from __future__ import annotations

from hardware.receipt_layout import PAPERS

from kiosk.dossiers import procedures as catalogue_module
from kiosk.dossiers import receipts
from ..errors import InvalidInput


def register(cli) -> None:
    group = cli.group("receipt", help="print or render dossier receipts and procedure checklists")
    p = group.command("print", _print, help="render and print a dossier's receipt (kept for reprint)", json=True)
    p.add_argument("code", help="tracking code")
    p = group.command("render", _render, help="render a dossier's receipt to a PNG or PDF file", json=True)
    p.add_argument("code", help="tracking code")
    p.add_argument("--out", required=True, metavar="FILE", help="FILE.png or FILE.pdf")
    p.add_argument("--paper", choices=sorted(PAPERS), help="paper size (default: [printer] paper)")
    p = group.command("reprint", _reprint, help="print the kept receipt again", json=True)
    p.add_argument("code", help="tracking code")
    p = group.command("checklist", _checklist, help='print (or --out render) a procedure\'s "what to bring" sheet',
                      json=True)
    p.add_argument("procedure", help="procedure code")
    p.add_argument("--out", metavar="FILE", help="FILE.png or FILE.pdf instead of printing")
    p.add_argument("--paper", choices=sorted(PAPERS), help="paper size (default: [printer] paper)")
    group.command("failed", _failed, help="receipts whose last print failed (to reprint)", json=True)


def _format(out: str) -> str:
    suffix = out.rsplit(".", 1)[-1].lower() if "." in out else ""
    if suffix not in ("png", "pdf"):
        raise InvalidInput(f"--out must end in .png or .pdf, got '{out}'")
    return suffix


def _report(ctx, outcome) -> int:
    ctx.emit(outcome.as_dict(), f"{outcome.status}: {outcome.message}\n{outcome.message_vi}")
    return 0 if outcome.ok else 1


def _print(ctx):
    return _report(ctx, receipts.print_receipt(ctx.store, ctx.config, ctx.args.code))


def _reprint(ctx):
    return _report(ctx, receipts.reprint(ctx.store, ctx.config, ctx.args.code))


def _render(ctx):
    fmt = _format(ctx.args.out)
    data = receipts.render_receipt(ctx.store, ctx.config, ctx.args.code, fmt, ctx.args.paper)
    path = receipts.render_to_file(data, ctx.args.out)
    ctx.emit({"path": str(path), "format": fmt, "bytes": len(data)}, f"wrote {path}")


def _checklist(ctx):
    if not ctx.args.out:
        return _report(ctx, receipts.print_checklist(ctx.store, ctx.config, ctx.args.procedure))
    from hardware import receipts as render
    procedure = catalogue_module.default().get(ctx.args.procedure)
    fmt = _format(ctx.args.out)
    data = render.render_checklist(receipts.checklist_data(procedure, ctx.config),
                                   ctx.args.paper or ctx.config.printer.paper, fmt)
    path = receipts.render_to_file(data, ctx.args.out)
    ctx.emit({"path": str(path), "format": fmt, "bytes": len(data)}, f"wrote {path}")


def _failed(ctx):
    rows = receipts.pending_reprints(ctx.store)
    ctx.emit(rows, lambda: "\n".join(f"{r['code']}  {r['message']}" for r in rows) or "no failed receipts")
