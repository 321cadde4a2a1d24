"""Import an official's contact list into the directory, and export the directory as such a list.

The list has the columns Họ và tên / Chức vụ / Phân nhóm / Số điện thoại (+ Địa chỉ, Đồng ý nhận SMS)
in any of their usual spellings (kiosk.tabular finds them). Valid rows are committed in one
transaction; every invalid row is reported with its row number and reason and written to
`<stem>.rejects.csv` beside the input. Re-importing the same file changes nothing.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from sms.storage import Database

from kiosk.directory import residents as directory
from kiosk.directory import phone as phones
from kiosk.directory.residents import Consent
from kiosk.errors import InvalidInput, NotFound
from kiosk.files import spreadsheet_safe, write_atomic
from kiosk.tabular import DEFAULT_MAX_ROWS, Row, read_table
from kiosk.text import clean, fold

COLUMNS = {
    "name": ["Họ và tên", "Họ tên", "Ho va ten", "Tên"],
    "role": ["Chức vụ", "Chức danh"],
    "groups": ["Phân nhóm", "Nhóm", "Đoàn thể", "Tổ chức"],
    "phone": ["Số điện thoại", "SĐT", "Số ĐT", "Điện thoại", "ĐT", "Di động", "Số di động"],
    "address": ["Địa chỉ", "Địa chỉ hộ", "Nơi ở"],
    "consent": ["Đồng ý nhận SMS", "Đồng ý"],
}
REQUIRED = ("name", "phone")
EXPORT_HEADERS = ["STT", "Họ và tên", "Chức vụ", "Phân nhóm", "Số điện thoại", "Địa chỉ", "Đồng ý nhận SMS"]
CONSENT_YES = {"co", "x", "v", "yes", "y", "1", "true", "dongy", "codongy"}

_GROUP_SEPARATORS = re.compile(r"[,;/\n]+")
_PHONE_SEPARATORS = re.compile(r"[,;/\n]+|\s[-–]\s|\s+(?:hoặc|hoac|or)\s+", re.IGNORECASE)


@dataclass
class Reject:
    """A row left out: where it is in the file ("row 7"), why, and its cells as they were."""
    row: str
    reason: str
    original: list[str]


@dataclass
class ImportReport:
    """What an import did (or, with dry_run, would do). Counts are of people: one listed twice counts once."""
    file: str
    format: str
    header_row: int
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Reject] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    groups_created: list[str] = field(default_factory=list)
    rejects_file: str = ""
    dry_run: bool = False

    def as_dict(self) -> dict:
        return {
            "file": self.file, "format": self.format, "header_row": self.header_row,
            "added": self.added, "updated": self.updated, "unchanged": self.unchanged,
            "rejected": len(self.rejected), "rejects": [{"row": r.row, "reason": r.reason} for r in self.rejected],
            "notes": self.notes, "groups_created": self.groups_created,
            "rejects_file": self.rejects_file, "dry_run": self.dry_run,
        }

    def text(self) -> str:
        verb = "would import" if self.dry_run else "imported"
        lines = [f"{self.file}: {verb} {self.added} added, {self.updated} updated, {self.unchanged} unchanged, "
                 f"{len(self.rejected)} rejected (header on row {self.header_row})"]
        lines += [f"  {r.row}: {r.reason}" for r in self.rejected]
        lines += [f"  note: {n}" for n in self.notes]
        if self.groups_created:
            lines.append("  new groups: " + ", ".join(self.groups_created))
        if self.rejects_file:
            lines.append(f"  rejected rows saved to {self.rejects_file}")
        if self.dry_run:
            lines.append("  dry run: nothing was written")
        return "\n".join(lines)


@dataclass
class _Contact:
    row: Row
    name: str
    phone: str
    role: str
    groups: list[str]
    address: str
    consent: bool


class _DryRun(Exception):
    """Raised inside the import transaction to roll it back after counting."""


def import_contacts(db: Database, path: str | Path, *, group: str | None = None, consent: bool = True,
                    dry_run: bool = False, residential_group: str = "",
                    max_rows: int = DEFAULT_MAX_ROWS, rejects_dir: str | Path | None = None) -> ImportReport:
    """Import the contact list at `path`; one transaction for all valid rows.

    `group` is added to every imported contact. With `consent`, contacts count as consenting
    with the file as source (the official who supplied the list collected it) unless the row's
    "Đồng ý nhận SMS" cell says no; a consent the resident withdrew themselves is never re-granted.
    The rejects file goes beside the input, or into `rejects_dir` when that folder is read-only.
    """
    path = Path(path)
    if group is not None and not clean(group):
        raise InvalidInput("--group is empty")
    if group is not None and fold(group) in directory.EVERYONE:
        raise InvalidInput(f"'{clean(group)}' means everyone in SMS commands; it cannot be a group name")
    table = read_table(path, COLUMNS, required=REQUIRED, max_rows=max_rows)
    report = ImportReport(path.name, table.format, table.header_row, dry_run=dry_run)
    contacts = _validate(table.rows, report)
    before = {g["code"] for g in directory.list_groups(db)}
    source = Consent(True, "import", path.name)
    try:
        with db.transaction():
            extra = [_group_name(db, group)] if group else []
            households: dict[str, int] = {}
            for contact in contacts:
                household_id = _household(db, contact.address, residential_group, households) \
                    if contact.address else None
                _, status = directory.upsert_resident(
                    db, contact.name, contact.phone, role=contact.role, household_id=household_id,
                    groups=contact.groups + extra,
                    consent=source if consent and contact.consent else None)
                setattr(report, status, getattr(report, status) + 1)
            report.groups_created = [f"{g['code']} ({g['name']})" for g in directory.list_groups(db)
                                     if g["code"] not in before]
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    if not dry_run:
        report.rejects_file = _write_rejects(path, table.headers, report, rejects_dir)
    return report


def _group_name(db: Database, name_or_code: str) -> str:
    """The existing group's name for a code like HPN, else the text itself (a new group)."""
    try:
        return directory.get_group(db, name_or_code)["name"]
    except NotFound:
        return clean(name_or_code)


def _household(db: Database, address: str, residential_group: str, cache: dict[str, int]) -> int:
    if address not in cache:
        cache[address] = directory.household_at(db, address) or directory.add_household(db, address, residential_group)
    return cache[address]


def _validate(rows: list[Row], report: ImportReport) -> list[_Contact]:
    """Check every row before anything is written; rejects go into the report with their reason."""
    by_phone: dict[str, _Contact] = {}
    for row in rows:
        values = row.values
        name = clean(values.get("name"))
        try:
            if not name:
                raise InvalidInput("full name is empty")
            if not re.search(r"[^\W\d_]", name):
                raise InvalidInput(f"full name '{name}' has no letters")
            e164, note = _phone(values.get("phone", ""))
        except InvalidInput as exc:
            report.rejected.append(Reject(row.label, str(exc), row.original))
            continue
        if note:
            report.notes.append(f"{row.label}: {note}")
        contact = _Contact(row, name, e164, clean(values.get("role")),
                           [g for g in (clean(p) for p in _GROUP_SEPARATORS.split(values.get("groups", "")))
                            if g and fold(g) not in directory.EVERYONE],
                           clean(values.get("address")),
                           _consents(values))
        first = by_phone.get(e164)
        if first is None:
            by_phone[e164] = contact
        elif fold(first.name) == fold(name):
            # The same person listed under each of their organisations: one contact, all groups.
            first.groups += [g for g in contact.groups if fold(g) not in {fold(x) for x in first.groups}]
            first.role = first.role or contact.role
            report.notes.append(f"{row.label}: same person as {first.row.label}; groups merged")
        else:
            report.rejected.append(Reject(
                row.label, f"duplicate of {first.row.label} in this file: {phones.national(e164)} "
                           f"already belongs to '{first.name}'", row.original))
    return list(by_phone.values())


def _consents(values: dict[str, str]) -> bool:
    """Without a consent column every listed contact consents; with one, only a "Có"/"x" row does."""
    if "consent" not in values:
        return True
    cell = values["consent"].strip()
    return fold(cell) in CONSENT_YES or cell in ("✓", "✔")


def _phone(raw: str) -> tuple[str, str]:
    """(E.164, note): a cell with several numbers ("024 3826 1234 / 0912 345 678") uses the first mobile."""
    try:
        return phones.normalise(raw), ""
    except phones.InvalidPhone as first_error:
        candidates = [p for p in _PHONE_SEPARATORS.split(raw) if p.strip()]
        if len(candidates) < 2:
            raise
        for candidate in candidates:
            if phones.is_valid(candidate):
                e164 = phones.normalise(candidate)
                return e164, f"several numbers in '{clean(raw)}'; used {phones.national(e164)}"
        raise phones.InvalidPhone(f"no mobile number in '{clean(raw)}': {first_error}") from None


def rejects_path(path: Path) -> Path:
    return path.with_name(f"{path.stem}.rejects.csv")


def _write_rejects(path: Path, headers: list[str], report: ImportReport, fallback_dir) -> str:
    """Write rejects as UTF-8 with BOM (Excel opens it right); remove a stale one when none.

    The valid rows are already committed, so a read-only folder is a note, not an error.
    """
    target = rejects_path(path)
    if not report.rejected:
        try:
            target.unlink(missing_ok=True)
        except OSError:
            pass
        return ""
    for folder in filter(None, (target.parent, fallback_dir)):
        try:
            return str(_write_csv(Path(folder) / target.name, headers, report.rejected))
        except OSError:
            continue
    report.notes.append(f"could not write {target.name}: folder is read-only")
    return ""


def _write_csv(target: Path, headers: list[str], rejects: list[Reject]) -> Path:
    width = max([len(headers)] + [len(r.original) for r in rejects])
    names = list(headers) + [""] * (width - len(headers))
    handle = io.StringIO(newline="")
    writer = csv.writer(handle)
    writer.writerow(["Dòng (row)", "Lý do (reason)", *[spreadsheet_safe(n) for n in names]])
    for r in rejects:
        writer.writerow([r.row, spreadsheet_safe(r.reason), *[spreadsheet_safe(v) for v in r.original]])
    try:
        return write_atomic(target, "\ufeff" + handle.getvalue())
    except InvalidInput as exc:
        raise OSError(str(exc)) from None


def export_contacts(db: Database, path: str | Path, *, group: str | None = None, title: str = "") -> dict:
    """Write the directory as a contact list .xlsx that `import_contacts` reads back unchanged.

    Residents without a phone are left out (they are not SMS contacts); returns the counts.
    """
    import openpyxl
    from openpyxl.styles import Alignment, Font

    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise InvalidInput(f"{path.name}: export writes .xlsx; give a file name ending in .xlsx")
    residents = directory.list_residents(db, group)
    names = {g["code"]: g["name"] for g in directory.list_groups(db)}
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Danh sách"
    sheet.append([spreadsheet_safe(title) or "DANH SÁCH LIÊN HỆ NHẬN TIN NHẮN SMS"])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(EXPORT_HEADERS))
    sheet["A1"].font = Font(bold=True, size=13)
    sheet["A1"].alignment = Alignment(horizontal="center")
    sheet.append([])
    sheet.append(EXPORT_HEADERS)
    for cell in sheet[3]:
        cell.font = Font(bold=True)
    exported = 0
    for resident in residents:
        if not resident["phone"]:
            continue
        exported += 1
        # A name with a separator in it would split on re-import, so such a group goes by its code.
        groups = [names.get(c, c) if not _GROUP_SEPARATORS.search(names.get(c, c)) else c for c in resident["groups"]]
        # Names, roles and addresses come from residents' SMS and imported files: never formulas.
        sheet.append([exported, spreadsheet_safe(resident["full_name"]), spreadsheet_safe(resident["role"]),
                      spreadsheet_safe(", ".join(groups)), phones.national(resident["phone"]),
                      spreadsheet_safe(resident["address"] or ""), "Có" if resident["consent"] else "Không"])
    for letter, width in zip("ABCDEFG", (6, 28, 22, 30, 16, 34, 16)):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A4"
    buffer = io.BytesIO()
    workbook.save(buffer)
    write_atomic(path, buffer.getvalue())     # a full disk keeps the previous list
    return {"file": str(path), "exported": exported, "without_phone": len(residents) - exported}
