"""The interview's vocabulary from a CV and a job description: pure text, no model."""

from __future__ import annotations

from server.services.vocabulary import MAX_TERMS, interview_vocabulary
from server.voice.vocabulary import HOTWORDS_MAX_CHARS

CV = """Alex Morgan
Backend Engineer, Leeds. alex.morgan@example.com, https://alexmorgan.dev

Senior Backend Engineer, Parcelly (2021-present)
- Moved order tracking from a Django monolith to FastAPI services.
- Cut p95 latency by adding Redis caching and tuning postgresql queries.
- Built an event pipeline on Kafka; ran it on Kubernetes with CI/CD.
- Wrote the refunds API in Python/Django at PayBright, e.g. an idempotent webhook handler.
"""
JD = """Senior backend engineer at Fernway Health.
- Strong PostgreSQL skills: schema design, query optimisation.
- Experience with message queues (Kafka or RabbitMQ) and Kubernetes.
"""


def test_skills_and_names_as_the_documents_spell_them() -> None:
    terms = interview_vocabulary(CV, JD).terms
    for term in ("Django", "FastAPI", "Redis", "Kafka", "Kubernetes", "CI/CD", "RabbitMQ"):
        assert term in terms
    for name in ("Parcelly", "PayBright", "Fernway", "p95"):
        assert name in terms
    # The CV writes "postgresql", the job "PostgreSQL": one term, spelled as a name.
    assert "PostgreSQL" in terms and "postgresql" not in terms


def test_skills_come_before_names_and_cv_before_job() -> None:
    terms = interview_vocabulary(CV, JD).terms
    assert terms.index("Django") < terms.index("RabbitMQ") < terms.index("Parcelly")


def test_jargon_that_general_english_lacks() -> None:
    terms = interview_vocabulary(CV, JD).terms
    assert {"idempotent", "webhook", "monolith"} <= set(terms)
    for ordinary in ("tracking", "services", "queries", "tuning", "optimisation", "pipeline"):
        assert ordinary not in terms  # inflections of general English words are general too


def test_no_repeats_ordinary_words_or_addresses() -> None:
    terms = interview_vocabulary(CV, JD).terms
    lowered = [t.lower() for t in terms]
    assert len(lowered) == len(set(lowered))
    assert "Python/Django" not in terms and "Python" in terms  # two names
    for ordinary in ("Senior", "Backend", "Engineer", "Moved", "Strong", "Experience"):
        assert ordinary not in terms  # titles and the first words of sentences
    assert "schema design" not in terms  # plain English, nothing to bias towards
    assert not any("@" in t or "alexmorgan" in t.lower() for t in terms)
    assert "e.g" not in terms


def test_bounded_for_a_huge_cv() -> None:
    cv = " ".join(f"Worked with Tool{i} and Product{i}x." for i in range(500))
    vocabulary = interview_vocabulary(cv, JD)
    assert len(vocabulary.terms) == MAX_TERMS
    hotwords = vocabulary.hotwords()
    assert hotwords is not None and len(hotwords) <= HOTWORDS_MAX_CHARS


def test_an_empty_interview_has_no_hotwords() -> None:
    assert interview_vocabulary("", "").hotwords() is None
