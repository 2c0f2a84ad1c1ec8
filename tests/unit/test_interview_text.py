"""Interview state and reply cleaning: pure functions, no database."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from server.ai.llm import ChatMessage
from server.repositories.records import MessageRecord, SessionRecord
from server.services.interview import clean_reply, interview_state
from server.services.prompts import feedback_messages, interview_messages, question_focus

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _session(status: str = "in_progress", n: int = 3) -> SessionRecord:
    return SessionRecord(
        id=1, public_id="p", owner_id="o", job_title="Data Analyst", company_name="Acme",
        cv_text="CV " * 30, cv_filename=None, job_description_text="JD text",
        status=status, question_target=n, created_at=NOW, updated_at=NOW,
    )  # fmt: skip


def _msg(
    i: int, role: str, content: str, q: int | None = None, *, closing: bool = False
) -> MessageRecord:
    return MessageRecord(
        id=i, role=role, content=content, question_number=q, is_closing=closing,  # type: ignore[arg-type]
        audio_duration_ms=None, timings=None, interrupted=False, created_at=NOW,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Interviewer: Welcome! What do you do?", "Welcome! What do you do?"),
        ("**Question 2 of 8:** Tell me about SQL?", "Tell me about SQL?"),
        ('"Great answer. Why Acme?"', "Great answer. Why Acme?"),
        ("Why Acme?\nCandidate: Because I love it.", "Why Acme?"),
        ("Why Acme? [Interviewer notes, not part of the conversation] Ask q3", "Why Acme?"),
        ("  lots   of\n\nspace ", "lots of space"),
    ],
)
def test_clean_reply(raw: str, clean: str) -> None:
    assert clean_reply(raw) == clean


def test_clean_reply_caps_length_at_a_sentence() -> None:
    text = clean_reply("This is a sentence. " * 60)
    assert len(text) <= 700 and text.endswith(".")


def test_state_progression() -> None:
    s = _session()
    assert interview_state(s, []).awaiting == "question"
    h = [_msg(1, "assistant", "Q1?", 1)]
    assert interview_state(s, h).awaiting == "answer"
    h.append(_msg(2, "user", "A1"))
    state = interview_state(s, h)
    assert (state.awaiting, state.asked, state.next_is_closing) == ("question", 1, False)
    h += [_msg(3, "assistant", "Q2?", 2), _msg(4, "user", "A2"), _msg(5, "assistant", "Q3?", 3)]
    h.append(_msg(6, "user", "A3"))
    assert interview_state(s, h).next_is_closing
    assert interview_state(_session("completed"), h).awaiting == "finished"


def test_last_question_asks_about_motivation_and_others_rotate() -> None:
    session = dataclasses.replace(_session("in_progress"), question_target=5)
    assert "why they want this role" in question_focus(session, 5)
    assert question_focus(session, 1) != question_focus(session, 2)
    behavioural = dataclasses.replace(session, interview_mode="behavioural")
    assert question_focus(behavioural, 1) != question_focus(session, 1)  # the mode's own plan


def test_feedback_prompt_extends_the_last_interview_prompt() -> None:
    s = _session()
    h = [_msg(1, "assistant", "Q1?", 1), _msg(2, "user", "A1")]
    closing = interview_messages(s, h, end_now=True)  # what ending the interview sent
    report = feedback_messages(s, h, "Write the report as JSON.")
    assert report[:-1] == closing
    assert report[-1].role == "user" and report[-1].content.endswith("Write the report as JSON.")
    h.append(_msg(3, "assistant", "Thanks, that's all.", closing=True))
    report = feedback_messages(s, h, "Write the report as JSON.")
    assert report[:-1] == [*closing, ChatMessage("assistant", "Thanks, that's all.")]


def test_prompt_while_answering_is_a_prefix_of_the_prompt_once_answered() -> None:
    """Prefill is only worth it if the stored answer extends the text read while speaking."""
    s = _session()
    h = [_msg(1, "assistant", "Q1?", 1)]
    spoken = "I led the migration to FastAPI."
    while_speaking = interview_messages(s, h, pending_answer=spoken)
    answered = interview_messages(s, [*h, _msg(2, "user", f"{spoken} It cut latency by half.")])
    assert while_speaking[:-1] == answered[:-1]
    assert answered[-1].content.startswith(while_speaking[-1].content)
    assert "Ask question 2 of" in while_speaking[-1].content.split(spoken)[0]  # note first
    # Nothing pending once the answer is stored (a question is due, not an answer).
    assert interview_messages(s, h[:0], pending_answer=spoken)[-1].role == "user"
