"""A model that stalls, answers junk or is down fails the turn in seconds with a clear,
retryable error, the answer kept; once the model is back, retry works. Against a real HTTP
server on loopback that speaks just enough of the OpenAI API (``bench.stub_llm``)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from bench.stub_llm import StubModel
from server.ai.llm import ChatMessage, OpenAIChatModel
from server.errors import AIServiceError
from server.settings import Settings
from tests.helpers import create_session, substantive_answers
from tests.live import serve

pytestmark = pytest.mark.db


@pytest.fixture
async def stub() -> AsyncIterator[StubModel]:
    async with StubModel() as model:
        yield model


@pytest.mark.parametrize("mode", ["stall", "trickle", "junk", "error", "cut"])
async def test_a_reply_from_a_broken_model_fails_within_its_timeout(
    stub: StubModel, mode: str
) -> None:
    stub.mode = mode
    model = OpenAIChatModel(base_url=stub.base_url, api_key="", model="m", reply_timeout_s=0.5)
    started = time.perf_counter()
    with pytest.raises(AIServiceError):
        _ = [d async for d in model.stream_chat([ChatMessage("user", "hi")], max_tokens=20)]
    assert time.perf_counter() - started < 2.0
    assert stub.requests == 1  # asked once: a candidate is waiting


async def test_a_stalled_model_fails_the_turn_the_answer_is_kept_and_retry_works(
    stub: StubModel, settings: Settings, db: None, sample_cv: str, sample_jd: str
) -> None:
    from server.app import create_app

    app = create_app(
        dataclasses.replace(
            settings, llm_base_url=stub.base_url, llm_model="m", llm_reply_timeout_s=1.0
        )
    )
    # Served on a thread of its own: the stub model answers on this test's event loop.
    with serve(app) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            await _stalled_turn_then_retry(client, stub, sample_cv, sample_jd)


async def _stalled_turn_then_retry(
    client: httpx.AsyncClient, stub: StubModel, sample_cv: str, sample_jd: str
) -> None:
    await client.get("/api/sessions")
    sid = (await create_session(client, sample_cv, sample_jd)).json()["id"]  # type: ignore[arg-type]
    await client.post(f"/api/sessions/{sid}/next")  # the fixed opening: no model
    stub.mode = "stall"
    started = time.perf_counter()
    response = await client.post(
        f"/api/sessions/{sid}/answers", json={"text": substantive_answers(1)[0]}
    )
    assert time.perf_counter() - started < 5.0
    assert response.status_code == 502
    error = response.json()["error"]
    assert error["details"]["answer_saved"] is True and "retry" in error["message"]
    stub.mode = "ok"
    retried = await client.post(f"/api/sessions/{sid}/next")
    assert retried.status_code in (200, 201), (retried.text, stub.requests)
    assert retried.json()["reply"]["content"].endswith("Which project are you proudest of?")
    roles = [m["role"] for m in (await client.get(f"/api/sessions/{sid}")).json()["messages"]]
    assert roles == ["assistant", "user", "assistant"]
