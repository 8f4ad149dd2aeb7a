"""QR codes for verify links (segno, pure Python): PNG as a data URI, and SVG."""

from __future__ import annotations

import base64
import io

import segno


def _code(link: str) -> segno.QRCode:
    # medium error correction survives a crease or a smudge on a printed certificate
    return segno.make(link, error="m", micro=False)


def qr_png_data_uri(link: str, scale: int = 4) -> str:
    """A PNG of the link's QR code as a `data:image/png;base64,...` URI."""
    buffer = io.BytesIO()
    _code(link).save(buffer, kind="png", scale=scale, border=4)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def qr_svg(link: str, scale: int = 4) -> str:
    """An SVG document of the link's QR code."""
    buffer = io.BytesIO()
    _code(link).save(buffer, kind="svg", scale=scale, border=4, xmldecl=False, svgns=True)
    return buffer.getvalue().decode()
