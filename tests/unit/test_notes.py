"""Per-answer notes: written in the background, never in a candidate's way."""

from __future__ import annotations

import asyncio

from server.services.notes import AnswerNotes
from tests.fakes import FakeChatModel
from tests.helpers import interview_records

ANSWER = "At Parcelly I rebuilt the order tracking API in FastAPI and cut p95 latency to 180 ms."


async def _settle(condition: object, *, rounds: int = 200) -> None:
    for _ in range(rounds):
        if callable(condition) and condition():
            return
        await asyncio.sleep(0.005)


async def test_a_reply_pre_empts_the_note_being_written_which_is_written_again_after() -> None:
    llm = FakeChatModel()
    llm.json_gate = asyncio.Event()
    notes = AnswerNotes(llm)
    session, history = interview_records([ANSWER])
    notes.schedule(session, history)
    await _settle(lambda: len(llm.json_calls) == 1)
    assert len(llm.json_calls) == 1  # the note is being written

    async with notes.foreground():  # a reply is generated: the note stops and waits
        await asyncio.sleep(0.02)
        assert len(llm.json_calls) == 1
    llm.json_gate.set()
    await notes.wait(session.id)
    assert len(llm.json_calls) == 2  # written again, from the start, once the reply was done
    note = notes.cached(session.id, history[-1])
    assert note is not None and note["strength"]["quote"] in ANSWER


async def test_notes_of_one_interview_are_written_in_order_and_forget_drops_them() -> None:
    llm = FakeChatModel()
    notes = AnswerNotes(llm)
    session, history = interview_records([ANSWER, "I tuned PostgreSQL with EXPLAIN ANALYZE."])
    notes.schedule(session, history[:2])
    notes.schedule(session, history)
    collected = await notes.collect(session, history)
    assert len(llm.json_calls) == 2  # nothing written twice
    assert [n["strength"]["point"] for n in collected if n] == [
        "Strength about answer 1",
        "Strength about answer 2",
    ]
    notes.forget(session.id)
    assert notes.cached(session.id, history[-1]) is None


async def test_a_note_the_model_cannot_write_is_left_to_the_evidence() -> None:
    llm = FakeChatModel()
    llm.json_replies = [["not", "an", "object"], "still not"]
    notes = AnswerNotes(llm)
    session, history = interview_records([ANSWER])
    assert await notes.note_for(session, history) is None
    assert len(llm.json_calls) == 2  # tried twice
