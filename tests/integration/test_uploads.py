"""Uploads are untrusted input to complex parsers (server/services/documents.py): bombs get a
clear 4xx within two seconds, parsed in a process of their own, while the server carries on."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest
from litestar import Litestar

from bench.upload_bombs import BOMBS, many_pages, zip_bomb
from server.errors import ValidationError
from server.services.documents import ParseLimits, read_cv
from tests.helpers import create_session
from tests.live import serve

pytestmark = pytest.mark.db

LIMIT_S = 2.0


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
