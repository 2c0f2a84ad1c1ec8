"""Per-answer notes: written in the background, never in a candidate's way."""

from __future__ import annotations

from server.feedback.notes import AnswerNotes
from server.services.activity import InterviewActivity
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
        "You did well in answer 1",
        "You did well in answer 2",
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


async def test_a_note_gives_way_while_another_interview_uses_the_model() -> None:
    now = [0.0]
    activity = InterviewActivity(window_s=45, clock=lambda: now[0])
    llm = FakeChatModel()
    notes = AnswerNotes(llm, activity)
    session, history = interview_records([ANSWER])
    with activity.using("another-interview"):
        pass
    notes.schedule(session, history)
    await notes.wait(session.id)
    assert llm.json_calls == [] and notes.cached(session.id, history[-1]) is None
    # The report still gets it: missing notes are written when it is asked for.
    collected = await notes.collect(session, history)
    assert len(llm.json_calls) == 1 and collected[0] is not None
    # Once the other interview has been quiet for the window, notes run in the background.
    _, more = interview_records([ANSWER, "I tuned PostgreSQL with EXPLAIN ANALYZE."])
    now[0] = 46.0
    notes.schedule(session, more)
    await notes.wait(session.id)
    assert len(llm.json_calls) == 2


def test_activity_counts_other_interviews_at_work_or_within_the_window() -> None:
    now = [0.0]
    activity = InterviewActivity(window_s=45, clock=lambda: now[0])
    with activity.using("a"):
        assert activity.others("a") == 0 and activity.others("b") == 1
        now[0] = 100.0  # a long request: still in progress, whatever the window
        assert activity.others("b") == 1
    now[0] = 130.0
    with activity.using("b"):
        pass
    assert activity.others("a") == 1 and activity.others("b") == 1
    now[0] = 150.0  # "a" finished 50 s ago, "b" 20 s ago
    assert activity.others("b") == 0 and activity.others("a") == 1


def test_activity_forgets_interviews_quiet_for_the_window() -> None:
    now = [0.0]
    activity = InterviewActivity(window_s=45, clock=lambda: now[0])
    for name in ("a", "b", "c"):
        with activity.using(name):
            pass
    now[0] = 100.0
    with activity.using("d"):
        pass
    assert activity._last.keys() == {"d"}  # no growth over a long-running server
