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
import logging
import re
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from server.ai.llm import ChatModel, json_object
from server.errors import AIOutputError, AIServiceError, ValidationError
from server.repositories.feedback import FeedbackRepository
from server.repositories.records import FeedbackRecord, MessageRecord, SessionRecord
from server.repositories.sessions import MessageRepository, SessionRepository
from server.services.evidence import (
    QA,
    AnswerEvidence,
    InterviewEvidence,
    SpeechMetrics,
    measure_interview,
)
from server.services.notes import AnswerNotes
from server.services.prompts import feedback_messages
from server.services.rubric import RubricScore, score_interview
from server.services.sessions import SessionService
from server.services.writeup import (
    SHORT_ANSWER_WORDS,
    CitedPoint,
    fallback_cv_suggestions,
    fallback_improvements,
    fallback_strengths,
    find_quote,
    quote_for_point,
)

logger = logging.getLogger(__name__)

REQUIRED_KEYS = ("score", "strengths", "weaknesses", "cv_improvements")
MIN_ITEMS, MAX_ITEMS = 3, 5
MAX_ATTEMPTS = 2  # for the score adjustment request (notes retry on their own)
ADJUST_MAX_TOKENS = 120
MAX_POINT_CHARS = 400

ADJUST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "score_adjustment": {"type": "integer", "enum": [-1, 0, 1]},
        "adjustment_reason": {"type": "string", "maxLength": 300},
    },
    "required": ["score_adjustment", "adjustment_reason"],
    "additionalProperties": False,
}


@dataclass(frozen=True)
class ValidFeedback:
    score: int
    strengths: list[str]
    weaknesses: list[str]
    cv_improvements: list[str]


def _items(data: dict[str, Any], key: str, label: str) -> list[str]:
    value = data[key]
    if isinstance(value, str):
        # The reference stored sections as text; accept a bulleted string too.
        value = [line.strip(" -•*\t") for line in value.splitlines()]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise AIOutputError(f"Feedback {key} must be a list of strings.")
    items = [" ".join(v.split()) for v in value if v.strip()]
    if not MIN_ITEMS <= len(items) <= MAX_ITEMS:
        raise AIOutputError(f"Feedback needs {MIN_ITEMS}–{MAX_ITEMS} {label}, got {len(items)}.")
    return items


def validate_feedback(data: Any) -> ValidFeedback:
    """The reference's contract: every key present, an int score in 1..10, 3–5 items a section."""
    if not isinstance(data, dict):
        raise AIOutputError(f"Feedback must be a JSON object, got {type(data).__name__}.")
    missing = set(REQUIRED_KEYS) - data.keys()
    if missing:
        raise AIOutputError(f"Feedback missing keys: {sorted(missing)}")
    score = data["score"]
    # bool is a subclass of int: True must not pass as a score of 1.
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 10:
        raise AIOutputError(f"Invalid score: {score!r}")
    return ValidFeedback(
        score=score,
        strengths=_items(data, "strengths", "strengths"),
        weaknesses=_items(data, "weaknesses", "areas to improve"),
        cv_improvements=_items(data, "cv_improvements", "CV suggestions"),
    )


@dataclass(frozen=True)
class Assessment:
    """Evidence and score of an interview: deterministic, no model involved."""

    qas: list[QA]
    evidence: InterviewEvidence
    rubric: RubricScore
    elapsed_ms: float


def qas_from_history(history: Sequence[MessageRecord]) -> list[QA]:
    """Pair each candidate answer with the interviewer message before it."""
    qas: list[QA] = []
    question = ""
    for message in history:
        if message.role == "assistant":
            question = message.content
            continue
        speech = None
        if message.audio_duration_ms:
            pauses = (message.timings or {}).get("pauses_ms") or []
            speech = SpeechMetrics.from_transcript(
                message.content,
                duration_ms=message.audio_duration_ms,
                pause_durations_ms=[int(p) for p in pauses],
            )
        qas.append(
            QA(question=question, answer=message.content, message_id=message.id, speech=speech)
        )
    return qas


def _describe_evidence(assessment: Assessment) -> str:
    r = assessment.rubric
    lines = [
        f"Score, already decided from measurements: {r.score}/10 ({r.band}). Sub-scores out of 10: "
        f"relevance {r.relevance}, clarity {r.clarity}, technical depth {r.technical_depth}, "
        f"alignment with the job {r.alignment}.",
        "Measured, answer by answer:",
    ]
    for answer in assessment.evidence.answers:
        facts = [f"{answer.word_count} words"]
        facts.append("a concrete example" if answer.concrete_example else "no concrete example")
        facts.append(
            f"numbers: {', '.join(answer.numbers[:4])}" if answer.numbers else "no numbers"
        )
        if answer.skills:
            facts.append(f"named: {', '.join(answer.skills[:5])}")
        if answer.evasive:
            facts.append("evasive")
        facts.extend(answer.notes[:2])
        lines.append(f"- Answer {answer.index + 1}: " + "; ".join(facts))
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


def _quality(answer: AnswerEvidence) -> float:
    """How much an answer shows, for ranking notes: strengths from the best answers first,
    areas to improve from the weakest."""
    return (
        answer.question_relevance
        + (0.5 if answer.concrete_example else 0.0)
        + 0.15 * min(len(answer.numbers), 3)
        + min(answer.word_count, 150) / 300
        - (1.0 if answer.evasive else 0.0)
    )


_PRAISE = re.compile(
    r"\b(impressive|excellent|outstanding|noteworthy|great job|well done|strong)\b", re.I
)
_ADVICE = re.compile(
    r"\b(could|should|would|try|add|give|include|explain|quantify|practi[cs]e|next time|more|"
    r"instead|avoid|make sure|consider)\b",
    re.I,
)


def _cited_points(
    value: Any, answers: Sequence[str], *, praise: bool, assessment: Assessment
) -> list[CitedPoint]:
    """The model's items whose quote is found verbatim; strengths may not praise thin answers."""
    points: list[CitedPoint] = []
    if not isinstance(value, list):
        return points
    seen: set[str] = set()
    for item in value:
        if not isinstance(item, dict):
            continue
        point = " ".join(str(item.get("point", "")).split())
        quote = " ".join(str(item.get("quote", "")).split()).strip(" \"'“”‘’")
        if not point or len(point) > MAX_POINT_CHARS or point.lower() in seen:
            continue
        if not point.rstrip("\"'”’)").endswith((".", "!", "?")):
            continue  # cut off by the length cap mid-sentence: never show half a sentence
        index = find_quote(quote, answers)
        if index is None:
            continue
        evidence = assessment.evidence.answers[index]
        if praise and (evidence.word_count < SHORT_ANSWER_WORDS or evidence.evasive):
            continue
        if not praise and _PRAISE.search(point) and not _ADVICE.search(point):
            continue  # small models put compliments in the improvements; those help nobody
        seen.add(point.lower())
        points.append(CitedPoint(text=point, quote=quote, answer_index=index))
    return points[:MAX_ITEMS]


def _fill(points: list[CitedPoint], fallback: list[CitedPoint]) -> list[CitedPoint]:
    """Top up to the minimum from the evidence write-up, skipping answers already cited."""
    cited = {p.answer_index for p in points}
    extra = [p for p in fallback if p.answer_index not in cited] + [
        p for p in fallback if p.answer_index in cited
    ]
    texts = {p.text.lower() for p in points}
    for candidate in extra:
        if len(points) >= MIN_ITEMS:
            break
        if candidate.text.lower() not in texts:
            points.append(candidate)
            texts.add(candidate.text.lower())
    return points


@dataclass
class _Written:
    strengths: list[CitedPoint]
    weaknesses: list[CitedPoint]
    cv_improvements: list[str]
    adjustment: int = 0
    reason: str | None = None
    model_items: int = 0


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

    async def get_feedback(self, public_id: str, owner_id: str) -> FeedbackRecord | None:
        session = await self.sessions.get(public_id, owner_id)
        return await self.feedback_repo.get_for_session(session.id)

    async def assess(self, public_id: str, owner_id: str) -> Assessment:
        """The evidence and score now, without any model call."""
        session = await self.sessions.get(public_id, owner_id)
        return await self._assess(session, await self.message_repo.list_for_session(session.id))

    async def _assess(self, session: SessionRecord, history: Sequence[MessageRecord]) -> Assessment:
        qas = qas_from_history(history)
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
        return Assessment(qas, evidence, rubric, (time.perf_counter() - started) * 1000)

    async def generate_feedback(self, public_id: str, owner_id: str) -> FeedbackRecord:
        """The stored report, generating it first if there is none. Ends the interview."""
        session = await self.sessions.get(public_id, owner_id)
        lock = self._locks.setdefault(session.id, asyncio.Lock())
        async with lock:
            existing = await self.feedback_repo.get_for_session(session.id)
            if existing:
                return existing
            history = await self.message_repo.list_for_session(session.id)
            assessment = await self._assess(session, history)
            if session.status != "completed":
                await self.session_repo.set_status(session.id, "completed")

            started = time.perf_counter()
            written = await self._write(session, history, assessment)
            writeup_ms = (time.perf_counter() - started) * 1000

            score = min(10, max(1, assessment.rubric.score + written.adjustment))
            # The reference contract still holds for what we store.
            valid = validate_feedback(
                {
                    "score": score,
                    "strengths": [p.text for p in written.strengths],
                    "weaknesses": [p.text for p in written.weaknesses],
                    "cv_improvements": written.cv_improvements,
                }
            )
            total_items = len(written.strengths) + len(written.weaknesses)
            written_by = (
                "model"
                if written.model_items == total_items
                else "evidence"
                if written.model_items == 0
                else "model+evidence"
            )

            def cite(points: list[CitedPoint]) -> list[dict[str, Any]]:
                return [
                    {
                        "quote": p.quote,
                        "answer_index": p.answer_index,
                        "message_id": assessment.qas[p.answer_index].message_id,
                    }
                    for p in points
                ]

            record = await self.feedback_repo.create(
                session.id,
                interview_score=valid.score,
                strengths=valid.strengths,
                weaknesses=valid.weaknesses,
                cv_improvements=valid.cv_improvements,
                rubric_score=assessment.rubric.score,
                sub_scores=dataclasses.asdict(assessment.rubric),
                evidence=dataclasses.asdict(assessment.evidence),
                citations={
                    "strengths": cite(written.strengths),
                    "weaknesses": cite(written.weaknesses),
                },
                score_adjustment=written.adjustment,
                adjustment_reason=written.reason,
                written_by=written_by,
                timings={"score_ms": round(assessment.elapsed_ms), "writeup_ms": round(writeup_ms)},
            )
            self.notes.forget(session.id)  # the stored report replaces them
            logger.info(
                "session %s: feedback stored (score %d, rubric %d, written by %s, %.1f s)",
                public_id,
                valid.score,
                assessment.rubric.score,
                written_by,
                writeup_ms / 1000,
            )
            return record

    async def _write(
        self, session: SessionRecord, history: Sequence[MessageRecord], assessment: Assessment
    ) -> _Written:
        answers = [qa.answer for qa in assessment.qas]
        try:
            notes = await self.notes.collect(session, history)
        except AIServiceError as err:
            # Unreachable or failing model: the adapter already retried with backoff. Say
            # so; the interview is kept and the user can try again.
            raise AIServiceError(
                f"Could not generate feedback ({err.message}). The interview is saved; try again."
            ) from err
        # Each note is about one answer: its points quote the sentence of that answer they are
        # most about. Strengths from the best answers first, areas from the weakest.
        cited: list[tuple[int, dict[str, Any]]] = []
        for i, note in enumerate(notes):
            if note is None:
                continue
            points = {
                key: {"point": text, "quote": quote_for_point(text, answers[i])}
                for key in ("strength", "improvement")
                if isinstance(text := note.get(key), str) and text.strip()
            }
            cited.append((i, points))
        cited.sort(key=lambda pair: _quality(assessment.evidence.answers[pair[0]]), reverse=True)
        strengths = _cited_points(
            [points.get("strength") for _i, points in cited],
            answers,
            praise=True,
            assessment=assessment,
        )
        weaknesses = _cited_points(
            [points.get("improvement") for _i, points in reversed(cited)],
            answers,
            praise=False,
            assessment=assessment,
        )
        model_items = len(strengths) + len(weaknesses)
        qas = assessment.qas
        strengths = _fill(strengths, fallback_strengths(assessment.evidence, qas, MAX_ITEMS))
        weaknesses = _fill(weaknesses, fallback_improvements(assessment.evidence, qas, MAX_ITEMS))
        # CV suggestions come from the evidence: results said aloud but missing from the CV...
        cv_items = list(
            dict.fromkeys(
                fallback_cv_suggestions(
                    assessment.evidence, job_title=session.job_title, n=MAX_ITEMS
                )
            )
        )[:MIN_ITEMS]

        adjustment, reason = 0, None
        if self.model_may_adjust_score:
            proposal = await self._adjustment(session, history, assessment)
            proposed = proposal.get("score_adjustment")
            why = str(proposal.get("adjustment_reason") or "").strip()
            if proposed in (-1, 1) and not isinstance(proposed, bool) and why:
                adjustment, reason = int(proposed), why[:MAX_POINT_CHARS]
        return _Written(strengths, weaknesses, cv_items, adjustment, reason, model_items)

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
