"""HTTP byte ranges (RFC 9110 §14) for the answer audio: one range per response, at most.

Media players ask for one range at a time (Chromium starts with ``bytes=0-`` and seeks with
``bytes=N-``), so a request for several is answered whole (a server may ignore ``Range``,
§14.2) rather than as ``multipart/byteranges``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from litestar import Response

from server.errors import RangeNotSatisfiable

_SPEC = re.compile(r"^(\d*)-(\d*)$")


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int
    """Inclusive, as in ``Content-Range``."""

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end}/{size}"


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The one range of a ``size``-byte body that ``header`` asks for; None: send it whole.

    Whole: no header, another unit, a malformed header (ignored, §14.2), or several ranges.
    Raises ``RangeNotSatisfiable`` when no range asked for overlaps the body.
    """
    if header is None:
        return None
    unit, sep, specs = header.partition("=")
    if not sep or unit.strip().lower() != "bytes":
        return None
    ranges: list[ByteRange | None] = []  # None: well-formed but outside the body
    for raw in specs.split(","):
        spec = raw.strip()
        if not spec:
            continue  # the grammar allows empty list elements
        match = _SPEC.match(spec)
        if match is None:
            return None
        first, last = match.group(1), match.group(2)
        if not first and not last:
            return None
        if not first:  # suffix: the last N bytes
            suffix = int(last)
            ranges.append(ByteRange(max(0, size - suffix), size - 1) if suffix and size else None)
            continue
        start = int(first)
        if last and int(last) < start:
            return None
        if start >= size:
            ranges.append(None)
            continue
        end = min(int(last), size - 1) if last else size - 1
        ranges.append(ByteRange(start, end))
    if not ranges:
        return None
    satisfiable = [r for r in ranges if r is not None]
    if not satisfiable:
        raise RangeNotSatisfiable(
            "The requested range is outside the audio.",
            details={"size": size},
            headers={"Content-Range": f"bytes */{size}"},
        )
    return satisfiable[0] if len(ranges) == 1 else None


def ranged_response(
    body: bytes,
    range_header: str | None,
    *,
    media_type: str,
    headers: Mapping[str, str] | None = None,
) -> Response[bytes]:
    """``body`` whole (200) or the range asked for (206), always saying ranges are accepted."""
    out = {**(headers or {}), "Accept-Ranges": "bytes"}
    try:
        wanted = parse_range(range_header, len(body))
    except RangeNotSatisfiable as err:
        err.headers.update(out)
        raise
    if wanted is None:
        return Response(body, status_code=200, media_type=media_type, headers=out)
    out["Content-Range"] = wanted.content_range(len(body))
    return Response(
        body[wanted.start : wanted.end + 1], status_code=206, media_type=media_type, headers=out
    )
