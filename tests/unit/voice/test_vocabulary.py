"""Hotwords for one question: the question's terms first, and never too long a prompt."""

from __future__ import annotations

from server.voice.vocabulary import HOTWORDS_MAX_CHARS, Vocabulary, mentions

TERMS = Vocabulary(("Python", "PostgreSQL", "Redis", "Kubernetes", "Parcelly", "CI/CD"))


def test_terms_in_priority_order_without_a_question() -> None:
    assert TERMS.hotwords() == "Python, PostgreSQL, Redis, Kubernetes, Parcelly, CI/CD"


def test_the_terms_the_question_names_come_first() -> None:
    hotwords = TERMS.hotwords("How did you run Kubernetes at parcelly?")
    assert hotwords == "Kubernetes, Parcelly, Python, PostgreSQL, Redis, CI/CD"


def test_the_question_decides_which_terms_fit_the_bound() -> None:
    many = Vocabulary((*(f"Term{i:02d}" for i in range(100)), "Kafka"))
    hotwords = many.hotwords("Why Kafka?")
    assert hotwords is not None and hotwords.startswith("Kafka, Term00, Term01")
    assert len(hotwords) <= HOTWORDS_MAX_CHARS
    assert "Term99" not in hotwords


def test_a_long_term_is_skipped_for_shorter_ones_that_fit() -> None:
    vocabulary = Vocabulary(("Redis", "x" * 30, "Kafka"))
    assert vocabulary.hotwords(max_chars=20) == "Redis, Kafka"


def test_nothing_to_bias_towards_is_none() -> None:
    assert Vocabulary(()).hotwords("Tell me about yourself.") is None


def test_mentions_matches_whole_words_in_any_case() -> None:
    assert mentions("We moved to postgresql last year.", "PostgreSQL")
    assert mentions("CI/CD pipelines", "CI/CD")
    assert not mentions("Redistribution", "Redis")
