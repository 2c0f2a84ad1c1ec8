"""Small helpers shared by the API tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from server.repositories.records import MessageRecord, SessionRecord

Client = AsyncTestClient[Litestar]


async def create_session(
    client: Client,
    cv: str,
    jd: str,
    *,
    questions: int = 3,
    files: dict[str, Any] | None = None,
    **fields: Any,
) -> Any:
    data = {
        "job_title": "Senior Python Backend Engineer",
        "company_name": "Fernway Health",
        "job_description": jd,
        "question_count": str(questions),
        **fields,
    }
    if files is None:
        data.setdefault("cv_text", cv)
    response = await client.post("/api/sessions", data=data, files=files or {"_": ("", b"")})
    return response


async def run_interview(client: Client, session_id: str, answers: list[str]) -> list[Any]:
    """First question, then each answer; returns the JSON of every turn."""
    turns = [(await client.post(f"/api/sessions/{session_id}/next")).json()]
    for answer in answers:
        response = await client.post(f"/api/sessions/{session_id}/answers", json={"text": answer})
        assert response.status_code == 201, response.text
        turns.append(response.json())
    return turns


def interview_records(
    answers: list[str], *, cv: str = "Backend engineer: Python, Django, PostgreSQL.", jd: str = ""
) -> tuple[SessionRecord, list[MessageRecord]]:
    """An interview as the repositories return it (in memory: nothing is stored)."""
    now = datetime.now(UTC)
    session = SessionRecord(
        id=1, public_id="s1", owner_id="o1", job_title="Backend Engineer",
        company_name="Fernway", cv_text=cv, cv_filename=None,
        job_description_text=jd or "We need a Python backend engineer who knows PostgreSQL.",
        status="in_progress", question_target=max(3, len(answers)), created_at=now,
        updated_at=now,
    )  # fmt: skip
    history: list[MessageRecord] = []
    for number, answer in enumerate(answers, 1):
        for role, content in (("assistant", f"Question {number}: tell me more?"), ("user", answer)):
            history.append(
                MessageRecord(
                    id=len(history) + 1,
                    role=role,  # type: ignore[arg-type]
                    content=content,
                    question_number=number if role == "assistant" else None,
                    is_closing=False,
                    audio_duration_ms=None,
                    timings=None,
                    interrupted=False,
                    created_at=now,
                )
            )
    return session, history


def wait_for_js(page: Any, expression: str, arg: Any = None, *, timeout_s: float = 30.0) -> None:
    """Wait until ``expression`` (a JavaScript function of ``arg``, or an expression) is truthy
    in ``page``. Playwright's ``wait_for_function`` evaluates its predicate with ``eval``, which
    the app's Content-Security-Policy refuses; ``evaluate`` goes over the DevTools protocol."""
    import time

    deadline = time.monotonic() + timeout_s
    while not page.evaluate(expression, arg):
        if time.monotonic() > deadline:
            raise TimeoutError(f"not true within {timeout_s} s: {expression}")
        time.sleep(0.05)


# Substantive answers (an example, what the candidate did, a result): the interviewer moves on
# after each, where a thin one ("First answer.") gets a follow-up first.
ANSWERS = (
    "At Parcelly I led the move of order tracking to async FastAPI services, and the p95 "
    "latency fell from 900 to 180 milliseconds once I added Redis caching.",
    "I found the slow refunds report with EXPLAIN ANALYZE, added the missing index, and the "
    "report went from forty seconds to two.",
    "When a teammate wanted Kafka, I wrote a one-page design doc, we load-tested both options, "
    "and we kept SQS because it met the target at a third of the cost.",
    "I set up OpenTelemetry tracing and three dashboards, and our time to find a slow service "
    "dropped from an hour to ten minutes.",
)


def substantive_answers(count: int) -> list[str]:
    """``count`` substantive answers (``ANSWERS``, round again if need be)."""
    return [ANSWERS[i % len(ANSWERS)] for i in range(count)]
