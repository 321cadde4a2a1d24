"""Papers a resident takes home: the request slip, the "what to bring" checklist, the registration slip.

Plain dataclasses in, PNG (Pillow, 1-bit, exactly 384 or 576 dots wide for 58/80 mm thermal
heads at 203 dpi) or PDF (reportlab, real text) out. The kiosk fills the dataclasses; this
module knows nothing of dossiers or the store. Texts are Vietnamese and must already be NFC.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field

from PIL import Image, ImageDraw

from .receipt_layout import LINE, Block, Document, RenderError, layout, paper as get_paper, pil_font
from .receipt_pdf import render_pdf

FORMATS = ("png", "pdf")


@dataclass(frozen=True)
class ReceiptData:
    """Everything printed on a request slip (phiếu hẹn – biên nhận yêu cầu of the residential group).

    It is not the one-stop centre's official receipt, and says so: the kiosk takes no document.
    `qr_payload` is what a phone shows when the QR is scanned: a lookup link or plain text."""
    ward: str
    residential_group: str
    procedure_name: str
    code: str
    full_name: str
    appointment_date: str          # as printed, e.g. "08/12/2026": the kiosk's estimate
    issued_at: str                 # as printed, e.g. "22/11/2026 19:40"
    qr_payload: str
    national_code: str = ""        # mã thủ tục hành chính (1.001193); "" when not known: nothing printed
    citizen_id_masked: str = ""    # "********1234" or ""
    phone_masked: str = ""         # "0912 *** 678": where the SMS updates go
    volunteer: str = ""
    collect_at: str = ""           # where the result is collected
    documents: tuple[str, ...] = ()  # papers to bring, ticked boxes on the slip
    portal_code: str = ""          # the portal's dossier code, once a volunteer has filed it
    official_appointment: str = ""  # as printed, from the portal
    help_lines: tuple[str, ...] = ()
    note: str = ""
    qr_caption: str = "Quét mã để tra cứu yêu cầu"
    title: str = "PHIẾU HẸN – BIÊN NHẬN YÊU CẦU"
    disclaimer: str = ("Phiếu này không thay giấy tiếp nhận của Trung tâm Phục vụ hành chính công phường. "
                       "Khi hồ sơ được nộp lên Cổng Dịch vụ công, bác sẽ nhận tin nhắn có mã hồ sơ chính thức.")


@dataclass(frozen=True)
class ChecklistData:
    """A procedure's "what to bring" sheet."""
    ward: str
    residential_group: str
    procedure_name: str
    national_code: str
    documents: tuple[str, ...]
    fee: str
    processing_time: str
    where: str
    steps: tuple[str, ...] = ()
    portal_url: str = ""
    unreviewed_note: str = ""


@dataclass(frozen=True)
class RegistrationData:
    """A household's slip after registering for notices by SMS."""
    ward: str
    residential_group: str
    head_name: str
    phone_masked: str
    groups: tuple[str, ...] = field(default_factory=tuple)
    registered_at: str = ""
    help_lines: tuple[str, ...] = ()


def _header(ward: str, group: str, title: str) -> list[Block]:
    return [Block("text", ward.upper(), bold=True, center=True),
            Block("text", group, center=True),
            Block("rule"),
            Block("heading", title, scale=1.15),
            Block("space", scale=0.3)]


def receipt_document(data: ReceiptData) -> Document:
    blocks = _header(data.ward, data.residential_group, data.title)
    blocks += [Block("small", "Mã yêu cầu", center=True),
               Block("code", data.code, scale=2.6),
               Block("space", scale=0.3),
               Block("field", data.procedure_name, label="Thủ tục")]
    if data.national_code:
        blocks.append(Block("field", data.national_code, label="Mã thủ tục"))
    blocks.append(Block("field", data.full_name, label="Người yêu cầu"))
    if data.phone_masked:
        blocks.append(Block("field", data.phone_masked, label="Điện thoại"))
    if data.citizen_id_masked:
        blocks.append(Block("field", data.citizen_id_masked, label="Số định danh"))
    blocks.append(Block("field", data.issued_at, label="Ngày yêu cầu"))
    if data.portal_code:
        blocks += [Block("text", "Đã nộp trên Cổng Dịch vụ công, mã hồ sơ:", bold=True),
                   Block("code", data.portal_code, scale=1.3)]
    if data.official_appointment:
        blocks += [Block("text", "NGÀY HẸN TRẢ KẾT QUẢ:", bold=True, center=True),
                   Block("code", data.official_appointment, scale=2.0)]
    else:
        blocks += [Block("text", "NGÀY HẸN DỰ KIẾN:", bold=True, center=True),
                   Block("code", data.appointment_date, scale=2.0),
                   Block("small", "(phường sẽ báo ngày chính thức)", center=True)]
    if data.collect_at:
        blocks.append(Block("field", data.collect_at, label="Nhận kết quả tại"))
    if data.documents:
        blocks += [Block("text", "Mang theo:", bold=True), Block("list", items=data.documents)]
    if data.volunteer:
        blocks.append(Block("field", data.volunteer, label="Tình nguyện viên"))
    if data.note:
        blocks.append(Block("small", data.note))
    blocks += [Block("rule"), Block("small", data.disclaimer)]
    if data.help_lines:
        blocks.append(Block("text", "Tra cứu:", bold=True))
        blocks += [Block("text", line) for line in data.help_lines]
    blocks += [Block("space", scale=0.4), Block("qr", data.qr_payload, scale=2.4),
               Block("small", data.qr_caption, center=True)]
    return Document(f"Phiếu hẹn {data.code}", blocks)


def checklist_document(data: ChecklistData) -> Document:
    blocks = _header(data.ward, data.residential_group, "GIẤY TỜ CẦN MANG THEO")
    blocks.append(Block("text", data.procedure_name, bold=True, scale=1.1))
    if data.national_code:
        blocks.append(Block("small", f"Mã thủ tục: {data.national_code}"))
    blocks += [Block("space", scale=0.3),
               Block("text", "Giấy tờ:", bold=True),
               Block("list", items=data.documents),
               Block("space", scale=0.3),
               Block("field", data.fee, label="Lệ phí"),
               Block("field", data.processing_time, label="Thời hạn"),
               Block("field", data.where, label="Nơi nộp")]
    if data.steps:
        blocks += [Block("space", scale=0.3), Block("text", "Các bước:", bold=True),
                   Block("list", items=data.steps, numbered=True)]
    if data.unreviewed_note:
        blocks += [Block("rule"), Block("small", data.unreviewed_note)]
    if data.portal_url:
        blocks += [Block("space", scale=0.4), Block("qr", data.portal_url, scale=3.0),
                   Block("small", "Quét mã để mở trang thủ tục trên Cổng Dịch vụ công", center=True)]
    return Document(f"Cần mang theo: {data.procedure_name}", blocks)


def registration_document(data: RegistrationData) -> Document:
    blocks = _header(data.ward, data.residential_group, "ĐĂNG KÝ NHẬN THÔNG BÁO")
    blocks += [Block("field", data.head_name, label="Chủ hộ"),
               Block("field", data.phone_masked, label="Số điện thoại")]
    if data.groups:
        blocks.append(Block("field", ", ".join(data.groups), label="Nhận tin của"))
    if data.registered_at:
        blocks.append(Block("field", data.registered_at, label="Ngày đăng ký"))
    blocks += [Block("rule")] + [Block("text", line) for line in data.help_lines]
    return Document("Đăng ký nhận thông báo", blocks)


class _PilSurface:
    """Draws on a 1-bit Pillow image; `scale` converts points to printer dots."""

    def __init__(self, image, scale: float):
        self.draw = ImageDraw.Draw(image) if image is not None else None
        self.scale = scale

    def text_width(self, text: str, size: float, bold: bool) -> float:
        return pil_font(bold, size * self.scale).getlength(text) / self.scale

    def text(self, x: float, baseline: float, text: str, size: float, bold: bool) -> None:
        if self.draw is not None and text:
            self.draw.text((x * self.scale, baseline * self.scale), text, fill=0,
                           font=pil_font(bold, size * self.scale), anchor="ls")

    def rect(self, x: float, y: float, w: float, h: float) -> None:
        if self.draw is not None:
            s = self.scale
            self.draw.rectangle((round(x * s), round(y * s), round((x + w) * s) - 1, round((y + h) * s) - 1), fill=0)

    def new_page(self) -> None:
        pass


def render_image(doc: Document, paper_name: str = "80mm") -> Image.Image:
    """A 1-bit image exactly `raster_dots` wide (384 for 58 mm, 576 for 80 mm) of the whole document."""
    paper = get_paper(paper_name)
    scale = paper.raster_dots / paper.printable_pt
    height_pt = layout(doc, _PilSurface(None, scale), paper.printable_pt, paper.base_pt)
    feed = paper.base_pt * LINE * 2  # blank lines so the tear bar does not cut the QR code
    image = Image.new("1", (paper.raster_dots, max(1, round((height_pt + feed) * scale))), 1)
    layout(doc, _PilSurface(image, scale), paper.printable_pt, paper.base_pt)
    return image


def render(doc: Document, paper_name: str = "80mm", fmt: str = "pdf") -> bytes:
    """PNG or PDF bytes of `doc`."""
    if fmt not in FORMATS:
        raise RenderError(f"unknown format '{fmt}' (png or pdf)")
    if fmt == "pdf":
        return render_pdf(doc, get_paper(paper_name))
    buffer = io.BytesIO()
    render_image(doc, paper_name).save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


def render_receipt(data: ReceiptData, paper: str = "80mm", fmt: str = "pdf") -> bytes:
    return render(receipt_document(data), paper, fmt)


def render_checklist(data: ChecklistData, paper: str = "80mm", fmt: str = "pdf") -> bytes:
    return render(checklist_document(data), paper, fmt)


def render_registration(*, ward: str, residential_group: str, head_name: str, phone_masked: str,
                        groups: tuple[str, ...] | list[str] = (), registered_at: str = "",
                        help_lines: tuple[str, ...] | list[str] = (), paper: str = "80mm",
                        fmt: str = "pdf") -> bytes:
    """Registration slip for a household (the UI calls this); PNG or PDF bytes."""
    data = RegistrationData(ward, residential_group, head_name, phone_masked, tuple(groups), registered_at,
                            tuple(help_lines))
    return render(registration_document(data), paper, fmt)


__all__ = ["ReceiptData", "ChecklistData", "RegistrationData", "RenderError", "render", "render_image",
           "render_receipt", "render_checklist", "render_registration", "receipt_document",
           "checklist_document", "registration_document"]
