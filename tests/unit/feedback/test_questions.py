"""Questions named as a person would: what they asked, never the interviewer's greeting."""

from __future__ import annotations

import pytest

from server.feedback.questions import asked, question_name


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            "Welcome to your practice interview for the Senior Backend Engineer role at "
            "Ledgerly. Which part of the ledger did you own?",
            "Which part of the ledger did you own?",
        ),
        (
            "Thank you for providing your answer. How did you use the Python services?",
            "How did you use the Python services?",
        ),
        (
            "That's great! Tell me about a time you fixed a slow query.",
            "Tell me about a time you fixed a slow query.",
        ),
        (
            "Great. So, how do you make sure the code you ship is reliable?",
            "How do you make sure the code you ship is reliable?",
        ),
        (
            "Describe a situation where you disagreed with a teammate. What happened?",
            "Describe a situation where you disagreed with a teammate.",
        ),
        (
            "Thanks for joining. To start, can you walk me through your role?",
            "Can you walk me through your role?",
        ),
        # Viva's own acknowledgements (server/services/acknowledgement.py) before a short
        # follow-on: the acknowledgement is no question.
        ("You mentioned Kafka and Redis. What went wrong?", "What went wrong?"),
        ("That was brief. What did you do?", "What did you do?"),
        ("So, cron jobs. Why did you move?", "Why did you move?"),
    ],
)
def test_asked_drops_the_preamble(message: str, expected: str) -> None:
    assert asked(message) == expected


def test_long_questions_are_shortened_at_a_word_and_numbered() -> None:
    name = question_name(
        2,
        "Thank you. How did you use the Python or Go services in the payments flow, and what "
        "went wrong when the queue backed up?",
    )
    assert (
        name
        == "question 2 (“How did you use the Python or Go services in the payments flow, and…”)"
    )
    assert "Thank" not in name
