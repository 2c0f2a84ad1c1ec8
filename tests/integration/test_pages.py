"""The web pages: ownership, escaping, the report layout (page and PDF), prefilling."""

from __future__ import annotations

import dataclasses
import io
import re
from typing import Any

import pytest
from markupsafe import escape

import server.services.reports as reports_module
from server.services.reports import score_band
from tests.fakes import FakeChatModel
from tests.helpers import Client, create_session, run_interview, substantive_answers

pytestmark = pytest.mark.db

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'
XSS_ESCAPED = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"


async def _session(client: Client, cv: str, jd: str, **fields: Any) -> str:
    response = await create_session(client, cv, jd, **fields)
    assert response.status_code == 201, response.text
    session_id: str = response.json()["id"]
    return session_id


async def _finished_with_feedback(client: Client, cv: str, jd: str, **fields: Any) -> str:
    session_id = await _session(client, cv, jd, **fields)
    await run_interview(client, session_id, ["I built the billing API.", "With PostgreSQL."])
    assert (await client.post(f"/api/sessions/{session_id}/end")).status_code == 200
    assert (await client.post(f"/api/sessions/{session_id}/feedback")).status_code == 200
    return session_id


async def _score(client: Client, session_id: str) -> int:
    # The score comes from the evidence rubric, not the (fake) model: read what was stored.
    score: int = (await client.get(f"/api/sessions/{session_id}/feedback")).json()["score"]
    return score


def _pages(session_id: str) -> list[str]:
    return [
        f"/sessions/{session_id}",
        f"/sessions/{session_id}/report",
        f"/sessions/{session_id}/report.pdf",
    ]


async def test_home_and_new_render(client: Client) -> None:
    for path in ("/", "/new"):
        response = await client.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("text/html")
        html = response.text
        assert 'href="#main"' in html and '<main id="main"' in html
        assert '<nav class="site-nav" aria-label="Main">' in html


async def test_static_assets_are_served(client: Client) -> None:
    for path in ("/static/css/app.css", "/static/js/room.js", "/static/js/api.js"):
        response = await client.get(path)
        assert response.status_code == 200, path


async def test_pages_are_owner_only(
    client: Client, other_client: Client, sample_cv: str, sample_jd: str
) -> None:
    session_id = await _finished_with_feedback(client, sample_cv, sample_jd)
    for path in _pages(session_id):
        assert (await client.get(path)).status_code == 200, path
        response = await other_client.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("text/html")
        assert "can’t find that interview" in response.text
    assert session_id not in (await other_client.get("/")).text
    # Another owner's id in ?from= must not leak that owner's CV into the form.
    form = (await other_client.get(f"/new?from={session_id}")).text
    assert "PostgreSQL" not in form
    assert (await client.get("/sessions/not-a-real-id/report")).status_code == 404


async def test_user_and_model_text_is_escaped_everywhere(
    client: Client, fake_llm: FakeChatModel, sample_cv: str, sample_jd: str
) -> None:
    session_id = await _session(
        client, sample_cv + "\n" + XSS, sample_jd, job_title=f"Engineer {XSS}"
    )
    answers = [f"I built the billing API {k} {XSS}" for k in range(3)]
    # The model's notes (one per answer, written as the interview goes on) carry the payload too.
    fake_llm.json_replies = [
        {
            "strength": f"You built the billing API {k} {XSS}.",
            "improvement": f"Add the outcome to your billing API {k} answer: {XSS}.",
        }
        for k in range(3)
    ]
    await run_interview(client, session_id, answers)
    await client.post(f"/api/sessions/{session_id}/end")
    response = await client.post(f"/api/sessions/{session_id}/feedback")
    assert response.status_code == 200, response.text
    body = response.json()
    assert any("<script>" in item for item in body["strengths"] + body["weaknesses"])

    pages = {
        "home": "/",
        "room": f"/sessions/{session_id}",
        "report": f"/sessions/{session_id}/report",
        "new": f"/new?from={session_id}",
    }
    for name, path in pages.items():
        html = (await client.get(path)).text
        assert "<script>alert" not in html, name
        assert "<img src=x" not in html, name
        assert XSS_ESCAPED in html, name
    report = (await client.get(pages["report"])).text
    assert report.count(XSS_ESCAPED) >= 3  # title, answer, model point


async def test_report_layout(client: Client, sample_cv: str, sample_jd: str) -> None:
    session_id = await _finished_with_feedback(client, sample_cv, sample_jd)
    score = await _score(client, session_id)
    html = (await client.get(f"/sessions/{session_id}/report")).text
    assert f'<p class="score-value">{score}/10</p>' in html
    circles = re.findall(r'<span class="score-circle( is-filled)?"></span>', html)
    assert len(circles) == 10
    assert sum(1 for c in circles if c) == score
    assert f'role="img" aria-label="{score} out of 10"' in html
    assert "Overall Performance" in html
    assert score_band(score).text in html
    for heading in ("Strengths", "Areas for Improvement", "CV Improvement Suggestions"):
        assert re.search(rf"<h2 [^>]*>.*{heading}</h2>", html), heading
    assert "Tailored recommendations for this specific role" in html
    feedback = (await client.get(f"/api/sessions/{session_id}/feedback")).json()
    for item in feedback["strengths"] + feedback["weaknesses"] + feedback["cv_improvements"]:
        assert f"<li>{escape(item)}" in html
    assert "card-strengths" in html and "card-improve" in html and "card-cv" in html
    # Actions and the full transcript.
    assert 'href="/new"' in html and f'href="/sessions/{session_id}/report.pdf"' in html
    assert 'id="print-button"' in html
    assert "I built the billing API." in html and "With PostgreSQL." in html
    assert "tell me about your work as a backend engineer" in html
    assert 'id="feedback-pending"' not in html


async def test_report_shows_six_of_ten(
    client: Client, sample_cv: str, sample_jd: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The layout for a given score: 6/10, six filled circles, the 5–6 band."""
    session_id = await _finished_with_feedback(client, sample_cv, sample_jd)
    real = reports_module.score_band
    # Render the stored record as if it scored 6 (the rubric decides real scores).
    original = reports_module.ReportView.context

    async def six(view: reports_module.ReportView) -> dict[str, Any]:
        context = await original(view)
        context["feedback"] = dataclasses.replace(context["feedback"], interview_score=6)
        context["band"] = real(6)
        return context

    monkeypatch.setattr(reports_module.ReportView, "context", six)
    html = (await client.get(f"/sessions/{session_id}/report")).text
    assert '<p class="score-value">6/10</p>' in html
    assert html.count('<span class="score-circle is-filled"></span>') == 6
    assert html.count('<span class="score-circle"></span>') == 4
    assert 'aria-label="6 out of 10"' in html
    assert "Good foundation – focus on key areas identified" in html


async def test_report_without_feedback_shows_progress(
    client: Client, sample_cv: str, sample_jd: str
) -> None:
    session_id = await _session(client, sample_cv, sample_jd)
    await run_interview(client, session_id, ["I built the billing API."])
    await client.post(f"/api/sessions/{session_id}/end")
    html = (await client.get(f"/sessions/{session_id}/report")).text
    assert 'id="feedback-pending"' in html
    assert 'data-autostart="true"' in html
    assert '<p role="status" id="feedback-status">Writing your feedback…</p>' in html
    assert "score-banner" not in html
    assert "I built the billing API." in html  # the transcript is there already
    # No PDF until there is feedback.
    assert (await client.get(f"/sessions/{session_id}/report.pdf")).status_code == 404


async def test_report_of_unfinished_interview_asks_before_ending(
    client: Client, sample_cv: str, sample_jd: str
) -> None:
    session_id = await _session(client, sample_cv, sample_jd)
    await run_interview(client, session_id, ["I built the billing API."])
    html = (await client.get(f"/sessions/{session_id}/report")).text
    assert 'data-autostart="false"' in html
    assert "End and get feedback" in html
    # Opening the page must not end the interview.
    assert (await client.get(f"/api/sessions/{session_id}")).json()["status"] == "in_progress"


async def test_room_shows_progress_and_transcript(
    client: Client, sample_cv: str, sample_jd: str
) -> None:
    session_id = await _session(client, sample_cv, sample_jd)
    html = (await client.get(f"/sessions/{session_id}")).text
    assert 'data-awaiting="question"' in html
    assert "Question 1 of 3" in html
    answer = substantive_answers(1)[0]
    await run_interview(client, session_id, [answer])
    html = (await client.get(f"/sessions/{session_id}")).text
    assert 'role="log" aria-live="polite"' in html
    assert 'id="room-status" role="status"' in html
    assert "Question 2 of 3" in html
    assert "At Parcelly I led the move of order tracking" in html
    assert 'for="answer" class="composer-label"' in html and ">Type your answer<" in html
    assert 'data-awaiting="answer"' in html


async def test_new_prefills_from_earlier_session(
    client: Client, sample_cv: str, sample_jd: str
) -> None:
    session_id = await _session(client, sample_cv, sample_jd, company_name="Fernway & Co")
    html = (await client.get(f"/new?from={session_id}")).text
    assert 'value="Senior Python Backend Engineer"' in html
    assert 'value="Fernway &amp; Co"' in html
    first_cv_line = next(line for line in sample_cv.splitlines() if line.strip())
    first_jd_line = next(line for line in sample_jd.splitlines() if line.strip())
    cv_box = html.split('id="cv_text"', 1)[1].split("</textarea>", 1)[0]
    jd_box = html.split('id="job_description"', 1)[1].split("</textarea>", 1)[0]
    assert first_cv_line.strip() in cv_box
    assert first_jd_line.strip() in jd_box
    # Without ?from= the form is empty.
    empty = (await client.get("/new")).text
    assert first_cv_line.strip() not in empty


async def test_home_lists_sessions_with_score_and_chart(
    client: Client, sample_cv: str, sample_jd: str
) -> None:
    done = await _finished_with_feedback(client, sample_cv, sample_jd)
    open_id = await _session(client, sample_cv, sample_jd, job_title="Data Analyst")
    html = (await client.get("/")).text
    assert html.index(open_id) < html.index(done)  # newest first
    assert f"{await _score(client, done)}/10" in html
    assert f'href="/sessions/{done}/report"' in html
    assert f'href="/sessions/{open_id}"' in html
    assert f'href="/new?from={open_id}"' in html
    assert f'data-delete="{done}"' in html
    assert '<svg class="chart-svg"' in html and 'role="img"' in html
    assert "<table>" in html  # the chart's text alternative


async def test_report_pdf(client: Client, sample_cv: str, sample_jd: str) -> None:
    from pypdf import PdfReader

    session_id = await _finished_with_feedback(client, sample_cv, sample_jd)
    response = await client.get(f"/sessions/{session_id}/report.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.content.startswith(b"%PDF")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    text = " ".join(text.split())
    for needle in (
        f"{await _score(client, session_id)}/10",
        "Overall Performance",
        "Strengths",
        "Areas for Improvement",
        "CV Improvement Suggestions",
        "I built the billing API.",
    ):
        assert needle in text, needle
    # Buttons are for the screen, not the paper.
    assert "Download PDF" not in text


async def test_report_says_honestly_when_nothing_earned_a_strength_and_coaches_each_answer(
    client: Client, sample_cv: str, sample_jd: str
) -> None:
    session_id = await _finished_with_feedback(client, sample_cv, sample_jd)
    body = (await client.get(f"/api/sessions/{session_id}/feedback")).json()
    assert {c["kind"] for c in body["citations"]["strengths"]} == {"to_earn"}
    assert len(body["coaching"]) == 2
    html = (await client.get(f"/sessions/{session_id}/report")).text
    assert "No strength could be shown from this interview’s answers yet." in html
    assert '<h3 class="card-subheading" id="to-earn-heading">What would earn one</h3>' in html
    assert "Stronger versions of your answers" in html
    assert html.count('class="coaching-item"') == 2
    assert "<q>I built the billing API.</q>" in html  # the candidate's own sentence
    assert "The one thing to add:" in html
    pdf = await client.get(f"/sessions/{session_id}/report.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
