"""PDF output with reportlab: real, searchable text in an embedded DejaVu Sans subset.

Thermal paper gets one page as tall as its content; A5/A4 flow onto as many pages as needed.
Text stays text (pdftotext reads the Vietnamese back), the QR code is vector rectangles so it
survives any rasteriser sharp.
"""
from __future__ import annotations

import io
from functools import lru_cache

from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas as pdf_canvas

from .receipt_layout import Document, Paper, font_path, layout

FONT_NAMES = {False: "TDPDejaVuSans", True: "TDPDejaVuSans-Bold"}


class _NamedGlyphTTFont(TTFont):
    """reportlab's TrueType subsets, plus an /Encoding naming every glyph uniXXXX.

    reportlab embeds subsets without glyph names. CUPS turns a PDF into PostScript before a
    PostScript-based queue (cups-pdf, many lasers) sees it, and that round trip rebuilds the
    text from glyph names: without them every diacritic is lost from the printed PDF's text.
    """

    def addObjects(self, doc):
        state = self.state.get(doc)
        subsets = [list(subset) for subset in state.subsets] if state else []
        names = [self.getSubsetInternalName(n, doc)[1:] for n in range(len(subsets))]
        super().addObjects(doc)
        fonts = doc.idToObject["BasicFonts"].dict
        for name, subset in zip(names, subsets):
            differences = [0] + [pdfdoc.PDFName(f"uni{cp:04X}" if 0 < cp <= 0xFFFF else f"u{cp:05X}" if cp else ".notdef")
                                 for cp in subset]
            fonts[name].Encoding = pdfdoc.PDFDictionary(
                {"Type": pdfdoc.PDFName("Encoding"), "Differences": pdfdoc.PDFArray(differences)})


@lru_cache(maxsize=1)
def register_fonts() -> tuple[str, str]:
    """Register the glyph-named DejaVu Sans faces with reportlab once; returns (regular, bold).

    Every PDF the appliance makes (receipts, the ward report, the rota sheet) uses these, so
    Vietnamese survives CUPS's PostScript round trip everywhere."""
    for bold, name in FONT_NAMES.items():
        pdfmetrics.registerFont(_NamedGlyphTTFont(name, font_path(bold)))
    regular, bold = FONT_NAMES[False], FONT_NAMES[True]
    # So that <b> inside a Paragraph picks the bold face instead of silently staying regular.
    pdfmetrics.registerFontFamily(regular, normal=regular, bold=bold, italic=regular, boldItalic=bold)
    return regular, bold


class _PdfSurface:
    """Draws on a reportlab canvas; layout y grows downwards from the top margin."""

    def __init__(self, canvas, left: float, top: float):
        self.canvas, self.left, self.top = canvas, left, top

    def text_width(self, text: str, size: float, bold: bool) -> float:
        return pdfmetrics.stringWidth(text, FONT_NAMES[bold], size)

    def text(self, x: float, baseline: float, text: str, size: float, bold: bool) -> None:
        if self.canvas is not None and text:
            self.canvas.setFont(FONT_NAMES[bold], size)
            self.canvas.drawString(self.left + x, self.top - baseline, text)

    def rect(self, x: float, y: float, w: float, h: float) -> None:
        if self.canvas is not None:
            self.canvas.rect(self.left + x, self.top - y - h, w, h, stroke=0, fill=1)

    def new_page(self) -> None:
        if self.canvas is not None:
            self.canvas.showPage()


def render_pdf(doc: Document, paper: Paper) -> bytes:
    """The document as PDF bytes on `paper` (roll: page height fitted to the content)."""
    register_fonts()
    margin = paper.margin_pt
    base = paper.base_pt
    if paper.is_roll:
        height = layout(doc, _PdfSurface(None, 0, 0), paper.printable_pt, base) + 2 * margin
        page = (paper.width_pt, height)
    else:
        page = (paper.width_pt, paper.height_mm * 72 / 25.4)
    buffer = io.BytesIO()
    canvas = pdf_canvas.Canvas(buffer, pagesize=page, pageCompression=1)
    canvas.setTitle(doc.title)
    canvas.setAuthor("TDP Kiosk")
    canvas.setFillColorRGB(0, 0, 0)
    surface = _PdfSurface(canvas, margin, page[1] - margin)
    layout(doc, surface, paper.printable_pt, base, None if paper.is_roll else page[1] - 2 * margin)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
