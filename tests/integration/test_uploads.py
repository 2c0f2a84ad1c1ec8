"""Uploads are untrusted input to complex parsers (server/services/documents.py): bombs get a
clear 4xx within two seconds, parsed in a process of their own, while the server carries on."""

from __future__ import annotations

import asyncio
import io
import time
import zipfile
from collections.abc import Iterator

import httpx
import pytest
from litestar import Litestar

from server.errors import ValidationError
from server.services.documents import ParseLimits, read_cv
from tests.helpers import create_session
from tests.live import serve

pytestmark = pytest.mark.db

LIMIT_S = 2.0


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


BOMBS = {
    "zip-bomb.docx": zip_bomb,
    "entities.docx": entity_bomb,
    "2000-pages.pdf": many_pages,
    "nested.pdf": deeply_nested_pdf,
}


@pytest.fixture
def live_url(app: Litestar) -> Iterator[str]:
    with serve(app) as url:
        yield url


@pytest.mark.parametrize("filename", list(BOMBS))
async def test_an_upload_bomb_gets_a_4xx_in_seconds_while_others_are_served(
    live_url: str, sample_cv: str, sample_jd: str, filename: str
) -> None:
    data = BOMBS[filename]()
    assert len(data) < 5 * 1024 * 1024  # within the upload limit: the parser must cope
    async with (
        httpx.AsyncClient(base_url=live_url, timeout=30) as attacker,
        httpx.AsyncClient(base_url=live_url, timeout=30) as other,
    ):
        await attacker.get("/api/sessions")
        await other.get("/api/sessions")
        latencies: list[float] = []

        async def other_visitor() -> None:
            while True:
                started = time.perf_counter()
                assert (await other.get("/api/sessions")).status_code == 200
                latencies.append(time.perf_counter() - started)
                await asyncio.sleep(0.02)

        visiting = asyncio.create_task(other_visitor())
        started = time.perf_counter()
        response = await create_session(
            attacker,  # type: ignore[arg-type]
            sample_cv,
            sample_jd,
            files={"cv_file": (filename, data, "application/octet-stream")},
        )
        elapsed = time.perf_counter() - started
        visiting.cancel()
        assert 400 <= response.status_code < 500, response.text
        assert response.json()["error"]["message"]
        assert elapsed < LIMIT_S, elapsed
        assert latencies and max(latencies) < 0.5, latencies  # the server was never held up
        assert (await attacker.get("/api/sessions")).json() == []


async def test_a_parse_past_its_time_is_stopped_with_a_clear_error() -> None:
    with pytest.raises(ValidationError, match="took too long"):
        await read_cv(
            "cv.pdf", many_pages(40), max_bytes=5_000_000, limits=ParseLimits(timeout_s=0.01)
        )


async def test_a_parser_out_of_memory_is_a_4xx_not_a_crash() -> None:
    """Past the inflated-size check (raised here), the zip bomb meets the memory cap."""
    limits = ParseLimits(max_inflated_bytes=10**10, memory_bytes=256 * 1024 * 1024)
    with pytest.raises(ValidationError, match="could not be read"):
        await read_cv("bomb.docx", zip_bomb(), max_bytes=5_000_000, limits=limits)


async def test_a_normal_cv_is_read_in_its_own_process(sample_cv: str) -> None:
    text = await read_cv("cv.txt", sample_cv.encode(), max_bytes=5_000_000, limits=ParseLimits())
    assert "Parcelly" in text
