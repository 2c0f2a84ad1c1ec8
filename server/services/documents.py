"""Turn an uploaded CV (PDF, DOCX, TXT) into plain text, with clear errors when we can't.

An upload is untrusted input to complex parsers: a 400 KB DOCX can inflate to 400 MB, a PDF can
hold thousands of pages or objects nested past the recursion limit. So ``read_cv`` parses each
file in a process of its own (never on the event loop, never in the process that holds the
models), at most ``PARSERS`` at a time, with limits on its memory, its time, the inflated size
of a DOCX and the pages of a PDF; past a limit the candidate gets a clear 4xx, and the server
and every other request carry on.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
import sys
import zipfile
from dataclasses import asdict, dataclass
from typing import Any

from server.errors import AppError, PayloadTooLarge, UnsupportedMediaType, ValidationError

logger = logging.getLogger(__name__)

SUPPORTED = "PDF, DOCX or TXT"


def _kind(filename: str, data: bytes) -> str:
    """Decide by content first (a renamed file still works), then by extension."""
    name = filename.lower()
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        if name.endswith(".docx") or _is_docx(data):
            return "docx"
        raise UnsupportedMediaType(
            f"{filename!r} is a ZIP archive, not a DOCX file. Upload {SUPPORTED}."
        )
    if name.endswith((".pdf", ".docx")):
        raise ValidationError(
            f"{filename!r} is not a readable {name.rsplit('.', 1)[1].upper()} file."
        )
    if name.endswith((".txt", ".text", ".md")) or "." not in name:
        return "txt"
    raise UnsupportedMediaType(f"Unsupported file type for {filename!r}. Upload {SUPPORTED}.")


@dataclass(frozen=True)
class ParseLimits:
    """What one upload may cost to read."""

    max_inflated_bytes: int = 20 * 1024 * 1024  # a DOCX's parts, uncompressed
    max_pdf_pages: int = 50
    max_text_chars: int = 200_000  # extracted text; the CV field itself is cut far shorter
    timeout_s: float = 10.0
    memory_bytes: int = 768 * 1024 * 1024  # the parsing process's address space


PARSERS = 2
"""Uploads parsed at once; more wait their turn."""
_parsers: asyncio.Semaphore | None = None


def _is_docx(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return "word/document.xml" in zf.namelist()
    except zipfile.BadZipFile:
        return False


def _pdf_text(data: bytes, filename: str, limits: ParseLimits) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError, PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise ValidationError(f"{filename!r} is password-protected; upload an unlocked PDF.")
        pages = len(reader.pages)
        if pages > limits.max_pdf_pages:
            raise ValidationError(
                f"{filename!r} has {pages} pages; a CV of at most {limits.max_pdf_pages} pages "
                "can be read."
            )
        parts: list[str] = []
        length = 0
        for page in reader.pages:
            text = page.extract_text() or ""
            parts.append(text)
            length += len(text)
            if length > limits.max_text_chars:
                break
        return "\n".join(parts)
    except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError, RecursionError) as err:
        raise ValidationError(f"{filename!r} could not be read as a PDF.") from err


def _docx_text(data: bytes, filename: str, limits: ParseLimits) -> str:
    import docx

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            inflated = sum(info.file_size for info in zf.infolist())
    except zipfile.BadZipFile as err:
        raise ValidationError(f"{filename!r} could not be read as a DOCX file.") from err
    if inflated > limits.max_inflated_bytes:
        raise ValidationError(
            f"{filename!r} unpacks to {inflated / 1e6:.0f} MB; a DOCX of at most "
            f"{limits.max_inflated_bytes / 1e6:.0f} MB unpacked can be read."
        )
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as err:  # python-docx raises a zoo of types for broken files
        raise ValidationError(f"{filename!r} could not be read as a DOCX file.") from err
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            lines.append(" | ".join(cell.text for cell in row.cells))
    return "\n".join(lines)


def _txt_text(data: bytes, filename: str, limits: ParseLimits) -> str:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return data.decode("utf-16", errors="replace")
    if b"\x00" in data[:4096]:
        raise UnsupportedMediaType(f"{filename!r} looks like a binary file. Upload {SUPPORTED}.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Older Windows editors save CVs as cp1252; it decodes any byte sequence.
        return data.decode("cp1252", errors="replace")


def normalize_text(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    text = re.sub(r"[ \t\f\v]+", " ", text)
    text = re.sub(r"\n\s*\n\s*\n+", "\n\n", text)
    return text.strip()


def extract_cv_text(
    filename: str, data: bytes, *, max_bytes: int, limits: ParseLimits | None = None
) -> str:
    """Plain text of an uploaded CV, parsed in the calling thread; raises an ``AppError``
    saying what is wrong otherwise. The server calls ``read_cv``, which runs this bounded."""
    if len(data) > max_bytes:
        raise PayloadTooLarge(
            f"The CV file is {len(data) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB."
        )
    if not data:
        raise ValidationError("The CV file is empty.")
    kind = _kind(filename, data)
    extractor = {"pdf": _pdf_text, "docx": _docx_text, "txt": _txt_text}[kind]
    return normalize_text(extractor(data, filename, limits or ParseLimits()))


async def read_cv(filename: str, data: bytes, *, max_bytes: int, limits: ParseLimits) -> str:
    """``extract_cv_text`` in a process of its own, within ``limits`` (module docstring)."""
    global _parsers
    if len(data) > max_bytes or not data:
        return extract_cv_text(filename, data, max_bytes=max_bytes, limits=limits)  # the 4xx
    if _parsers is None:
        _parsers = asyncio.Semaphore(PARSERS)
    request = json.dumps({"filename": filename, "max_bytes": max_bytes, **asdict(limits)})
    async with _parsers:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            __name__,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,  # a parser's traceback may quote the CV
        )
        try:
            out, _ = await asyncio.wait_for(
                process.communicate(request.encode() + b"\n" + data), limits.timeout_s
            )
        except TimeoutError:
            raise ValidationError(
                f"{filename!r} took too long to read (over {limits.timeout_s:.0f} s); upload a "
                "simpler file or paste the CV's text."
            ) from None
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    try:
        outcome = json.loads(out)
    except ValueError:  # the parser died: out of memory, or worse
        outcome = {"error": ["ValidationError", f"{filename!r} could not be read."]}
    if "text" in outcome:
        return str(outcome["text"])
    error_type, message = outcome["error"]
    logger.info("an uploaded CV was refused: %s", error_type)
    raise {
        "PayloadTooLarge": PayloadTooLarge,
        "UnsupportedMediaType": UnsupportedMediaType,
    }.get(error_type, ValidationError)(message)


def _parse_worker() -> None:
    """``python -m server.services.documents``: the parsing process. Reads a JSON line (the
    file name and limits) and the file's bytes from stdin, caps its own memory, and writes
    {"text": …} or {"error": [type, message]} to stdout."""
    import resource

    request = json.loads(sys.stdin.buffer.readline())
    data = sys.stdin.buffer.read()
    filename, max_bytes = request.pop("filename"), request.pop("max_bytes")
    limits = ParseLimits(**request)
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    outcome: dict[str, Any]
    try:
        outcome = {"text": extract_cv_text(filename, data, max_bytes=max_bytes, limits=limits)}
    except AppError as err:
        outcome = {"error": [type(err).__name__, err.message]}
    except MemoryError:
        outcome = {"error": ["ValidationError", f"{filename!r} is too large to read."]}
    except Exception:
        outcome = {"error": ["ValidationError", f"{filename!r} could not be read."]}
    sys.stdout.write(json.dumps(outcome))


if __name__ == "__main__":
    _parse_worker()
