"""Every threshold and band of the feedback, defined once (docs/rubric.md explains each).

A number that two feedback modules compare against lives here, so the rubric, the
write-up, the report composer and the model-note checks can never disagree about what a
"short" answer or a "relevant" one is.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "BANDS",
    "LONG_PAUSE_MS",
    "MAX_ITEMS",
    "MIN_ITEMS",
    "PRAISE_RELEVANT",
    "RELEVANT",
    "SHORT_ANSWER_WORDS",
    "Band",
    "band_for",
]

SHORT_ANSWER_WORDS = 12
"""Answers shorter than this can't show a skill: no depth, no evidence for a requirement,
relevance in proportion to length, no praise, and the score is capped when it is typical."""

RELEVANT = 0.5
"""An answer's ``question_relevance`` from this up is on the question (0.5 is a tie between
the job side and everyday themes; see evidence.py)."""

PRAISE_RELEVANT = 0.6
"""A strength may cite only an answer clearly on its question: off-topic stories that echo the
question's keyword ("Performance, yeah, I go to the gym…") reach 0.51-0.58 in the labelled set,
so a substantive answer below this is not praised (docs/rubric.md §5)."""

LONG_PAUSE_MS = 2_000
"""A silence inside a spoken answer at least this long counts as a long pause."""

MIN_ITEMS, MAX_ITEMS = 3, 5
"""The feedback contract: 3-5 strengths, areas to improve and CV suggestions."""


@dataclass(frozen=True)
class Band:
    """One score band: its range, its name, and the advice the reference gives for it."""

    low: int
    high: int
    title: str
    advice: str

    @property
    def text(self) -> str:
        return f"{self.title} – {self.advice.lower()}"


BANDS: tuple[Band, ...] = (
    Band(9, 10, "Exceptional", "Interview ready for this role"),
    Band(7, 8, "Strong", "Minor improvements needed"),
    Band(5, 6, "Good foundation", "Focus on key areas identified"),
    Band(3, 4, "Needs improvement", "Practice specific skills highlighted"),
    Band(1, 2, "Significant work needed", "Review all feedback carefully"),
)


def band_for(score: int) -> Band:
    """The band a 1..10 score falls in (out-of-range scores are clamped)."""
    score = min(max(score, 1), 10)
    return next(b for b in BANDS if score >= b.low)
