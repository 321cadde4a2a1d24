"""Request slips: fill hardware.receipts' dataclasses, print through CUPS, keep for reprint.

Every slip PDF is first written to <data dir>/receipts/<code>.pdf and a print_jobs row, so a
missing printer, an empty paper roll or a crash mid-print never loses it: `tdp receipt reprint`
sends the kept file again (rendered afresh once the portal code is known). With
`[printer] queue = ""` the PDF file is the result ("saved").

The slip's QR opens the request's lookup: the public status page when `[requests] lookup_url` is
set (a hub page), else the national portal's lookup with the official code once a volunteer has
recorded it, else plain text a phone shows readably (the code and how to look it up). Never JSON.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

from hardware import receipts as render
from hardware.printer import CupsPrinter, PrinterError
from sms.storage import Database, Migration

from kiosk.dossiers import lifecycle as dossiers
from kiosk.directory import phone as phones
from kiosk.directory import residents as directory
from kiosk.dossiers import messages
from kiosk.dossiers import portal
from kiosk.dossiers import procedures as catalogue_module
from kiosk.dossiers import tracking
from kiosk.appliance.config import Config
from kiosk.clock import utc_stamp
from kiosk.errors import InvalidInput
from kiosk.files import write_atomic
from kiosk import clock

MIGRATIONS = [
    Migration("0001_print_jobs", """
        CREATE TABLE print_jobs (
            id INTEGER PRIMARY KEY,
            dossier_code TEXT,
            kind TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('pending', 'printed', 'saved', 'failed')),
            queue TEXT NOT NULL DEFAULT '',
            cups_job_id INTEGER,
            pdf_path TEXT NOT NULL,
            message TEXT NOT NULL DEFAULT '',
            message_vi TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX print_jobs_code ON print_jobs(dossier_code);
        CREATE INDEX print_jobs_status ON print_jobs(status);
    """),
]

UNREVIEWED_NOTE = ("Nội dung hướng dẫn đang chờ phường kiểm tra; hỏi cán bộ Trung tâm Phục vụ hành chính công "
                   "phường nếu có thay đổi.")
SLIP_DOCUMENTS = 5  # papers listed on the slip; the checklist has them all


@dataclass
class PrintOutcome:
    """What happened to one print: printed, saved (no queue configured), or failed (kept)."""
    status: str
    pdf_path: str
    queue: str = ""
    job_id: int | None = None
    message: str = ""
    message_vi: str = ""
    seconds: float = 0.0
    print_id: int | None = None

    @property
    def ok(self) -> bool:
        return self.status in ("printed", "saved")

    def as_dict(self) -> dict:
        return {**asdict(self), "ok": self.ok}


def prefix(config: Config) -> str:
    return tracking.prefix(config)


def qr_payload(dossier: dossiers.Dossier, config: Config) -> str:
    """What the slip's QR opens: a lookup link, or plain text naming the code (module docstring)."""
    if config.requests.lookup_url:
        return config.requests.lookup_url.format(code=dossier.code)
    if dossier.portal_code:
        return portal.lookup_url(dossier.portal_code, config.requests.portal_lookup_url)
    number = _kiosk_number(config)
    how = f" Tra cứu: nhắn HS {dossier.code} gửi {number}." if number else " Tra cứu tại kiosk, mục Tra cứu hồ sơ."
    return f"{messages.sender(prefix(config))} - mã yêu cầu {dossier.code}.{how}"


def _kiosk_number(config: Config) -> str:
    """The kiosk's SIM number as people write it (0912 …), or "" when none is configured."""
    if not config.printer.kiosk_number:
        return ""
    try:
        return phones.national(phones.normalise(config.printer.kiosk_number))
    except InvalidInput:
        return config.printer.kiosk_number


def _stop_number(config: Config) -> str:
    number = _kiosk_number(config)
    return f"số {number}" if number else "số của Tổ dân phố"


def help_lines(config: Config, code: str) -> tuple[str, ...]:
    lines = []
    number = _kiosk_number(config)
    if number:
        lines += [f"Nhắn tin: HS {code}", f"gửi tới số {number}"]
    lines.append("Hoặc tra cứu tại kiosk nhà văn hóa (mục \"Tra cứu hồ sơ\").")
    return tuple(lines)


def receipt_data(dossier: dossiers.Dossier, config: Config) -> render.ReceiptData:
    try:
        procedure = catalogue_module.default().get(dossier.procedure_code)
    except InvalidInput:
        procedure = None
    return render.ReceiptData(
        ward=config.site.ward, residential_group=config.site.residential_group,
        procedure_name=dossier.procedure_name, code=dossier.code,
        national_code=procedure.national_code if procedure else "",
        full_name=dossier.full_name, appointment_date=clock.display_date(dossier.appointment_date),
        issued_at=clock.local_time(config.site.timezone, dossier.created_at).strftime("%d/%m/%Y\u00a0%H:%M"),
        qr_payload=qr_payload(dossier, config), citizen_id_masked=dossier.masked_citizen_id,
        phone_masked=phones.masked(dossier.phone), volunteer=dossier.volunteer,
        collect_at=dossiers.collect_place(dossier),
        documents=tuple(messages.short_document(d) for d in procedure.documents[:SLIP_DOCUMENTS]) if procedure else (),
        portal_code=dossier.portal_code or "",
        official_appointment=clock.display_date(dossier.official_appointment) if dossier.official_appointment else "",
        help_lines=help_lines(config, dossier.code),
        qr_caption="Quét mã để tra cứu yêu cầu" if config.requests.lookup_url or dossier.portal_code
        else "Quét mã: mã yêu cầu và cách tra cứu")


def checklist_data(procedure: catalogue_module.Procedure, config: Config) -> render.ChecklistData:
    return render.ChecklistData(
        ward=config.site.ward, residential_group=config.site.residential_group,
        procedure_name=procedure.name, national_code=procedure.national_code, documents=procedure.documents,
        fee=procedure.fee, processing_time=procedure.processing_time, where=procedure.where,
        steps=procedure.steps_in_person, portal_url=procedure.portal_url,
        unreviewed_note="" if procedure.reviewed_by_ward else UNREVIEWED_NOTE)


def render_receipt(db: Database, config: Config, raw_code: str, fmt: str = "pdf", paper: str | None = None) -> bytes:
    dossier = dossiers.get(db, raw_code, prefix(config))
    return render.render_receipt(receipt_data(dossier, config), paper or config.printer.paper, fmt)


def render_to_file(data: bytes, out: str | Path) -> Path:
    """Write a rendered receipt to `out` whole (kiosk.files.write_atomic)."""
    return write_atomic(out, data)


def kept_dir(config: Config) -> Path:
    """Where every receipt PDF is kept for reprinting (and where queue = "" saves them)."""
    return config.storage.data_dir / "receipts"


def _keep(config: Config, name: str, pdf: bytes) -> Path:
    folder = kept_dir(config)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.pdf"
    temporary = path.with_suffix(".pdf.tmp")
    temporary.write_bytes(pdf)
    temporary.replace(path)  # atomic: a reprint never sends a half-written file
    return path


def _send(db: Database, config: Config, pdf_path: Path, *, code: str | None, kind: str, title: str,
          wait: bool, printer: CupsPrinter | None) -> PrintOutcome:
    queue = config.printer.queue
    stamp = utc_stamp()
    with db.transaction() as conn:
        print_id = conn.execute(
            "INSERT INTO print_jobs (dossier_code, kind, status, queue, pdf_path, created_at, updated_at) "
            "VALUES (?, ?, 'pending', ?, ?, ?, ?)", (code, kind, queue, str(pdf_path), stamp, stamp)).lastrowid
    if not queue and printer is None:
        outcome = PrintOutcome("saved", str(pdf_path), message=f"saved as {pdf_path} (no printer queue configured)",
                               message_vi="Đã lưu biên nhận dạng PDF (chưa cấu hình máy in).")
    else:
        printer = printer or CupsPrinter(queue)
        started = time.monotonic()
        job_id = None
        try:
            job_id = printer.submit(str(pdf_path), title)
            db.execute("UPDATE print_jobs SET cups_job_id = ? WHERE id = ?", (job_id, print_id))
            if wait:
                printer.wait(job_id, timeout=config.printer.job_timeout)
            outcome = PrintOutcome("printed", str(pdf_path), printer.queue, job_id,
                                   f"printed on {printer.queue} (job {job_id})" if wait else
                                   f"sent to {printer.queue} (job {job_id})",
                                   "Đã in biên nhận." if wait else "Đã gửi lệnh in.")
        except PrinterError as exc:
            hint = f"; receipt kept, reprint with: tdp receipt reprint {code}" if code else "; kept in " + str(pdf_path)
            outcome = PrintOutcome("failed", str(pdf_path), printer.queue, job_id, exc.message.rstrip(".") + hint,
                                   exc.vietnamese + " Biên nhận đã được lưu để in lại.")
        outcome.seconds = time.monotonic() - started
    outcome.print_id = print_id
    db.execute("UPDATE print_jobs SET status = ?, cups_job_id = ?, message = ?, message_vi = ?, updated_at = ? "
               "WHERE id = ?", (outcome.status, outcome.job_id, outcome.message, outcome.message_vi, utc_stamp(), print_id))
    return outcome


def print_receipt(db: Database, config: Config, raw_code: str, *, wait: bool = True,
                  printer: CupsPrinter | None = None) -> PrintOutcome:
    """Render the dossier's receipt, keep it, and print it (or save it when no queue is set).

    Never raises for printer trouble: the outcome says "failed" with a Vietnamese and an English
    message, and the kept PDF can be reprinted. `wait=False` returns once CUPS accepted the job.
    """
    dossier = dossiers.get(db, raw_code, prefix(config))
    pdf = render.render_receipt(receipt_data(dossier, config), config.printer.paper, "pdf")
    path = _keep(config, dossier.code, pdf)
    return _send(db, config, path, code=dossier.code, kind="receipt", title=f"TDP {dossier.code}",
                 wait=wait, printer=printer)


def reprint(db: Database, config: Config, raw_code: str, *, printer: CupsPrinter | None = None) -> PrintOutcome:
    """Send the kept slip again; rendered afresh if the file was lost or the portal code is now known."""
    dossier = dossiers.get(db, raw_code, prefix(config))
    code = dossier.code
    if dossier.portal_code:
        return print_receipt(db, config, code, printer=printer)
    row = db.query_one("SELECT pdf_path FROM print_jobs WHERE dossier_code = ? AND kind = 'receipt' "
                       "ORDER BY id DESC LIMIT 1", (code,))
    if row is None or not Path(row["pdf_path"]).is_file():
        return print_receipt(db, config, code, printer=printer)
    return _send(db, config, Path(row["pdf_path"]), code=code, kind="receipt", title=f"TDP {code} (in lại)",
                 wait=True, printer=printer)


def print_checklist(db: Database, config: Config, procedure_code: str, *,
                    printer: CupsPrinter | None = None) -> PrintOutcome:
    procedure = catalogue_module.default().get(procedure_code)
    pdf = render.render_checklist(checklist_data(procedure, config), config.printer.paper, "pdf")
    path = _keep(config, f"checklist-{procedure.code}", pdf)
    return _send(db, config, path, code=None, kind="checklist", title=f"TDP {procedure.code}",
                 wait=True, printer=printer)


def pending_reprints(db: Database) -> list[dict]:
    """Receipts whose latest print failed: what a volunteer should reprint."""
    return db.query("""
        SELECT p.dossier_code AS code, p.message, p.message_vi, p.updated_at FROM print_jobs p
        WHERE p.kind = 'receipt' AND p.id = (SELECT MAX(id) FROM print_jobs q WHERE q.dossier_code = p.dossier_code)
          AND p.status = 'failed' ORDER BY p.id""")


def print_registration(db: Database, config: Config, household_id: int, *,
                       printer: CupsPrinter | None = None) -> PrintOutcome:
    """The household's registration slip (head's name, masked phone, groups), printed like a receipt."""
    slip = directory.household_slip(db, household_id)
    if slip is None:
        raise InvalidInput(f"household {household_id} has no registered head")
    pdf = render.render_registration(
        ward=config.site.ward, residential_group=config.site.residential_group, head_name=slip["full_name"],
        phone_masked=phones.masked(slip["phone"]), groups=slip["groups"],
        registered_at=clock.local_time(config.site.timezone, slip["created_at"]).strftime("%d/%m/%Y %H:%M"),
        help_lines=(f"Ngừng nhận tin: nhắn HUY đến {_stop_number(config)}.",), paper=config.printer.paper, fmt="pdf")
    path = _keep(config, f"registration-{household_id}", pdf)
    return _send(db, config, path, code=None, kind="registration", title=f"TDP dang ky {household_id}",
                 wait=True, printer=printer)
