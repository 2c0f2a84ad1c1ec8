"""Per-answer notes: written in the background, never in a candidate's way."""

from __future__ import annotations

from server.services.notes import AnswerNotes
from tests.fakes import FakeChatModel
from tests.helpers import interview_records

ANSWER = "At Parcelly I rebuilt the order tracking API in FastAPI and cut p95 latency to 180 ms."


async def test_notes_of_one_interview_are_written_in_order_and_forget_drops_them() -> None:
    llm = FakeChatModel()
    notes = AnswerNotes(llm)
    session, history = interview_records([ANSWER, "I tuned PostgreSQL with EXPLAIN ANALYZE."])
    notes.schedule(session, history[:2])
    notes.schedule(session, history)
    collected = await notes.collect(session, history)
    assert len(llm.json_calls) == 2  # nothing written twice
    assert [n["strength"].split(":")[0] for n in collected if n] == [
        "Strength about answer 1",
        "Strength about answer 2",
    ]
    assert notes.holds(session.id)
    notes.forget(session.id)
    assert notes.cached(session.id, history[-1]) is None and not notes.holds(session.id)


async def test_a_note_the_model_cannot_write_is_left_to_the_evidence() -> None:
    llm = FakeChatModel()
    llm.json_replies = [["not", "an", "object"], "still not"]
    notes = AnswerNotes(llm)
    session, history = interview_records([ANSWER])
    assert await notes.note_for(session, history) is None
    assert len(llm.json_calls) == 2  # tried twice
