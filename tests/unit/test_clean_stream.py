from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from server.services.interview import clean_reply, clean_stream


async def _deltas(text: str, size: int) -> AsyncIterator[str]:
    for i in range(0, len(text), size):
        yield text[i : i + size]


@pytest.mark.parametrize("size", [1, 3, 7, 50])
@pytest.mark.parametrize(
    "raw",
    [
        "Interviewer: Welcome to Acme! Tell me about **your** last project?",
        "Great. What did you measure?\nCandidate: I measured latency.",
        "Short?",
        "Question 3 of 5: Why this role? [Interviewer notes, not part of the conversation] x",
    ],
)
async def test_stream_cleaning_matches_whole_text_cleaning(raw: str, size: int) -> None:
    streamed = "".join([d async for d in clean_stream(_deltas(raw, size))])
    assert " ".join(streamed.split()) == clean_reply(raw)
