"""Turn an uploaded CV (PDF, DOCX, TXT) into plain text, with clear errors when we can't."""

from __future__ import annotations

import io
import logging
import re
import zipfile

from server.errors import PayloadTooLarge, UnsupportedMediaType, ValidationError

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


def _is_docx(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return "word/document.xml" in zf.namelist()
    except zipfile.BadZipFile:
        return False


def _pdf_text(data: bytes, filename: str) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise ValidationError(f"{filename!r} is password-protected; upload an unlocked PDF.")
        return "\n".join(page.extract_text() or "" for page in reader.pages)
    except (PdfReadError, ValueError, KeyError, TypeError) as err:
        raise ValidationError(f"{filename!r} could not be read as a PDF: {err}") from err


def _docx_text(data: bytes, filename: str) -> str:
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as err:  # python-docx raises a zoo of types for broken files
        raise ValidationError(f"{filename!r} could not be read as a DOCX file.") from err
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            lines.append(" | ".join(cell.text for cell in row.cells))
    return "\n".join(lines)


def _txt_text(data: bytes, filename: str) -> str:
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


def extract_cv_text(filename: str, data: bytes, *, max_bytes: int) -> str:
    """Plain text of an uploaded CV; raises an ``AppError`` saying what is wrong otherwise."""
    if len(data) > max_bytes:
        raise PayloadTooLarge(
            f"The CV file is {len(data) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB."
        )
    if not data:
        raise ValidationError("The CV file is empty.")
    kind = _kind(filename, data)
    extractor = {"pdf": _pdf_text, "docx": _docx_text, "txt": _txt_text}[kind]
    return normalize_text(extractor(data, filename))
