"""The real embedded model (llama.cpp via xllamacpp, Qwen2.5-Coder 1.5B) through the real app.

The app is pointed at the embedded server by ``VIVA_LLM_BASE_URL``-style settings, so this
also proves that any OpenAI-compatible endpoint works with no code change.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from server.ai.embedded import EmbeddedLlamaServer
from server.ai.llm import ChatMessage, OpenAIChatModel
from server.feedback.notes import NOTES_CONVERSATION, AnswerNotes
from server.feedback.writeup import find_quote
from server.services.acknowledgement import acknowledge
from server.services.prompts import interview_messages
from server.services.vocabulary import interview_vocabulary
from server.settings import Settings
from tests.conftest import DATA, MODELS_DIR
from tests.helpers import create_session, interview_records

LABELLED = DATA / "labelled"

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
PRAISE = re.compile(r"\b(?:great|impressive|excellent|fantastic|amazing|awesome)\b", re.I)
TOPIC_WORDS = re.compile(
    r"python|postgres|backend|fernway|parcelly|paybright|fastapi|django|redis|api|service|"
    r"database|queries|latency|engineer|experience|project|team|clinic|booking|health|role|"
    r"company",
    re.IGNORECASE,
)


@pytest.fixture
async def real_client(
    embedded_llm: EmbeddedLlamaServer, settings: Settings, db: None
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    from server.app import create_app

    app = create_app(
        dataclasses.replace(settings, llm_base_url=embedded_llm.base_url, llm_model="local")
    )
    async with AsyncTestClient(app=app, timeout=300) as client:
        await client.get("/api/sessions")  # a page load: the visitor identity
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
    # Each reply to an answer opens with the acknowledgement composed from it, and the model
    # goes on from there (llama.cpp continues the prefilled message) to a question, never to
    # praise of its own.
    terms = interview_vocabulary(sample_cv, sample_jd).terms
    for k, (answer, reply) in enumerate(zip(ANSWERS[:2], asked[1:], strict=True)):
        ack = acknowledge(answer, terms=terms, earlier=asked[: k + 1])
        assert reply.startswith(ack.text + " ") and ack.kind == "named", (ack, reply)
        model_part = reply[len(ack.text) :]
        assert "?" in model_part and not PRAISE.search(model_part), reply

    response = await real_client.post(f"/api/sessions/{sid}/feedback")
    assert response.status_code == 200, response.text
    feedback = response.json()
    assert isinstance(feedback["score"], int) and 1 <= feedback["score"] <= 10
    for key in ("strengths", "weaknesses", "cv_improvements"):
        assert 3 <= len(feedback[key]) <= 5, feedback
        assert all(item.strip() for item in feedback[key])


@pytest.fixture(scope="module")
def fast_llm() -> Iterator[EmbeddedLlamaServer]:
    """The 0.5B "fast" profile model: the one that slips out of role."""
    from server.ai.model_files import BUILDS, assemble

    server = EmbeddedLlamaServer(
        assemble(BUILDS["fast"], MODELS_DIR),
        threads=Settings().llm_threads,
        slots=Settings().llm_slots + 1,  # as the app starts it: one slot for the notes
    )
    server.start()
    yield server
    server.stop()


async def test_the_fast_model_holds_a_real_interview_in_role(
    fast_llm: EmbeddedLlamaServer, settings: Settings, db: None, sample_cv: str, sample_jd: str
) -> None:
    """Unguarded, the 0.5B model introduces itself as the candidate or reads the job
    description out, then repeats each answer back (11 of 14 turns in two interviews)."""
    from server.app import create_app

    app = create_app(
        dataclasses.replace(settings, llm_base_url=fast_llm.base_url, llm_model="local")
    )
    async with AsyncTestClient(app=app, timeout=300) as client:
        await client.get("/api/sessions")  # a page load: the visitor identity
        sid = (await create_session(client, sample_cv, sample_jd, questions=4)).json()["id"]
        replies = [(await client.post(f"/api/sessions/{sid}/next")).json()["reply"]["content"]]
        for answer in ANSWERS:
            response = await client.post(f"/api/sessions/{sid}/answers", json={"text": answer})
            assert response.status_code == 201, response.text
            replies.append(response.json()["reply"]["content"])
    print("\n" + "\n".join(replies))
    for reply, answer in zip(replies, [None, *ANSWERS], strict=True):
        assert "?" in reply, reply
        assert not re.match(r"\W*(I'm|I am|We are looking)", reply), reply
        if answer is not None:
            words = answer.lower().split()
            copied = [" ".join(words[i : i + 6]) for i in range(len(words) - 5)]
            # The answer told back as the interviewer's own words. Quoting it to the candidate
            # ("How did you design the PostgreSQL schema and cut p95 latency?") is a follow-up.
            for sentence in re.split(r"(?<=[.?!])\s+", reply.lower()):
                if not re.search(r"\byou(?:r|'re|'ve)?\b", sentence):
                    assert not any(run in sentence for run in copied), (reply, answer)


async def test_a_note_is_written_alongside_the_interview_not_ahead_of_it(
    fast_llm: EmbeddedLlamaServer,
) -> None:
    """A note has a slot of its own: a reply asked for while the note is being written is
    computed with it and ends first, instead of queueing behind it in the interview's slot."""
    asked = asyncio.Event()

    class Watched(OpenAIChatModel):
        async def complete_json(self, *args: Any, **kwargs: Any) -> Any:
            asked.set()
            return await super().complete_json(*args, **kwargs)

    model = Watched(
        base_url=fast_llm.base_url,
        api_key="",
        model="local",
        prefill=True,
        slots=fast_llm.slots,
        dedicated_slots=(NOTES_CONVERSATION,),  # as the app does
    )
    # A CV of its own: the server's caches then hold nothing the other tests' prompts share.
    session, history = interview_records(ANSWERS, cv="Platform engineer: Go, Kafka, Terraform.")
    chat = interview_messages(session, history)
    await model.prefill(chat, conversation=session.public_id)  # as while the answer was spoken
    notes, finished = AnswerNotes(model), []

    async def note() -> None:
        await notes.note_for(session, history)
        finished.append("note")

    writing = asyncio.create_task(note())
    await asyncio.wait_for(asked.wait(), 30)
    await asyncio.sleep(0.3)  # the note is being read (~150 tokens), then ~80 are generated
    async for _ in model.stream_chat(chat, max_tokens=4, conversation=session.public_id):
        pass
    finished.append("reply")
    await writing
    await model.aclose()
    assert finished == ["reply", "note"]
    assert notes.cached(session.id, history[-1]) is not None


async def test_two_interviews_keep_their_own_prompt_cache(
    fast_llm: EmbeddedLlamaServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Turns of two interviews alternate; each reads only its own new words, not the other's
    history again (with one shared cache each turn re-read everything after the CV and JD)."""
    model = OpenAIChatModel(
        base_url=fast_llm.base_url, api_key="", model="local", prefill=True, slots=2
    )
    chats = {}
    for name in ("a", "b"):
        session, history = interview_records([f"Interview {name}. {ANSWERS[0]}", *ANSWERS[1:]])
        chats[name] = interview_messages(session, history)
    with caplog.at_level("INFO", logger="server.ai.llm"):
        for name in ("a", "b"):
            await model.prefill(chats[name][:-1], conversation=name)
        for name in ("a", "b"):
            await model.prefill(chats[name], conversation=name)
    await model.aclose()
    usage = [
        (int(m["prompt"]), int(m["prompt"]) - int(m["cached"]))
        for m in re.finditer(r"prompt=(?P<prompt>\d+) cached=(?P<cached>\d+)", caplog.text)
    ]
    print(f"\n(prompt, tokens read) per request: {usage}")
    assert len(usage) == 4
    # Then each reads only its last turn (a shared slot would re-read all after the CV). The
    # prompts are compared, not the first reads: the module's other tests may have left the
    # system prompt's opening lines in the server's caches.
    first, then = usage[:2], usage[2:]
    assert min(prompt for prompt, _read in first) > 400
    assert all(read < 0.35 * prompt for (_p, read), (prompt, _r) in zip(then, first, strict=True))


async def _stored_interview(name: str) -> tuple[str, str, list[str]]:
    """A labelled transcript stored as a finished interview; returns (public id, owner, answers)."""
    from server.repositories.sessions import MessageRepository, SessionRepository

    data = json.loads((LABELLED / f"{name}.json").read_text())
    owner = f"owner-{name}"
    record = await SessionRepository().create(
        public_id=f"labelled-{name}",
        owner_id=owner,
        job_title=data["job_title"],
        company_name=data["company"],
        cv_text=data["cv_text"],
        cv_filename=None,
        job_description_text=data["job_description"],
        question_target=len(data["qas"]),
    )
    messages = MessageRepository()
    for number, qa in enumerate(data["qas"], 1):
        await messages.add(
            record.id,
            position=2 * number - 2,
            role="assistant",
            content=qa["question"],
            question_number=number,
        )
        await messages.add(record.id, position=2 * number - 1, role="user", content=qa["answer"])
    return record.public_id, owner, [qa["answer"] for qa in data["qas"]]


async def test_real_model_only_writes_text_the_evidence_decides(
    embedded_llm: EmbeddedLlamaServer, settings: Settings, db: None
) -> None:
    from server.container import build_services

    llm = OpenAIChatModel(base_url=embedded_llm.base_url, api_key="", model="local", timeout_s=300)
    services = build_services(settings, llm)
    reports = {}
    for name in ("backend_strong", "backend_oneword"):
        public_id, owner, answers = await _stored_interview(name)
        started = time.perf_counter()
        record = await services.feedback.generate_feedback(public_id, owner)
        reports[name] = record
        print(
            f"\n--- {name}: {time.perf_counter() - started:.1f} s, written by {record.written_by}"
        )
        report = {
            "score": record.interview_score,
            "sub_scores": record.sub_scores,
            "strengths": record.strengths,
            "weaknesses": record.weaknesses,
            "cv_improvements": record.cv_improvements,
            "citations": record.citations,
            "timings": record.timings,
        }
        print(json.dumps(report, indent=1))
        for key in ("strengths", "weaknesses", "cv_improvements"):
            assert 3 <= len(getattr(record, key)) <= 5
        assert record.citations is not None
        for section in ("strengths", "weaknesses"):
            for citation in record.citations[section]:
                if citation["answer_index"] is None:  # a strength still to earn: no quote
                    assert citation["kind"] == "to_earn" and not citation["quote"], citation
                    continue
                # The quote is in the answer it cites (the same words may be in others too:
                # "Fine." is the first and the last answer of the one-word interview).
                cited = answers[citation["answer_index"]]
                assert find_quote(citation["quote"], [cited]) == 0, citation
        assert record.interview_score == record.rubric_score  # the embedded model never adjusts
    await llm.aclose()

    assert reports["backend_strong"].interview_score > reports["backend_oneword"].interview_score
    assert reports["backend_oneword"].interview_score <= 2


async def _prompt_tokens_read(llm: EmbeddedLlamaServer, messages: list[ChatMessage]) -> int:
    """Send a one-token request and return how many prompt tokens llama.cpp had to read."""
    async with httpx.AsyncClient(timeout=300) as client:
        response = await client.post(
            f"{llm.base_url}/chat/completions",
            json={
                "messages": [{"role": m.role, "content": m.content} for m in messages],
                "max_tokens": 1,
            },
        )
    response.raise_for_status()
    return int(response.json()["timings"]["prompt_n"])


LAST = " In the end we kept SQS and saved money."


async def test_prefill_while_speaking_leaves_only_the_last_phrase_to_read(
    embedded_llm: EmbeddedLlamaServer,
) -> None:
    """The prompt read while the candidate speaks is reused when the answer is complete."""
    session, history = interview_records(["placeholder"], cv=ANSWERS[0], jd=ANSWERS[1])
    question = history[0]
    reads = {}
    for prefill in (False, True):
        # A different answer each time: llama.cpp also keeps earlier prompts in host memory.
        spoken = f"Take {int(prefill)}. {ANSWERS[2]}"
        answered = interview_messages(
            session,
            [question, dataclasses.replace(question, id=2, role="user", content=spoken + LAST)],
        )
        llm = OpenAIChatModel(
            base_url=embedded_llm.base_url, api_key="", model="local", prefill=prefill
        )
        await llm.prefill(interview_messages(session, [question], pending_answer=spoken))
        await llm.aclose()
        reads[prefill] = await _prompt_tokens_read(embedded_llm, answered)
    print(f"\nprompt tokens read once the answer is complete: {reads}")
    assert reads[False] >= 50  # the whole answer (~45 tokens), the note and the template
    assert reads[True] <= 20  # the last phrase and the template's closing tokens
