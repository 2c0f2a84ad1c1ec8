"""Speakable units from a stream of LLM deltas."""

from __future__ import annotations

import pytest

from server.voice.sentences import SentenceSplitter, speakable


def stream(text: str, *, step: int = 1, first_clause_min_words: int = 0) -> list[tuple[int, str]]:
    """Feed text in small deltas; return (chars fed when emitted, unit)."""
    splitter = SentenceSplitter(first_clause_min_words=first_clause_min_words)
    out: list[tuple[int, str]] = []
    for i in range(0, len(text), step):
        out.extend((i + step, unit) for unit in splitter.push(text[i : i + step]))
    out.extend((len(text), unit) for unit in splitter.flush())
    return out


def units(text: str, **kwargs: int) -> list[str]:
    return [u for _, u in stream(text, **kwargs)]


def test_each_sentence_as_soon_as_it_is_complete() -> None:
    text = "Thanks for that. What did you learn? Tell me more!"
    out = stream(text)
    assert [u for _, u in out] == ["Thanks for that.", "What did you learn?", "Tell me more!"]
    # "." needs the next character to be sure; "?" is final at once.
    assert out[0][0] == len("Thanks for that. ")
    assert out[1][0] == len("Thanks for that. What did you learn?")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Dr. Smith will join us. Ready?", ["Dr. Smith will join us.", "Ready?"]),
        ("Use e.g. Python or i.e. Go. Next one.", ["Use e.g. Python or i.e. Go.", "Next one."]),
        ("Version 3.5 shipped. It was late.", ["Version 3.5 shipped.", "It was late."]),
        ("We hired J. R. Smith. Good.", ["We hired J. R. Smith.", "Good."]),
        ("The U.S. team grew. Why?", ["The U.S. team grew.", "Why?"]),
        ("Apples, pears, etc. Then lunch.", ["Apples, pears, etc.", "Then lunch."]),
        ("Apples, pears, etc. and more.", ["Apples, pears, etc. and more."]),
        ("See example.com for details. Thanks.", ["See example.com for details.", "Thanks."]),
        ('He said "stop." Then left.', ['He said "stop."', "Then left."]),
        ("Wait... what happened?", ["Wait... what happened?"]),
        ("Wait... What happened?", ["Wait...", "What happened?"]),
        ("Acme Inc. Then we grew.", ["Acme Inc.", "Then we grew."]),
        ("No trailing punctuation", ["No trailing punctuation"]),
        ("Line one\nLine two", ["Line one", "Line two"]),
    ],
)
def test_boundaries(text: str, expected: list[str]) -> None:
    assert units(text) == expected
    assert units(text, step=7) == expected


def test_first_clause_only_for_the_first_unit() -> None:
    text = (
        "That is a really interesting point, and I want to dig in. Later, we can, maybe, talk more."
    )
    out = units(text, first_clause_min_words=4)
    assert out == [
        "That is a really interesting point,",
        "and I want to dig in.",
        "Later, we can, maybe, talk more.",
    ]


def test_first_clause_needs_enough_words_and_a_real_comma() -> None:
    assert units("Well, that took 1,000 tries to get right.", first_clause_min_words=4) == [
        "Well, that took 1,000 tries to get right."
    ]


def test_markdown_is_not_read_aloud() -> None:
    assert (
        speakable("**Question 2:** tell me about `asyncio`") == "Question 2: tell me about asyncio"
    )
    assert units("- First point.\n- Second point.") == ["First point.", "Second point."]


def test_empty_and_symbol_only_input() -> None:
    assert units("") == []
    assert units("  ...  ") == []
