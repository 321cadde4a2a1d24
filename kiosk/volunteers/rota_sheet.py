"""The printable weekly rota (A4 landscape PDF) for the cultural house's notice board.

One row per place and session, one column per weekday; each cell lists the volunteers with
their phone numbers (the seeds ask wards to publish volunteers' contacts), and a session short
of volunteers says how many are missing. Below it, the week's contact list. DejaVu fonts carry
every Vietnamese diacritic.
"""
from __future__ import annotations

import io

from datetime import date, timedelta
from pathlib import Path

from sms.storage import Database

from kiosk.directory import phone as phones
from kiosk.volunteers import rota
from kiosk.volunteers import people as vols
from kiosk.appliance.config import Config
from kiosk.errors import InvalidInput
from hardware.receipt_pdf import register_fonts
from kiosk.files import write_atomic

SESSION_ORDER = {s: i for i, s in enumerate(vols.SESSIONS)}
PLACE_ORDER = {"centre": 0, "kiosk": 1, "home": 2}


def write_sheet(db: Database, config: Config, monday: date, out: str | Path) -> Path:
    """Write the rota of the week starting `monday` to `out` (.pdf); returns the path."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    out = Path(out)
    if out.suffix.lower() != ".pdf":
        raise InvalidInput(f"the rota sheet is a PDF: '{out.name}' should end in .pdf")
    if not out.parent.exists():
        raise InvalidInput(f"folder {out.parent} does not exist")
    regular, bold = register_fonts()
    sunday = monday + timedelta(days=6)
    shifts = rota.show(db, monday, sunday)
    hours = rota.session_hours(config)
    small = ParagraphStyle("small", fontName=regular, fontSize=8, leading=10)
    head = ParagraphStyle("head", fontName=bold, fontSize=9, leading=11, alignment=1)
    gap = ParagraphStyle("gap", parent=small, textColor=colors.HexColor("#B00000"))
    title = ParagraphStyle("title", fontName=bold, fontSize=15, leading=19, alignment=1)
    centre = ParagraphStyle("centre", fontName=regular, fontSize=10, leading=13, alignment=1)

    days = [monday + timedelta(days=i) for i in range(7)]
    lines = sorted({(s["place"], s["session"]) for s in shifts}, key=lambda k: (PLACE_ORDER[k[0]], SESSION_ORDER[k[1]]))
    by_key = {(s["place"], s["session"], s["day"]): s for s in shifts}
    rows = [[Paragraph("Địa điểm / buổi", head)]
            + [Paragraph(f"{vols.DAY_LABELS[d.weekday()]}<br/>{d:%d/%m}", head) for d in days]]
    empty_cells = []
    for r, (place, session) in enumerate(lines, 1):
        start, end = hours[session]
        row = [Paragraph(f"<b>{rota.PLACES[place]}</b><br/>{vols.SESSION_LABELS[session]} "
                         f"{start:%H:%M}–{end:%H:%M}", small)]
        for c, day in enumerate(days, 1):
            entry = by_key.get((place, session, day.isoformat()))
            if entry is None:
                row.append("")
                empty_cells.append((c, r))
                continue
            cell = [Paragraph(f"{v['name']}<br/>{phones.national(v['phone'])}", small) for v in entry["volunteers"]]
            if entry["missing"]:
                cell.append(Paragraph(f"Thiếu {entry['missing']} người", gap))
            row.append(cell)
        rows.append(row)
    if not lines:
        rows.append([Paragraph("Chưa xếp lịch tuần này", small)] + [""] * 7)

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=landscape(A4), leftMargin=10 * mm, rightMargin=10 * mm,
                            topMargin=10 * mm, bottomMargin=10 * mm, title="Lịch trực tình nguyện viên")
    width = doc.width
    grid = Table(rows, colWidths=[width * 0.16] + [width * 0.12] * 7, repeatRows=1)
    style = [("GRID", (0, 0), (-1, -1), 0.5, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP"),
             ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#DDEBF7"))]
    style += [("BACKGROUND", cell, cell, colors.HexColor("#EEEEEE")) for cell in empty_cells]
    grid.setStyle(TableStyle(style))

    people = {}
    for entry in shifts:
        for v in entry["volunteers"]:
            people[v["id"]] = v
    contacts = [[Paragraph(h, head) for h in ("Họ và tên", "Tổ", "Vai trò", "Số điện thoại")]]
    contacts += [[Paragraph(v["name"], small), Paragraph(v["team"], small),
                  Paragraph(vols.ROLE_LABELS[v["role"]], small), Paragraph(phones.national(v["phone"]), small)]
                 for v in sorted(people.values(), key=lambda v: (v["team"], v["role"] != "leader", v["name"]))]
    contact_table = Table(contacts, colWidths=[width * 0.3, width * 0.3, width * 0.15, width * 0.2], repeatRows=1)
    contact_table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                                       ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#DDEBF7"))]))
    story = [Paragraph(f"UBND {config.site.ward.upper()} – {config.site.residential_group}", centre),
             Paragraph("LỊCH TRỰC TÌNH NGUYỆN VIÊN HỖ TRỢ DỊCH VỤ CÔNG TRỰC TUYẾN", title),
             Paragraph(f"Tổ công nghệ số cộng đồng – tuần từ {monday:%d/%m/%Y} đến {sunday:%d/%m/%Y}", centre),
             Spacer(1, 4 * mm), grid, Spacer(1, 5 * mm),
             Paragraph("Người dân cần hỗ trợ xin gọi tình nguyện viên theo số điện thoại dưới đây, "
                       "hoặc nhắn tin HOTRO kèm nội dung đến số của nhà văn hóa.", small),
             Spacer(1, 2 * mm), contact_table]
    doc.build(story)
    return write_atomic(out, buffer.getvalue())     # a full disk keeps last week's sheet
