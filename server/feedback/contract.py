"""The reference's feedback contract: the keys, an int score in 1..10, 3–5 items a section."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from server.errors import AIOutputError
from server.feedback.limits import MAX_ITEMS, MIN_ITEMS

__all__ = ["REQUIRED_KEYS", "ValidFeedback", "validate_feedback"]

REQUIRED_KEYS = ("score", "strengths", "weaknesses", "cv_improvements")


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
