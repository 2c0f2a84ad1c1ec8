"""Per-answer notes: the model's view of one answer, written while the interview goes on.

As soon as the interviewer's reply to an answer has been generated, a note for the answer is
written in the background: one strength and one area to improve, a sentence each (the
report quotes the answer's sentence each is about). A note needs only the role, the question
and the answer, so its prompt is those and the instructions (~200 tokens, of which the role
and the instructions are read once per interview: ~90 per note), and it is written in a
llama.cpp slot of its own (``NOTES_CONVERSATION``; the embedded server keeps one for it).
The interview's slot is never touched by a note: a note still being written when the
next answer ends is computed alongside that answer's prefill and reply instead of ahead of
them (two sequences in one batch), and the interview's prompt cache stays exactly the
conversation. A note takes ~6-25 s on the 1.5B model on two cores (p50 ~11 s), depending on
what else runs: the candidate's speech being transcribed and prefilled, or the next reply.

A note gives way to other interviews: while another interview is using the model
(``activity.py``), the note is left for the report, because two cores cannot write notes
and keep two conversations moving at once.

When the report is asked for, the notes of every answer are usually there except, at most,
the last one's; any that are missing (a restart, a failed note, an interview typed without
pauses, one held alongside another) are written then. The feedback service validates and
ranks them (``feedback.py``).

Notes are derived data and live in memory only, per session: ``forget`` drops a session's
notes (the report replaces them; deleting an interview deletes them).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from server.ai.llm import ChatMessage, ChatModel, json_object
from server.errors import AIServiceError
from server.feedback.evidence import QA, AnswerEvidence, describe, measure_interview
from server.feedback.questions import asked
from server.repositories.records import MessageRecord, SessionRecord
from server.services.activity import InterviewActivity
from server.services.prompts import ANSWER_LABEL

logger = logging.getLogger(__name__)

NOTE_MAX_TOKENS = 200
"""A bound, not a target: the schema's length caps (160 characters a point) keep a note near
70-90 tokens; the bound leaves room, since a note cut off mid-string is unusable."""
MAX_ATTEMPTS = 2
MAX_SESSIONS = 256
"""Sessions whose notes are kept (oldest dropped first); a dropped one is rewritten if needed."""

IMPROVEMENT_VERBS = (
    "Add", "Say", "Name", "Give", "Explain", "Describe", "Start", "Open", "Close", "End",
    "Lead", "State", "Tell", "Put", "Cut", "Mention", "Quantify", "Include", "Answer", "Replace",
)  # fmt: skip
NOTE_SCHEMA: dict[str, Any] = {
    "type": "object",
    # Length caps bound generation time on small local models (grammar-enforced there).
    # The patterns (grammar-enforced on llama.cpp) make the model speak to the candidate: a
    # strength starts with "You" or is left empty, an improvement starts with what to do.
    "properties": {
        "strength": {"type": "string", "pattern": "^(You [^\\n]{10,160})?$"},
        "improvement": {
            "type": "string",
            "pattern": f"^({'|'.join(IMPROVEMENT_VERBS)}) [^\\n]{{10,160}}$",
        },
    },
    "required": ["strength", "improvement"],
    "additionalProperties": False,
}

NOTES_CONVERSATION = "notes"
"""Every note is written in this conversation's slot (one for all interviews, which take turns:
notes give way to other interviews), so consecutive notes share the server's prompt cache up
to the role, and no note ever holds up an interview's own slot."""

Note = dict[str, Any]


def note_messages(
    session: SessionRecord, number: int, question: str, answer: str, evidence: AnswerEvidence
) -> list[ChatMessage]:
    """The note's prompt. The system message is the same for every note of an interview (the
    role and the instructions: the notes slot reads it once); each note reads only the
    question, the answer and what was measured in it."""
    system = f"""You assess a spoken mock interview for the role of {session.job_title} at \
{session.company_name}. You are given one question and the candidate's answer, with facts \
measured in it, and write a private note on that answer only, from what the candidate \
actually said. Speak to the candidate as "you", never "the candidate". JSON: "strength" is \
one short sentence starting "You" that names one specific thing this answer said (an action, \
a detail or a number from it); leave it empty if the answer is vague, evasive, off the \
question or only a list of terms, because then there is nothing to praise. "improvement" is \
one short sentence starting with what to do ("Add…", "Say…", "Name…") that would make this \
answer better. Only mention what the question or the answer contains."""
    user = f"""Question {number}: {asked(question)}

{ANSWER_LABEL}
{answer}

Assess only the answer to question {number} ({describe(evidence)})."""
    return [ChatMessage("system", system), ChatMessage("user", user)]


def _key(message: MessageRecord) -> tuple[int, str]:
    # The content is part of the key: an answer the candidate went on with is a new answer.
    return message.id, hashlib.sha1(message.content.encode()).hexdigest()


class AnswerNotes:
    def __init__(self, llm: ChatModel, activity: InterviewActivity | None = None) -> None:
        self.llm = llm
        self.activity = activity
        self._notes: OrderedDict[int, dict[tuple[int, str], Note]] = OrderedDict()
        self._pending: dict[int, asyncio.Task[None]] = {}
        self._model = asyncio.Lock()  # one note at a time, across interviews

    def schedule(self, session: SessionRecord, history: Sequence[MessageRecord]) -> None:
        """Write the note for the answer that ends ``history``, in the background, after any
        note still pending for this interview."""
        if not history or history[-1].role != "user":
            return
        previous = self._pending.get(session.id)
        task = asyncio.create_task(
            self._background(previous, session, list(history)),
            name=f"note-{session.public_id}-{history[-1].id}",
        )
        self._pending[session.id] = task
        task.add_done_callback(lambda done: self._done(session.id, done))

    def _done(self, session_id: int, task: asyncio.Task[None]) -> None:
        if self._pending.get(session_id) is task:
            del self._pending[session_id]

    async def _background(
        self,
        previous: asyncio.Task[None] | None,
        session: SessionRecord,
        history: list[MessageRecord],
    ) -> None:
        if previous is not None:
            await asyncio.gather(previous, return_exceptions=True)
        if self.activity is not None and (others := self.activity.others(session.public_id)):
            # The model has no time to spare: the report writes this note when asked for.
            logger.info(
                "session %s: note %d left for the report (%d other interview(s) in progress)",
                session.public_id,
                sum(1 for m in history if m.role == "user"),
                others,
            )
            return
        try:
            await self.note_for(session, history)
        except AIServiceError as err:
            # Written again when the report is asked for; the interview is not affected.
            logger.warning("session %s: note not written: %s", session.public_id, err.message)
        except Exception:
            logger.exception("session %s: note not written", session.public_id)

    async def wait(self, session_id: int) -> None:
        """Until the notes being written in the background for this interview are done."""
        while (task := self._pending.get(session_id)) is not None:
            await asyncio.gather(task, return_exceptions=True)
            if self._pending.get(session_id) is task:
                del self._pending[session_id]

    def forget(self, session_id: int) -> None:
        self._notes.pop(session_id, None)
        task = self._pending.pop(session_id, None)
        if task is not None:
            task.cancel()

    def holds(self, session_id: int) -> bool:
        """Whether anything of this interview is held in memory (notes, or one being written)."""
        return session_id in self._notes or session_id in self._pending

    def cached(self, session_id: int, message: MessageRecord) -> Note | None:
        return self._notes.get(session_id, {}).get(_key(message))

    async def note_for(
        self, session: SessionRecord, history: Sequence[MessageRecord]
    ) -> Note | None:
        """The note for the answer that ends ``history`` (written now if it is not there).

        ``None`` if the model gave nothing usable; ``AIServiceError`` if it is unreachable."""
        answer = history[-1]
        if (note := self.cached(session.id, answer)) is not None:
            return note
        number = sum(1 for m in history if m.role == "user")
        async with self._model:
            if (note := self.cached(session.id, answer)) is not None:
                return note
            question = next((m.content for m in reversed(history) if m.role == "assistant"), "")
            evidence = await asyncio.to_thread(
                measure_interview,
                [QA(question=question, answer=answer.content, message_id=answer.id)],
                job_title=session.job_title,
                job_description=session.job_description_text,
                cv_text=session.cv_text,
            )
            prompt = note_messages(session, number, question, answer.content, evidence.answers[0])
            note = await json_object(
                self.llm,
                prompt,
                schema_name="answer_note",
                schema=NOTE_SCHEMA,
                max_tokens=NOTE_MAX_TOKENS,
                attempts=MAX_ATTEMPTS,
                conversation=NOTES_CONVERSATION,
                context=f"session {session.public_id}: note {number}",
            )
        if note is not None:
            notes = self._notes.setdefault(session.id, {})
            self._notes.move_to_end(session.id)
            notes[_key(answer)] = note
            while len(self._notes) > MAX_SESSIONS:
                self._notes.popitem(last=False)
        return note

    async def collect(
        self, session: SessionRecord, history: Sequence[MessageRecord]
    ) -> list[Note | None]:
        """One note per answer, in order (skipped questions have none, as they have no
        evidence): waits for those in progress, writes missing ones."""
        await self.wait(session.id)
        return [
            await self.note_for(session, history[: i + 1])
            for i, message in enumerate(history)
            if message.role == "user" and not message.skipped
        ]
