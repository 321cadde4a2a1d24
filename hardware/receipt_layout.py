"""Paper sizes, fonts and a small block layout shared by the raster (Pillow) and PDF renderers.

A printed document is a list of blocks (heading, text, label/value field, big code, QR code,
rule, numbered list). `layout()` places them top to bottom on a Surface in points (1/72 inch);
the Pillow surface scales points to printer dots, the PDF surface writes real text. Running the
same layout on both keeps the PNG preview and the printed PDF identical.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import qrcode
import qrcode.constants

from .errors import HardwareError

MM = 72 / 25.4  # points per millimetre

FONT_DIRS = (Path(__file__).resolve().parent / "fonts", Path("/usr/share/fonts/truetype/dejavu"))
FONT_FILES = {False: "DejaVuSans.ttf", True: "DejaVuSans-Bold.ttf"}
ASCENT = 0.93   # DejaVu Sans ascender, in ems
LINE = 1.28     # line height, in ems


class RenderError(HardwareError, ValueError):
    """A receipt cannot be rendered (unknown paper, missing font, payload too big for a QR code)."""


@dataclass(frozen=True)
class Paper:
    """A paper size. Thermal rolls have no fixed height; `raster_dots` is the printhead width."""
    name: str
    width_mm: float
    printable_mm: float
    height_mm: float | None
    raster_dots: int
    base_pt: float

    @property
    def width_pt(self) -> float:
        return self.width_mm * MM

    @property
    def printable_pt(self) -> float:
        return self.printable_mm * MM

    @property
    def margin_pt(self) -> float:
        return (self.width_pt - self.printable_pt) / 2

    @property
    def is_roll(self) -> bool:
        return self.height_mm is None


# 203 dpi thermal heads: 48 mm = 384 dots (58 mm paper), 72 mm = 576 dots (80 mm paper).
# A5/A4 rasters (previews) use 150 dpi over the printable width.
PAPERS = {
    "58mm": Paper("58mm", 58, 48, None, 384, 8.5),
    "80mm": Paper("80mm", 80, 72, None, 576, 10),
    "a5": Paper("a5", 148, 124, 210, round(124 / 25.4 * 150), 11),
    "a4": Paper("a4", 210, 180, 297, round(180 / 25.4 * 150), 12),
}


def paper(name: str) -> Paper:
    try:
        return PAPERS[name.lower()]
    except KeyError:
        raise RenderError(f"unknown paper '{name}' (one of {', '.join(PAPERS)})") from None


@lru_cache(maxsize=2)
def font_path(bold: bool = False) -> str:
    """DejaVu Sans (every Vietnamese diacritic): bundled hardware/fonts/, else Debian's fonts-dejavu-core."""
    for folder in FONT_DIRS:
        candidate = folder / FONT_FILES[bold]
        if candidate.is_file():
            return str(candidate)
    raise RenderError(f"font {FONT_FILES[bold]} not found in {', '.join(map(str, FONT_DIRS))} "
                      "(apt-get install fonts-dejavu-core)")


@dataclass(frozen=True)
class Block:
    """One piece of a document. kind: heading, text, small, field, code, qr, rule, list, space."""
    kind: str
    text: str = ""
    label: str = ""
    items: tuple[str, ...] = ()
    scale: float = 1.0
    bold: bool = False
    center: bool = False
    numbered: bool = False  # list: "1." marks instead of tick boxes


@dataclass
class Document:
    title: str
    blocks: list[Block] = field(default_factory=list)


class Surface(Protocol):
    def text_width(self, text: str, size: float, bold: bool) -> float: ...
    def text(self, x: float, baseline: float, text: str, size: float, bold: bool) -> None: ...
    def rect(self, x: float, y: float, w: float, h: float) -> None: ...
    def new_page(self) -> None: ...


@lru_cache(maxsize=64)
def pil_font(bold: bool, pixels: float):
    from PIL import ImageFont
    return ImageFont.truetype(font_path(bold), max(1, round(pixels)))


@lru_cache(maxsize=32)
def qr_matrix(payload: str) -> tuple[tuple[bool, ...], ...]:
    """Modules of a QR code (error correction M, 4-module quiet zone included)."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    code.add_data(payload.encode("utf-8"))
    try:
        code.make(fit=True)
    except (qrcode.exceptions.DataOverflowError, ValueError):  # qrcode raises ValueError past version 40
        raise RenderError(f"QR payload of {len(payload)} characters is too long") from None
    return tuple(tuple(row) for row in code.get_matrix())


_BREAK = re.compile(r"[ \t\r\n]+")  # ordinary spaces only: a no-break space (U+00A0) keeps "500.000\u00a0đồng" whole


def wrap(surface: Surface, text: str, size: float, bold: bool, width: float, first_width: float | None = None) -> list[str]:
    """Greedy word wrap at ordinary spaces; a word is never cut.

    A date, a code or an amount split over two lines is misread ("10/12/202" then "6"), so a
    word wider than the line gets a line of its own, which `_line` draws in a size that fits.
    When not even the first word fits in `first_width` (beside a label), the first line is ""
    and the text starts on the next line.
    """
    lines, current = [], ""
    limit = first_width if first_width is not None else width
    for word in (w for w in _BREAK.split(text) if w):
        trial = f"{current} {word}" if current else word
        if surface.text_width(trial, size, bold) <= limit:
            current = trial
            continue
        if current:
            lines.append(current)
        elif limit != width:
            lines.append("")
        limit = width
        current = word
    if current or not lines:
        lines.append(current)
    return lines


def fit_size(surface: Surface, text: str, size: float, bold: bool, width: float) -> float:
    """`size`, or smaller so that `text` fits in `width` on one line."""
    measured = surface.text_width(text, size, bold)
    return size if measured <= width else size * width / measured * 0.99


class _Cursor:
    """Tracks the vertical position and breaks pages on fixed-height paper."""

    def __init__(self, surface: Surface, page_height: float | None):
        self.surface, self.page_height, self.y, self.pages = surface, page_height, 0.0, 1

    def need(self, height: float) -> None:
        if self.page_height is not None and self.y + height > self.page_height and self.y > 0:
            self.surface.new_page()
            self.pages += 1
            self.y = 0.0


def layout(doc: Document, surface: Surface, width: float, base: float,
           page_height: float | None = None) -> float:
    """Draw `doc` in a column `width` points wide starting at (0, 0); return the height used (pt).

    With `page_height`, content flows onto new pages; the height returned is that of the last page.
    """
    cur = _Cursor(surface, page_height)
    for block in doc.blocks:
        size = base * block.scale
        if block.kind in ("heading", "text", "small"):
            bold = block.bold or block.kind == "heading"
            size = size * (0.85 if block.kind == "small" else 1)
            for line in wrap(surface, block.text, size, bold, width):
                _line(cur, line, size, bold, width, block.center or block.kind == "heading")
        elif block.kind == "field":
            label = block.label + ": "
            label_w = surface.text_width(label, size, True)
            lines = wrap(surface, block.text, size, block.bold, width, first_width=width - label_w)
            cur.need(size * LINE)
            label_size = fit_size(surface, label, size, True, width)
            surface.text(0, cur.y + size * ASCENT, label, label_size, True)
            if lines[0]:
                surface.text(label_w, cur.y + size * ASCENT, lines[0], size, block.bold)
            cur.y += size * LINE
            for line in lines[1:]:
                _line(cur, line, size, block.bold, width, block.center)
        elif block.kind == "code":
            fitted = min(size, size * width / max(1.0, surface.text_width(block.text, size, True)) * 0.98)
            _line(cur, block.text, fitted, True, width, True)
        elif block.kind == "qr":
            matrix = qr_matrix(block.text)
            module = min(block.scale, width / len(matrix))
            side = module * len(matrix)
            cur.need(side)
            left = (width - side) / 2
            for r, row in enumerate(matrix):
                run_start = None
                for c, dark in enumerate(row + (False,)):
                    if dark and run_start is None:
                        run_start = c
                    elif not dark and run_start is not None:
                        surface.rect(left + run_start * module, cur.y + r * module, (c - run_start) * module, module)
                        run_start = None
            cur.y += side
        elif block.kind == "rule":
            cur.need(base * 0.8)
            surface.rect(0, cur.y + base * 0.35, width, max(0.5, base * 0.06))
            cur.y += base * 0.8
        elif block.kind == "list":
            for number, item in enumerate(block.items, start=1):
                mark = f"{number}. " if block.numbered else "☐ "
                indent = surface.text_width(mark, size, False)
                lines = wrap(surface, item, size, False, width - indent)
                cur.need(size * LINE)
                surface.text(0, cur.y + size * ASCENT, mark, size, False)
                for i, line in enumerate(lines):
                    if i:
                        cur.need(size * LINE)
                    surface.text(indent, cur.y + size * ASCENT, line,
                                 fit_size(surface, line, size, False, width - indent), False)
                    cur.y += size * LINE
        elif block.kind == "space":
            cur.y += base * block.scale
        else:
            raise RenderError(f"unknown block kind {block.kind}")
    return cur.y


def _line(cur: _Cursor, text: str, size: float, bold: bool, width: float, center: bool) -> None:
    cur.need(size * LINE)
    drawn = fit_size(cur.surface, text, size, bold, width)
    x = (width - cur.surface.text_width(text, drawn, bold)) / 2 if center else 0
    cur.surface.text(max(0.0, x), cur.y + size * ASCENT, text, drawn, bold)
    cur.y += size * LINE
