"""A minimal PDF: one page per image, each image a Flate-compressed RGB XObject.

Written by hand because it is a few fixed objects and a cross-reference table; a library
would be a dependency for that. Pages are sized so the longest side is at most A4's."""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np

A4_LONG_PT = 842.0
PX_TO_PT = 0.75  # 96 dpi screen pixels -> 72 dpi points


def page_size(width_px: int, height_px: int) -> tuple[float, float]:
    scale = min(PX_TO_PT, A4_LONG_PT / max(width_px, height_px))
    return round(width_px * scale, 2), round(height_px * scale, 2)


def build_pdf(images: Sequence[np.ndarray], title: str = "Whiteboards") -> bytes:
    """`images`: BGR uint8 arrays (as OpenCV makes them), one page each, in order."""
    objects: list[bytes] = []  # object n is objects[n - 1]
    page_refs: list[int] = []
    objects.append(b"")  # 1: catalog, filled below
    objects.append(b"")  # 2: pages, filled below
    objects.append(b"<< /Title " + pdf_string(title) + b" /Producer (CommandPost) >>")  # 3
    for image in images:
        h, w = image.shape[:2]
        rgb = np.ascontiguousarray(image[:, :, ::-1]).tobytes()
        data = zlib.compress(rgb, 6)
        objects.append(b"<< /Type /XObject /Subtype /Image /Width %d /Height %d "
                       b"/ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /FlateDecode "
                       b"/Length %d >>\nstream\n" % (w, h, len(data)) + data +
                       b"\nendstream")
        image_ref = len(objects)
        pw, ph = page_size(w, h)
        content = b"q %.2f 0 0 %.2f 0 0 cm /Im0 Do Q" % (pw, ph)
        objects.append(b"<< /Length %d >>\nstream\n" % len(content) + content +
                       b"\nendstream")
        content_ref = len(objects)
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %.2f %.2f] "
                       b"/Resources << /XObject << /Im0 %d 0 R >> >> /Contents %d 0 R >>"
                       % (pw, ph, image_ref, content_ref))
        page_refs.append(len(objects))
    objects[0] = b"<< /Type /Catalog /Pages 2 0 R >>"
    kids = b" ".join(b"%d 0 R" % ref for ref in page_refs)
    objects[1] = b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % len(page_refs)
    return serialise(objects)


def serialise(objects: list[bytes]) -> bytes:
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += (b"trailer\n<< /Size %d /Root 1 0 R /Info 3 0 R >>\nstartxref\n%d\n%%%%EOF\n"
            % (len(objects) + 1, xref))
    return bytes(out)


def pdf_string(text: str) -> bytes:
    """A PDF text string: UTF-16BE with BOM, hex-encoded (any characters are safe)."""
    return b"<FEFF" + text.encode("utf-16-be").hex().upper().encode() + b">"
