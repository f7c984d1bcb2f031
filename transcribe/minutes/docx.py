"""Minutes as a Word document: a minimal valid WordprocessingML package written with
zipfile (content types, package relationships, one document part). Written by hand because
four small XML parts are all it takes; no python-docx dependency."""

from __future__ import annotations

import io
import zipfile
from typing import Any
from xml.sax.saxutils import escape

from transcribe.minutes.render import sections

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="word/document.xml"/></Relationships>')
MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _paragraph(text: str, size_half_points: int = 22, bold: bool = False) -> str:
    props = f'<w:rPr>{"<w:b/>" if bold else ""}<w:sz w:val="{size_half_points}"/>' \
            f'<w:rFonts w:eastAsia="SimSun"/></w:rPr>'
    return f'<w:p><w:r>{props}<w:t xml:space="preserve">{escape(_xml_safe(text))}</w:t></w:r></w:p>'


def _xml_safe(text: str) -> str:
    # XML 1.0 forbids most control characters; transcripts should have none, but be sure.
    return "".join(c for c in text if c in "\t\n\r" or ord(c) >= 0x20)


def to_docx(minutes: dict[str, Any], labels: dict[str, Any]) -> bytes:
    paras = [_paragraph(str(minutes.get("title", "")), 36, bold=True)]
    for heading, lines in sections(minutes, labels):
        if heading:
            paras.append(_paragraph(heading, 28, bold=True))
        paras += [_paragraph(("• " if heading else "") + line) for line in lines if line]
    document = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                f'<w:document xmlns:w="{_W}"><w:body>{"".join(paras)}'
                f'<w:sectPr><w:pgSz w:w="11906" w:h="16838"/></w:sectPr></w:body></w:document>')
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", CONTENT_TYPES)
        package.writestr("_rels/.rels", RELS)
        package.writestr("word/document.xml", document)
    return buffer.getvalue()
