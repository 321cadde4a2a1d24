"""QR codes as Kivy textures (the guide's link to the national portal)."""
from __future__ import annotations

import io

import qrcode
from kivy.core.image import Image as CoreImage


def qr_texture(data: str, box_size: int = 8):
    """A texture of `data` as a QR code with a quiet zone, ready for an Image widget."""
    image = qrcode.make(data, box_size=box_size, border=2)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    buffer.seek(0)
    return CoreImage(buffer, ext="png").texture
