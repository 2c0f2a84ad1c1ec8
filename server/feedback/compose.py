"""The report, composed: evidence, score and the model's per-answer notes in; cited points out.

Pure: no I/O and no model call, so every rule about what the report may say is testable by
feeding it evidence and notes. The service (``service.py``) gathers the inputs and stores
the result.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from server.feedback.checks import point_problem
from server.feedback.coaching import Coaching, coach
from server.feedback.evidence import QA, AnswerEvidence, InterviewEvidence, extract_skills
from server.feedback.limits import MAX_ITEMS, MIN_ITEMS
from server.feedback.rubric import RubricScore
from server.feedback.writeup import (
    CitedPoint,
    evidenced_strengths,
    fallback_cv_suggestions,
    fallback_improvements,
    find_quote,
    quote_for_point,
    strengths_to_earn,
)

logger = logging.getLogger(__name__)

__all__ = ["Assessment", "Composed", "Note", "compose"]

MAX_POINT_CHARS = 400

Note = dict[str, Any]
"""The model's note on one answer: ``{"strength": str, "improvement": str}``."""


@dataclass(frozen=True)
class Assessment:
    """Evidence and score of an interview: deterministic, no model involved."""

    qas: list[QA]
    evidence: InterviewEvidence
    rubric: RubricScore
    elapsed_ms: float


@dataclass(frozen=True)
class Composed:
    strengths: list[CitedPoint]
    weaknesses: list[CitedPoint]
    cv_improvements: list[str]
    model_items: int  # how many of the strengths and weaknesses the model wrote
    coaching: list[Coaching] = field(default_factory=list)

    @property
    def strengths_shown(self) -> bool:
        """Whether the evidence showed any strength (else the card says so, honestly)."""
        return any(p.kind == "evidenced" for p in self.strengths)

    @property
    def written_by(self) -> str:
        total = len(self.strengths) + len(self.weaknesses)
        if self.model_items == total:
            return "model"
        return "evidence" if self.model_items == 0 else "model+evidence"

    def citations(self, qas: Sequence[QA]) -> dict[str, list[dict[str, Any]]]:
        """Per strength and area to improve, in order: its quote and the answer it is from."""

        def cite(points: list[CitedPoint]) -> list[dict[str, Any]]:
            return [
                {
                    "quote": p.quote,
                    "answer_index": p.answer_index,
                    "message_id": qas[p.answer_index].message_id
                    if p.answer_index is not None
                    else None,
                    "kind": p.kind,
                }
                for p in points
            ]

        return {"strengths": cite(self.strengths), "weaknesses": cite(self.weaknesses)}


def compose(
    assessment: Assessment,
    notes: Sequence[Note | None],
    *,
    job_title: str,
    context: str = "",
) -> Composed:
    """The report's points from the evidence and one note (or ``None``) per answer.

    ``context``: the CV, the job description and the company, which advice may draw on."""
    qas = assessment.qas
    answers = assessment.evidence.answers
    # Each note is about one answer: its points quote the sentence of that answer they are
    # most about. Strengths from the best answers first, areas from the weakest.
    order = sorted(
        (i for i, note in enumerate(notes) if note is not None),
        key=lambda i: _quality(answers[i]),
        reverse=True,
    )
    strengths = _checked(notes, order, "strength", assessment, context=context)
    weaknesses = _checked(notes, order[::-1], "improvement", assessment, context=context)
    model_items = len(strengths) + len(weaknesses)
    strengths = _fill(strengths, evidenced_strengths(assessment.evidence, qas, MAX_ITEMS))
    if len(strengths) < MIN_ITEMS:
        job_skills = [s for s in _job_terms(assessment) if s]
        strengths += strengths_to_earn(
            assessment.evidence, qas, MIN_ITEMS - len(strengths), job_skills=job_skills
        )
    weaknesses = _fill(weaknesses, fallback_improvements(assessment.evidence, qas, MAX_ITEMS))
    # CV suggestions come from the evidence: results said aloud but missing from the CV...
    cv_items = list(
        dict.fromkeys(
            fallback_cv_suggestions(assessment.evidence, job_title=job_title, n=MAX_ITEMS)
        )
    )[:MIN_ITEMS]
    return Composed(strengths, weaknesses, cv_items, model_items, coach(assessment.evidence, qas))


def _job_terms(assessment: Assessment) -> list[str]:
    """The job's skills the interview mentioned nowhere in a claim: what a story could show."""
    shown = {s for a in assessment.evidence.answers for s in a.job_skills}
    cov = assessment.evidence.coverage
    named = [s for r in cov.requirements_missing for s in extract_skills(r)]
    return [s for s in dict.fromkeys(named) if s not in shown][:3]


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


def _checked(
    notes: Sequence[Note | None],
    order: Sequence[int],
    key: str,
    assessment: Assessment,
    *,
    context: str,
) -> list[CitedPoint]:
    """The notes' ``key`` points, in ``order``, that pass every check (``checks.py``), each
    quoting the sentence of its own answer it is most about."""
    points: list[CitedPoint] = []
    seen: set[str] = set()
    for index in order:
        note = notes[index]
        text = note.get(key) if note is not None else None
        if not isinstance(text, str):
            continue
        point = " ".join(text.split())
        if not point or len(point) > MAX_POINT_CHARS or point.lower() in seen:
            continue
        if not point.rstrip("\"'”’)").endswith((".", "!", "?")):
            continue  # cut off by the length cap mid-sentence: never show half a sentence
        qa = assessment.qas[index]
        problem = point_problem(
            point,
            praise=key == "strength",
            answer=assessment.evidence.answers[index],
            qa=qa,
            context=context,
        )
        if problem is not None:
            logger.debug("model %s on answer %d dropped: %s: %r", key, index + 1, problem, point)
            continue
        quote = quote_for_point(point, qa.answer)
        if find_quote(quote, [qa.answer]) != 0:
            continue
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
