"""Byte ranges for the answer audio (RFC 9110 §14), and the WAV header it is served with."""

from __future__ import annotations

import io
import wave

import pytest

from server.errors import RangeNotSatisfiable
from server.routes.ranges import ByteRange, parse_range, ranged_response
from server.services.recordings import WAV_HEADER_BYTES, wav_header

SIZE = 1000


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-", ByteRange(0, 999)),
        ("bytes=0-0", ByteRange(0, 0)),
        ("bytes=100-199", ByteRange(100, 199)),
        ("bytes=990-5000", ByteRange(990, 999)),  # the end is clamped to the body
        ("bytes=999-", ByteRange(999, 999)),
        ("bytes=-500", ByteRange(500, 999)),  # suffix: the last 500 bytes
        ("bytes=-5000", ByteRange(0, 999)),  # a suffix longer than the body is all of it
        ("Bytes = 100-199", ByteRange(100, 199)),  # the unit is case-insensitive
        ("bytes= 100-199 ,", ByteRange(100, 199)),  # empty list elements are allowed
    ],
)
def test_one_range(header: str, expected: ByteRange) -> None:
    assert parse_range(header, SIZE) == expected


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "items=0-10",  # another unit
        "bytes",
        "bytes=",
        "bytes=-",
        "bytes=abc-",
        "bytes=+1-2",
        "bytes=200-100",  # last before first: invalid, so the header is ignored
        "bytes=0-1,5-6",  # several ranges: sent whole rather than multipart
        "bytes=0-1,abc",
    ],
)
def test_whole_body(header: str | None) -> None:
    assert parse_range(header, SIZE) is None


@pytest.mark.parametrize(
    "header", ["bytes=1000-", "bytes=1000-1999", "bytes=-0", "bytes=5000-,2000-"]
)
def test_unsatisfiable(header: str) -> None:
    with pytest.raises(RangeNotSatisfiable) as caught:
        parse_range(header, SIZE)
    assert caught.value.status_code == 416
    assert caught.value.headers["Content-Range"] == "bytes */1000"


def test_one_satisfiable_of_several_is_sent_whole() -> None:
    assert parse_range("bytes=5000-,0-9", SIZE) is None


def test_ranged_response() -> None:
    body = bytes(range(256)) * 4
    whole = ranged_response(body, None, media_type="audio/wav", headers={"X-A": "1"})
    assert whole.status_code == 200 and whole.content == body
    assert whole.headers["Accept-Ranges"] == "bytes" and whole.headers["X-A"] == "1"
    part = ranged_response(body, "bytes=10-19", media_type="audio/wav")
    assert part.status_code == 206 and part.content == body[10:20]
    assert part.headers["Content-Range"] == f"bytes 10-19/{len(body)}"
    with pytest.raises(RangeNotSatisfiable) as caught:
        ranged_response(body, "bytes=4096-", media_type="audio/wav", headers={"X-A": "1"})
    assert caught.value.headers == {
        "Content-Range": "bytes */1024",
        "Accept-Ranges": "bytes",
        "X-A": "1",
    }


def test_wav_header_reads_back_with_the_standard_library() -> None:
    pcm = bytes(range(200)) * 8  # 1600 bytes: 800 samples
    data = wav_header(len(pcm), 16_000) + pcm
    assert len(data) == WAV_HEADER_BYTES + len(pcm)
    with wave.open(io.BytesIO(data)) as wav:
        assert wav.getnchannels() == 1
        assert wav.getsampwidth() == 2
        assert wav.getframerate() == 16_000
        assert wav.getnframes() == 800
        assert wav.readframes(800) == pcm
