"""The feedback report: a score that follows from measured evidence, and text that cites it.

1. Evidence is measured per answer (``evidence.py``) and the rubric turns it into the score
   (``rubric.py``): no model call, so the score exists the moment the interview ends.
2. The LLM writes a note per answer while the interview goes on (``notes.py``): a strength
   and an area to improve. Each point quotes the sentence of its answer it is most about
   (found verbatim, checked). The report takes strengths from the best answers' notes and
   areas from the weakest answers'; a strength may not cite an answer too short or evasive
   to deserve praise, and compliments posing as areas to improve are dropped. CV
   suggestions come from the evidence (what was said but is missing from the CV, ...).
3. Whatever the model could not supply validly is filled in by a deterministic write-up
   from the evidence, so the 3–5 bounds always hold.
4. Only a capable model configured by URL may move the score, by at most ±1, with a reason.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from server.ai.llm import ChatModel, json_object
from server.errors import AIServiceError, ValidationError
from server.feedback.compose import MAX_POINT_CHARS, Assessment, Composed, compose
from server.feedback.contract import validate_feedback
from server.feedback.evidence import QA, SpeechMetrics, describe, measure_interview
from server.feedback.notes import AnswerNotes
from server.feedback.questions import question_name
from server.feedback.rubric import score_interview
from server.repositories.feedback import FeedbackRepository
from server.repositories.records import FeedbackRecord, MessageRecord, SessionRecord
from server.repositories.sessions import MessageRepository, SessionRepository
from server.services.prompts import feedback_messages
from server.services.sessions import SessionService

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 2  # for the score adjustment request (notes retry on their own)
ADJUST_MAX_TOKENS = 120

ADJUST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "score_adjustment": {"type": "integer", "enum": [-1, 0, 1]},
        "adjustment_reason": {"type": "string", "maxLength": 300},
    },
    "required": ["score_adjustment", "adjustment_reason"],
    "additionalProperties": False,
}


def qas_from_history(history: Sequence[MessageRecord]) -> list[QA]:
    """Pair each candidate answer with the interviewer message before it."""
    qas: list[QA] = []
    question, number = "", None
    for message in history:
        if message.role == "assistant":
            if message.question_number is None or message.question_number != number:
                question = message.content
            # else a follow-up: its answer is judged against the question it digs into
            number = message.question_number
            continue
        if message.skipped:
            continue  # shown in the transcript and said in the report; never scored
        speech = None
        if message.audio_duration_ms:
            pauses = (message.timings or {}).get("pauses_ms") or []
            speech = SpeechMetrics.from_transcript(
                message.content,
                duration_ms=message.audio_duration_ms,
                pause_durations_ms=[int(p) for p in pauses],
            )
        qas.append(
            QA(
                question=question,
                answer=message.content,
                message_id=message.id,
                speech=speech,
                question_number=number,
            )
        )
    return qas


def skipped_questions(history: Sequence[MessageRecord]) -> list[str]:
    """The questions the candidate skipped, named as a person would ("question 3 (“…”)")."""
    names: list[str] = []
    question, number = "", 0
    for message in history:
        if message.role == "assistant":
            question, number = message.content, message.question_number or number
        elif message.skipped:
            names.append(question_name(number, question))
    return names


def answers_sha256(history: Sequence[MessageRecord]) -> str:
    """What a report is built on: every answer, by id and text. A report whose answers have
    changed since (corrected by the candidate, re-transcribed) no longer matches the transcript."""
    digest = hashlib.sha256()
    for message in history:
        if message.role == "user":
            digest.update(f"{message.id}\0{message.content}\0".encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class Report:
    """A stored report, and whether the transcript still says what it was built on."""

    feedback: FeedbackRecord
    out_of_date: bool


def is_out_of_date(feedback: FeedbackRecord, history: Sequence[MessageRecord]) -> bool:
    if feedback.answers_sha256 is None:
        # Stored before reports recorded their answers, and so before answers could be revised:
        # any revision came after it.
        return any(m.revised_by is not None for m in history if m.role == "user")
    return feedback.answers_sha256 != answers_sha256(history)


def _describe_evidence(assessment: Assessment) -> str:
    r = assessment.rubric
    lines = [
        f"Score, already decided from measurements: {r.score}/10 ({r.band}). Sub-scores out of 10: "
        f"relevance {r.relevance}, clarity {r.clarity}, technical depth {r.technical_depth}, "
        f"alignment with the job {r.alignment}.",
        "Measured, answer by answer:",
    ]
    for answer in assessment.evidence.answers:
        lines.append(f"- Answer {answer.index + 1}: " + describe(answer, detailed=True))
    c = assessment.evidence.coverage
    if c.requirements_missing:
        lines.append(f"Job requirements with no evidence: {', '.join(c.requirements_missing[:6])}.")
    if c.cv_skills_not_discussed:
        lines.append(f"CV skills never discussed: {', '.join(c.cv_skills_not_discussed[:6])}.")
    if c.discussed_not_in_cv:
        lines.append(f"Discussed but missing from the CV: {', '.join(c.discussed_not_in_cv[:6])}.")
    return "\n".join(lines)


def adjustment_request(assessment: Assessment) -> str:
    return f"""The interview is over. Viva measured the candidate's answers:
{_describe_evidence(assessment)}

Reply as JSON: "score_adjustment" is -1, 0 or 1: 0 unless your own judgement of the whole \
transcript differs from the measured score; "adjustment_reason" says why in one sentence."""


@dataclass(frozen=True)
class _Written:
    composed: Composed
    adjustment: int = 0
    reason: str | None = None


class FeedbackService:
    def __init__(
        self,
        llm: ChatModel,
        sessions: SessionService,
        session_repo: SessionRepository,
        message_repo: MessageRepository,
        feedback_repo: FeedbackRepository,
        notes: AnswerNotes,
        *,
        model_may_adjust_score: bool = False,
    ) -> None:
        self.llm = llm
        self.notes = notes
        self.sessions = sessions
        self.session_repo = session_repo
        self.message_repo = message_repo
        self.feedback_repo = feedback_repo
        self.model_may_adjust_score = model_may_adjust_score
        # One generation per session at a time: a double click must not cost two model runs.
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()

    async def get_report(self, public_id: str, owner_id: str) -> Report | None:
        """The stored report, if any, and whether an answer has changed since it was written."""
        session = await self.sessions.get(public_id, owner_id)
        return await self.report_of(session)

    async def report_of(self, session: SessionRecord) -> Report | None:
        feedback = await self.feedback_repo.get_for_session(session.id)
        if feedback is None:
            return None
        history = await self.message_repo.list_for_session(session.id)
        return Report(feedback, is_out_of_date(feedback, history))

    async def generate_report(self, public_id: str, owner_id: str) -> Report:
        """``generate_feedback``, and whether an answer changed while it was being written."""
        feedback = await self.generate_feedback(public_id, owner_id)
        history = await self.message_repo.list_for_session(feedback.session_id)
        return Report(feedback, is_out_of_date(feedback, history))

    async def assess(self, public_id: str, owner_id: str) -> Assessment:
        """The evidence and score now, without any model call."""
        session = await self.sessions.get(public_id, owner_id)
        return await self._assess(session, await self.message_repo.list_for_session(session.id))

    async def _assess(self, session: SessionRecord, history: Sequence[MessageRecord]) -> Assessment:
        qas = qas_from_history(history)
        skipped = skipped_questions(history)
        if not qas and skipped:
            raise ValidationError(
                "You skipped every question, so there is nothing to give feedback on yet: "
                "answer at least one to get a report."
            )
        if not qas:
            raise ValidationError("Cannot generate feedback for an empty interview.")
        started = time.perf_counter()
        # CPU-bound (an ONNX embedding model): keep it off the event loop.
        evidence = await asyncio.to_thread(
            measure_interview,
            qas,
            job_title=session.job_title,
            job_description=session.job_description_text,
            cv_text=session.cv_text,
        )
        rubric = score_interview(evidence)
        if skipped:
            names = ", ".join(skipped[:3]) + (" and others" if len(skipped) > 3 else "")
            rubric = dataclasses.replace(
                rubric,
                reasons=[
                    *rubric.reasons,
                    f"You skipped {len(skipped)} question{'s' if len(skipped) > 1 else ''} "
                    f"({names}): skipped questions are not scored, so the score is from the "
                    f"{len(qas)} you answered.",
                ],
            )
        return Assessment(qas, evidence, rubric, (time.perf_counter() - started) * 1000)

    async def generate_feedback(self, public_id: str, owner_id: str) -> FeedbackRecord:
        """The stored report, generating it first if there is none, or writing it again from
        the transcript as it is now if an answer changed since it was written (the old report
        stays stored until the new one replaces it). Ends the interview."""
        session = await self.sessions.get(public_id, owner_id)
        lock = self._locks.setdefault(session.id, asyncio.Lock())
        async with lock:
            existing = await self.feedback_repo.get_for_session(session.id)
            history = await self.message_repo.list_for_session(session.id)
            if existing and not is_out_of_date(existing, history):
                return existing
            assessment = await self._assess(session, history)
            if session.status != "completed":
                await self.session_repo.set_status(session.id, "completed")

            started = time.perf_counter()
            written = await self._write(session, history, assessment)
            writeup_ms = (time.perf_counter() - started) * 1000

            score = min(10, max(1, assessment.rubric.score + written.adjustment))
            # The reference contract still holds for what we store.
            composed = written.composed
            valid = validate_feedback(
                {
                    "score": score,
                    "strengths": [p.text for p in composed.strengths],
                    "weaknesses": [p.text for p in composed.weaknesses],
                    "cv_improvements": composed.cv_improvements,
                }
            )
            written_by = composed.written_by

            record = await self.feedback_repo.create(
                session.id,
                interview_score=valid.score,
                strengths=valid.strengths,
                weaknesses=valid.weaknesses,
                cv_improvements=valid.cv_improvements,
                rubric_score=assessment.rubric.score,
                sub_scores=dataclasses.asdict(assessment.rubric),
                evidence=dataclasses.asdict(assessment.evidence),
                citations=composed.citations(assessment.qas),
                coaching=[c.as_dict() for c in composed.coaching],
                score_adjustment=written.adjustment,
                adjustment_reason=written.reason,
                written_by=written_by,
                timings={"score_ms": round(assessment.elapsed_ms), "writeup_ms": round(writeup_ms)},
                answers_sha256=answers_sha256(history),
                replace=existing is not None,
            )
            self.notes.forget(session.id)  # the stored report replaces them
            logger.info(
                "session %s: feedback %s (score %d, rubric %d, written by %s, %.1f s)",
                public_id,
                "written again after a revised answer" if existing else "stored",
                valid.score,
                assessment.rubric.score,
                written_by,
                writeup_ms / 1000,
            )
            return record

    async def _write(
        self, session: SessionRecord, history: Sequence[MessageRecord], assessment: Assessment
    ) -> _Written:
        try:
            notes = await self.notes.collect(session, history)
        except AIServiceError as err:
            # Unreachable or failing model: the adapter already retried with backoff. Say
            # so; the interview is kept and the user can try again.
            raise AIServiceError(
                f"Could not generate feedback ({err.message}). The interview is saved; try again."
            ) from err
        context = "\n".join(
            (session.cv_text, session.job_description_text, session.job_title, session.company_name)
        )
        composed = compose(assessment, notes, job_title=session.job_title, context=context)

        adjustment, reason = 0, None
        if self.model_may_adjust_score:
            proposal = await self._adjustment(session, history, assessment)
            proposed = proposal.get("score_adjustment")
            why = str(proposal.get("adjustment_reason") or "").strip()
            if proposed in (-1, 1) and not isinstance(proposed, bool) and why:
                adjustment, reason = int(proposed), why[:MAX_POINT_CHARS]
        return _Written(composed, adjustment, reason)

    async def _adjustment(
        self, session: SessionRecord, history: Sequence[MessageRecord], assessment: Assessment
    ) -> dict[str, Any]:
        """A capable model's one-point correction of the measured score, if it has one."""
        prompt = feedback_messages(session, history, adjustment_request(assessment))
        raw = await json_object(
            self.llm,
            prompt,
            schema_name="score_adjustment",
            schema=ADJUST_SCHEMA,
            max_tokens=ADJUST_MAX_TOKENS,
            attempts=MAX_ATTEMPTS,
            conversation=session.public_id,
            context=f"session {session.public_id}: score adjustment",
        )
        return raw or {}
