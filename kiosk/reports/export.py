"""The ward report as a file an official can send upward as is: xlsx, csv or pdf.

All three are laid out from the same list of sections (Vietnamese headings, the ward's name and
the period on top), so they always agree. The xlsx holds native Excel charts (weekly online
share against the target, satisfaction per service) that recompute from the cells; the PDF draws
the same charts with reportlab. Shares are fractions 0-1 in the data; files show percentages.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import BinaryIO

from kiosk.errors import InvalidInput
from kiosk.files import spreadsheet_safe, write_atomic

TITLE = "BÁO CÁO KẾT QUẢ HỖ TRỢ NGƯỜI DÂN THỰC HIỆN THỦ TỤC HÀNH CHÍNH TRỰC TUYẾN"
WEEKLY_TITLE = "II. Tỷ lệ hồ sơ trực tuyến theo tuần so với chỉ tiêu"
SATISFACTION_TITLE = "VI. Mức độ hài lòng của người dân"


class Pct(float):
    """A share (0-1) that files show as a percentage."""


def _pct(value: float | None) -> Pct | None:
    return None if value is None else Pct(value)


@dataclass
class Section:
    """One titled table; cells are str, int, float, Pct (a share) or None (blank)."""
    title: str
    headers: list[str]
    rows: list[list]
    note: str = ""


def _d(iso: str) -> str:
    return date.fromisoformat(iso).strftime("%d/%m/%Y")


def heading_lines(report: dict) -> list[str]:
    period = report["period"]
    return [f"UBND {report['ward'].upper()}", report["residential_group"], TITLE,
            f"Từ ngày {_d(period['from'])} đến ngày {_d(period['to'])}"]


def sections(report: dict) -> list[Section]:
    """The report's tables in reading order (what every format prints)."""
    req, tickets, vol, sms, sat = (report[k] for k in ("requests", "help_tickets", "volunteers", "sms", "satisfaction"))
    verdict = "Đạt" if req["meets_target"] else "Chưa đạt"
    result = [
        Section("I. Hồ sơ thủ tục hành chính", ["Chỉ tiêu", "Giá trị"], [
            ["Tổng số hồ sơ", req["total"]], ["Số hồ sơ nộp trực tuyến", req["online"]],
            ["Tỷ lệ trực tuyến", _pct(req["online_share"])], ["Chỉ tiêu tỷ lệ trực tuyến", _pct(req["target"])],
            ["Đánh giá", verdict]]),
        Section("Yêu cầu nhờ làm thủ tục tại kiosk", ["Chỉ tiêu", "Giá trị"], [
            ["Yêu cầu tại kiosk", report["desk"]["kiosk_requests"]],
            ["Đã nộp lên Cổng Dịch vụ công", report["desk"]["reached_portal"]],
            ["Tỷ lệ đã nộp lên Cổng", _pct(report["desk"]["portal_share"])],
            ["Thời gian từ kiosk đến Cổng, trung vị (giờ)", report["desk"]["hours_to_portal_median"]],
            ["Thời gian từ kiosk đến Cổng, trung bình (giờ)", report["desk"]["hours_to_portal_avg"]],
            ["Đã nhận kết quả", report["desk"]["collected"]]]),
        Section("1. Hồ sơ theo thủ tục", ["Thủ tục", "Tổng số", "Trực tuyến", "Tỷ lệ trực tuyến"],
                [[r["name"], r["total"], r["online"], _pct(r["online_share"])] for r in req["by_procedure"]]),
        Section("2. Hồ sơ theo kênh tiếp nhận", ["Kênh", "Tổng số", "Trực tuyến", "Tỷ lệ trực tuyến"],
                [[r["label"], r["total"], r["online"], _pct(r["online_share"])] for r in req["by_channel"]]),
        Section(WEEKLY_TITLE, ["Tuần từ ngày", "Số hồ sơ", "Trực tuyến", "Tỷ lệ trực tuyến", "Chỉ tiêu"],
                # A week without requests has no share: blank, not 0 %, so the chart shows a gap.
                [[_d(w["week_start"]), w["total"], w["online"], _pct(w["online_share"]) if w["total"] else None,
                  _pct(w["target"])] for w in report["weekly"]]),
        Section("III. Phiếu hỗ trợ theo nguồn", ["Nguồn", "Tổng số", "Đã xong", "Đang xử lý"],
                [[r["label"], r["total"], r["closed"], r["open"]] for r in tickets["by_source"]]
                + [["Cộng", tickets["total"], tickets["closed"], tickets["open"]]]),
        Section("Kết quả hỗ trợ", ["Hình thức", "Số lượt", "Nộp trực tuyến", "Số phút"],
                [[r["label"], r["total"], r["submitted_online"], r["minutes"]] for r in tickets["by_outcome"]]
                + [["Cộng", tickets["closed"], tickets["submitted_online"], tickets["minutes"]]]),
        Section("Thủ tục đã hỗ trợ", ["Thủ tục", "Số lượt", "Nộp trực tuyến"],
                [[r["procedure"], r["total"], r["submitted_online"]] for r in tickets["by_procedure"]]),
        Section("IV. Ca trực của tình nguyện viên", ["Địa điểm", "Số ca", "Đủ người", "Thiếu người"],
                [[r["label"], r["sessions"], r["covered"], r["uncovered"]] for r in vol["by_place"]]
                + [["Cộng", vol["sessions"], vol["covered"], vol["uncovered"]]]),
        Section("Tình nguyện viên tham gia", ["Họ và tên", "Tổ", "Số ca được phân", "Lượt trực", "Số giờ",
                                              "Phiếu đã hỗ trợ"],
                [[p["name"], p["team"], p["shifts"], p["attended"], p["hours"], p["tickets_closed"]]
                 for p in vol["people"]] + [["Cộng", "", "", "", vol["hours"], ""]]),
        Section("V. Tin nhắn SMS", ["Chỉ tiêu", "Giá trị"], [
            ["Số phần tin đã gửi", sms["sent"]], ["Đã đến máy người nhận", sms["delivered"]],
            ["Gửi lỗi / hết hạn", sms["failed"]], ["Đang chờ gửi", sms["pending"]],
            ["Đơn giá mỗi phần tin (đồng)", sms["price_per_part"]],
            ["Chi phí ước tính (đồng)", sms["estimated_cost"]],
            ["Hộ đăng ký nhận tin", sms["households"]],
            ["Chi phí mỗi hộ mỗi tháng (đồng)", sms["cost_per_household_month"] if sms["households"] else "—"],
            ["Công dân điện tử thu mỗi hộ mỗi tháng (đồng)", sms["household_price"]]]),
        Section(SATISFACTION_TITLE, ["Tháng", "Dịch vụ", "Số ý kiến", "Hài lòng", "Tỷ lệ hài lòng"],
                [[r["month"], r["label"], r["responses"], r["satisfied"], _pct(r["satisfied_share"])]
                 for r in sat["by_service_month"]]
                + [["Cộng", "", sat["responses"], sat["satisfied"], _pct(sat["satisfied_share"])]],
                note="Hài lòng = Rất hài lòng hoặc Hài lòng. Ý kiến ẩn danh, không gắn với người dân hay hồ sơ."),
    ]
    return result


def _text(value, human: bool = False) -> str:
    """A cell as text, Vietnamese style (decimal comma); `human` also groups thousands with dots."""
    if value is None:
        return ""
    if isinstance(value, Pct):
        return f"{value * 100:.1f}%".replace(".", ",")
    if isinstance(value, float):
        return f"{value:g}".replace(".", ",")
    if human and isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}".replace(",", ".")
    return str(value)


def write(report: dict, path: str | Path) -> Path:
    """Write the report to `path`; the format follows the extension (.xlsx, .csv, .pdf)."""
    path = Path(path)
    writers = {".xlsx": write_xlsx, ".csv": write_csv, ".pdf": write_pdf}
    if path.suffix.lower() not in writers:
        raise InvalidInput(f"cannot write '{path.name}': the report file must end in .xlsx, .csv or .pdf")
    if not path.parent.exists():
        raise InvalidInput(f"folder {path.parent} does not exist")
    buffer = io.BytesIO()
    writers[path.suffix.lower()](report, buffer)
    # Rendered in memory, then swapped in whole: a full disk keeps the previous report.
    return write_atomic(path, buffer.getvalue())


def write_csv(report: dict, out: BinaryIO) -> None:
    """UTF-8 with a BOM so Excel opens the Vietnamese text correctly; sections separated by blank rows."""
    handle = io.TextIOWrapper(out, encoding="utf-8-sig", newline="")
    writer = csv.writer(handle)
    for line in heading_lines(report):
        writer.writerow([spreadsheet_safe(line)])
    for section in sections(report):
        writer.writerow([])
        writer.writerow([section.title])
        writer.writerow(section.headers)
        for row in section.rows:
            writer.writerow([spreadsheet_safe(_text(v)) for v in row])
    handle.flush()
    handle.detach()


def write_xlsx(report: dict, out: BinaryIO) -> None:
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, LineChart, Reference
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = "Báo cáo"
    thin = Side(style="thin", color="999999")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    for n, line in enumerate(heading_lines(report), 1):
        sheet.cell(n, 1, spreadsheet_safe(line)).font = Font(bold=n != 2, size=14 if n == 3 else 11)
        sheet.merge_cells(start_row=n, start_column=1, end_row=n, end_column=6)
        sheet.cell(n, 1).alignment = Alignment(horizontal="center", wrap_text=n == 3)
    sheet.row_dimensions[3].height = 36
    row_at = len(heading_lines(report)) + 2
    anchors = {}
    for section in sections(report):
        sheet.cell(row_at, 1, section.title).font = Font(bold=True, size=12)
        row_at += 1
        header_row = row_at
        for col, text in enumerate(section.headers, 1):
            cell = sheet.cell(row_at, col, text)
            cell.font, cell.border = Font(bold=True), box
            cell.fill = PatternFill("solid", fgColor="DDEBF7")
            cell.alignment = Alignment(wrap_text=True, vertical="center")
        for values in section.rows:
            row_at += 1
            for col, value in enumerate(values, 1):
                cell = sheet.cell(row_at, col, float(value) if isinstance(value, Pct) else spreadsheet_safe(value))
                cell.border = box
                if isinstance(value, Pct):
                    cell.number_format = "0.0%"
        anchors[section.title] = (header_row, row_at)
        if section.note:
            row_at += 1
            sheet.cell(row_at, 1, section.note).font = Font(italic=True, size=9)
        row_at += 2
    for col, width in enumerate((40, 22, 16, 16, 14, 16), 1):
        sheet.column_dimensions[get_column_letter(col)].width = width

    first, last = anchors[WEEKLY_TITLE]
    chart = LineChart()
    chart.title = "Tỷ lệ hồ sơ trực tuyến theo tuần"
    chart.y_axis.title, chart.x_axis.title = "Tỷ lệ", "Tuần từ ngày"
    chart.y_axis.number_format, chart.y_axis.scaling.min, chart.y_axis.scaling.max = "0%", 0, 1
    chart.height, chart.width = 8, 18
    if last > first:
        chart.add_data(Reference(sheet, min_col=4, max_col=5, min_row=first, max_row=last), titles_from_data=True)
        chart.set_categories(Reference(sheet, min_col=1, min_row=first + 1, max_row=last))
    sheet.add_chart(chart, f"H{first}")

    first, last = anchors[SATISFACTION_TITLE]
    bars = BarChart()
    bars.title = "Tỷ lệ hài lòng theo dịch vụ và tháng"
    bars.y_axis.number_format, bars.y_axis.scaling.min, bars.y_axis.scaling.max = "0%", 0, 1
    bars.height, bars.width = 8, 18
    if last - 1 > first:  # the last row is the total
        bars.add_data(Reference(sheet, min_col=5, min_row=first, max_row=last - 1), titles_from_data=True)
        bars.set_categories(Reference(sheet, min_col=1, max_col=2, min_row=first + 1, max_row=last - 1))
    sheet.add_chart(bars, f"H{first}")

    row_at += 1
    sheet.cell(row_at, 5, "NGƯỜI LẬP BÁO CÁO").font = Font(bold=True)
    sheet.cell(row_at + 1, 5, "(Ký, ghi rõ họ tên)").font = Font(italic=True, size=9)
    sheet.page_setup.orientation, sheet.page_setup.fitToWidth = "portrait", 1
    sheet.print_title_rows = "1:4"
    book.save(out)


def weekly_chart(report: dict, width: float, height: float):
    """A reportlab Drawing of the weekly online share (%) against the target line."""
    from reportlab.graphics.charts.legends import Legend
    from reportlab.graphics.charts.linecharts import HorizontalLineChart
    from reportlab.graphics.widgets.markers import makeMarker
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.lib import colors

    from hardware.receipt_pdf import register_fonts  # reportlab only when a PDF is made
    regular, _ = register_fonts()
    weeks = report["weekly"]
    drawing = Drawing(width, height)
    chart = HorizontalLineChart()
    chart.x, chart.y, chart.width, chart.height = 40, 40, width - 60, height - 90  # room above for the legend
    chart.data = [[w["online_share"] * 100 if w["total"] else None for w in weeks] or [None],
                  [w["target"] * 100 for w in weeks] or [0]]
    chart.categoryAxis.categoryNames = [_d(w["week_start"])[:5] for w in weeks] or [""]
    chart.categoryAxis.labels.fontName = chart.valueAxis.labels.fontName = regular
    chart.categoryAxis.labels.fontSize = 7
    chart.categoryAxis.labels.angle = 30 if len(weeks) > 8 else 0
    chart.valueAxis.valueMin, chart.valueAxis.valueMax, chart.valueAxis.valueStep = 0, 100, 20
    chart.valueAxis.labelTextFormat = "%d%%"
    chart.lines[0].strokeColor, chart.lines[0].strokeWidth = colors.HexColor("#1f77b4"), 2
    chart.lines[0].symbol = makeMarker("FilledCircle")  # a lone week still shows as a point
    if min(sum(v is not None for v in series) for series in chart.data) < 2:
        chart.joinedLines = 0  # reportlab cannot draw a line through fewer than two points
        chart.lines[1].symbol = makeMarker("Square")
    chart.lines[1].strokeColor, chart.lines[1].strokeDashArray = colors.HexColor("#d62728"), (4, 3)
    drawing.add(chart)
    drawing.add(String(width / 2, height - 14, "Tỷ lệ hồ sơ trực tuyến theo tuần (%)", fontName=regular,
                       fontSize=10, textAnchor="middle"))
    legend = Legend()
    legend.x, legend.y, legend.fontName, legend.fontSize = width - 190, height - 26, regular, 8
    legend.alignment, legend.columnMaximum = "right", 1
    legend.colorNamePairs = [(colors.HexColor("#1f77b4"), "Tỷ lệ trực tuyến"), (colors.HexColor("#d62728"), "Chỉ tiêu")]
    drawing.add(legend)
    return drawing


def satisfaction_chart(report: dict, width: float, height: float):
    """A reportlab Drawing: share satisfied (%) per service over the whole period."""
    from reportlab.graphics.charts.barcharts import VerticalBarChart
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.lib import colors

    from kiosk.reports.ratings import SERVICES

    from hardware.receipt_pdf import register_fonts  # reportlab only when a PDF is made
    regular, _ = register_fonts()
    totals = {key: [0, 0] for key in SERVICES}
    for row in report["satisfaction"]["by_service_month"]:
        totals[row["service"]][0] += row["satisfied"]
        totals[row["service"]][1] += row["responses"]
    drawing = Drawing(width, height)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 40, 30, width - 60, height - 55
    chart.data = [[(s / n * 100) if n else 0 for s, n in totals.values()]]
    chart.categoryAxis.categoryNames = [SERVICES[k] for k in totals]
    chart.categoryAxis.labels.fontName = chart.valueAxis.labels.fontName = regular
    chart.categoryAxis.labels.fontSize = 8
    chart.valueAxis.valueMin, chart.valueAxis.valueMax, chart.valueAxis.valueStep = 0, 100, 20
    chart.valueAxis.labelTextFormat = "%d%%"
    chart.bars[0].fillColor = colors.HexColor("#2ca02c")
    drawing.add(chart)
    drawing.add(String(width / 2, height - 12, "Tỷ lệ người dân hài lòng theo dịch vụ (%)", fontName=regular,
                       fontSize=10, textAnchor="middle"))
    return drawing


def write_pdf(report: dict, out: BinaryIO) -> None:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    from hardware.receipt_pdf import register_fonts  # reportlab only when a PDF is made
    regular, bold = register_fonts()
    body = ParagraphStyle("body", fontName=regular, fontSize=9, leading=11)
    head = ParagraphStyle("head", fontName=bold, fontSize=9, leading=11)
    title = ParagraphStyle("title", fontName=bold, fontSize=13, leading=16, alignment=1)
    centre = ParagraphStyle("centre", fontName=regular, fontSize=10, leading=13, alignment=1)
    section_style = ParagraphStyle("section", fontName=bold, fontSize=11, leading=14, spaceBefore=8, spaceAfter=4)
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=18 * mm, rightMargin=15 * mm, topMargin=15 * mm,
                            bottomMargin=15 * mm, title=TITLE, author=report["ward"])
    lines = heading_lines(report)
    story = [Paragraph(lines[0], head), Paragraph(lines[1], body), Spacer(1, 6 * mm),
             Paragraph(lines[2], title), Paragraph(lines[3], centre), Spacer(1, 4 * mm)]
    width = doc.width
    for section in sections(report):
        rows = [[Paragraph(h, head) for h in section.headers]]
        rows += [[Paragraph(_text(v, human=True), body) for v in r] for r in section.rows]
        if len(rows) == 1:
            rows.append([Paragraph("Không có số liệu trong kỳ", body)] + [""] * (len(section.headers) - 1))
        first_width = width * (0.4 if len(section.headers) > 2 else 0.6)
        widths = [first_width] + [(width - first_width) / (len(section.headers) - 1)] * (len(section.headers) - 1)
        table = Table(rows, colWidths=widths, repeatRows=1)
        table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                                   ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#DDEBF7")),
                                   ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
        block = [Paragraph(section.title, section_style), table]
        if section.note:
            block.append(Paragraph(section.note, body))
        if section.title == WEEKLY_TITLE:
            block += [Spacer(1, 3 * mm), weekly_chart(report, width, 62 * mm)]
        if section.title == SATISFACTION_TITLE:
            block += [Spacer(1, 3 * mm), satisfaction_chart(report, width, 55 * mm)]
        # Short tables stay with their title; long ones must be free to split across pages.
        story += [KeepTogether(block)] if len(rows) < 25 else block
    story += [Spacer(1, 10 * mm), Table([["", Paragraph("NGƯỜI LẬP BÁO CÁO<br/>(Ký, ghi rõ họ tên)", centre)]],
                                        colWidths=[width / 2, width / 2])]
    doc.build(story)
