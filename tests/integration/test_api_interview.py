"""A typed interview over HTTP with a fake model: flow, limits, failures, resume, feedback."""

from __future__ import annotations

import itertools

import pytest

from server.errors import AIServiceError
from tests.fakes import VALID_FEEDBACK, FakeChatModel
from tests.helpers import Client, create_session, run_interview

pytestmark = pytest.mark.db


async def _new(client: Client, cv: str, jd: str, questions: int = 3) -> str:
    response = await create_session(client, cv, jd, questions=questions)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_full_typed_interview(client: Client, sample_cv: str, sample_jd: str) -> None:
    sid = await _new(client, sample_cv, sample_jd, questions=3)
    turns = await run_interview(client, sid, ["First answer.", "Second answer.", "Third answer."])

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
    await run_interview(client, sid, ["A.", "B.", "C."])
    calls = fake_llm.chat_calls
    assert len(calls) == 4
    for earlier, later in itertools.pairwise(calls):
        # Everything but the newest user turn is repeated verbatim: the server's cache reuses it.
        assert later[: len(earlier) - 1] == earlier[:-1]
        assert later[len(earlier) - 1].content.startswith(earlier[-1].content.split("\n\n")[0])
    system = calls[0][0].content
    assert "Fernway Health" in system and "Parcelly" in system and "Question" not in system
    assert "Ask question 2 of 3" in calls[1][-1].content
    assert "Do not ask another question" in calls[3][-1].content


async def test_answer_is_kept_when_the_model_fails_and_retry_works(
    client: Client, fake_llm: FakeChatModel, sample_cv: str, sample_jd: str
) -> None:
    sid = await _new(client, sample_cv, sample_jd)
    await client.post(f"/api/sessions/{sid}/next")
    fake_llm.fail_next_chat = AIServiceError("The language model failed: HTTP 503")
    response = await client.post(
        f"/api/sessions/{sid}/answers", json={"text": "My precious answer."}
    )
    assert response.status_code == 502
    error = response.json()["error"]
    assert error["code"] == "ai_service_error"
    assert error["details"]["answer_saved"] is True

    session = (await client.get(f"/api/sessions/{sid}")).json()
    assert session["messages"][-1]["content"] == "My precious answer."
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
    await run_interview(client, sid, ["One.", "Two."])
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
    assert body["score"] == VALID_FEEDBACK["score"]
    assert body["strengths"] == VALID_FEEDBACK["strengths"]
    # The feedback request shares the interview's prefix (prompt cache) and ends with the request.
    request = fake_llm.json_calls[0]
    assert request[0] == fake_llm.chat_calls[0][0]
    assert "feedback report as JSON" in request[-1].content


async def test_feedback_is_generated_once(
    client: Client, fake_llm: FakeChatModel, sample_cv: str, sample_jd: str
) -> None:
    sid = await _new(client, sample_cv, sample_jd)
    await run_interview(client, sid, ["A.", "B.", "C."])
    assert (await client.get(f"/api/sessions/{sid}/feedback")).status_code == 404
    first = (await client.post(f"/api/sessions/{sid}/feedback")).json()
    second = (await client.post(f"/api/sessions/{sid}/feedback")).json()
    assert first == second
    assert len(fake_llm.json_calls) == 1
    assert (await client.get(f"/api/sessions/{sid}/feedback")).json() == first


async def test_feedback_for_an_empty_interview(
    client: Client, sample_cv: str, sample_jd: str
) -> None:
    sid = await _new(client, sample_cv, sample_jd)
    await client.post(f"/api/sessions/{sid}/next")
    response = await client.post(f"/api/sessions/{sid}/feedback")
    assert response.status_code == 422
    assert response.json()["error"]["message"] == "Cannot generate feedback for an empty interview."


async def test_junk_feedback_is_retried_then_reported_and_the_interview_kept(
    client: Client, fake_llm: FakeChatModel, sample_cv: str, sample_jd: str
) -> None:
    sid = await _new(client, sample_cv, sample_jd)
    await run_interview(client, sid, ["A.", "B.", "C."])
    fake_llm.json_replies = [
        {"score": "7"},
        {**VALID_FEEDBACK, "score": 11},
        ["not", "an", "object"],
    ]
    response = await client.post(f"/api/sessions/{sid}/feedback")
    assert response.status_code == 502
    assert "after 3 attempts" in response.json()["error"]["message"]
    assert len(fake_llm.json_calls) == 3
    assert len((await client.get(f"/api/sessions/{sid}")).json()["messages"]) == 7

    # A retry that succeeds on the second try stores it.
    fake_llm.json_replies = [{"score": 5}, VALID_FEEDBACK]
    response = await client.post(f"/api/sessions/{sid}/feedback")
    assert response.status_code == 200
    assert response.json()["score"] == 6
