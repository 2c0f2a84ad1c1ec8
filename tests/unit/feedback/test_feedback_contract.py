"""Every rule of the feedback contract (reference/000_f8ab50b545262611.txt)."""

from __future__ import annotations

from typing import Any

import pytest

from server.errors import AIServiceError
from server.feedback.contract import validate_feedback
from tests.fakes import VALID_FEEDBACK


def test_valid_feedback_passes() -> None:
    valid = validate_feedback(dict(VALID_FEEDBACK))
    assert valid.score == 6
    assert valid.strengths == VALID_FEEDBACK["strengths"]


@pytest.mark.parametrize("key", ["score", "strengths", "weaknesses", "cv_improvements"])
def test_missing_key(key: str) -> None:
    data = {k: v for k, v in VALID_FEEDBACK.items() if k != key}
    with pytest.raises(AIServiceError, match=r"^Feedback missing keys: .*" + key):
        validate_feedback(data)


@pytest.mark.parametrize("score", ["7", 7.0, 7.5, True, False, 0, 11, -3, None, [7]])
def test_invalid_score(score: Any) -> None:
    with pytest.raises(AIServiceError, match=r"^Invalid score: "):
        validate_feedback({**VALID_FEEDBACK, "score": score})


@pytest.mark.parametrize("score", [1, 10])
def test_score_bounds_are_inclusive(score: int) -> None:
    assert validate_feedback({**VALID_FEEDBACK, "score": score}).score == score


@pytest.mark.parametrize(
    "items",
    [["one", "two"], ["a", "b", "c", "d", "e", "f"], ["a", "b", "  "], "just one line", [1, 2, 3]],
)
@pytest.mark.parametrize("key", ["strengths", "weaknesses", "cv_improvements"])
def test_sections_need_three_to_five_items(key: str, items: Any) -> None:
    with pytest.raises(AIServiceError):
        validate_feedback({**VALID_FEEDBACK, key: items})


def test_a_bulleted_string_is_accepted_like_the_reference_text_column() -> None:
    valid = validate_feedback({**VALID_FEEDBACK, "strengths": "- Clear\n- Specific\n- Relevant"})
    assert valid.strengths == ["Clear", "Specific", "Relevant"]


def test_not_an_object() -> None:
    with pytest.raises(AIServiceError, match="JSON object"):
        validate_feedback(["score", 7])
