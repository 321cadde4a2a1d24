"""Read the tables officials bring (.xlsx, tables in .docx, .csv) into numbered rows of named columns.

Reusable by every importer (contacts, volunteers…): the caller names its columns and the header
variants it accepts; `read_table` finds the header row below any title block ("DANH SÁCH …",
"UBND PHƯỜNG …"), fills merged cells, and returns each data row with its row number in the file
so that rejects can be reported the way the official sees the file.
Every problem with the file itself is a one-line TableError (an InvalidInput).
"""
from __future__ import annotations

import csv
import io
import os
import re
import stat
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Iterable, Iterator

from .errors import InvalidInput
from .text import clean, fold

HEADER_SCAN_ROWS = 30          # the header must sit within the first rows of a sheet or table
DEFAULT_MAX_ROWS = 20_000      # data rows; a residential group's list is a few hundred
PREFIX_MATCH_MAX = 40          # header cells longer than this (folded) are titles, not headers
PREFIX_MIN = 3                 # variants shorter than this ("ĐT", "Tổ") must match exactly
MAX_EMPTY_RUN = 5_000          # stop a sheet after this many empty rows (formatted-but-empty tails)
# Bounds on a file from outside, so one bad file cannot take the appliance's memory or minutes of
# CPU (first boot imports unattended). A residential group's list is well under 1 MB.
MAX_FILE_BYTES = 8 * 1024 * 1024        # the file as stored
MAX_UNZIPPED_BYTES = 64 * 1024 * 1024   # every member of an .xlsx/.docx together, uncompressed
MAX_ZIP_MEMBERS = 2_000
MAX_ZIP_RATIO = 100                     # uncompressed/compressed, for members over ZIP_RATIO_FROM bytes
ZIP_RATIO_FROM = 1024 * 1024            # (real sheets compress 5-20x; XML bombs 500x and more)
MAX_CELLS = 2_000_000                   # cells read over all sheets and tables

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
_INDEX_CELL = re.compile(r"\(?\d{1,2}\)?|\(?[a-zA-Z]\)?")
_MERGE_REF = re.compile(rb"<(?:\w+:)?mergeCell\s+ref=\"([A-Z]+)(\d+):([A-Z]+)(\d+)\"")


class TableError(InvalidInput):
    """The file cannot be read as a table (damaged, encrypted, empty, no header, too long)."""


@dataclass
class Row:
    """One data row. `number` is its 1-based row number in its sheet, table or CSV file."""
    number: int
    values: dict[str, str]
    original: list[str]
    part: str = ""

    @property
    def label(self) -> str:
        """How to point the official at this row: "row 7", or "sheet 'HPN' row 7" in a multi-part file."""
        return f"{self.part} row {self.number}" if self.part else f"row {self.number}"


@dataclass
class Table:
    """The rows of every sheet/table that had a recognisable header, in file order."""
    path: Path
    format: str
    header_row: int
    headers: list[str]
    columns: dict[str, str]
    rows: list[Row] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)
    encoding: str = ""


@dataclass
class _Header:
    row_index: int
    mapping: dict[str, int]
    cells: list[str]


def read_table(path: str | Path, columns: dict[str, list[str]], *, required: Iterable[str] = (),
               max_rows: int = DEFAULT_MAX_ROWS) -> Table:
    """Read `path` (.xlsx, .docx or .csv) into a Table of rows keyed by the names in `columns`.

    `columns` maps a key to the header texts accepted for it (matched ignoring case, diacritics,
    spaces and punctuation; a header that starts with a variant also matches, so "Số điện thoại
    nhận SMS" is "Số điện thoại"). `required` keys must all be found for a row to count as the
    header. More than `max_rows` data rows is refused. Values are NFC text, "" when empty.
    """
    path = Path(path)
    required = list(required) or list(columns)
    data = read_bounded(path)
    kind = _detect_format(path, data)
    matcher = _Matcher(columns)
    try:
        encoding = ""
        if kind == "csv":
            text, encoding = decode_text(data)
            parts = [("", _csv_rows(text))]
        elif kind == "xlsx":
            parts = _xlsx_parts(path, data)
        else:
            parts = _docx_parts(data)
        return _collect(path, kind, encoding, parts, matcher, required, max_rows)
    except TableError:
        raise
    except Exception as exc:  # a third-party parser failing on an untrusted file: one line, not a traceback
        raise TableError(f"{path.name}: cannot read this {kind} file ({type(exc).__name__}: "
                         f"{clean(exc)[:120]}); open it in Excel/Word and save it again") from exc


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode CSV bytes as UTF-8 (with or without BOM) or UTF-16 with BOM, else Windows-1258.

    Returns NFC text and the encoding found.

    Windows-1258 writes most Vietnamese letters as a base letter plus a combining tone mark,
    so the text is recomposed to NFC here, once, for everything downstream.
    """
    try:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode Text" (tab-separated UTF-16)
            text, encoding = data.decode("utf-16"), "utf-16"
        else:
            text, encoding = data.decode("utf-8-sig"), ("utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8")
    except UnicodeDecodeError:
        text, encoding = data.decode("cp1258", errors="replace"), "cp1258"
    return unicodedata.normalize("NFC", text), encoding


class _Matcher:
    """Maps header cells to column keys: exact folded match first, then "starts with a variant"."""

    def __init__(self, columns: dict[str, list[str]]):
        self.columns = columns
        self.variants = {key: [fold(v) for v in names] for key, names in columns.items()}

    def key_for(self, cell: str) -> tuple[str, bool] | None:
        folded = fold(cell)
        if not folded:
            return None
        for key, variants in self.variants.items():
            if folded in variants:
                return key, True
        if len(folded) <= PREFIX_MATCH_MAX:
            best = max(((len(v), key) for key, variants in self.variants.items()
                        for v in variants if len(v) >= PREFIX_MIN and folded.startswith(v)), default=None)
            if best:
                return best[1], False
        return None

    def header(self, cells: list[str], row_index: int) -> _Header:
        mapping: dict[str, int] = {}
        exact: set[str] = set()
        for column, cell in enumerate(cells):
            found = self.key_for(cell)
            if not found:
                continue
            key, is_exact = found
            if key not in mapping or (is_exact and key not in exact):
                mapping[key] = column
                if is_exact:
                    exact.add(key)
        return _Header(row_index, mapping, cells)

    def describe(self, keys: Iterable[str]) -> str:
        return " and ".join(f"{self.columns[k][0]} (or {', '.join(self.columns[k][1:])})" if len(self.columns[k]) > 1
                            else self.columns[k][0] for k in keys)


def read_bounded(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The file's bytes if it is a regular file of at most `limit` bytes, else a one-line TableError.

    A device, FIFO or folder (or a symlink to one, like /dev/zero) is refused before reading, and
    opening never waits for a FIFO's writer."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise TableError(f"{path}: file not found") from None
    except OSError as exc:
        raise TableError(f"{path}: cannot read: {exc.strerror}") from None
    mode = os.fstat(descriptor).st_mode
    if not stat.S_ISREG(mode):
        os.close(descriptor)
        if stat.S_ISDIR(mode):
            raise TableError(f"{path}: is a folder, not a file")
        raise TableError(f"{path.name}: not a regular file (a device or pipe): copy the list into a file")
    with os.fdopen(descriptor, "rb", buffering=0) as handle:
        try:
            data = handle.read(limit + 1)
        except OSError as exc:
            raise TableError(f"{path}: cannot read: {exc.strerror}") from None
    if len(data) > limit:
        raise TableError(f"{path.name}: over {limit // (1024 * 1024)} MB; a contact list is far smaller: "
                         "split it or remove pictures and other sheets")
    if not data.strip():
        raise TableError(f"{path.name}: the file is empty")
    return data


def _check_zip(path: Path, archive: zipfile.ZipFile) -> None:
    """Refuse a zip that would expand into far more than a table (a "zip bomb"), before parsing it."""
    members = archive.infolist()
    if len(members) > MAX_ZIP_MEMBERS:
        raise TableError(f"{path.name}: {len(members):,} parts inside; not an ordinary spreadsheet or document")
    total = sum(m.file_size for m in members)
    if total > MAX_UNZIPPED_BYTES:
        raise TableError(f"{path.name}: expands to {total // (1024 * 1024):,} MB; at most "
                         f"{MAX_UNZIPPED_BYTES // (1024 * 1024)} MB: remove pictures or split the list")
    for member in members:
        if member.file_size > ZIP_RATIO_FROM and member.file_size > MAX_ZIP_RATIO * max(1, member.compress_size):
            raise TableError(f"{path.name}: {member.filename} expands {member.file_size // max(1, member.compress_size):,}"
                             " times; a real table does not: open it in Excel/Word and save it again")


def _detect_format(path: Path, data: bytes) -> str:
    suffix = path.suffix.lower()
    if data.startswith(_OLE_MAGIC):
        if "EncryptionInfo".encode("utf-16-le") in data:
            raise TableError(f"{path.name}: the file is password-protected: save it without a password and import again")
        raise TableError(f"{path.name}: an old Excel 97-2003 (.xls) or Word 97 (.doc) file: "
                         "save it as .xlsx or .docx (or .csv) and import again")
    if data.startswith(_ZIP_MAGIC):
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
            names = set(archive.namelist())
        except zipfile.BadZipFile:
            raise TableError(f"{path.name}: the file is damaged (not a complete .xlsx/.docx): "
                             "open it in Excel/Word and save it again") from None
        _check_zip(path, archive)
        if "xl/workbook.xml" in names:
            return "xlsx"
        if "word/document.xml" in names:
            return "docx"
        raise TableError(f"{path.name}: a zip file that is neither .xlsx nor .docx")
    if suffix in (".xlsx", ".xlsm", ".docx"):
        raise TableError(f"{path.name}: the file is damaged or not really {suffix}: "
                         "open it in Excel/Word and save it again")
    if suffix in (".csv", ".txt", ".tsv", ""):
        if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise TableError(f"{path.name}: a binary file, not CSV text")
        return "csv"
    raise TableError(f"{path.name}: unsupported file type '{suffix}': use .xlsx, .docx or .csv")


def cell_text(value) -> str:
    """A cell as text: integral floats lose their ".0" (phones in spreadsheets), dates become ISO."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "x" if value else ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    text = unicodedata.normalize("NFC", str(value)).strip()
    # The apostrophe our exports put before text that looks like a formula (kiosk.files) is not
    # part of the value: an exported list reads back unchanged.
    if text.startswith("'") and text[1:2] in ("=", "+", "-", "@"):
        return text[1:]
    return text


def _csv_rows(text: str) -> Iterator[tuple[int, list[str]]]:
    sample = text[:8192]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        # Vietnamese-locale Excel writes ";" (the decimal separator is ","); pick the commonest.
        counts = {d: sample.count(d) for d in ",;\t"}
        delimiter = max(counts, key=counts.get)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    for number, cells in enumerate(reader, start=1):
        yield number, [cell_text(c) for c in cells]


def _xlsx_parts(path: Path, data: bytes) -> list[tuple[str, Iterator[tuple[int, list[str]]]]]:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # damaged workbook: the parser's own exception types vary widely
        raise TableError(f"{path.name}: the .xlsx file is damaged ({type(exc).__name__}): "
                         "open it in Excel and save it again") from None
    archive = zipfile.ZipFile(io.BytesIO(data))
    sheets = [ws for ws in workbook.worksheets if getattr(ws, "sheet_state", "visible") == "visible"]
    return [(f"sheet '{ws.title}'", _xlsx_rows(ws, archive)) for ws in sheets]


def _xlsx_rows(ws, archive: zipfile.ZipFile) -> Iterator[tuple[int, list[str]]]:
    # Read-only mode streams big sheets but does not expose merged ranges, so they are read
    # from the sheet XML; a merged range's value lives in its top-left cell and is copied over it.
    merges = _Merges.from_sheet(archive, getattr(ws, "_worksheet_path", ""))
    ws.reset_dimensions()  # some writers record wrong dimensions, which would truncate rows
    for number, row in enumerate(ws.iter_rows(values_only=True), start=1):
        values = [cell_text(v) for v in row]
        if merges.cells:
            merges.fill(number, values)
        yield number, values


class _Merges:
    """Merged ranges of one sheet: copies each range's top-left value into the rest of the range."""

    def __init__(self, cells: dict[tuple[int, int], tuple[int, int]]):
        self.cells = cells                      # (row, col) → its range's anchor (row, col), 1-based
        self.anchors = set(cells.values())
        self.width = {}                         # row → rightmost merged column in it
        for (r, c) in cells:
            self.width[r] = max(self.width.get(r, 0), c)
        self.anchor_values: dict[tuple[int, int], str] = {}

    @classmethod
    def from_sheet(cls, archive: zipfile.ZipFile, member: str) -> "_Merges":
        from openpyxl.utils import column_index_from_string

        try:
            raw = archive.read(member.lstrip("/")) if member else b""
        except KeyError:
            raw = b""
        cells = {}
        for match in _MERGE_REF.finditer(raw):
            c1, r1, c2, r2 = match.groups()
            top, left = int(r1), column_index_from_string(c1.decode())
            bottom, right = int(r2), column_index_from_string(c2.decode())
            if (bottom - top + 1) * (right - left + 1) > 10_000:
                continue  # a whole-sheet merge is formatting, not data
            for r in range(top, bottom + 1):
                for c in range(left, right + 1):
                    if (r, c) != (top, left):
                        cells[(r, c)] = (top, left)
        return cls(cells)

    def fill(self, number: int, values: list[str]) -> None:
        values.extend([""] * (self.width.get(number, 0) - len(values)))
        for column in range(1, len(values) + 1):
            if (number, column) in self.anchors:
                self.anchor_values[(number, column)] = values[column - 1]
            source = self.cells.get((number, column))
            if source is not None and not values[column - 1]:
                values[column - 1] = self.anchor_values.get(source, "")


def _docx_parts(data: bytes) -> list[tuple[str, Iterator[tuple[int, list[str]]]]]:
    import docx

    document = docx.Document(io.BytesIO(data))
    return [(f"table {i}", _docx_rows(table)) for i, table in enumerate(document.tables, start=1)]


def _docx_rows(table) -> Iterator[tuple[int, list[str]]]:
    for number, row in enumerate(table.rows, start=1):
        # python-docx repeats a merged cell's object for every grid cell it spans (both ways)
        values = [""] * row.grid_cols_before + [cell_text(cell.text) for cell in row.cells]
        yield number, values


def _collect(path: Path, kind: str, encoding: str, parts, matcher: _Matcher, required: list[str],
             max_rows: int) -> Table:
    table: Table | None = None
    last_header: _Header | None = None
    partial: _Header | None = None
    budget = [MAX_CELLS]
    for part_name, rows in parts:
        rows = _within_budget(path, rows, budget)
        header, buffered = _find_header(rows, matcher, required)
        if header is not None:
            data = [(n, v) for n, v in buffered if n > header.row_index]
            last_header = header
        elif (kind == "docx" and last_header is not None and buffered
              and len(buffered[0][1]) == len(last_header.cells)):
            header, data = last_header, buffered  # a Word table split across pages: no header of its own
        else:
            partial = partial or _best_partial(buffered, matcher)
            continue
        if table is None:
            table = Table(path, kind, header.row_index, header.cells,
                          {k: header.cells[i] for k, i in header.mapping.items()}, encoding=encoding)
        table.parts.append(part_name)
        _add_rows(table, header, part_name, _chain(data, rows), max_rows)
    if table is None:
        raise TableError(_no_header_message(path, matcher, required, partial))
    if len(table.parts) == 1:
        for row in table.rows:
            row.part = ""
    return table


def _within_budget(path: Path, rows, budget: list[int]):
    """The rows, counting their cells against the file's shared budget (one TableError past it)."""
    for number, values in rows:
        budget[0] -= len(values)
        if budget[0] < 0:
            raise TableError(f"{path.name}: more than {MAX_CELLS:,} cells; a contact list is far smaller: "
                             "remove unrelated sheets and columns")
        yield number, values


def _chain(first, rest):
    yield from first
    yield from rest


def _find_header(rows, matcher: _Matcher, required: list[str]):
    buffered = []
    for number, values in rows:
        buffered.append((number, values))
        header = matcher.header(values, number)
        if all(k in header.mapping for k in required):
            return header, buffered
        if len(buffered) >= HEADER_SCAN_ROWS:
            break
    return None, buffered


def _best_partial(buffered, matcher: _Matcher) -> _Header | None:
    best = max((matcher.header(v, n) for n, v in buffered), key=lambda h: len(h.mapping), default=None)
    return best if best and best.mapping else None


def _no_header_message(path: Path, matcher: _Matcher, required: list[str], partial: _Header | None) -> str:
    if partial is not None:
        missing = [k for k in required if k not in partial.mapping]
        found = ", ".join(f"'{partial.cells[i]}'" for i in partial.mapping.values())
        return (f"{path.name}: row {partial.row_index} looks like the header ({found}) but has no column for "
                f"{matcher.describe(missing)}")
    return (f"{path.name}: no header row with the columns {matcher.describe(required)} "
            f"in the first {HEADER_SCAN_ROWS} rows of any sheet or table")


def _add_rows(table: Table, header: _Header, part: str, rows, max_rows: int) -> None:
    header_folds = {k: fold(header.cells[i]) for k, i in header.mapping.items()}
    just_after_header = True
    empty_run = 0
    for number, values in rows:
        if not any(values):
            empty_run += 1
            if empty_run > MAX_EMPTY_RUN:
                break
            continue
        empty_run = 0
        picked = {k: (values[i] if i < len(values) else "") for k, i in header.mapping.items()}
        # A merged header repeats itself on the next row; a row "(1) (2) (3)" numbers the columns.
        if just_after_header and (all(fold(picked[k]) == header_folds[k] for k in picked)
                                  or all(_INDEX_CELL.fullmatch(v) for v in values if v)):
            continue
        just_after_header = False
        if len(table.rows) >= max_rows:
            raise TableError(f"{table.path.name}: more than {max_rows:,} rows; a residential group's list is "
                             f"far smaller: split the file or remove unrelated rows")
        table.rows.append(Row(number, picked, list(values), part))
