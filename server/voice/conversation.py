"""The interview as the voice session sees it, and the writer that stores it in order.

``Conversation`` is implemented over the interview engine and the database
(``server.services.conversation``). ``ConversationWriter`` makes every call to it safe for
a live session: writes run one at a time and in their own tasks (closing the session cannot
cut an answer being stored), failures become error events instead of exceptions, and an
answer that could not be stored is kept and sent again with the next attempt.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from server.voice.audio import Pcm16
from server.voice.protocol import Awaiting, ErrorEvent, ProgressEvent, ServerEvent


@dataclass(frozen=True)
class Progress:
    question: int
    """Questions asked so far (k in "Question k of N")."""
    total: int
    """N."""
    awaiting: Awaiting
    """What the interview needs next."""
    last_interviewer_text: str | None
    answer_id: int | None = None
    """After an answer is stored: its id (the same for an answer the candidate went on with)."""


class Conversation(Protocol):
    """The interview as the voice session sees it; implemented over the engine and the DB."""

    async def progress(self) -> Progress: ...

    async def save_candidate_turn(
        self,
        text: str,
        *,
        audio_duration_ms: int | None,
        timings: Mapping[str, Any],
        continues_previous: bool,
        audio: Pcm16 | None = None,
    ) -> Progress:
        """Store an answer BEFORE the interviewer is asked for a reply.

        ``continues_previous``: the candidate went on speaking after the end-of-turn
        decision and before hearing anything from the interviewer, so the last stored
        message is theirs: append ``text`` to it (the interview is awaiting "question").
        ``audio``: what was said (16 kHz PCM), kept if the candidate allows recording.
        """
        ...

    async def revise_answer(self, answer_id: int, heard: str, text: str) -> bool:
        """The second pass heard answer ``answer_id`` whole as ``text``: store it in place of
        ``heard`` (the text stored live), unless the stored text is no longer ``heard`` (the
        candidate corrected it) or the report exists. Whether it was stored."""
        ...

    async def prefill(self, answer_so_far: str) -> None:
        """The candidate is still speaking: prepare the model for this answer (a hint)."""
        ...

    def stream_interviewer_reply(self) -> AsyncIterator[str]:
        """Text deltas of the next interviewer message (a question or the closing line).

        Stores nothing: the session saves what was actually spoken."""
        ...

    async def save_interviewer_turn(
        self, text: str, *, interrupted: bool, timings: Mapping[str, float]
    ) -> Progress:
        """Store what the interviewer said: if ``interrupted``, only what the candidate heard."""
        ...

    async def end_interview(self) -> Progress: ...

    async def skip_question(self) -> Progress:
        """Store that the candidate skipped the question asked (never scored as an answer)."""
        ...


@dataclass(frozen=True)
class ErrorInfo:
    code: str
    message: str
    retryable: bool = True


ErrorMapper = Callable[[Exception], ErrorInfo | None]


# An answer refused for what it is (too long, invalid) fails the same way however often it is
# sent again: HTTP's "payload too large" and "unprocessable".
_REFUSED_AS_IS = frozenset({413, 422})


def default_error_mapper(err: Exception) -> ErrorInfo | None:
    """App errors (``server.errors.AppError``) carry ``code`` and ``message``: pass them on."""
    code = getattr(err, "code", None)
    message = getattr(err, "message", None)
    if isinstance(code, str) and isinstance(message, str):
        status = getattr(err, "status_code", 500)
        return ErrorInfo(code, message, retryable=status not in _REFUSED_AS_IS)
    return None


INTERNAL_ERROR = ErrorInfo(
    "internal_error", "something went wrong on our side; try again", retryable=True
)

MAX_SAVE_ATTEMPTS = 3
"""Saving one answer fails this often: it is dropped with an error instead of blocking."""

Emit = Callable[[ServerEvent], Awaitable[None]]
OnFailure = Callable[[], Awaitable[None]]


class ConversationWriter:
    """Calls the conversation for one voice session, and remembers what it said.

    ``awaiting`` is what the interview needs next; ``answer_open`` says an answer is stored
    and the interviewer has not replied yet (speech now adds to that answer), and
    ``open_answer_words`` how many words it has; ``unsaved_answer`` is an answer whose storing
    failed, sent again with the next one.
    """

    def __init__(
        self,
        conversation: Conversation,
        *,
        emit: Emit,
        error_mapper: ErrorMapper,
        log: logging.LoggerAdapter[logging.Logger] | logging.Logger,
    ) -> None:
        self.conversation = conversation
        self._emit = emit
        self._error_mapper = error_mapper
        self._log = log
        self.lock = asyncio.Lock()
        """Held around each write (and ending the interview): the conversation stays in order."""
        self.awaiting: Awaiting | None = None
        self.answer_open = False
        self.open_answer_words = 0
        self.unsaved_answer: str | None = None
        self._unsaved_attempts = 0
        self._writes: set[asyncio.Task[Progress]] = set()
        self.closing = False

    def can_answer(self) -> bool:
        """A question is pending (or the candidate is adding to an answer not yet replied to)."""
        return self.awaiting == "answer" or self.answer_open

    async def call(
        self, call: Awaitable[Progress], on_failure: OnFailure | None = None
    ) -> Progress | None:
        """Run one conversation call; its errors become error events (None is returned)."""
        try:
            return await call
        except Exception as err:
            info = self._error_mapper(err)
            if info is None:
                self._log.exception("conversation call failed")
                info = INTERNAL_ERROR
            else:
                self._log.warning("conversation call failed: %s: %s", info.code, info.message)
            await self._emit(
                ErrorEvent(code=info.code, message=info.message, retryable=info.retryable)
            )
            if on_failure is not None:
                await on_failure()
            return None

    async def _write(
        self, call: Coroutine[Any, Any, Progress], on_failure: OnFailure | None
    ) -> Progress | None:
        """A conversation write, in its own task so that closing the session cannot cut it."""
        task: asyncio.Task[Progress] = asyncio.ensure_future(call)
        self._writes.add(task)
        task.add_done_callback(self._write_done)
        return await self.call(asyncio.shield(task), on_failure)

    def _write_done(self, task: asyncio.Task[Progress]) -> None:
        self._writes.discard(task)
        if task.cancelled():
            return
        # Retrieving it here keeps asyncio quiet; the awaiting flow reports the error as an
        # event, unless the session is closing and nobody awaits it any more.
        err = task.exception()
        if err is not None and self.closing:
            self._log.warning("conversation write failed while closing: %r", err)

    async def drain(self, grace_s: float) -> None:
        """Give writes under way ``grace_s`` to finish; cancel the rest."""
        if not self._writes:
            return
        _done, pending = await asyncio.wait(list(self._writes), timeout=grace_s)
        for task in pending:
            self._log.warning("a conversation write did not finish in time; cancelling it")
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)

    async def save_answer(
        self,
        text: str,
        *,
        audio_ms: int | None,
        timings: Mapping[str, Any],
        audio: Pcm16 | None = None,
        on_failure: OnFailure | None = None,
    ) -> Progress | None:
        """Store an answer (continuing the open one if there is one). On failure the text is
        kept for the next attempt, up to ``MAX_SAVE_ATTEMPTS``; then it is dropped and the
        candidate is asked to give it again."""
        dropped = False

        async def write() -> Progress:
            # The lock and the bookkeeping live in the write's own task: a caller cancelled
            # while it waits cannot let the next write start before this one is done.
            nonlocal dropped
            async with self.lock:
                try:
                    progress = await self.conversation.save_candidate_turn(
                        text,
                        audio_duration_ms=audio_ms,
                        timings=timings,
                        continues_previous=self.answer_open,
                        audio=audio,
                    )
                except Exception as err:
                    self._unsaved_attempts += 1
                    info = self._error_mapper(err)
                    if info is not None and not info.retryable:
                        # Refused for what it is: sent again, or ahead of the next answer, it
                        # would only make that one fail too. The error says why.
                        self.unsaved_answer = None
                        self._unsaved_attempts = 0
                    elif self._unsaved_attempts < MAX_SAVE_ATTEMPTS:
                        self.unsaved_answer = text  # sent again on retry or with the next answer
                    else:
                        self.unsaved_answer = None
                        self._unsaved_attempts = 0
                        dropped = True
                    raise
                self.unsaved_answer = None
                self._unsaved_attempts = 0
                said = self.open_answer_words if self.answer_open else 0
                self.open_answer_words = said + len(text.split())
                self.answer_open = True
                return progress

        progress = await self._write(write(), on_failure)
        if dropped:
            # Not transient, it seems (e.g. rejected as too long): don't block the interview
            # forever; the candidate saw the text and is asked to give it again.
            self._log.error(
                "answer dropped after %d failed saves (%d characters)",
                MAX_SAVE_ATTEMPTS,
                len(text),
            )
            await self._emit(
                ErrorEvent(
                    code="answer_not_saved",
                    message="your answer could not be stored; please give it again",
                )
            )
        return progress

    async def save_reply(
        self,
        text: str,
        *,
        interrupted: bool,
        timings: Mapping[str, float],
        on_failure: OnFailure | None = None,
    ) -> Progress | None:
        async def write() -> Progress:
            async with self.lock:
                progress = await self.conversation.save_interviewer_turn(
                    text, interrupted=interrupted, timings=timings
                )
                self.answer_open = False
                self.open_answer_words = 0
                return progress

        return await self._write(write(), on_failure)

    async def note(self, progress: Progress) -> None:
        """Remember what the interview awaits and tell the client."""
        self.awaiting = progress.awaiting
        await self._emit(
            ProgressEvent(
                question=progress.question, total=progress.total, awaiting=progress.awaiting
            )
        )
