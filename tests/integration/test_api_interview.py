"""A typed interview over HTTP with a fake model: flow, limits, failures, resume, feedback."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import re
import time
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from server.ai.llm import ChatMessage
from server.errors import AIOutputError, AIServiceError
from server.feedback.notes import NOTES_CONVERSATION
from server.feedback.questions import asked
from server.services.interview import CLOSING
from server.services.plans import PLANS
from server.services.sessions import NewSession
from server.settings import Settings
from tests.fakes import FakeChatModel, cited_note
from tests.helpers import (
    Client,
    create_session,
    interview_records,
    run_interview,
    substantive_answers,
)

pytestmark = pytest.mark.db


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Here every note is written when the report is asked for, in answer order, so a test
    can script the model's replies; ``test_notes_are_written_while_the_interview_goes_on``
    covers the background path."""
    return dataclasses.replace(settings, notes_during_interview=False)


async def _new(client: Client, cv: str, jd: str, questions: int = 3) -> str:
    response = await create_session(client, cv, jd, questions=questions)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_full_typed_interview(client: Client, sample_cv: str, sample_jd: str) -> None:
    sid = await _new(client, sample_cv, sample_jd, questions=3)
    turns = await run_interview(client, sid, substantive_answers(3))

    labels = [t["progress"]["label"] for t in turns]
    assert labels == ["Question 1 of 3", "Question 2 of 3", "Question 3 of 3", "Question 3 of 3"]
    questions = [t["reply"] for t in turns[:3]]
    assert [q["question_number"] for q in questions] == [1, 2, 3]
    # Labels the model adds are cleaned off before storing.
    assert not questions[0]["content"].startswith("Interviewer")
    closing = turns[3]["reply"]
    assert closing["is_closing"] and closing["question_number"] is None
    assert turns[3]["progress"]["awaiting"] == "finished"

    session = (await client.get(f"/api/sessions/{sid}")).json()
    assert session["status"] == "completed"
    assert [m["role"] for m in session["messages"]] == ["assistant", "user"] * 3 + ["assistant"]

    # Never more than N questions: the finished interview takes no more answers.
    response = await client.post(f"/api/sessions/{sid}/answers", json={"text": "One more?"})
    assert response.status_code == 409
    assert (await client.post(f"/api/sessions/{sid}/next")).status_code == 409


async def test_prompt_is_append_only(
    client: Client, fake_llm: FakeChatModel, sample_cv: str, sample_jd: str
) -> None:
    sid = await _new(client, sample_cv, sample_jd, questions=3)
    await run_interview(client, sid, substantive_answers(3))
    calls = fake_llm.chat_calls
    assert len(calls) == 2  # the opening and the closing are composed: no model call
    # While the candidate reads it, the model reads the interview so far: a prefix of the
    # first reply's prompt.
    read_ahead = fake_llm.prefill_calls[0]
    assert calls[0][: len(read_ahead) - 1] == read_ahead[:-1]
    assert calls[0][len(read_ahead) - 1].content.startswith(read_ahead[-1].content)
    for earlier, later in itertools.pairwise(calls):
        # Everything but the newest user turn is repeated verbatim: the server's cache reuses it.
        assert later[: len(earlier) - 1] == earlier[:-1]
        assert later[len(earlier) - 1].content.startswith(earlier[-1].content.split("\n\n")[0])
    system = calls[0][0].content
    assert "Fernway Health" in system and "Parcelly" in system and "Question" not in system
    # A reply to an answer is the model continuing the acknowledgement composed from it.
    assert calls[0][-1] == ChatMessage("assistant", "You mentioned FastAPI and latency.")
    assert "Ask question 2 of 3" in calls[0][-2].content
    assert set(fake_llm.conversations) == {sid}  # every request names its interview
    # The closing: the last answer acknowledged, then the fixed line (nothing the model wrote).
    messages = (await client.get(f"/api/sessions/{sid}")).json()["messages"]
    closing = messages[-1]
    assert closing["is_closing"] and closing["content"].endswith(CLOSING), closing
    named = re.findall(r"[A-Z][A-Za-z]+", closing["content"].removesuffix(CLOSING))[1:]
    assert named and all(word in messages[-2]["content"] for word in named), closing


async def test_an_interviewer_reply_out_of_role_is_never_stored(
    client: Client, fake_llm: FakeChatModel, sample_cv: str, sample_jd: str
) -> None:
    """What the 0.5B model really does: it repeats the answer in the first person. The guard
    stops it and the planned question is asked instead (the voice path streams the same)."""
    sid = await _new(client, sample_cv, sample_jd, questions=3)
    await client.post(f"/api/sessions/{sid}/next")
    answer = (
        "At Parcelly I led the move of our order tracking service from a Django monolith to "
        "async FastAPI services, and we cut the p95 latency to 180 milliseconds."
    )
    fake_llm.chat_replies.append(answer + " I also wrote the runbook for incidents.")
    response = await client.post(f"/api/sessions/{sid}/answers", json={"text": answer})
    assert response.status_code == 201, response.text
    reply = response.json()["reply"]
    session = (await client.get(f"/api/sessions/{sid}")).json()
    # The acknowledgement composed from the answer, then the planned question: on the job
    # description's first requirement line (plans.py).
    assert reply["content"] == (
        "You mentioned Django and FastAPI. The role asks for this: design, build and operate "
        "Python services backed by PostgreSQL. Where have you done that, and how did it go?"
    )
    assert reply["question_number"] == 2
    assert fake_llm.chat_streams_finished == 0  # the echo was closed, not read to the end
    assert session["messages"][-1]["content"] == reply["content"]


async def test_answer_is_kept_when_the_model_fails_and_retry_works(
    client: Client, fake_llm: FakeChatModel, sample_cv: str, sample_jd: str
) -> None:
    sid = await _new(client, sample_cv, sample_jd)
    await client.post(f"/api/sessions/{sid}/next")
    fake_llm.fail_next_chat = AIServiceError("The language model failed: HTTP 503")
    precious = substantive_answers(1)[0]
    response = await client.post(f"/api/sessions/{sid}/answers", json={"text": precious})
    assert response.status_code == 502
    error = response.json()["error"]
    assert error["code"] == "ai_service_error"
    assert error["details"]["answer_saved"] is True

    session = (await client.get(f"/api/sessions/{sid}")).json()
    assert session["messages"][-1]["content"] == precious
    assert session["progress"]["awaiting"] == "question"

    retry = await client.post(f"/api/sessions/{sid}/next")
    assert retry.status_code == 200
    assert retry.json()["reply"]["question_number"] == 2


async def test_answer_rules(client: Client, sample_cv: str, sample_jd: str) -> None:
    sid = await _new(client, sample_cv, sample_jd)
    # No question asked yet: an answer is out of turn.
    response = await client.post(f"/api/sessions/{sid}/answers", json={"text": "Early."})
    assert response.status_code == 409
    await client.post(f"/api/sessions/{sid}/next")
    assert (
        await client.post(f"/api/sessions/{sid}/answers", json={"text": "   "})
    ).status_code == 422
    too_long = "word " * 2000
    assert (
        await client.post(f"/api/sessions/{sid}/answers", json={"text": too_long})
    ).status_code == 422


async def test_resume_where_it_stopped(client: Client, sample_cv: str, sample_jd: str) -> None:
    sid = await _new(client, sample_cv, sample_jd, questions=4)
    await run_interview(client, sid, substantive_answers(2))
    # A new page load: the session says where we are; /next is idempotent while awaiting an answer.
    session = (await client.get(f"/api/sessions/{sid}")).json()
    assert session["progress"] == {
        "question": 3,
        "total": 4,
        "awaiting": "answer",
        "label": "Question 3 of 4",
    }
    again = (await client.post(f"/api/sessions/{sid}/next")).json()
    assert again["reply"]["id"] == session["messages"][-1]["id"]
    assert len((await client.get(f"/api/sessions/{sid}")).json()["messages"]) == 5


async def test_end_early_then_feedback(
    client: Client, fake_llm: FakeChatModel, sample_cv: str, sample_jd: str
) -> None:
    sid = await _new(client, sample_cv, sample_jd, questions=5)
    await run_interview(client, sid, ["Only answer."])
    await client.post(f"/api/sessions/{sid}/answers", json={"text": "Second answer."})
    ended = (await client.post(f"/api/sessions/{sid}/end")).json()
    assert ended["progress"]["awaiting"] == "finished"
    assert (await client.get(f"/api/sessions/{sid}")).json()["status"] == "completed"

    feedback = await client.post(f"/api/sessions/{sid}/feedback")
    assert feedback.status_code == 200
    body = feedback.json()
    # Two two-word answers: the evidence caps the score, whatever the model would say.
    assert body["score"] == body["rubric_score"] <= 2
    for key in ("strengths", "weaknesses", "cv_improvements"):
        assert 3 <= len(body[key]) <= 5
    # The model's strengths cited two-word answers: too thin to praise, so they were dropped.
    assert not any(s.startswith("You did well in") for s in body["strengths"])
    # One note per answer, in the notes' own slot (never the interview's): the role first, the
    # same for every note (read once), then only that question, that answer and its measures.
    assert fake_llm.json_for == [NOTES_CONVERSATION] * 2
    messages = (await client.get(f"/api/sessions/{sid}")).json()["messages"]
    # The question as asked, without the interviewer's greeting (questions.asked).
    questions = [asked(m["content"]) for m in messages if m["role"] == "assistant"]
    answers = ["Only answer.", "Second answer."]
    for number, (request, answer) in enumerate(zip(fake_llm.json_calls, answers, strict=True), 1):
        system, user = request
        assert system == fake_llm.json_calls[0][0] and "Fernway Health" in system.content
        assert questions[number - 1] in user.content and answer in user.content
        assert "Welcome" not in user.content
        assert "Parcelly" not in system.content + user.content  # the CV is not needed
        assert f"answer to question {number} (2 words;" in user.content


async def test_feedback_is_generated_once_with_citations_and_evidence(
    client: Client, fake_llm: FakeChatModel, sample_cv: str, sample_jd: str
) -> None:
    sid = await _new(client, sample_cv, sample_jd)
    answers = [
        "At Parcelly I rebuilt the order tracking API in FastAPI and cut p95 latency to 180 ms.",
        "I tuned PostgreSQL queries with EXPLAIN ANALYZE and added two indexes; load halved.",
        "I mentored three junior engineers and wrote our review guide; reviews got a third faster.",
    ]
    await run_interview(client, sid, answers)
    assert (await client.get(f"/api/sessions/{sid}/feedback")).status_code == 404
    first = (await client.post(f"/api/sessions/{sid}/feedback")).json()
    second = (await client.post(f"/api/sessions/{sid}/feedback")).json()
    assert first == second
    assert len(fake_llm.json_calls) == 3  # a note per answer, once
    assert (await client.get(f"/api/sessions/{sid}/feedback")).json() == first

    assert first["written_by"] == "model"
    assert first["score"] == first["rubric_score"]
    assert set(first["sub_scores"]) >= {"relevance", "clarity", "technical_depth", "alignment"}
    assert len(first["evidence"]["answers"]) == 3
    for section in ("strengths", "weaknesses"):
        citations = first["citations"][section]
        assert len(citations) == len(first[section])
        for citation in citations:
            assert citation["quote"] in answers[citation["answer_index"]]
            assert citation["message_id"] is not None


async def test_score_is_available_without_a_model_call(
    client: Client, fake_llm: FakeChatModel, sample_cv: str, sample_jd: str
) -> None:
    sid = await _new(client, sample_cv, sample_jd)
    assert (await client.get(f"/api/sessions/{sid}/score")).status_code == 422  # nothing said yet
    await run_interview(client, sid, ["Fine.", "Yes.", "Not sure."])
    calls = len(fake_llm.chat_calls)
    score = (await client.get(f"/api/sessions/{sid}/score")).json()
    assert score["score"] <= 2
    assert score["band"] == "Significant work needed"
    assert fake_llm.json_calls == [] and len(fake_llm.chat_calls) == calls


async def test_feedback_for_an_empty_interview(
    client: Client, sample_cv: str, sample_jd: str
) -> None:
    sid = await _new(client, sample_cv, sample_jd)
    await client.post(f"/api/sessions/{sid}/next")
    response = await client.post(f"/api/sessions/{sid}/feedback")
    assert response.status_code == 422
    assert response.json()["error"]["message"] == "Cannot generate feedback for an empty interview."


JUNK: list[object] = [
    ["not", "an", "object"],
    {"strength": 7, "improvement": None},
    {"strengths": ["the wrong key"], "improvement": "   "},
]


async def test_junk_writeups_fall_back_to_the_evidence_and_bounds_hold(
    client: Client, fake_llm: FakeChatModel, sample_cv: str, sample_jd: str
) -> None:
    sid = await _new(client, sample_cv, sample_jd)
    answers = ["I built the refunds API in Django.", "Not sure, someone else did that.", "Yes."]
    await run_interview(client, sid, answers)
    # Note 1: unusable twice (given up); notes 2 and 3: JSON, but nothing usable in it.
    fake_llm.json_replies = [AIOutputError("not JSON"), JUNK[0], JUNK[1], JUNK[2]]
    response = await client.post(f"/api/sessions/{sid}/feedback")
    assert response.status_code == 200, response.text
    body = response.json()
    assert len(fake_llm.json_calls) == 4
    assert body["written_by"] == "evidence"
    for key in ("strengths", "weaknesses", "cv_improvements"):
        assert 3 <= len(body[key]) <= 5
    for section in ("strengths", "weaknesses"):
        for citation in body["citations"][section]:
            if citation["answer_index"] is None:  # what would earn a strength: cites nothing
                assert citation["kind"] == "to_earn" and citation["quote"] == ""
                continue
            assert citation["quote"].lower() in answers[citation["answer_index"]].lower()


async def test_each_point_quotes_the_sentence_of_its_answer_it_is_about(
    client: Client, fake_llm: FakeChatModel, sample_cv: str, sample_jd: str
) -> None:
    sid = await _new(client, sample_cv, sample_jd)
    answer = (
        "I joined Parcelly in 2021 as a backend engineer. Later I rebuilt the tracking API in "
        "FastAPI and cut p95 latency from 900 to 180 milliseconds. I also ran the on-call rota."
    )
    others = [
        "Last year I moved our billing jobs from cron to Celery and cut failed runs by half.",
        "I wrote the runbook for PostgreSQL failover and we tested it every quarter after.",
    ]
    await run_interview(client, sid, [answer, *others])
    point = "You quantified how the FastAPI rebuild cut latency."
    cut_off = "You explained the on-call rota and how it"  # the length cap ended the sentence
    fake_llm.json_replies = [
        {"strength": point, "improvement": "Say what you learned."},
        {"strength": cut_off, "improvement": "Say what you learned."},
        {"strength": cut_off, "improvement": "Say what you learned."},
    ]
    body = (await client.post(f"/api/sessions/{sid}/feedback")).json()
    assert point in body["strengths"]
    assert cut_off not in body["strengths"]  # never half a sentence
    citation = body["citations"]["strengths"][body["strengths"].index(point)]
    assert citation["quote"].startswith("Later I rebuilt the tracking API in FastAPI")
    assert len(fake_llm.json_calls) == 3  # usable JSON: no regeneration


async def test_unreachable_model_is_an_error_and_the_interview_is_kept(
    client: Client, fake_llm: FakeChatModel, sample_cv: str, sample_jd: str
) -> None:
    sid = await _new(client, sample_cv, sample_jd)
    await run_interview(client, sid, ["A.", "B.", "C."])
    down = AIServiceError("The language model failed: could not connect to the model server")
    fake_llm.json_replies = [down]
    response = await client.post(f"/api/sessions/{sid}/feedback")
    assert response.status_code == 502
    message = response.json()["error"]["message"]
    assert "could not connect" in message and "The interview is saved" in message
    assert len(fake_llm.json_calls) == 1  # the SDK already retried with backoff
    assert len((await client.get(f"/api/sessions/{sid}")).json()["messages"]) == 7
    assert (await client.get(f"/api/sessions/{sid}/feedback")).status_code == 404

    # The user retries once the model is back.
    response = await client.post(f"/api/sessions/{sid}/feedback")
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("may_adjust", "proposed", "expected"), [(True, 1, 1), (True, 3, 0), (False, 1, 0)]
)
async def test_only_a_capable_model_may_move_the_score_by_one(
    settings: Settings,
    fake_llm: FakeChatModel,
    db: None,
    sample_cv: str,
    sample_jd: str,
    may_adjust: bool,
    proposed: int,
    expected: int,
) -> None:
    from server.app import create_app

    app = create_app(dataclasses.replace(settings, llm_may_adjust_score=may_adjust), llm=fake_llm)
    async with AsyncTestClient(app=app) as client:
        await client.get("/api/sessions")  # a page load: the visitor identity
        sid = await _new(client, sample_cv, sample_jd)
        answers = ["I led the FastAPI migration and cut latency by 80 percent."] * 3
        await run_interview(client, sid, answers)
        fake_llm.adjustment = {
            "score_adjustment": proposed,
            "adjustment_reason": "Clear ownership throughout.",
        }
        body = (await client.post(f"/api/sessions/{sid}/feedback")).json()
        assert body["score_adjustment"] == expected
        assert body["score"] == min(10, max(1, body["rubric_score"] + expected))
        assert (body["adjustment_reason"] is not None) == bool(expected)
        asked = ["score_adjustment" in schema["properties"] for schema in fake_llm.json_schemas]
        assert asked == [False] * 3 + [True] * may_adjust


async def test_compliments_posing_as_improvements_are_dropped(
    client: Client, fake_llm: FakeChatModel, sample_cv: str, sample_jd: str
) -> None:
    sid = await _new(client, sample_cv, sample_jd)
    answers = ["I led the FastAPI migration at Parcelly and cut p95 latency by 80 percent."] * 3
    await run_interview(client, sid, answers)
    note = cited_note(fake_llm.chat_calls[-1])
    compliment = "Your experience with FastAPI is impressive and noteworthy."
    advice = "Strong answer, but add what you would do differently next time."
    fake_llm.json_replies = [{**note, "improvement": compliment}, {**note, "improvement": advice}]
    body = (await client.post(f"/api/sessions/{sid}/feedback")).json()
    assert compliment not in body["weaknesses"]
    assert advice in body["weaknesses"]
    assert 3 <= len(body["weaknesses"]) <= 5


async def test_notes_are_written_while_the_interview_goes_on(
    settings: Settings, fake_llm: FakeChatModel, db: None, sample_cv: str, sample_jd: str
) -> None:
    """Each answer's note is written once the reply to it is generated, so asking for the
    report after the interview makes no further model call."""
    from server.app import create_app

    app = create_app(dataclasses.replace(settings, notes_during_interview=True), llm=fake_llm)
    async with AsyncTestClient(app=app) as client:
        await client.get("/api/sessions")  # a page load: the visitor identity
        sid = await _new(client, sample_cv, sample_jd)
        answers = [
            "At Parcelly I rebuilt the order tracking API in FastAPI and cut p95 to 180 ms.",
            "I tuned slow PostgreSQL queries with EXPLAIN ANALYZE and added two missing indexes.",
        ]
        await run_interview(client, sid, answers)
        for _ in range(200):  # the notes run in the background; the model is instant here
            if len(fake_llm.json_calls) == 2:
                break
            await asyncio.sleep(0.01)
        assert len(fake_llm.json_calls) == 2  # answers 1 and 2; answer 3 is still to come
        assert all("Assess only" in call[-1].content for call in fake_llm.json_calls)
        last = "I mentored two junior engineers for a year and wrote our code review guide."
        await client.post(f"/api/sessions/{sid}/answers", json={"text": last})
        body = (await client.post(f"/api/sessions/{sid}/feedback")).json()
        assert len(fake_llm.json_calls) == 3  # only the last answer's note, nothing rewritten
        assert body["written_by"] == "model"
        # The stored report replaces the notes: none of the answers stays in memory.
        from models.tables import InterviewSession

        row = (
            await InterviewSession.select(InterviewSession.id)
            .where(InterviewSession.public_id == sid)
            .first()
        )
        assert row is not None and not app.state.services.notes.holds(row["id"])
        assert any(s.startswith("You did well in answer 1") for s in body["strengths"])


async def test_notes_wait_while_another_interview_is_in_progress(
    settings: Settings, fake_llm: FakeChatModel, db: None, sample_cv: str, sample_jd: str
) -> None:
    """Two interviews at once: the model has no time for notes (they would hold up the other
    candidate's replies), so they are written when the report is asked for."""
    from server.app import create_app

    app = create_app(dataclasses.replace(settings, notes_during_interview=True), llm=fake_llm)
    async with AsyncTestClient(app=app) as client:
        await client.get("/api/sessions")  # a page load: the visitor identity
        first = await _new(client, sample_cv, sample_jd)
        other = await _new(client, sample_cv, sample_jd)
        await client.post(f"/api/sessions/{other}/next")  # the other interview is under way
        answers = [
            "At Parcelly I rebuilt the order tracking API in FastAPI and cut p95 to 180 ms.",
            "I tuned slow PostgreSQL queries with EXPLAIN ANALYZE and added two missing indexes.",
            "I mentored two junior engineers for a year and wrote our code review guide.",
        ]
        await run_interview(client, first, answers)
        await asyncio.sleep(0.05)  # time enough for a background note with this model
        assert fake_llm.json_calls == []
        body = (await client.post(f"/api/sessions/{first}/feedback")).json()
        assert len(fake_llm.json_calls) == 3 and body["written_by"] == "model"


async def test_first_reads_run_one_interview_at_a_time(
    app: Litestar, client: Client, fake_llm: FakeChatModel, sample_cv: str, sample_jd: str
) -> None:
    """Each opening starts a first read of the interview; two at once would share the cores
    and both finish late, so the second waits, and sends no prefills of the answer being
    spoken meanwhile. An interview whose reply comes first (it read everything itself) drops
    its waiting first read."""
    from models.tables import InterviewSession
    from server.repositories.sessions import SessionRepository

    fake_llm.prefill_hold = True  # the model is busy reading
    first, second, third = [await _new(client, sample_cv, sample_jd) for _ in range(3)]
    for sid in (first, second, third):
        await client.post(f"/api/sessions/{sid}/next")
    await asyncio.sleep(0.05)
    assert fake_llm.prefill_for == [first]
    owner = await InterviewSession.select(InterviewSession.owner_id).first()
    assert owner is not None
    waiting = await SessionRepository().get_owned(second, owner["owner_id"])
    assert waiting is not None
    await asyncio.wait_for(app.state.services.interview.prefill(waiting, "I led it"), 1)
    assert fake_llm.prefill_for == [first]
    answered = await client.post(f"/api/sessions/{third}/answers", json={"text": "I led it."})
    assert answered.status_code == 201
    fake_llm.prefill_hold = False
    for _ in range(100):
        if len(fake_llm.prefill_for) > 1:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)
    assert fake_llm.prefill_for == [first, second]  # the third's reply read it all


async def test_replies_take_turns_until_their_first_words(
    app: Litestar, client: Client, fake_llm: FakeChatModel, sample_cv: str, sample_jd: str
) -> None:
    """Two answers that end together: the model works for the first reply alone until its
    first spoken unit is out, then for both. (The engine is driven on the test's loop: the
    test client handles one request at a time.)"""
    from models.tables import InterviewSession
    from server.repositories.sessions import SessionRepository

    ids = [await _new(client, sample_cv, sample_jd) for _ in range(2)]
    for sid in ids:
        await client.post(f"/api/sessions/{sid}/next")
    owner = await InterviewSession.select(InterviewSession.owner_id).first()
    assert owner is not None
    engine = app.state.services.interview
    sessions = [await SessionRepository().get_owned(sid, owner["owner_id"]) for sid in ids]
    for session in sessions:
        assert session is not None
        await engine.submit_answer(session, substantive_answers(1)[0], max_chars=1000)
    # Words 0-7 are the model's first sentence; the cleaners let it through after a few words
    # more. (The acknowledgement before it needs no model and no turn.)
    reply = "Let us stay with that change a little longer. What did you measure after it?"
    fake_llm.chat_replies = [reply, reply]
    fake_llm.stream_hold_at = 3  # "Let us stay": no whole unit yet

    async def whole(session: Any) -> str:
        return "".join([delta async for delta in engine.stream_reply(session)])

    async def started(count: int) -> bool:
        for _ in range(50):
            if len(fake_llm.chat_calls) >= count:
                return True
            await asyncio.sleep(0.01)
        return False

    replies = [asyncio.create_task(whole(session)) for session in sessions]
    assert await started(1)
    assert not await started(2)  # the second reply waits
    fake_llm.stream_hold_at = 13  # the first reply's first sentence is out
    assert await started(2)
    fake_llm.stream_hold_at = None
    assert [text.strip() for text in await asyncio.gather(*replies)] == [
        f"You mentioned FastAPI and latency. {reply}"
    ] * 2


async def test_a_reply_behind_a_stalled_model_fails_in_its_time_with_the_answer_kept(
    settings: Settings, fake_llm: FakeChatModel, db: None, sample_cv: str, sample_jd: str
) -> None:
    """The first-words turn is bounded like the reply: behind a reply whose model stalls, the
    next interview's reply fails with a retryable error instead of waiting for minutes."""
    from server.container import build_services

    services = build_services(dataclasses.replace(settings, llm_reply_timeout_s=0.3), fake_llm)
    engine = services.interview
    sessions = []
    for _ in range(2):
        session = await services.sessions.create(
            "owner", NewSession("Engineer", "Fernway", sample_jd, 3, cv_text=sample_cv)
        )
        _ = [d async for d in engine.stream_reply(session)]  # the fixed opening
        await engine.save_reply(session, "Which project?")
        await engine.submit_answer(session, substantive_answers(1)[0], max_chars=1000)
        sessions.append(session)
    fake_llm.stream_hold_at = 2  # the first reply's model stalls before its first unit
    stalled = asyncio.create_task(
        asyncio.wait_for(_drain(engine.stream_reply(sessions[0])), timeout=5)
    )
    await asyncio.sleep(0.05)
    started = time.perf_counter()
    with pytest.raises(AIServiceError, match="busy with another interview"):
        # (Without the bound this would wait until the test's own 3 s timeout.)
        await asyncio.wait_for(_drain(engine.stream_reply(sessions[1])), timeout=3)
    assert 0.25 < time.perf_counter() - started < 2.0
    assert [m.role for m in await services.sessions.messages_of(sessions[1])][-1] == "user"
    stalled.cancel()
    fake_llm.stream_hold_at = None
    await asyncio.gather(stalled, return_exceptions=True)


async def _drain(stream: Any) -> str:
    return "".join([delta async for delta in stream])


async def test_a_note_for_an_answer_the_candidate_went_on_with_is_written_again(
    settings: Settings, fake_llm: FakeChatModel
) -> None:
    """The note belongs to the answer's text: if the answer grew, the old note is stale."""
    from server.container import build_services

    services = build_services(settings, fake_llm)
    session, history = interview_records(["I built the refunds API in Django."])
    first = await services.notes.note_for(session, history)
    grown = [*history[:-1], dataclasses.replace(history[-1], content="I built it. Then I led it.")]
    second = await services.notes.note_for(session, grown)
    again = await services.notes.note_for(session, grown)
    assert first is not None and second is not None
    assert first["strength"] != second["strength"]
    assert again is second and len(fake_llm.json_calls) == 2
    services.notes.forget(session.id)
    await services.notes.note_for(session, grown)
    assert len(fake_llm.json_calls) == 3


async def test_a_skipped_question_is_stored_shown_and_never_scored(
    client: Client, fake_llm: FakeChatModel, sample_cv: str, sample_jd: str
) -> None:
    sid = await _new(client, sample_cv, sample_jd, questions=3)
    await client.post(f"/api/sessions/{sid}/next")
    answer = (
        "At Parcelly I led the move of order tracking to async FastAPI services and cut the "
        "p95 latency from 900 to 180 milliseconds with Redis caching."
    )
    assert (await client.post(f"/api/sessions/{sid}/answers", json={"text": answer})).is_success
    skipped = await client.post(f"/api/sessions/{sid}/skip")
    assert skipped.status_code == 201, skipped.text
    turn = skipped.json()
    assert turn["answer"]["skipped"] is True
    assert turn["reply"]["content"].startswith("Okay, let's move on. ")
    assert turn["reply"]["question_number"] == 3
    messages = (await client.get(f"/api/sessions/{sid}")).json()["messages"]
    skipped_id = next(m["id"] for m in messages if m.get("skipped"))
    refused = await client.patch(
        f"/api/sessions/{sid}/messages/{skipped_id}", json={"text": "An answer after all."}
    )
    assert refused.status_code == 422 and "skipped" in refused.json()["error"]["message"]

    score = (await client.get(f"/api/sessions/{sid}/score")).json()
    assert len(score["evidence"]["answers"]) == 1  # the skipped question is not an answer
    reasons = " ".join(score["reasons"])
    assert "You skipped 1 question (question 2" in reasons and "from the 1 you answered" in reasons
    # No note is written on a skipped question.
    assert all("skip this question" not in str(call) for call in fake_llm.json_calls)
    await client.post(f"/api/sessions/{sid}/end")
    assert (await client.post(f"/api/sessions/{sid}/skip")).status_code == 409  # over


async def test_a_report_needs_one_answer_that_was_not_skipped(
    client: Client, sample_cv: str, sample_jd: str
) -> None:
    sid = await _new(client, sample_cv, sample_jd, questions=3)
    await client.post(f"/api/sessions/{sid}/next")
    await client.post(f"/api/sessions/{sid}/skip")
    await client.post(f"/api/sessions/{sid}/end")
    response = await client.post(f"/api/sessions/{sid}/feedback")
    assert response.status_code == 422
    assert "skipped every question" in response.json()["error"]["message"]


STRONG = (
    "At Parcelly I led the move of order tracking to async FastAPI services, and the p95 "
    "latency fell from 900 to 180 milliseconds once I added Redis caching."
)


async def test_a_thin_answer_gets_one_follow_up_on_what_it_lacked(
    client: Client, fake_llm: FakeChatModel, sample_cv: str, sample_jd: str
) -> None:
    sid = await _new(client, sample_cv, sample_jd, questions=3)
    await client.post(f"/api/sessions/{sid}/next")
    calls = len(fake_llm.chat_calls)
    thin = (await client.post(f"/api/sessions/{sid}/answers", json={"text": "Fine."})).json()
    follow_up = thin["reply"]
    # Composed at once (no model), on exactly the gap, and the same question: still "1 of 3".
    assert follow_up["content"].startswith("That was brief. Could you tell me more")
    assert follow_up["question_number"] == 1 and thin["progress"]["label"] == "Question 1 of 3"
    assert len(fake_llm.chat_calls) == calls
    # Thin again: at most one follow-up per question, so the interview moves on.
    again = (await client.post(f"/api/sessions/{sid}/answers", json={"text": "Not sure."})).json()
    assert again["reply"]["question_number"] == 2 and len(fake_llm.chat_calls) == calls + 1
    assert "Could you tell me more" not in again["reply"]["content"]
    # A complete answer moves on at once.
    full = (await client.post(f"/api/sessions/{sid}/answers", json={"text": STRONG})).json()
    assert full["reply"]["question_number"] == 3
    # The follow-up's answer is judged against the question it dug into.
    score = (await client.get(f"/api/sessions/{sid}/score")).json()
    assert len(score["evidence"]["answers"]) == 3


@pytest.mark.parametrize(
    ("answer", "gap"),
    [
        (
            "Ledger, double-entry, PostgreSQL, serializable, idempotency keys, outbox, Kafka, "
            "2,500 requests per second, Kubernetes, Helm, Terraform, Grafana.",
            "Pick one of those",
        ),
        (
            "I don't really remember the details, it was a long time ago and honestly the team "
            "handled most of it, so I can't say much.",
            "one specific time",
        ),
        (
            "I think communication is really important and I always try to be a good team "
            "player who brings energy and passion to everything I do at work.",
            "one specific example",
        ),
    ],
    ids=["keyword-list", "evasive", "generic"],
)
async def test_the_follow_up_asks_for_what_the_answer_lacked(
    client: Client, sample_cv: str, sample_jd: str, answer: str, gap: str
) -> None:
    sid = await _new(client, sample_cv, sample_jd, questions=3)
    await client.post(f"/api/sessions/{sid}/next")
    reply = (await client.post(f"/api/sessions/{sid}/answers", json={"text": answer})).json()
    assert gap in reply["reply"]["content"] and reply["reply"]["question_number"] == 1


async def test_the_mode_and_difficulty_are_chosen_stored_and_change_the_plan(
    client: Client, fake_llm: FakeChatModel, sample_cv: str, sample_jd: str
) -> None:
    created = await create_session(
        client, sample_cv, sample_jd, questions=3, interview_mode="behavioural", difficulty="tough"
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["interview_mode"], body["difficulty"]) == ("behavioural", "tough")
    sid = body["id"]
    opening = (await client.post(f"/api/sessions/{sid}/next")).json()["reply"]["content"]
    assert opening.endswith(PLANS["behavioural"][0].plain)  # question 1 of the mode's own plan
    # The model is told the kind of interview and how hard to press.
    await client.post(f"/api/sessions/{sid}/answers", json={"text": substantive_answers(1)[0]})
    system = fake_llm.chat_calls[-1][0].content
    assert "a behavioural interview" in system and "specifics, numbers" in system
    note = fake_llm.chat_calls[-1][-2].content
    assert "a disagreement" in note or "conflict" in note  # the behavioural plan's topic 2
    html = (await client.get(f"/sessions/{sid}/report")).text
    assert "Behavioural (STAR) interview · Tough" in html

    for field, value in (("interview_mode", "karaoke"), ("difficulty", "brutal")):
        refused = await create_session(client, sample_cv, sample_jd, **{field: value})
        assert refused.status_code == 422 and field in refused.json()["error"]["details"]["fields"]


async def test_tough_presses_for_a_result_and_easy_never_follows_up(
    client: Client, sample_cv: str, sample_jd: str
) -> None:
    no_result = (
        "Last year our checkout kept failing at peak, so I profiled it, found the slow query and "
        "rewrote it with a row lock and a retry."
    )
    tough = (await create_session(client, sample_cv, sample_jd, difficulty="tough")).json()["id"]
    await client.post(f"/api/sessions/{tough}/next")
    reply = (await client.post(f"/api/sessions/{tough}/answers", json={"text": no_result})).json()
    assert "what was the result" in reply["reply"]["content"]
    assert reply["reply"]["question_number"] == 1
    easy = (await create_session(client, sample_cv, sample_jd, difficulty="easy")).json()["id"]
    await client.post(f"/api/sessions/{easy}/next")
    reply = (await client.post(f"/api/sessions/{easy}/answers", json={"text": "Fine."})).json()
    assert reply["reply"]["question_number"] == 2  # moves on
