"""The candidate corrects the text of their answers: PATCH …/messages/{id}, the report after it."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from server.settings import Settings
from tests.fakes import FakeChatModel
from tests.helpers import Client, create_session, run_interview

pytestmark = pytest.mark.db

HEARD = "I cached the hot price look-ups in readings and cut latency by half."
SAID = "I cached the hot price look-ups in Redis and cut latency by half."
SECOND = "I led the migration to PostgreSQL over two quarters."


async def _interview(client: Client, cv: str, jd: str, answers: list[str]) -> tuple[str, list[Any]]:
    """A session with ``answers`` given; returns its id and its messages."""
    response = await create_session(client, cv, jd, questions=3)
    assert response.status_code == 201, response.text
    session_id: str = response.json()["id"]
    await run_interview(client, session_id, answers)
    return session_id, await _messages(client, session_id)


async def _messages(client: Client, session_id: str) -> list[Any]:
    response = await client.get(f"/api/sessions/{session_id}")
    assert response.status_code == 200, response.text
    messages: list[Any] = response.json()["messages"]
    return messages


def _answers(messages: list[Any]) -> list[Any]:
    return [m for m in messages if m["role"] == "user"]


async def _correct(client: Client, session_id: str, message_id: int, text: Any) -> Any:
    return await client.patch(
        f"/api/sessions/{session_id}/messages/{message_id}", json={"text": text}
    )


async def test_a_correction_keeps_the_original_across_corrections(
    client: Client, sample_cv: str, sample_jd: str
) -> None:
    session_id, messages = await _interview(client, sample_cv, sample_jd, [HEARD, SECOND])
    first = _answers(messages)[0]
    assert first["original_content"] is None and first["revised_by"] is None

    response = await _correct(client, session_id, first["id"], f"  {SAID}\n")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["answer_number"] == 1 and body["changed"] is True and body["report"] == "none"
    assert body["message"]["content"] == SAID  # stripped
    assert body["message"]["original_content"] == HEARD
    assert body["message"]["revised_by"] == "candidate"

    again = await _correct(client, session_id, first["id"], SAID.replace("half", "60 percent"))
    assert again.status_code == 200, again.text
    stored = _answers(await _messages(client, session_id))
    assert stored[0]["content"].endswith("60 percent.")
    assert stored[0]["original_content"] == HEARD  # the first text, not the first correction
    assert stored[0]["revised_by"] == "candidate"
    assert stored[1]["content"] == SECOND and stored[1]["revised_by"] is None


async def test_the_same_text_is_no_correction_and_the_original_text_undoes_one(
    client: Client, sample_cv: str, sample_jd: str
) -> None:
    session_id, messages = await _interview(client, sample_cv, sample_jd, [HEARD])
    message_id = _answers(messages)[0]["id"]

    same = (await _correct(client, session_id, message_id, f" {HEARD} ")).json()
    assert same["changed"] is False and same["message"]["revised_by"] is None

    await _correct(client, session_id, message_id, SAID)
    undone = (await _correct(client, session_id, message_id, HEARD)).json()
    assert undone["changed"] is True
    assert undone["message"]["content"] == HEARD
    assert undone["message"]["original_content"] is None
    assert undone["message"]["revised_by"] is None


async def test_bad_corrections_are_refused_with_the_error_shape(
    client: Client, settings: Settings, sample_cv: str, sample_jd: str
) -> None:
    session_id, messages = await _interview(client, sample_cv, sample_jd, [HEARD])
    answer = _answers(messages)[0]

    for text in ("", "   \n\t "):
        response = await _correct(client, session_id, answer["id"], text)
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert error["code"] == "validation_error"
        assert "empty" in error["message"]
        assert "text" in error["details"]["fields"]

    too_long = "x" * (settings.max_answer_chars + 1)
    response = await _correct(client, session_id, answer["id"], too_long)
    assert response.status_code == 422
    assert str(settings.max_answer_chars) in response.json()["error"]["message"]
    # At the limit exactly, it is accepted.
    ok = await _correct(client, session_id, answer["id"], "x" * settings.max_answer_chars)
    assert ok.status_code == 200, ok.text

    for body in ({}, {"text": 3}, {"text": SAID, "role": "assistant"}):
        response = await client.patch(
            f"/api/sessions/{session_id}/messages/{answer['id']}", json=body
        )
        assert response.status_code == 400, (body, response.text)
        assert response.json()["error"]["code"] == "bad_request"


async def test_only_the_candidates_answers_can_be_corrected(
    client: Client, sample_cv: str, sample_jd: str
) -> None:
    session_id, messages = await _interview(client, sample_cv, sample_jd, [HEARD])
    question = next(m for m in messages if m["role"] == "assistant")

    response = await _correct(client, session_id, question["id"], "Tell me about your hobbies.")
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert "interviewer" in error["message"]
    assert error["details"]["role"] == "assistant"
    after = await _messages(client, session_id)
    assert [m["content"] for m in after] == [m["content"] for m in messages]


async def test_only_the_owner_can_correct_and_only_answers_of_that_session(
    client: Client, other_client: Client, sample_cv: str, sample_jd: str
) -> None:
    session_id, messages = await _interview(client, sample_cv, sample_jd, [HEARD])
    message_id = _answers(messages)[0]["id"]
    other_id, other_messages = await _interview(client, sample_cv, sample_jd, [SECOND])
    other_answer = _answers(other_messages)[0]["id"]

    strangers = await _correct(other_client, session_id, message_id, SAID)
    missing = await _correct(client, "no-such-session", message_id, SAID)
    assert strangers.status_code == missing.status_code == 404
    assert strangers.json() == missing.json()  # someone else's reads exactly like a missing one

    # An answer of my other session, addressed through this one; an id nobody has.
    for wrong in (other_answer, 999_999):
        response = await _correct(client, session_id, wrong, SAID)
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "not_found"
    assert _answers(await _messages(client, session_id))[0]["content"] == HEARD
    assert _answers(await _messages(client, other_id))[0]["content"] == SECOND


async def test_a_report_written_before_a_correction_is_out_of_date_until_written_again(
    client: Client, fake_llm: FakeChatModel, sample_cv: str, sample_jd: str
) -> None:
    session_id, messages = await _interview(client, sample_cv, sample_jd, [HEARD, SECOND])
    message_id = _answers(messages)[0]["id"]
    assert (await client.post(f"/api/sessions/{session_id}/end")).status_code == 200
    first = (await client.post(f"/api/sessions/{session_id}/feedback")).json()
    assert first["out_of_date"] is False
    assert "redis" not in first["evidence"]["answers"][0]["skills"]

    unchanged = (await _correct(client, session_id, message_id, HEARD)).json()
    assert unchanged["report"] == "current"

    corrected = (await _correct(client, session_id, message_id, SAID)).json()
    assert corrected["report"] == "out_of_date"
    stale = (await client.get(f"/api/sessions/{session_id}/feedback")).json()
    assert stale["out_of_date"] is True
    assert stale["created_at"] == first["created_at"]  # kept, and marked, until written again
    # The score from the evidence follows the transcript at once.
    score = (await client.get(f"/api/sessions/{session_id}/score")).json()
    assert "redis" in score["evidence"]["answers"][0]["skills"]

    calls = len(fake_llm.json_calls)
    rewritten = (await client.post(f"/api/sessions/{session_id}/feedback")).json()
    assert rewritten["out_of_date"] is False
    assert rewritten["created_at"] != first["created_at"]
    assert "redis" in rewritten["evidence"]["answers"][0]["skills"]
    # The notes the model wrote were about the corrected text, never the misheard one.
    notes = [c for c in fake_llm.json_calls[calls:] if "Assess only" in c[-1].content]
    assert notes and any(SAID in c[-1].content for c in notes)
    assert not any(HEARD in c[-1].content for c in notes)
    quotes = [c["quote"] for c in rewritten["citations"]["strengths"] if c["quote"]]
    assert not any("readings" in q for q in quotes)
    assert (await client.get(f"/api/sessions/{session_id}/feedback")).json() == rewritten
    # Once current, asking again returns the stored report: nothing is written twice.
    calls = len(fake_llm.json_calls)
    assert (await client.post(f"/api/sessions/{session_id}/feedback")).json() == rewritten
    assert len(fake_llm.json_calls) == calls


class _CorrectingModel(FakeChatModel):
    """Corrects an answer (as the candidate would, in another tab) while the first note of
    the report is being written."""

    correct: tuple[int, str] | None = None

    async def complete_json(self, messages: Any, **kwargs: Any) -> Any:
        if self.correct is not None:
            from server.repositories.sessions import MessageRepository

            message_id, text = self.correct
            self.correct = None
            await MessageRepository().revise(message_id, text, revised_by="candidate")
        return await super().complete_json(messages, **kwargs)


@pytest.fixture
async def correcting(
    settings: Settings, db: None
) -> AsyncIterator[tuple[Client, _CorrectingModel]]:
    from server.app import create_app

    model = _CorrectingModel()
    # Notes off during the interview: the report writes them, from the history it read.
    app: Litestar = create_app(
        dataclasses.replace(settings, notes_during_interview=False), llm=model
    )
    async with AsyncTestClient(app=app) as c:
        await c.get("/api/sessions")  # a page load: the visitor identity
        yield c, model


async def test_a_correction_made_while_the_report_is_written_makes_it_out_of_date(
    correcting: tuple[Client, _CorrectingModel], sample_cv: str, sample_jd: str
) -> None:
    client, model = correcting
    session_id, messages = await _interview(client, sample_cv, sample_jd, [HEARD, SECOND])
    model.correct = (_answers(messages)[0]["id"], SAID)

    report = (await client.post(f"/api/sessions/{session_id}/feedback")).json()
    assert model.correct is None  # the correction landed while the report was written
    assert report["out_of_date"] is True  # built on the misheard text, and says so
    assert "redis" not in report["evidence"]["answers"][0]["skills"]
    rewritten = (await client.post(f"/api/sessions/{session_id}/feedback")).json()
    assert rewritten["out_of_date"] is False
    assert "redis" in rewritten["evidence"]["answers"][0]["skills"]


XSS = '<script>alert("x")</script><b onmouseover=alert(1)>said</b>'


def _pdf_text(content: bytes) -> str:
    import io

    from pypdf import PdfReader

    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    return " ".join(text.split())


async def test_pages_mark_a_corrected_answer_and_escape_it(
    client: Client, sample_cv: str, sample_jd: str
) -> None:
    session_id, messages = await _interview(client, sample_cv, sample_jd, [HEARD, SECOND])
    answers = _answers(messages)
    await _correct(client, session_id, answers[0]["id"], SAID)
    await _correct(client, session_id, answers[1]["id"], XSS)

    for path in (f"/sessions/{session_id}", f"/sessions/{session_id}/report"):
        html = (await client.get(path)).text
        assert html.count("Corrected by you") == 2, path
        assert f'data-message-id="{answers[0]["id"]}" data-answer-number="1"' in html
        assert SAID in html and HEARD in html  # the original, inside its <details>
        assert '<details class="msg-original">' in html
        assert "<script>alert" not in html and "<b onmouseover" not in html
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
        assert 'role="status"' in html and 'id="edit-status"' in html
        # Interviewer messages get no edit control.
        question = next(m for m in messages if m["role"] == "assistant")
        assert f'id="msg-{question["id"]}" data-message-id' not in html


async def test_the_report_page_and_pdf_say_when_the_report_is_out_of_date(
    client: Client, sample_cv: str, sample_jd: str
) -> None:
    session_id, messages = await _interview(client, sample_cv, sample_jd, [HEARD, SECOND])
    assert (await client.post(f"/api/sessions/{session_id}/end")).status_code == 200
    assert (await client.post(f"/api/sessions/{session_id}/feedback")).status_code == 200
    page = (await client.get(f"/sessions/{session_id}/report")).text
    assert 'id="report-stale"' in page and re.search(r'id="report-stale"[^>]*\shidden', page)

    await _correct(client, session_id, _answers(messages)[0]["id"], SAID)
    page = (await client.get(f"/sessions/{session_id}/report")).text
    assert not re.search(r'id="report-stale"[^>]*\shidden', page)
    assert "This report is out of date" in page and 'id="update-button"' in page

    pdf = await client.get(f"/sessions/{session_id}/report.pdf")
    assert pdf.status_code == 200
    text = _pdf_text(pdf.content)
    assert "This report is out of date" in text
    assert "Corrected by you" in text
    transcript = text.rsplit("Transcript", 1)[1]
    assert "look-ups in Redis" in transcript  # the corrected text, not what was heard
    assert "readings" not in transcript  # no original in the PDF (the stale report quotes it)
    for control in ("Update my report", "Edit", "Original text"):
        assert control not in text, control

    rewritten = (await client.post(f"/api/sessions/{session_id}/feedback")).json()
    assert rewritten["out_of_date"] is False
    page = (await client.get(f"/sessions/{session_id}/report")).text
    assert re.search(r'id="report-stale"[^>]*\shidden', page)
    assert "Corrected by you" in page
