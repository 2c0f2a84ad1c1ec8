"""Small helpers shared by the API tests."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

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
