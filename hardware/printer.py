"""Printing through CUPS with pycups: submit a PDF to a queue and follow the job to its end.

A job is followed until CUPS says completed, aborted or canceled, or until a deadline (seconds,
monotonic clock). A printer that stops with a blocking reason (out of paper, door open, offline,
paused queue…) fails the job at once with a clear Vietnamese and English message, and the job
is cancelled so it cannot come out later as a duplicate of a reprint.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Iterable

from .errors import HardwareError

# RFC 8011 enum values.
PRINTER_IDLE, PRINTER_PROCESSING, PRINTER_STOPPED = 3, 4, 5
JOB_STATES = {3: "pending", 4: "held", 5: "processing", 6: "stopped", 7: "canceled", 8: "aborted", 9: "completed"}

# printer-state-reasons keyword (suffix -error/-warning/-report removed) → (Vietnamese, English).
REASONS = {
    "media-empty": ("Máy in hết giấy: hãy lắp thêm cuộn giấy.", "Printer is out of paper: load paper."),
    "media-needed": ("Máy in cần nạp giấy: hãy lắp thêm giấy.", "Printer needs paper: load paper."),
    "media-low": ("Giấy in sắp hết.", "Paper is running low."),
    "media-jam": ("Máy in kẹt giấy: mở nắp và gỡ giấy kẹt.", "Paper jam: open the printer and clear it."),
    "door-open": ("Nắp máy in đang mở: hãy đóng nắp.", "Printer door is open: close it."),
    "cover-open": ("Nắp máy in đang mở: hãy đóng nắp.", "Printer cover is open: close it."),
    "offline": ("Máy in không kết nối: kiểm tra dây cáp và nguồn điện.", "Printer is offline: check its cable and power."),
    "paused": ("Hàng đợi in đang tạm dừng: nhờ tình nguyện viên bật lại.",
               "The print queue is paused: resume it (cupsenable)."),
    "shutdown": ("Máy in đang tắt.", "Printer is shut down."),
    "timed-out": ("Máy in không phản hồi.", "Printer does not respond."),
    "toner-low": ("Mực in sắp hết.", "Toner is low."),
    "toner-empty": ("Máy in hết mực.", "Printer is out of toner."),
    "marker-supply-low": ("Mực in sắp hết.", "Ink or ribbon is low."),
    "marker-supply-empty": ("Máy in hết mực.", "Printer is out of ink or ribbon."),
    "input-tray-missing": ("Thiếu khay giấy.", "Paper tray is missing."),
    "output-area-full": ("Khay giấy ra đã đầy: lấy giấy ra.", "Output tray is full: empty it."),
    "connecting-to-device": ("Đang kết nối máy in…", "Connecting to the printer…"),
    "cups-missing-filter": ("Máy in thiếu trình điều khiển cho loại tài liệu này.",
                            "No CUPS filter for this document: install the printer driver."),
    "other": ("Máy in báo lỗi.", "The printer reports an error."),
}
BLOCKING = {"media-empty", "media-needed", "media-jam", "door-open", "cover-open", "offline", "paused",
            "shutdown", "timed-out", "toner-empty", "marker-supply-empty", "input-tray-missing",
            "output-area-full", "cups-missing-filter", "other"}


# cups-filters' default PDF-to-PostScript renderer (Ghostscript) rebuilds text from glyph
# names and drops every Vietnamese diacritic from the printed PDF's text layer; Poppler's keeps
# the names our receipts carry. Queues that do not convert to PostScript ignore the option.
JOB_OPTIONS = {"pdftops-renderer": "pdftops"}


class PrinterError(HardwareError):
    """A print did not happen. `vietnamese` is for the kiosk screen, `message` for logs and the CLI
    (the same convention as kiosk's TdpError and hub's HubError)."""

    def __init__(self, message: str, vietnamese: str, reasons: tuple[str, ...] = ()):
        self.message, self.vietnamese, self.reasons = message, vietnamese, reasons
        super().__init__(f"{message} ({vietnamese})")


class PrinterUnavailable(PrinterError):
    """CUPS is unreachable, the queue does not exist, is disabled, or the printer cannot print now."""


class PrintJobFailed(PrinterError):
    """The job was accepted but aborted, cancelled, or blocked by the printer."""


class PrintTimeout(PrintJobFailed):
    """The job did not complete before the deadline."""


@dataclass(frozen=True)
class Reason:
    keyword: str
    base: str
    blocking: bool
    vi: str
    en: str


def explain(reasons: Iterable[str]) -> list[Reason]:
    """printer-state-reasons keywords → messages, skipping "none"; unknown keywords are shown as such."""
    explained = []
    for keyword in reasons or ():
        if not keyword or keyword == "none":
            continue
        base, suffix = keyword, ""
        for end in ("-error", "-warning", "-report"):
            if keyword.endswith(end):
                base, suffix = keyword[: -len(end)], end[1:]
        vi, en = REASONS.get(base, (f"Máy in báo: {base}.", f"Printer reports: {base}."))
        blocking = suffix == "error" or (suffix != "warning" and base in BLOCKING)
        explained.append(Reason(keyword, base, blocking, vi, en))
    return explained


def blocking_message(reasons: Iterable[str]) -> tuple[str, str] | None:
    """(en, vi) joined for the blocking reasons, or None when nothing stops printing."""
    blocking = [r for r in explain(reasons) if r.blocking]
    if not blocking:
        return None
    return " ".join(dict.fromkeys(r.en for r in blocking)), " ".join(dict.fromkeys(r.vi for r in blocking))


@dataclass(frozen=True)
class PrinterStatus:
    queue: str
    state: str            # idle, processing, stopped
    accepting: bool
    reasons: tuple[str, ...]
    message: str

    @property
    def messages(self) -> list[Reason]:
        return explain(self.reasons)


@dataclass(frozen=True)
class JobResult:
    queue: str
    job_id: int
    state: str
    seconds: float


def _default_connect():
    import cups
    return cups.Connection()


class CupsPrinter:
    """One CUPS queue. `connect` returns a pycups Connection (injectable for another server)."""

    def __init__(self, queue: str, connect: Callable[[], object] | None = None):
        if not queue:
            raise PrinterUnavailable("no printer queue configured", "Chưa cấu hình máy in.")
        self.queue = queue
        self._connect = connect or _default_connect

    def _connection(self):
        try:
            return self._connect()
        except RuntimeError as exc:  # pycups: "failed to connect to server"
            raise PrinterUnavailable(f"cannot reach the CUPS server: {exc}",
                                     "Không kết nối được dịch vụ in (CUPS).") from None

    def status(self, conn=None) -> PrinterStatus:
        import cups
        conn = conn or self._connection()
        try:
            attrs = conn.getPrinterAttributes(self.queue, requested_attributes=[
                "printer-state", "printer-state-reasons", "printer-is-accepting-jobs", "printer-state-message"])
        except cups.IPPError:
            raise PrinterUnavailable(f"printer queue '{self.queue}' does not exist",
                                     f"Không có máy in '{self.queue}'.") from None
        state = {PRINTER_IDLE: "idle", PRINTER_PROCESSING: "processing", PRINTER_STOPPED: "stopped"}.get(
            attrs.get("printer-state"), str(attrs.get("printer-state")))
        reasons = attrs.get("printer-state-reasons") or []
        if isinstance(reasons, str):
            reasons = [reasons]
        return PrinterStatus(self.queue, state, bool(attrs.get("printer-is-accepting-jobs", True)),
                             tuple(reasons), attrs.get("printer-state-message", "") or "")

    def _refuse_if_blocked(self, status: PrinterStatus) -> None:
        reasons = list(status.reasons)
        if status.state == "stopped" and "paused" not in reasons:
            reasons.append("paused")
        if not status.accepting:
            raise PrinterUnavailable(f"printer '{self.queue}' is not accepting jobs",
                                     "Máy in đang từ chối lệnh in: nhờ tình nguyện viên kiểm tra.",
                                     tuple(reasons))
        blocked = blocking_message(reasons if status.state == "stopped" else status.reasons)
        if blocked:
            raise PrinterUnavailable(f"printer '{self.queue}': {blocked[0]}", blocked[1], tuple(reasons))

    def submit(self, pdf_path: str, title: str, options: dict | None = None) -> int:
        """Check the printer can print now, then hand it the PDF; return the CUPS job id."""
        import cups
        conn = self._connection()
        self._refuse_if_blocked(self.status(conn))
        try:
            return conn.printFile(self.queue, str(pdf_path), title, {**JOB_OPTIONS, **(options or {})})
        except (cups.IPPError, cups.HTTPError) as exc:
            raise PrinterUnavailable(f"printer '{self.queue}' refused the job: {exc}",
                                     "Máy in không nhận lệnh in.") from None

    def wait(self, job_id: int, timeout: float = 30.0, poll: float = 0.1) -> JobResult:
        """Follow job `job_id` until completed (returned) or failed/timed out (raised, job cancelled)."""
        import cups
        start = time.monotonic()
        deadline = start + timeout
        conn = self._connection()
        while True:
            try:
                attrs = conn.getJobAttributes(job_id, requested_attributes=["job-state", "job-state-reasons"])
            except cups.IPPError as exc:
                raise PrintJobFailed(f"job {job_id} vanished from CUPS: {exc}", "Lệnh in bị mất.") from None
            state = JOB_STATES.get(attrs.get("job-state"), "unknown")
            if state == "completed":
                return JobResult(self.queue, job_id, state, time.monotonic() - start)
            if state in ("canceled", "aborted"):
                printer = self.status(conn)
                blocked = blocking_message(printer.reasons)
                detail = blocked or (f"job {state}", "Lệnh in đã bị hủy.")
                raise PrintJobFailed(f"job {job_id} {state}: {detail[0]}", detail[1], printer.reasons)
            if state in ("pending", "held", "stopped", "processing"):
                printer = self.status(conn)
                reasons = list(printer.reasons)
                if printer.state == "stopped" and "paused" not in reasons:
                    reasons.append("paused")
                # A stopped queue never moves on its own; on a running one only "-error" reasons
                # (out of paper, door open) mean the device is stuck rather than warming up.
                if printer.state == "stopped" or state == "stopped":
                    blocked = blocking_message(reasons)
                else:
                    blocked = blocking_message([r for r in reasons if r.endswith("-error")])
                if blocked:
                    self._cancel(conn, job_id)
                    raise PrintJobFailed(f"job {job_id} blocked: {blocked[0]}", blocked[1], tuple(reasons))
            if time.monotonic() >= deadline:
                self._cancel(conn, job_id)
                raise PrintTimeout(f"job {job_id} not printed within {timeout:.0f} s (state {state})",
                                   "Máy in chưa in xong: nhờ tình nguyện viên kiểm tra.")
            time.sleep(poll)

    def _cancel(self, conn, job_id: int) -> None:
        import cups
        try:
            conn.cancelJob(job_id)
        except cups.IPPError:
            pass  # already finished or gone: nothing left to cancel

    def print_pdf(self, pdf_path: str, title: str, timeout: float = 30.0) -> JobResult:
        """Submit and follow to completion."""
        return self.wait(self.submit(pdf_path, title), timeout)
