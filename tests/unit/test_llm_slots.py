"""Each interview is pinned to one of the embedded server's slots, so that another interview's
turn does not evict its prompt cache (the real-model check is in test_real_llm)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from server.ai.llm import ChatMessage, OpenAIChatModel, SlotPool, json_object
from server.settings import Settings

COMPLETION = {
    "id": "x",
    "object": "chat.completion",
    "created": 0,
    "model": "local",
    "choices": [
        {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "{}"}}
    ],
    "usage": {"prompt_tokens": 10, "completion_tokens": 1, "total_tokens": 11},
}


def test_slot_pool_pins_conversations_and_reuses_the_least_recent_slot() -> None:
    pool = SlotPool(2)
    assert [pool.slot_for(c) for c in ("a", "b", "a", "b")] == [0, 1, 0, 1]
    pool.slot_for("a")  # b is now the least recently used
    assert pool.slot_for("c") == 1
    assert pool.slot_for("a") == 0
    assert pool.slot_for("b") == 1  # b comes back on the slot c used least recently


def test_a_dedicated_conversation_keeps_its_slot_and_interviews_share_the_others() -> None:
    pool = SlotPool(3, dedicated=("notes",))
    assert pool.slot_for("notes") == 2
    assert [pool.slot_for(c) for c in ("a", "b", "c")] == [0, 1, 0]  # c took a's slot, not 2
    assert pool.slot_for("notes") == 2
    with pytest.raises(ValueError, match="dedicated"):
        SlotPool(1, dedicated=("notes",))


def _model(slots: int, bodies: list[dict[str, Any]]) -> OpenAIChatModel:
    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return httpx.Response(200, json=COMPLETION)

    model = OpenAIChatModel(
        base_url="http://llm.test/v1", api_key="", model="local", prefill=True, slots=slots
    )
    model._client = openai.AsyncOpenAI(
        base_url="http://llm.test/v1",
        api_key="x",
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
    )
    return model


async def test_requests_carry_their_interviews_slot() -> None:
    bodies: list[dict[str, Any]] = []
    model = _model(2, bodies)
    messages = [ChatMessage("user", "hello")]
    await model.prefill(messages, conversation="a")
    await model.complete_json(messages, schema_name="n", schema={}, max_tokens=5, conversation="b")
    await model.prefill(messages, conversation="a")
    await model.prefill(messages)  # no interview: the server picks
    assert [b.get("id_slot") for b in bodies] == [0, 1, 0, None]


async def test_nothing_extra_is_sent_to_a_server_without_slots() -> None:
    """OpenAI and others reject unknown fields: ``id_slot`` goes to the embedded server only."""
    bodies: list[dict[str, Any]] = []
    model = _model(0, bodies)
    await model.prefill([ChatMessage("user", "hello")], conversation="a")
    assert "id_slot" not in bodies[0]


async def test_the_embedded_server_has_a_slot_for_the_notes_beside_the_interviews(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from server.ai import embedded

    async def started(self: embedded.EmbeddedLlamaServer) -> None:
        return None

    monkeypatch.setattr(embedded, "assemble", lambda build, models_dir, progress: tmp_path)
    monkeypatch.setattr(embedded.EmbeddedLlamaServer, "start_async", started)
    server = await embedded.start_embedded_llm(Settings(llm_slots=2))
    assert server.slots == 3


async def test_json_cut_off_by_the_server_grammar_is_an_unusable_answer_not_an_outage() -> None:
    """llama.cpp answers 500 when a schema-bound output was cut off: ``json_object`` asks
    again and gives ``None``, so one note never fails a whole report."""
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(
            500,
            json={
                "error": {
                    "code": 500,
                    "message": "The model produced output that does not match the expected "
                    "peg-native format",
                    "type": "server_error",
                }
            },
        )

    model = OpenAIChatModel(base_url="http://llm.test/v1", api_key="", model="local")
    model._client = openai.AsyncOpenAI(
        base_url="http://llm.test/v1",
        api_key="x",
        max_retries=0,
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
    )
    note = await json_object(
        model,
        [ChatMessage("user", "hello")],
        schema_name="n",
        schema={},
        max_tokens=5,
        attempts=2,
        context="test",
    )
    assert note is None and len(calls) == 2
