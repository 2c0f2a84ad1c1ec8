"""The interview score, computed from measured evidence by a small weighted model.

Four sub-scores on 1..10 (relevance, clarity, technical depth, alignment), a weighted
mean of them, then two caps for interviews that gave nothing to assess. Every
number is documented in docs/rubric.md; ``python -m server.feedback.labelled --report
DIR`` prints the agreement table of labelled transcripts against this model.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from server.feedback.evidence import (
    AnswerEvidence,
    InterviewEvidence,
    SpeechMetrics,
    substantive,
)
from server.feedback.lexicon import FILLERS_HOW_COUNTED
from server.feedback.limits import RELEVANT, SHORT_ANSWER_WORDS, band_for

__all__ = ["RubricScore", "answer_clarity", "answer_depth", "score_interview"]

# Overall = weighted mean of the sub-scores. Depth weighs most: checkable substance
# (examples, numbers, named skills, results, ownership) is what the score must follow,
# and it is the one thing an answer can't fake by sounding on-theme. Relevance and
# alignment each keep a fifth (an on-topic answer still beats a ramble); clarity is
# how easy the substance was to take in.
WEIGHTS: dict[str, float] = {
    "relevance": 0.20,
    "clarity": 0.15,
    "technical_depth": 0.45,
    "alignment": 0.20,
}

# Per-answer depth, 0..1. Specificity: numbers and named skills/tools together,
# full at 4. Example: a concrete episode told with first-person actions (half for
# describing one's own approach without an episode). Result: a stated outcome.
# Ownership: the share of "I did" among "I/we/they did".
DEPTH_PARTS: dict[str, float] = {
    "specificity": 0.35,
    "example": 0.30,
    "result": 0.20,
    "ownership": 0.15,
}
SPECIFICS_FOR_FULL = 4
# Depth counts in proportion to how much of the answer was on topic, fully from
# this relevance up: a vivid story about the gym is not depth for a backend job.
DEPTH_RELEVANCE_FULL = 0.4
# No interview hits every cue in every answer (an intro or a "how would you" question
# has no result to report), so a mean answer depth of this much is full marks.
DEPTH_FOR_FULL = 0.8

# Relevance share (word-weighted, see evidence.py) mapped to 1..10: at or below the
# floor is 1, at or above the ceiling is 10. On the labelled set, on-topic interviews
# average 0.70-0.89 and the off-topic rambles 0.40-0.45. Answers shorter than
# SHORT_ANSWER_WORDS words count in proportion to their length, since
# "Yes." can't show relevance.
RELEVANCE_FLOOR = 0.40
RELEVANCE_CEILING = 0.80

# Alignment: the share of the job's requirement lines the answers gave evidence for
# (full at COVERAGE_FOR_FULL: no interview asks about every line of a job ad), mixed
# with how close the answers were to the job's title and requirements.
COVERAGE_FOR_FULL = 0.7
COVERAGE_WEIGHT = 0.6

# Clarity, per answer: length fit (40-220 words is room for an example without
# rambling) times a mix of structure (STAR cues), few hedges and, for speech,
# steady delivery; then times (0.5 + 0.5 x relevance), since an answer that wanders
# off the question is hard to follow however fluent. Evasive answers count half.
CLARITY_PARTS: dict[str, float] = {
    "base": 0.50,
    "structure": 0.20,
    "hedging": 0.15,
    "delivery": 0.15,
}
GOOD_LENGTH_WORDS = (40, 220)
HEDGES_PER_100_WORDS_FOR_ZERO = 6.0
WPM_RANGE = (110.0, 170.0)

# Caps: an interview whose typical answer is too short to assess, or which deflected
# at least half the questions, is "significant work needed" whatever else it shows.
CAP_WHEN_UNASSESSABLE = 2
# Fluent and on theme but nothing checkable in any answer: "needs improvement" at best.
CAP_WHEN_NOTHING_SPECIFIC = 3


@dataclass(frozen=True)
class RubricScore:
    score: int  # 1..10, always an int
    relevance: float  # sub-scores on 1..10, one decimal
    clarity: float
    technical_depth: float
    alignment: float
    band: str
    reasons: list[str]  # why, in plain words, citing measured facts


def _clip(x: float, lo: float = 0.0, hi: float = 1.0) -> float:
    return min(hi, max(lo, x))


def _to_ten(share: float) -> float:
    return round(1 + 9 * _clip(share), 1)


def _length_credit(a: AnswerEvidence) -> float:
    """How much an answer can show at all: in proportion to its length up to a sentence or
    two, and only for the words that are in claims (a list of job terms says nothing). An
    answer given to another question too shows nothing about this one."""
    if a.repeats is not None:
        return 0.0
    return min(1.0, a.word_count / SHORT_ANSWER_WORDS) * a.claim_share


def _specifics(a: AnswerEvidence) -> int:
    return a.claim_specifics if a.claim_specifics is not None else len(a.numbers) + len(a.skills)


def unassessable(a: AnswerEvidence) -> bool:
    """An answer that gave nothing to assess: it deflected, listed terms, or repeated an
    other answer instead of answering this question."""
    return a.evasive or a.keyword_only or a.repeats is not None


def answer_depth(a: AnswerEvidence) -> float:
    """0..1: how much checkable substance one answer has."""
    if unassessable(a) or a.word_count < SHORT_ANSWER_WORDS:
        return 0.0
    specifics = min(1.0, _specifics(a) / SPECIFICS_FOR_FULL)
    if a.concrete_example:
        example = 1.0
    elif a.star["action"] or (a.agency_self >= 2 and _specifics(a) > 0):
        example = 0.5  # one's own approach, with something specific in it
    else:
        example = 0.0
    result = 1.0 if a.star["result"] else 0.0
    # Owning nothing in particular ("I always go the extra mile") is not ownership.
    ownership = a.ownership if example and a.agency_self + a.agency_others else 0.0
    raw = (
        DEPTH_PARTS["specificity"] * specifics
        + DEPTH_PARTS["example"] * example
        + DEPTH_PARTS["result"] * result
        + DEPTH_PARTS["ownership"] * ownership
    )
    return raw * min(1.0, a.question_relevance / DEPTH_RELEVANCE_FULL)


def answer_clarity(a: AnswerEvidence) -> float:
    """0..1: how easy the answer was to follow, as far as counts can tell."""
    lo, hi = GOOD_LENGTH_WORDS
    if a.word_count <= hi:
        fit = min(1.0, a.word_count / lo)
    else:
        fit = max(0.5, 1 - (a.word_count - hi) / 400)
    structure = min(1.0, sum(a.star.values()) / 3)
    hedges_per_100 = 100 * len(a.hedges) / max(a.word_count, 1)
    hedging = 1 - min(1.0, hedges_per_100 / HEDGES_PER_100_WORDS_FOR_ZERO)
    delivery = 1.0 if a.speech is None else _delivery(a.speech, a.word_count)
    value = fit * (
        CLARITY_PARTS["base"]
        + CLARITY_PARTS["structure"] * structure
        + CLARITY_PARTS["hedging"] * hedging
        + CLARITY_PARTS["delivery"] * delivery
    )
    on_point = 0.5 + 0.5 * a.question_relevance
    return value * on_point * a.claim_share * (0.5 if a.evasive else 1.0)


def _delivery(speech: SpeechMetrics, word_count: int) -> float:
    lo, hi = WPM_RANGE
    wpm = speech.words_per_minute
    off_pace = 0.0 if lo <= wpm <= hi else min(1.0, min(abs(wpm - lo), abs(wpm - hi)) / 40)
    pauses = min(1.0, speech.long_pauses / 3)
    fillers_per_100 = 100 * speech.filler_words / max(word_count, 1)
    fillers = min(1.0, fillers_per_100 / 8)  # a slight undercount, so this errs lenient
    return 1 - (0.4 * off_pace + 0.3 * pauses + 0.3 * fillers)


def score_interview(evidence: InterviewEvidence) -> RubricScore:
    """Score an interview from its evidence. Deterministic; an empty interview is 1."""
    answers = evidence.answers
    if not answers:
        return RubricScore(1, 1.0, 1.0, 1.0, 1.0, band_for(1).title, ["No answers to assess."])

    relevance_share = statistics.fmean(a.question_relevance * _length_credit(a) for a in answers)
    relevance = _to_ten((relevance_share - RELEVANCE_FLOOR) / (RELEVANCE_CEILING - RELEVANCE_FLOOR))
    clarity = _to_ten(statistics.fmean(answer_clarity(a) for a in answers))
    depths = [answer_depth(a) for a in answers]
    technical_depth = _to_ten(statistics.fmean(depths) / DEPTH_FOR_FULL)
    cov = evidence.coverage
    n_requirements = len(cov.requirements_evidenced) + len(cov.requirements_missing)
    job_share = statistics.fmean(a.job_relevance * _length_credit(a) for a in answers)
    if n_requirements:
        coverage = min(1.0, len(cov.requirements_evidenced) / n_requirements / COVERAGE_FOR_FULL)
        alignment_share = COVERAGE_WEIGHT * coverage + (1 - COVERAGE_WEIGHT) * job_share
    else:
        alignment_share = job_share
    alignment = _to_ten(alignment_share)

    subs = {
        "relevance": relevance,
        "clarity": clarity,
        "technical_depth": technical_depth,
        "alignment": alignment,
    }
    overall = sum(WEIGHTS[k] * v for k, v in subs.items())
    reasons = _reasons(answers, evidence, subs, depths, n_requirements)

    median_words = statistics.median(a.word_count for a in answers)
    evasive = sum(1 for a in answers if a.evasive)
    listed = sum(1 for a in answers if unassessable(a) and not a.evasive)
    if median_words < SHORT_ANSWER_WORDS:
        overall = min(overall, CAP_WHEN_UNASSESSABLE)
        reasons.insert(
            0,
            f"Capped at {CAP_WHEN_UNASSESSABLE}: the typical answer was {median_words:g} "
            f"word{'s' if median_words != 1 else ''}, too short to show any skill.",
        )
    if evasive * 2 >= len(answers):
        overall = min(overall, CAP_WHEN_UNASSESSABLE)
        reasons.insert(
            0,
            f"Capped at {CAP_WHEN_UNASSESSABLE}: {evasive} of {len(answers)} answers "
            "deflected the question without giving an example.",
        )
    elif (evasive + listed) * 2 >= len(answers):
        overall = min(overall, CAP_WHEN_UNASSESSABLE)
        reasons.insert(
            0,
            f"Capped at {CAP_WHEN_UNASSESSABLE}: {evasive + listed} of {len(answers)} answers "
            f"showed nothing to assess ({_unassessable_breakdown(answers)}).",
        )
    if overall > CAP_WHEN_NOTHING_SPECIFIC and not any(substantive(a) for a in answers):
        overall = min(overall, CAP_WHEN_NOTHING_SPECIFIC)
        reasons.insert(
            0,
            f"Capped at {CAP_WHEN_NOTHING_SPECIFIC}: none of your answers gave a specific "
            "example, number or named tool on the question asked.",
        )
    score = int(_clip(math.floor(overall + 0.5), 1, 10))
    return RubricScore(
        score=score,
        relevance=relevance,
        clarity=clarity,
        technical_depth=technical_depth,
        alignment=alignment,
        band=band_for(score).title,
        reasons=reasons,
    )


def _reasons(
    answers: Sequence[AnswerEvidence],
    evidence: InterviewEvidence,
    subs: dict[str, float],
    depths: Sequence[float],
    n_requirements: int,
) -> list[str]:
    n = len(answers)
    reasons: list[str] = []
    examples = sum(1 for a in answers if a.concrete_example)
    measured = sum(1 for a in answers if a.concrete_example and a.numbers and a.star["result"])
    words = statistics.median(a.word_count for a in answers)
    reasons.append(
        f"Technical depth {subs['technical_depth']}/10: {examples} of {n} answers gave a "
        f"concrete example, {measured} with a measured result; "
        f"{sum(len(a.numbers) for a in answers)} numbers and "
        f"{len({s for a in answers for s in a.skills})} named skills or tools in all"
        + (
            f"; {nothing} of the answers count for nothing ({_unassessable_breakdown(answers)})."
            if (nothing := sum(1 for a in answers if unassessable(a)))
            else "."
        )
    )
    drifted = [
        a for a in answers if a.word_count >= SHORT_ANSWER_WORDS and a.question_relevance < RELEVANT
    ]
    topics = sorted({t for a in drifted for t in a.off_topic})
    listed = [a for a in answers if a.keyword_only]
    repeated = [a for a in answers if a.repeats is not None and not a.keyword_only]
    if repeated:
        relevance_text = (
            f"{len(repeated)} of {n} answers repeated another answer instead of answering "
            "their own question."
        )
    elif listed:
        relevance_text = (
            f"{len(listed)} of {n} answers listed terms instead of answering in sentences"
            + (f", and {len(drifted)} drifted off the question." if drifted else ".")
        )
    elif drifted:
        relevance_text = f"{len(drifted)} of {n} answers drifted off the question" + (
            f" (into {', '.join(topics[:4])})." if topics else "."
        )
    elif all(a.word_count < SHORT_ANSWER_WORDS for a in answers):
        relevance_text = "the answers were too short to address the questions."
    elif all(substantive(a) or a.question_relevance >= RELEVANT for a in answers):
        relevance_text = "the answers stayed on the questions' topics."
    else:
        relevance_text = "some answers were too short or too thin to address the questions."
    reasons.append(f"Relevance {subs['relevance']}/10: {relevance_text}")
    hedges = sum(len(a.hedges) for a in answers)
    reasons.append(
        f"Clarity {subs['clarity']}/10: median answer {words:g} words, "
        f"{hedges} hedging phrase{'s' if hedges != 1 else ''}" + _speech_summary(answers) + "."
    )
    cov = evidence.coverage
    if n_requirements:
        reasons.append(
            f"Alignment {subs['alignment']}/10: evidence for {len(cov.requirements_evidenced)} "
            f"of {n_requirements} job requirements."
        )
    else:
        reasons.append(
            f"Alignment {subs['alignment']}/10: the job description lists no requirements."
        )
    evasive = [a.index + 1 for a in answers if a.evasive]
    if evasive:
        reasons.append(
            f"Deflected in answer{'s' if len(evasive) > 1 else ''} {', '.join(map(str, evasive))}."
        )
    agency_self = sum(a.agency_self for a in answers)
    agency_others = sum(a.agency_others for a in answers)
    if agency_self + agency_others >= 4:
        share = agency_self / (agency_self + agency_others)
        reasons.append(
            f"Ownership: {share:.0%} of the actions described were your own "
            f"({agency_self} 'I' vs {agency_others} 'we/they')."
        )
    return reasons


def _unassessable_breakdown(answers: Sequence[AnswerEvidence]) -> str:
    """ "3 listed terms, 2 repeated another answer": why answers count for nothing."""
    counts = [
        (sum(1 for a in answers if a.keyword_only), "listed terms instead of sentences"),
        (sum(1 for a in answers if a.repeats is not None and not a.keyword_only),
         "repeated another answer"),
        (sum(1 for a in answers if a.evasive and not a.keyword_only and a.repeats is None),
         "deflected"),
    ]  # fmt: skip
    return ", ".join(f"{k} {what}" for k, what in counts if k)


def _speech_summary(answers: Sequence[AnswerEvidence]) -> str:
    spoken = [a.speech for a in answers if a.speech is not None]
    if not spoken:
        return ""
    wpm = statistics.median(s.words_per_minute for s in spoken)
    pauses = sum(s.long_pauses for s in spoken)
    fillers = sum(s.filler_words for s in spoken)
    return (
        f", {wpm:.0f} words/min, {pauses} long pause{'s' if pauses != 1 else ''}, "
        f"{fillers} filler word{'s' if fillers != 1 else ''} ({FILLERS_HOW_COUNTED})"
    )
