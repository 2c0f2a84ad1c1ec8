"""The real embedded model (llama.cpp via xllamacpp, Qwen2.5-Coder 1.5B) through the real app.

The app is pointed at the embedded server by ``VIVA_LLM_BASE_URL``-style settings, so this
also proves that any OpenAI-compatible endpoint works with no code change.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator, Iterator

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from server.ai.embedded import EmbeddedLlamaServer
from server.ai.model_files import BUILDS, assemble
from server.settings import Settings
from tests.helpers import create_session

pytestmark = [pytest.mark.slow, pytest.mark.db]

ANSWERS = [
    "At Parcelly I led the move of order tracking from a Django monolith to async FastAPI "
    "services. I designed the PostgreSQL schema and cut p95 latency from 900 to 180 milliseconds "
    "with Redis caching and rewritten queries.",
    "For slow PostgreSQL queries I start with EXPLAIN ANALYZE, look for sequential scans and bad "
    "row estimates, then add the right index or rewrite the query. At PayBright that took the "
    "refunds report from forty seconds to two.",
    "When a teammate and I disagreed about using Kafka, I wrote a short design doc comparing it "
    "with our SQS outbox, we ran a load test together, and we kept SQS because it met the "
    "throughput target at a third of the cost.",
]
TOPIC_WORDS = re.compile(
    r"python|postgres|backend|fernway|parcelly|paybright|fastapi|django|redis|api|service|"
    r"database|queries|latency|engineer|experience|project|team|clinic|booking|health|role",
    re.IGNORECASE,
)


@pytest.fixture(scope="module")
def embedded_llm() -> Iterator[EmbeddedLlamaServer]:
    settings = Settings.from_env()
    path = assemble(BUILDS["quality"], settings.models_dir)
    server = EmbeddedLlamaServer(path, threads=settings.llm_threads)
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def real_client(
    embedded_llm: EmbeddedLlamaServer, settings: Settings, db: None
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    from server.app import create_app

    app = create_app(
        dataclasses.replace(settings, llm_base_url=embedded_llm.base_url, llm_model="local")
    )
    async with AsyncTestClient(app=app, timeout=300) as client:
        yield client


async def test_real_interview_and_feedback(
    real_client: AsyncTestClient[Litestar], sample_cv: str, sample_jd: str
) -> None:
    created = await create_session(real_client, sample_cv, sample_jd, questions=3)
    sid = created.json()["id"]

    questions = [(await real_client.post(f"/api/sessions/{sid}/next")).json()["reply"]["content"]]
    for answer in ANSWERS:
        response = await real_client.post(f"/api/sessions/{sid}/answers", json={"text": answer})
        assert response.status_code == 201, response.text
        questions.append(response.json()["reply"]["content"])

    *asked, closing = questions
    assert len(asked) == 3
    for question in asked:
        assert len(question.split()) >= 5, question
        assert TOPIC_WORDS.search(question), f"off-topic question: {question!r}"
    assert closing

    response = await real_client.post(f"/api/sessions/{sid}/feedback")
    assert response.status_code == 200, response.text
    feedback = response.json()
    assert isinstance(feedback["score"], int) and 1 <= feedback["score"] <= 10
    for key in ("strengths", "weaknesses", "cv_improvements"):
        assert 3 <= len(feedback[key]) <= 5, feedback
        assert all(item.strip() for item in feedback[key])
