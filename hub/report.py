"""The console's Report page: per kiosk and per ward, the online share of requests against the target,
help tickets and SMS parts, from the kiosks' daily totals; plus the same as an .xlsx workbook."""
from __future__ import annotations

import io
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from . import db
from .settings import HubSettings


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def build(engine: Engine, settings: HubSettings, kiosk_names: list[str], start: date, end: date) -> dict:
    """Totals for `kiosk_names` over the days start..end (inclusive); shares are fractions 0-1."""
    s, k = db.daily_stats, db.kiosks
    query = (sa.select(k.c.name, k.c.ward, sa.func.coalesce(sa.func.sum(s.c.requests), 0).label("requests"),
                       sa.func.coalesce(sa.func.sum(s.c.requests_online), 0).label("requests_online"),
                       sa.func.coalesce(sa.func.sum(s.c.help_tickets), 0).label("help_tickets"),
                       sa.func.coalesce(sa.func.sum(s.c.sms_parts), 0).label("sms_parts"))
             .select_from(k.outerjoin(s, sa.and_(s.c.kiosk_id == k.c.id, s.c.day >= start.isoformat(),
                                                 s.c.day <= end.isoformat())))
             .where(k.c.name.in_(kiosk_names)).group_by(k.c.name, k.c.ward).order_by(k.c.ward, k.c.name))
    with db.read(engine) as conn:
        rows = [dict(r) for r in conn.execute(query).mappings()]
    wards: dict[str, dict] = {}
    for row in rows:
        total = wards.setdefault(row["ward"] or "—", {"ward": row["ward"] or "—", "kiosks": 0, "requests": 0,
                                                       "requests_online": 0, "help_tickets": 0, "sms_parts": 0})
        total["kiosks"] += 1
        for key in ("requests", "requests_online", "help_tickets", "sms_parts"):
            total[key] += int(row[key])
    for row in rows + list(wards.values()):
        row["online_share"] = _share(row["requests_online"], row["requests"])
        row["meets_target"] = row["requests"] > 0 and row["online_share"] >= settings.online_target
        row["has_data"] = row["requests"] > 0
        row["sms_cost"] = row["sms_parts"] * settings.price_per_part
    return {"from": start.isoformat(), "to": end.isoformat(), "target": settings.online_target,
            "kiosks": rows, "wards": list(wards.values())}


def period(days: int, today: date | None = None) -> tuple[date, date]:
    """The last `days` days up to `today` (the console passes the ward's local day, hub.times.today;
    default: this machine's date), inclusive."""
    today = today or date.today()
    return today - timedelta(days=max(1, days) - 1), today


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """Text from outside (kiosk and ward names) as a cell a spreadsheet shows and never runs: text
    starting like a formula gets a leading apostrophe. Numbers pass unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _day(iso_day: str) -> str:
    return date.fromisoformat(iso_day).strftime("%d/%m/%Y")


def xlsx(report: dict) -> bytes:
    """The report as an .xlsx workbook: one sheet per kiosk, one per ward, with the target."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    book = Workbook()
    headers = ["Hồ sơ", "Nộp trực tuyến", "Tỷ lệ trực tuyến", "Đạt mục tiêu", "Lượt nhờ trợ giúp",
               "Tin nhắn đã gửi (tính cước)", "Chi phí ước tính (đ)"]
    for sheet, first, rows in ((book.active, ["Kiosk", "Phường"], report["kiosks"]),
                               (book.create_sheet(), ["Phường", "Số kiosk"], report["wards"])):
        sheet.title = "Theo kiosk" if first[0] == "Kiosk" else "Theo phường"
        sheet.append([f"Báo cáo từ {_day(report['from'])} đến {_day(report['to'])}; "
                      f"mục tiêu nộp trực tuyến {report['target']:.0%}"])
        sheet.append(first + headers)
        for cell in sheet[2]:
            cell.font = Font(bold=True)
        for row in rows:
            lead = [safe_cell(row["name"]), safe_cell(row["ward"])] if first[0] == "Kiosk" else [safe_cell(row["ward"]), row["kiosks"]]
            sheet.append(lead + [row["requests"], row["requests_online"], round(row["online_share"], 4),
                                 ("Đạt" if row["meets_target"] else "Chưa đạt") if row["has_data"] else "Chưa có hồ sơ",
                                 row["help_tickets"], row["sms_parts"], row["sms_cost"]])
            sheet.cell(sheet.max_row, 5).number_format = "0%"
        for column, width in zip("ABCDEFGHI", (22, 22, 10, 14, 16, 13, 16, 18, 16)):
            sheet.column_dimensions[column].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
