"""Upload bombs: CV files that are small on the wire and ruinous to a naive parser. Used by the
upload tests (tests/integration/test_uploads.py) and by ``make resilience``, which sends them
while a spoken interview goes on."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable


def _docx(document_xml: bytes) -> bytes:
    import docx

    plain = io.BytesIO()
    docx.Document().save(plain)
    source = zipfile.ZipFile(io.BytesIO(plain.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            body = source.read(info)
            archive.writestr(info, document_xml if info.filename == "word/document.xml" else body)
    return out.getvalue()


def zip_bomb() -> bytes:
    """A 0.4 MB DOCX whose text inflates to 400 MB."""
    body = b"A" * (400 * 1024 * 1024)
    return _docx(
        b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/'
        b'2006/main"><w:body><w:p><w:r><w:t>' + body + b"</w:t></w:r></w:p></w:body></w:document>"
    )


def entity_bomb() -> bytes:
    """A DOCX whose document.xml is a "billion laughs" entity expansion."""
    entities = b'<!ENTITY a0 "lol">' + b"".join(
        b'<!ENTITY a%d "%s">' % (i, b"&a%d;" % (i - 1) * 10) for i in range(1, 10)
    )
    return _docx(
        b'<?xml version="1.0"?><!DOCTYPE w:document [' + entities + b"]>"
        b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        b"<w:body><w:p><w:r><w:t>&a9;</w:t></w:r></w:p></w:body></w:document>"
    )


def many_pages(pages: int = 2000) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=200, height=200)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def deeply_nested_pdf(depth: int = 50_000) -> bytes:
    """A PDF whose page content refers to an array nested past any recursion limit."""
    nested = b"[" * depth + b"]" * depth
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R /Nested 5 0 R >>",
        b"<< /Length 0 >>\nstream\n\nendstream",
        nested,
    ]
    out = io.BytesIO(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.writelines(b"%010d 00000 n \n" % offset for offset in offsets)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


BOMBS: dict[str, Callable[[], bytes]] = {
    "zip-bomb.docx": zip_bomb,
    "entities.docx": entity_bomb,
    "2000-pages.pdf": many_pages,
    "nested.pdf": deeply_nested_pdf,
}
