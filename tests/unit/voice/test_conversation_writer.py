"""ConversationWriter alone: ordered writes, unsaved answers, error events, surviving cancel."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from server.voice.audio import Pcm16
from server.voice.conversation import (
    MAX_SAVE_ATTEMPTS,
    ConversationWriter,
    ErrorInfo,
    ErrorMapper,
    Progress,
    default_error_mapper,
)
from server.voice.protocol import ErrorEvent, ProgressEvent, ServerEvent
from tests.unit.voice.conftest import FakeAppError, settle

log = logging.getLogger("tests.conversation_writer")


@dataclass
class Call:
    kind: str
    text: str
    continues_previous: bool | None = None
    interrupted: bool | None = None


@dataclass
class ScriptedConversation:
    """Records calls; each may be held on a gate, or fail with the next queued error."""

    calls: list[Call] = field(default_factory=list)
    finished: list[str] = field(default_factory=list)
    errors: list[Exception] = field(default_factory=list)
    gate: asyncio.Event | None = None
    running: int = 0
    most_running: int = 0

    def _progress(self, awaiting: str) -> Progress:
        return Progress(len(self.finished), 5, awaiting, None)  # type: ignore[arg-type]

    async def _run(self, call: Call, awaiting: str) -> Progress:
        self.calls.append(call)
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        try:
            await asyncio.sleep(0)
            if self.gate is not None:
                await self.gate.wait()
            if self.errors:
                raise self.errors.pop(0)
            self.finished.append(call.text)
            return self._progress(awaiting)
        finally:
            self.running -= 1

    async def progress(self) -> Progress:
        return self._progress("answer")

    async def save_candidate_turn(
        self,
        text: str,
        *,
        audio_duration_ms: int | None,
        timings: Mapping[str, Any],
        continues_previous: bool,
        audio: Pcm16 | None = None,
    ) -> Progress:
        return await self._run(
            Call("answer", text, continues_previous=continues_previous), "question"
        )

    async def prefill(self, answer_so_far: str) -> None:
        return None

    async def stream_interviewer_reply(self) -> AsyncIterator[str]:
        yield "Next question?"

    async def save_interviewer_turn(
        self, text: str, *, interrupted: bool, timings: Mapping[str, float]
    ) -> Progress:
        return await self._run(Call("reply", text, interrupted=interrupted), "answer")

    async def end_interview(self) -> Progress:
        return self._progress("finished")


@dataclass
class Rig:
    conversation: ScriptedConversation
    writer: ConversationWriter
    events: list[ServerEvent]
    failures: list[str]

    async def on_failure(self) -> None:
        self.failures.append("failed")

    async def answer(self, text: str) -> Progress | None:
        return await self.writer.save_answer(
            text, audio_ms=1200, timings={}, on_failure=self.on_failure
        )

    async def reply(self, text: str, *, interrupted: bool = False) -> Progress | None:
        return await self.writer.save_reply(
            text, interrupted=interrupted, timings={}, on_failure=self.on_failure
        )

    @property
    def errors(self) -> list[tuple[str, str, bool]]:
        return [(e.code, e.message, e.retryable) for e in self.events if isinstance(e, ErrorEvent)]


def rig(error_mapper: ErrorMapper = default_error_mapper) -> Rig:
    conversation = ScriptedConversation()
    events: list[ServerEvent] = []

    async def emit(event: ServerEvent) -> None:
        events.append(event)

    writer = ConversationWriter(conversation, emit=emit, error_mapper=error_mapper, log=log)
    return Rig(conversation, writer, events, [])


DB_DOWN = FakeAppError("database_unavailable", "could not store the answer")


async def test_writes_run_one_at_a_time_in_order() -> None:
    r = rig()
    r.conversation.gate = asyncio.Event()
    flows = [
        asyncio.ensure_future(r.answer("first answer")),
        asyncio.ensure_future(r.reply("a question")),
        asyncio.ensure_future(r.answer("second answer")),
        asyncio.ensure_future(r.reply("another question", interrupted=True)),
    ]
    await settle()
    assert [c.text for c in r.conversation.calls] == ["first answer"]  # the rest wait
    r.conversation.gate.set()
    await asyncio.gather(*flows)
    assert r.conversation.most_running == 1
    assert r.conversation.finished == [
        "first answer",
        "a question",
        "second answer",
        "another question",
    ]
    assert r.conversation.calls[3].interrupted is True


async def test_continues_previous_while_an_answer_is_open() -> None:
    r = rig()
    assert not r.writer.answer_open
    await r.answer("part one")
    assert r.writer.answer_open and r.writer.can_answer()
    await r.answer("part two of it")  # the candidate went on before the reply
    assert r.writer.open_answer_words == 6  # the whole open answer (the end of turn counts it)
    await r.reply("next question")
    assert not r.writer.answer_open and r.writer.open_answer_words == 0
    await r.answer("new answer")
    assert r.writer.open_answer_words == 2
    assert [(c.text, c.continues_previous) for c in r.conversation.calls if c.kind == "answer"] == [
        ("part one", False),
        ("part two of it", True),
        ("new answer", False),
    ]


async def test_a_failing_save_keeps_the_answer_and_reports_the_error() -> None:
    r = rig()
    r.conversation.errors = [DB_DOWN]
    assert await r.answer("my answer") is None
    assert r.writer.unsaved_answer == "my answer"
    assert not r.writer.answer_open
    assert r.errors == [("database_unavailable", "could not store the answer", True)]
    assert r.failures == ["failed"]
    # The next attempt succeeds: nothing is kept any more.
    progress = await r.answer("my answer")
    assert progress is not None and progress.awaiting == "question"
    assert r.writer.unsaved_answer is None and r.writer.answer_open


async def test_after_max_save_attempts_the_answer_is_dropped() -> None:
    r = rig()
    r.conversation.errors = [DB_DOWN] * MAX_SAVE_ATTEMPTS
    for attempt in range(1, MAX_SAVE_ATTEMPTS):
        assert await r.answer("too long an answer") is None
        assert r.writer.unsaved_answer == "too long an answer", attempt
    assert await r.answer("too long an answer") is None
    assert r.writer.unsaved_answer is None
    codes = [code for code, _, _ in r.errors]
    assert codes == ["database_unavailable"] * MAX_SAVE_ATTEMPTS + ["answer_not_saved"]
    # The count starts again: the next failure keeps the next answer.
    r.conversation.errors = [DB_DOWN]
    await r.answer("another answer")
    assert r.writer.unsaved_answer == "another answer"


async def test_a_success_resets_the_failure_count() -> None:
    r = rig()
    r.conversation.errors = [DB_DOWN] * (MAX_SAVE_ATTEMPTS - 1)
    for _ in range(MAX_SAVE_ATTEMPTS - 1):
        await r.answer("answer one")
    await r.answer("answer one")  # stored
    await r.reply("next question")
    r.conversation.errors = [DB_DOWN]
    await r.answer("answer two")
    assert r.writer.unsaved_answer == "answer two"  # not dropped: a fresh count
    assert "answer_not_saved" not in [code for code, _, _ in r.errors]


async def test_a_failing_reply_save_leaves_the_answer_open() -> None:
    r = rig()
    await r.answer("my answer")
    r.conversation.errors = [DB_DOWN]
    assert await r.reply("next question") is None
    assert r.writer.answer_open
    assert r.failures == ["failed"]


async def test_a_write_survives_the_awaiting_task_being_cancelled() -> None:
    r = rig()
    r.conversation.gate = asyncio.Event()
    flow = asyncio.ensure_future(r.answer("said just before hanging up"))
    await settle()
    flow.cancel()
    await asyncio.gather(flow, return_exceptions=True)
    assert flow.cancelled()
    assert r.writer.lock.locked()  # the write goes on, holding the conversation in order
    r.writer.closing = True
    drain = asyncio.ensure_future(r.writer.drain(grace_s=5.0))
    await settle()
    assert not drain.done()  # drain waits for the write
    r.conversation.gate.set()
    await drain
    assert r.conversation.finished == ["said just before hanging up"]


async def test_drain_cancels_writes_that_do_not_finish_in_time(
    caplog: pytest.LogCaptureFixture,
) -> None:
    r = rig()
    r.conversation.gate = asyncio.Event()  # never set
    flow = asyncio.ensure_future(r.answer("stuck"))
    await settle()
    flow.cancel()
    await asyncio.gather(flow, return_exceptions=True)
    with caplog.at_level(logging.WARNING, logger=log.name):
        await asyncio.wait_for(r.writer.drain(grace_s=0.01), 2)  # cancelled, not waited for
    assert r.conversation.running == 0 and r.conversation.finished == []
    assert any("did not finish in time" in rec.getMessage() for rec in caplog.records)
    await r.writer.drain(grace_s=0.01)  # nothing left: returns at once


async def test_a_write_failing_while_closing_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    r = rig()
    r.conversation.gate = asyncio.Event()
    r.conversation.errors = [DB_DOWN]
    flow = asyncio.ensure_future(r.answer("lost"))
    await settle()
    flow.cancel()
    await asyncio.gather(flow, return_exceptions=True)
    r.writer.closing = True
    r.conversation.gate.set()
    with caplog.at_level(logging.WARNING, logger=log.name):
        await r.writer.drain(grace_s=5.0)
    assert any("failed while closing" in rec.getMessage() for rec in caplog.records)


async def test_error_codes_pass_through_and_unknown_errors_are_internal(
    caplog: pytest.LogCaptureFixture,
) -> None:
    r = rig()

    async def fails(err: Exception) -> Progress:
        raise err

    assert await r.writer.call(fails(FakeAppError("ai_service_error", "the model is down"))) is None
    with caplog.at_level(logging.ERROR, logger=log.name):
        assert await r.writer.call(fails(KeyError("oops"))) is None
    assert r.errors == [
        ("ai_service_error", "the model is down", True),
        ("internal_error", "something went wrong on our side; try again", True),
    ]
    (record,) = [rec for rec in caplog.records if rec.levelno >= logging.ERROR]
    assert record.exc_info is not None and isinstance(record.exc_info[1], KeyError)


async def test_a_custom_error_mapper_decides_the_event() -> None:
    def mapper(err: Exception) -> ErrorInfo | None:
        return ErrorInfo("quota", "no more interviews today", retryable=False)

    r = rig(mapper)
    r.conversation.errors = [RuntimeError("quota exceeded")]
    await r.answer("an answer")
    assert r.errors == [("quota", "no more interviews today", False)]


async def test_note_remembers_what_is_awaited_and_tells_the_client() -> None:
    r = rig()
    assert not r.writer.can_answer()
    await r.writer.note(Progress(2, 5, "answer", "Why Rust?"))
    assert r.writer.awaiting == "answer" and r.writer.can_answer()
    assert r.events == [ProgressEvent(question=2, total=5, awaiting="answer")]


async def test_writes_stay_one_at_a_time_when_an_awaiting_task_is_cancelled() -> None:
    r = rig()
    r.conversation.gate = asyncio.Event()
    first = asyncio.ensure_future(r.answer("answer being stored"))
    await settle()
    first.cancel()
    await asyncio.gather(first, return_exceptions=True)
    second = asyncio.ensure_future(r.reply("the interviewer's reply"))
    await settle()
    assert [c.text for c in r.conversation.calls] == ["answer being stored"]
    r.conversation.gate.set()
    await second
    assert r.conversation.most_running == 1
    # The answer's write finished after its caller was gone, and still counts.
    assert [c.text for c in r.conversation.calls] == [
        "answer being stored",
        "the interviewer's reply",
    ]
    assert r.writer.answer_open is False
