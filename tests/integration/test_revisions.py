"""The second pass's readings reach the record: stored in place of the live text with the
original kept, never over a candidate's correction or under a report already written."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar

from models.tables import InterviewSession
from server.repositories.sessions import MessageRepository
from server.services.conversation import InterviewConversation
from tests.helpers import Client, create_session

pytestmark = pytest.mark.db

LIVE = "I moved event delivery to calf consumers and cut the late and see."
SECOND = "I moved event delivery to Kafka consumers and cut the latency."


async def _asked(client: Client, cv: str, jd: str) -> tuple[str, int]:
    response = await create_session(client, cv, jd)
    assert response.status_code == 201, response.text
    session_id: str = response.json()["id"]
    assert (await client.post(f"/api/sessions/{session_id}/next")).status_code == 200
    row = (
        await InterviewSession.select(InterviewSession.id)
        .where(InterviewSession.public_id == session_id)
        .first()
    )
    assert row is not None
    return session_id, row["id"]


async def _conversation(app: Litestar, session_id: str) -> InterviewConversation:
    services = app.state.services
    owner = (
        await InterviewSession.select(InterviewSession.owner_id)
        .where(InterviewSession.public_id == session_id)
        .first()
    )
    assert owner is not None
    return InterviewConversation(
        services.interview,
        services.sessions,
        public_id=session_id,
        owner_id=owner["owner_id"],
        max_answer_chars=services.settings.max_answer_chars,
        recordings=services.recordings,
        revisions=services.revisions,
    )


async def _answers(session_row_id: int) -> list[Any]:
    return [
        m for m in await MessageRepository().list_for_session(session_row_id) if m.role == "user"
    ]


async def _spoken(app: Litestar, client: Client, cv: str, jd: str) -> tuple[Any, int, int]:
    session_id, row_id = await _asked(client, cv, jd)
    conversation = await _conversation(app, session_id)
    progress = await conversation.save_candidate_turn(
        LIVE, audio_duration_ms=4000, timings={}, continues_previous=False
    )
    assert progress.answer_id is not None
    return conversation, row_id, progress.answer_id


async def test_a_second_pass_replaces_the_live_text_and_keeps_it_as_the_original(
    client: Client, app: Litestar, sample_cv: str, sample_jd: str
) -> None:
    conversation, row_id, answer_id = await _spoken(app, client, sample_cv, sample_jd)
    assert await conversation.revise_answer(answer_id, LIVE, SECOND) is True
    (answer,) = await _answers(row_id)
    assert answer.id == answer_id
    assert answer.content == SECOND
    assert answer.original_content == LIVE
    assert answer.revised_by == "second_pass"


async def test_a_continued_answer_has_one_id(
    client: Client, app: Litestar, sample_cv: str, sample_jd: str
) -> None:
    conversation, row_id, answer_id = await _spoken(app, client, sample_cv, sample_jd)
    progress = await conversation.save_candidate_turn(
        "And the consumers are idempotent.",
        audio_duration_ms=2000,
        timings={},
        continues_previous=True,
    )
    assert progress.answer_id == answer_id
    whole = f"{LIVE} And the consumers are idempotent."
    assert await conversation.revise_answer(answer_id, LIVE, SECOND) is False  # not what's stored
    assert await conversation.revise_answer(answer_id, whole, SECOND + " They are idempotent.")
    (answer,) = await _answers(row_id)
    assert answer.original_content == whole


async def test_a_candidates_correction_is_never_overwritten(
    client: Client, app: Litestar, sample_cv: str, sample_jd: str
) -> None:
    conversation, row_id, answer_id = await _spoken(app, client, sample_cv, sample_jd)
    corrected = "I moved event delivery to Kafka consumers and cut p99 latency by 80%."
    await MessageRepository().revise(answer_id, corrected, revised_by="candidate")
    assert await conversation.revise_answer(answer_id, LIVE, SECOND) is False
    assert await conversation.revise_answer(answer_id, corrected, SECOND) is False
    (answer,) = await _answers(row_id)
    assert answer.content == corrected and answer.revised_by == "candidate"
    assert answer.original_content == LIVE


async def test_no_revision_once_the_report_exists_or_for_other_messages(
    client: Client, app: Litestar, sample_cv: str, sample_jd: str
) -> None:
    conversation, row_id, answer_id = await _spoken(app, client, sample_cv, sample_jd)
    history = await MessageRepository().list_for_session(row_id)
    question = next(m for m in history if m.role == "assistant")
    assert await conversation.revise_answer(question.id, question.content, "Hijacked.") is False
    assert await conversation.revise_answer(10_000, LIVE, SECOND) is False
    assert await conversation.revise_answer(answer_id, LIVE, "x" * 9_000) is False  # too long
    response = await client.post(f"/api/sessions/{conversation.public_id}/feedback")
    assert response.status_code in (200, 201), response.text
    assert await conversation.revise_answer(answer_id, LIVE, SECOND) is False
    (answer,) = await _answers(row_id)
    assert answer.content == LIVE and answer.revised_by is None


async def test_the_room_and_the_report_mark_an_answer_the_second_pass_revised(
    client: Client, app: Litestar, sample_cv: str, sample_jd: str
) -> None:
    conversation, _row_id, answer_id = await _spoken(app, client, sample_cv, sample_jd)
    assert await conversation.revise_answer(answer_id, LIVE, SECOND)
    session = (await client.get(f"/api/sessions/{conversation.public_id}")).json()
    (answer,) = [m for m in session["messages"] if m["role"] == "user"]
    assert answer["revised_by"] == "second_pass" and answer["original_content"] == LIVE
    for path in (
        f"/sessions/{conversation.public_id}",
        f"/sessions/{conversation.public_id}/report",
    ):
        html = (await client.get(path)).text
        assert "Re-transcribed from your whole answer" in html, path
        assert SECOND in html and LIVE in html  # the live text, under "Original text"
