"""The interview engine: one conversation, two input channels (typed answers and voice).

Candidate answers are stored before the model is asked anything, so a model failure never
loses an answer; the next interviewer message can simply be requested again.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from server.ai.llm import ChatMessage, ChatModel
from server.errors import AIServiceError, Conflict, ValidationError
from server.repositories.records import MessageRecord, SessionRecord
from server.repositories.sessions import MessageRepository, SessionRepository
from server.services.acknowledgement import Acknowledgement, acknowledge
from server.services.activity import InterviewActivity
from server.services.plans import PLANS, follows_up
from server.services.prompts import (
    ANSWER_LABEL,
    NOTE_PREFIX,
    interview_messages,
    opening_message,
    plain_question,
    question_requirement,
    welcome,
)
from server.services.reply_guard import ACKNOWLEDGEMENT, ReplyPlan, asks_again, guard_reply
from server.services.vocabulary import interview_vocabulary
from server.voice.sentences import SentenceSplitter, split_sentences

logger = logging.getLogger(__name__)

Awaiting = Literal["question", "answer", "finished"]

SKIPPED_ANSWER = "I'd like to skip this question."
"""What a skipped question stores as the candidate's turn (and the model reads)."""
MOVING_ON = "Okay, let's move on."
"""The acknowledgement of a skipped question."""
QUESTION_MAX_TOKENS = 140
CLOSING = (
    "That was the last question. Thank you for your time; your feedback report is being prepared."
)
ENDED = "Let's stop here. Thank you for your time; your feedback report is being prepared."
"""The closing lines, after the last answer or when the candidate ends early: composed, not
written by the model, so they are instant and say nothing untrue (a model's closing thanked
for thanks never given and offered to take questions)."""
MAX_REPLY_CHARS = 700
VOCABULARIES_KEPT = 64
"""Per-interview memos kept (vocabularies, follow-ups being said): the most recent ones."""


@dataclass(frozen=True)
class InterviewState:
    asked: int  # questions asked so far: k in "Question k of N"
    total: int
    awaiting: Awaiting
    last_interviewer_text: str | None
    stored: int  # messages stored so far: the next one's position

    @property
    def next_is_closing(self) -> bool:
        return self.asked >= self.total


def interview_state(session: SessionRecord, history: Sequence[MessageRecord]) -> InterviewState:
    asked = max((m.question_number or 0 for m in history), default=0)
    last_assistant = next((m.content for m in reversed(history) if m.role == "assistant"), None)
    awaiting: Awaiting
    if session.status == "completed":
        awaiting = "finished"
    elif history and history[-1].role == "assistant":
        awaiting = "answer"
    else:
        awaiting = "question"
    return InterviewState(
        asked,
        session.question_target,
        awaiting,
        last_interviewer_text=last_assistant,
        stored=len(history),
    )


_LABEL = re.compile(
    r"^\s*(?:\*\*)?(?:interviewer|viva|assistant|question\s*\d+(?:\s*(?:of|/)\s*\d+)?)\s*(?:\*\*)?\s*[:.\-–—]\s*",
    re.IGNORECASE,
)
_MARKDOWN = re.compile(r"[*_#`]+")
# Small models sometimes carry on and write the candidate's side too.
_ROLE_BREAK = re.compile(r"\n\s*(?:candidate|you|user|me)\s*:", re.IGNORECASE)


def clean_reply(text: str) -> str:
    """Make model output speakable: no labels, markdown or invented candidate turns."""
    text = _ROLE_BREAK.split(text, maxsplit=1)[0]
    text = text.split(NOTE_PREFIX, 1)[0]
    text = _MARKDOWN.sub("", text)
    while (stripped := _LABEL.sub("", text, count=1)) != text:
        text = stripped
    text = re.sub(r"\s+", " ", text).strip().strip('"').strip()
    if len(text) > MAX_REPLY_CHARS:
        cut = text[:MAX_REPLY_CHARS]
        end = max(cut.rfind("?"), cut.rfind("."), cut.rfind("!"))
        text = cut[: end + 1] if end > 0 else cut
    return text


async def clean_stream(deltas: AsyncIterator[str]) -> AsyncGenerator[str, None]:
    """``clean_reply`` for a stream: hold back only the first few words (where labels sit)
    and stop if the model starts writing the candidate's side."""
    head = ""
    started = False
    tail = ""
    async for delta in deltas:
        if not started:
            head += delta
            if len(head) < 24 and "\n" not in head:
                continue
            started = True
            delta = _LABEL.sub("", head.lstrip(), count=1)
        # Keep a short tail unsent so a role break split across deltas is still caught.
        tail += delta
        if _ROLE_BREAK.search(tail) or NOTE_PREFIX[:12] in tail:
            head_of_break = _ROLE_BREAK.split(tail, maxsplit=1)[0].split(NOTE_PREFIX[:12], 1)[0]
            if head_of_break:
                yield _MARKDOWN.sub("", head_of_break)
            return
        if len(tail) > 16:
            yield _MARKDOWN.sub("", tail[:-16])
            tail = tail[-16:]
    if not started and head:
        tail = _LABEL.sub("", head.lstrip(), count=1)
    if tail.strip():
        yield _MARKDOWN.sub("", tail)


AfterReply = Callable[[SessionRecord, Sequence[MessageRecord]], None]
"""Called with the history (ending with an answer) once the reply to it was generated."""


class InterviewEngine:
    def __init__(
        self,
        llm: ChatModel,
        sessions: SessionRepository,
        messages: MessageRepository,
        *,
        after_reply: AfterReply | None = None,
        activity: InterviewActivity | None = None,
        first_words_in_turn: bool = False,
        first_words_wait_s: float = 60.0,
        acknowledge_answers: bool = False,
    ) -> None:
        """``first_words_in_turn``: replies get the model one at a time until their first
        spoken unit (``stream_reply``); for a model on a few local cores. A reply waits at
        most ``first_words_wait_s`` for its turn.
        ``acknowledge_answers``: a reply to an answer starts with an acknowledgement composed
        from it (``acknowledgement.py``), and the model goes on from there."""
        self.llm = llm
        self.sessions = sessions
        self.messages = messages
        self.after_reply = after_reply
        self.activity = activity or InterviewActivity()
        self._background: set[asyncio.Task[None]] = set()
        # First reads (``_read_ahead``), one interview at a time, and the one each interview
        # is waiting for.
        self._first_reads = asyncio.Lock()
        self._reading: dict[str, asyncio.Task[None]] = {}
        # Replies are computed one at a time until their first spoken unit (``stream_reply``).
        self._first_words = asyncio.Lock() if first_words_in_turn else None
        self._turn_wait_s = first_words_wait_s
        self._acknowledge = acknowledge_answers
        self._terms: dict[str, tuple[str, ...]] = {}  # the interview's vocabulary, by session
        # A follow-up being said, by session: stored as the same question, not the next one.
        self._follow_ups: dict[str, str] = {}

    async def state(self, session: SessionRecord) -> InterviewState:
        return interview_state(session, await self.messages.list_for_session(session.id))

    async def submit_answer(
        self,
        session: SessionRecord,
        text: str,
        *,
        max_chars: int,
        audio_duration_ms: int | None = None,
        timings: Mapping[str, Any] | None = None,
    ) -> MessageRecord:
        """Store the candidate's answer; it must follow an interviewer question."""
        text = text.strip()
        if not text:
            raise ValidationError("The answer is empty.")
        if len(text) > max_chars:
            raise ValidationError(f"The answer is longer than {max_chars} characters.")
        state = await self.state(session)
        if state.awaiting != "answer":
            raise Conflict(_not_now("an answer", state))
        record = await self.messages.add(
            session.id,
            position=state.stored,
            role="user",
            content=text,
            audio_duration_ms=audio_duration_ms,
            timings=timings,
        )
        logger.info("session %s: stored answer %d", session.public_id, state.asked)
        return record

    async def skip_question(self, session: SessionRecord) -> MessageRecord:
        """Store that the candidate skipped the question they were asked: a candidate turn
        (``SKIPPED_ANSWER``, what they said) that is shown and never scored as an answer."""
        state = await self.state(session)
        if state.awaiting != "answer":
            raise Conflict(_not_now("a skipped question", state))
        record = await self.messages.add(
            session.id, position=state.stored, role="user", content=SKIPPED_ANSWER, skipped=True
        )
        logger.info("session %s: question %d skipped", session.public_id, state.asked)
        return record

    async def continue_answer(
        self, session: SessionRecord, text: str, *, max_chars: int
    ) -> MessageRecord:
        """Append to the last answer: the candidate went on before the interviewer replied.
        Returns the answer as now stored."""
        history = await self.messages.list_for_session(session.id)
        if not history or history[-1].role != "user" or session.status == "completed":
            raise Conflict("There is no unanswered candidate turn to continue.")
        last = history[-1]
        if len(last.content) + len(text) + 1 > max_chars:
            raise ValidationError(f"The answer is longer than {max_chars} characters.")
        await self.messages.append_content(last.id, text.strip())
        return dataclasses.replace(last, content=f"{last.content} {text.strip()}")

    async def stream_reply(
        self, session: SessionRecord, *, end_now: bool = False
    ) -> AsyncGenerator[str, None]:
        """Text deltas of the next interviewer message, cleaned (``clean_stream``) and kept in
        role (``guard_reply``). Nothing is stored: see ``save_reply``."""
        history = await self.messages.list_for_session(session.id)
        state = interview_state(session, history)
        if state.awaiting != "question":
            raise Conflict(_not_now("a new interviewer message", state))
        if not history:
            opening = opening_message(session)
            self._read_ahead(session, opening)
            yield opening
            return
        # The reply reads whatever its first read has not: a first read not yet begun would
        # now only cut the slot's cache back to the opening.
        self._reading.pop(session.public_id, None)
        if end_now or state.next_is_closing:
            acknowledged = self._acknowledge and not history[-1].skipped
            said = self._acknowledgement(session, history).text if acknowledged else ""
            yield " ".join(filter(None, [said, ENDED if end_now else CLOSING]))
            self._replied(session, history)
            return
        prompt = interview_messages(session, history)
        said = ""
        if self._acknowledge:
            # Spoken now, while the model writes the question: it needs no model.
            ack = None if history[-1].skipped else self._acknowledgement(session, history)
            said = MOVING_ON if ack is None else ack.text
            follow_up = (
                ack.follow_up(
                    _asked_so_far(history), press_for_result=session.difficulty == "tough"
                )
                if ack is not None and follows_up(session.difficulty)
                else None
            )
            if follow_up is not None and not _followed_up(history):
                # A thin answer: one follow-up on what it lacked, composed, before moving on.
                text = f"{said} {follow_up}"
                if len(self._follow_ups) >= VOCABULARIES_KEPT:  # interviews left mid-way
                    del self._follow_ups[next(iter(self._follow_ups))]
                self._follow_ups[session.public_id] = text
                logger.info("session %s: a follow-up on a thin answer", session.public_id)
                yield text
                self._replied(session, history)
                return
            yield f"{said} "
        plan = reply_plan(session, history, prompt, said=said)
        if said:
            # The model continues the message from it (llama.cpp and vLLM continue a final
            # assistant message), so what is stored, "acknowledgement question", is what it
            # read: the next turn's prompt is still this one plus what was added.
            prompt.append(ChatMessage("assistant", said))
        model = self.llm.stream_chat(
            prompt, max_tokens=QUESTION_MAX_TOKENS, conversation=session.public_id
        )
        # First words first: when two interviews' answers end together, the two cores give
        # one reply its first spoken unit at full speed, then the other, instead of both at
        # half speed; the rest of each reply is computed alongside while the first is spoken.
        turn = self._first_words
        if turn is not None:
            try:
                # Bounded like the reply itself: behind a stalled model, fail in seconds too.
                await asyncio.wait_for(turn.acquire(), self._turn_wait_s)
            except TimeoutError:
                raise AIServiceError(
                    "The interviewer's model is busy with another interview; your answer is "
                    "kept: retry."
                ) from None
        first_unit = SentenceSplitter()
        try:
            with self.activity.using(session.public_id):
                async with aclosing(model), aclosing(clean_stream(model)) as cleaned:
                    async for delta in guard_reply(cleaned, plan, log_as=session.public_id):
                        if turn is not None and first_unit.push(delta):
                            turn.release()
                            turn = None
                        yield delta
        finally:
            if turn is not None:
                turn.release()
        self._replied(session, history)

    def _replied(self, session: SessionRecord, history: Sequence[MessageRecord]) -> None:
        """The reply was generated (not cut short by the candidate going on): the model is
        free while it is read or spoken, so background work on the answer may start now."""
        if (
            self.after_reply is not None
            and history
            and history[-1].role == "user"
            and not history[-1].skipped  # nothing to write a note on
        ):
            self.after_reply(session, history)

    def _acknowledgement(
        self, session: SessionRecord, history: Sequence[MessageRecord]
    ) -> Acknowledgement:
        return acknowledge(
            history[-1].content,
            terms=self._vocabulary(session),
            earlier=[m.content for m in history if m.role == "assistant"],
        )

    def _vocabulary(self, session: SessionRecord) -> tuple[str, ...]:
        terms = self._terms.get(session.public_id)
        if terms is None:
            terms = interview_vocabulary(session.cv_text, session.job_description_text).terms
            if len(self._terms) >= VOCABULARIES_KEPT:
                del self._terms[next(iter(self._terms))]
            self._terms[session.public_id] = terms
        return terms

    def _read_ahead(self, session: SessionRecord, opening: str) -> None:
        """The opening is fixed text, so the model has not read this interview yet: let it
        read the system prompt and the opening now, in the background, while the opening is
        spoken and answered (a hint: ``prefill`` never raises).

        First reads (~800 tokens) run one at a time. Two side by side on two cores, with the
        speech of both candidates being transcribed, they took 34-70 s: neither was done when
        its first answer ended. One at a time, the first is done in time and the second
        starts sooner. Until its first read is done, an interview sends no prefills of the
        answer being spoken (they would read the whole prompt alongside the other's)."""
        spoken = MessageRecord(
            id=0,
            role="assistant",
            content=opening,
            question_number=1,
            is_closing=False,
            audio_duration_ms=None,
            timings=None,
            interrupted=False,
            created_at=datetime.now(UTC),
        )
        prompt = interview_messages(session, [spoken], pending_answer="")
        interview = session.public_id

        async def first_read() -> None:
            async with self._first_reads:
                if self._reading.get(interview) is task:  # else the reply came first
                    await self._prefill(session, prompt)

        task = asyncio.create_task(first_read(), name=f"read-ahead-{interview}")
        self._reading[interview] = task
        self._background.add(task)

        def done(finished: asyncio.Task[None]) -> None:
            self._background.discard(finished)
            if self._reading.get(interview) is finished:
                del self._reading[interview]

        task.add_done_callback(done)

    async def prefill(self, session: SessionRecord, answer_so_far: str) -> None:
        """Warm the model's prompt cache with the answer being spoken (a hint; never raises
        for the model's sake). Nothing is stored: the answer is saved when it ends."""
        history = await self.messages.list_for_session(session.id)
        if interview_state(session, history).awaiting != "answer" or not answer_so_far.strip():
            return
        if session.public_id in self._reading:
            return  # its first read comes first (``_read_ahead``)
        prompt = interview_messages(session, history, pending_answer=answer_so_far.strip())
        await self._prefill(session, prompt)

    async def _prefill(self, session: SessionRecord, prompt: Sequence[ChatMessage]) -> None:
        with self.activity.using(session.public_id):
            await self.llm.prefill(prompt, conversation=session.public_id)

    async def save_reply(
        self,
        session: SessionRecord,
        text: str,
        *,
        end_now: bool = False,
        interrupted: bool = False,
        timings: Mapping[str, Any] | None = None,
    ) -> MessageRecord:
        """Store what the interviewer said (for voice: what was actually spoken). Only where
        a reply is due: if another request or app instance stored one meanwhile, ``Conflict``
        (and nothing is stored), so no question follows another unanswered."""
        state = await self.state(session)
        if state.awaiting != "question":
            raise Conflict(_not_now("a new interviewer message", state))
        follow_up = _is_said(text, self._follow_ups.pop(session.public_id, None))
        closing = (end_now or state.next_is_closing) and not follow_up
        record = await self.messages.add(
            session.id,
            position=state.stored,
            role="assistant",
            content=text,
            # A follow-up is the same question asked again, deeper: it keeps its number.
            question_number=None if closing else state.asked + (0 if follow_up else 1),
            is_closing=closing,
            interrupted=interrupted,
            timings=timings,
        )
        if closing:
            await self.sessions.set_status(session.id, "completed")
        logger.info(
            "session %s: stored %s",
            session.public_id,
            "closing line" if closing else f"question {state.asked + 1}",
        )
        return record

    async def next_message(self, session: SessionRecord) -> MessageRecord:
        """Generate and store the next interviewer message (idempotent while an answer is due)."""
        history = await self.messages.list_for_session(session.id)
        state = interview_state(session, history)
        if state.awaiting == "answer":
            return history[-1]
        if state.awaiting == "finished":
            raise Conflict("The interview has finished.")
        text = clean_reply("".join([d async for d in self.stream_reply(session)]))
        if not text:
            raise AIServiceError("The language model returned an empty interviewer message.")
        try:
            return await self.save_reply(session, text)
        except Conflict:
            # Another request (or app instance) stored the question first: that one stands.
            history = await self.messages.list_for_session(session.id)
            if interview_state(session, history).awaiting != "answer":
                raise
            return history[-1]

    async def end(self, session: SessionRecord) -> MessageRecord | None:
        """End the interview now: a closing line if an answer is waiting for a reply, then done."""
        state = await self.state(session)
        if state.awaiting == "finished":
            return None
        if state.awaiting == "question" and state.asked > 0:
            try:
                text = clean_reply(
                    "".join([d async for d in self.stream_reply(session, end_now=True)])
                )
            except AIServiceError:
                logger.warning("session %s: no closing line (model failed)", session.public_id)
                text = ""
            if text:
                return await self.save_reply(session, text, end_now=True)
        await self.sessions.set_status(session.id, "completed")
        return None


def reply_plan(
    session: SessionRecord,
    history: Sequence[MessageRecord],
    prompt: Sequence[ChatMessage],
    *,
    said: str = "",
) -> ReplyPlan:
    """What the next interviewer message must be (``reply_guard``): a question on the
    planned topic (the closing line is composed: ``CLOSING``); and what it must not read out:
    the CV, the job description and this turn's note in ``prompt`` (not the system prompt's
    role line, which a good welcome repeats; the answer itself is judged separately)."""
    asked = interview_state(session, history).asked
    answer = history[-1].content if history and history[-1].role == "user" else None
    note = prompt[-1].content.split(ANSWER_LABEL, 1)[0]
    greeting = ACKNOWLEDGEMENT if answer is not None else welcome(session)
    earlier = tuple(_asked_so_far(history))
    return ReplyPlan(
        answer=answer,
        documents=(session.cv_text, session.job_description_text, note),
        question=_unasked_plain_question(session, asked + 1, earlier),
        quotable=question_requirement(session, asked + 1),
        greeting=greeting,
        said=said,
        asked=earlier,
    )


def _is_said(text: str, follow_up: str | None) -> bool:
    """Whether ``text`` (what was said, possibly cut short by the candidate) is ``follow_up``."""
    said = " ".join(text.split())
    return bool(follow_up and said) and " ".join((follow_up or "").split()).startswith(said)


def _followed_up(history: Sequence[MessageRecord]) -> bool:
    """Whether the question being answered was a follow-up already (at most one each)."""
    numbers = [m.question_number for m in history if m.role == "assistant"]
    return len(numbers) >= 2 and numbers[-1] is not None and numbers[-1] == numbers[-2]


def _asked_so_far(history: Sequence[MessageRecord]) -> list[str]:
    return [q for m in history if m.role == "assistant" for q in _questions_in(m.content)]


def _questions_in(message: str) -> list[str]:
    """The sentences of an interviewer message that ask something."""
    return [s for s in split_sentences(message) if s.rstrip().endswith("?")]


def _unasked_plain_question(session: SessionRecord, number: int, asked: Sequence[str]) -> str:
    """Question ``number``'s plain question, or, when it was asked already (longer interviews
    go round the topics again), the next plain question not asked yet."""
    planned = plain_question(session, number)
    plan = PLANS[session.interview_mode]
    others = [
        t.plain.format(role=session.job_title, company=session.company_name)
        for t in plan[number % len(plan) :] + plan
    ]
    return next((q for q in [planned, *others] if not asks_again(q, asked)), planned)


def _not_now(what: str, state: InterviewState) -> str:
    if state.awaiting == "finished":
        return f"The interview has finished; it does not take {what}."
    if state.awaiting == "question":
        return f"The interview is waiting for the interviewer's next question, not {what}."
    return f"The interview is waiting for the candidate's answer, not {what}."
