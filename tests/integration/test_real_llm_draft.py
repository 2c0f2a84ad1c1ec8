"""The real embedded quality model with the fast one drafting (llama.cpp's speculative
decoding through xllamacpp): it starts, drafts, and replies as the model alone does."""

from __future__ import annotations

import httpx
import pytest

from server.ai.embedded import EmbeddedLlamaServer
from server.ai.model_files import BUILDS, assemble
from tests.conftest import MODELS_DIR

pytestmark = pytest.mark.slow


def test_the_quality_model_drafted_by_the_fast_one_replies() -> None:
    server = EmbeddedLlamaServer(
        assemble(BUILDS["quality"], MODELS_DIR),
        threads=2,
        context_tokens=2048,
        draft_model_path=assemble(BUILDS["fast"], MODELS_DIR),
    )
    server.start()
    try:
        response = httpx.post(
            f"{server.base_url}/chat/completions",
            json={
                "messages": [
                    {"role": "system", "content": "You are a friendly job interviewer."},
                    {"role": "user", "content": "Ask me one short question about Python."},
                ],
                "max_tokens": 30,
                "temperature": 0,
            },
            timeout=300,
        )
    finally:
        server.stop()
    response.raise_for_status()
    body = response.json()
    assert body["choices"][0]["message"]["content"].strip()
    timings = body["timings"]
    # It drafted (llama.cpp reports the drafted and accepted tokens only when it does).
    assert timings["draft_n"] > 0 and 0 <= timings["draft_n_accepted"] <= timings["draft_n"]
