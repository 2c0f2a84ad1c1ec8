"""Quote verification and the deterministic fallback write-up."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from server.feedback.evidence import QA, InterviewEvidence, measure_interview
from server.feedback.labelled import ADVERSARIAL_KINDS, LabelledTranscript, load_labelled
from server.feedback.writeup import (
    CitedPoint,
    evidenced_strengths,
    fallback_cv_suggestions,
    fallback_improvements,
    find_quote,
    strengths_to_earn,
)

LABELLED = Path(__file__).resolve().parents[2] / "data" / "labelled"
JOB = (
    "We need a Staff Nurse.\n"
    "- Recognise and escalate the deteriorating patient\n"
    "- Administer medicines safely"
)
PRAISE_OF_SUBSTANCE = re.compile(
    r"example|metric|measur|depth|detail|specific|skill|result|strong|excellent|impress|"
    r"expert|thorough|insight|clear understanding",
    re.IGNORECASE,
)

Measured = list[tuple[LabelledTranscript, InterviewEvidence]]


@pytest.fixture(scope="module")
def measured() -> Measured:
    return [(t, t.measure()) for t in load_labelled(LABELLED)]


def _fine_interview(n: int = 4) -> tuple[list[QA], InterviewEvidence]:
    questions = [
        "Tell me about yourself.",
        "Tell me about a time a patient deteriorated.",
        "How do you prioritise?",
        "How do you handle an angry relative?",
    ]
    qas = [QA(questions[i % 4], "Fine.") for i in range(n)]
    return qas, measure_interview(qas, job_title="Staff Nurse", job_description=JOB, cv_text="")


PADDING = re.compile(
    r"every question|rather than skipping|gave an answer to|in your own words|without hedging|"
    r"direct reply|open about",
    re.IGNORECASE,
)


def _strengths(ev: InterviewEvidence, qas: list[QA], n: int) -> list[CitedPoint]:
    """The strengths card as the report fills it without model notes."""
    shown = evidenced_strengths(ev, qas, n)
    return shown + strengths_to_earn(ev, qas, max(0, 3 - len(shown)))


def _assert_cited(points: list[CitedPoint], qas: list[QA]) -> None:
    answers = [qa.answer for qa in qas]
    for p in points:
        if p.kind == "to_earn" and p.answer_index is None:
            assert p.quote == ""
            continue
        assert p.answer_index is not None and 0 <= p.answer_index < len(answers)
        assert find_quote(p.quote, [answers[p.answer_index]]) == 0, p
        assert find_quote(p.quote, answers) is not None
        assert p.text and p.text == p.text.strip()


# -------------------------------------------------------------------- find_quote


ANSWERS = [
    "Yeah, so last Black Friday our checkout   started timing out,\nand I was on call.",
    "Fine.",
    "I rewrote it with select_related so it's three queries.",
]


def test_find_quote_verbatim() -> None:
    assert find_quote("I rewrote it with select_related", ANSWERS) == 2


def test_find_quote_tolerates_case_and_whitespace() -> None:
    assert find_quote("our CHECKOUT started timing out, and I was", ANSWERS) == 0


def test_find_quote_ignores_surrounding_quotes_and_ellipses() -> None:
    assert find_quote("“…last Black Friday our checkout started…”", ANSWERS) == 0
    assert find_quote('"so it\'s three queries."', ANSWERS) == 2


def test_find_quote_rejects_paraphrase_and_absent_text() -> None:
    assert find_quote("I rewrote it using select_related", ANSWERS) is None
    assert find_quote("our checkout was timing out", ANSWERS) is None
    assert find_quote("we migrated everything to Kubernetes", ANSWERS) is None
    assert find_quote("", ANSWERS) is None
    assert find_quote("  …  ", ANSWERS) is None


def test_find_quote_needs_whole_words() -> None:
    assert find_quote("rewrote it with select", ANSWERS) is None  # "select_related"
    assert find_quote("ewrote it with", ANSWERS) is None


def test_find_quote_rejects_short_quotes_unless_the_answer_is_short() -> None:
    assert find_quote("on call", ANSWERS) is None  # 2 words from a long answer
    assert find_quote("Fine.", ANSWERS) == 1  # the whole answer is one word
    assert find_quote("fine", ANSWERS) == 1
    assert find_quote("Black Friday", ANSWERS) is None


def test_find_quote_punctuation_does_not_change_meaning() -> None:
    assert find_quote("Fine!", ANSWERS) is None  # punctuation is kept, only case/space fold


# ----------------------------------------------------------------- the fallbacks


@pytest.mark.parametrize(("n", "expected"), [(1, 3), (3, 3), (4, 4), (5, 5), (9, 5)])
def test_counts_are_clamped_to_contract(measured: Measured, n: int, expected: int) -> None:
    t, ev = next((t, ev) for t, ev in measured if t.name == "backend_strong")
    assert len(evidenced_strengths(ev, t.qas, n)) == expected
    assert len(fallback_improvements(ev, t.qas, n)) == expected
    assert len(fallback_cv_suggestions(ev, job_title=t.job_title, n=n)) == expected


def test_every_labelled_transcript_gets_cited_points(measured: Measured) -> None:
    for t, ev in measured:
        for n in (3, 5):
            strengths = _strengths(ev, t.qas, n)
            improvements = fallback_improvements(ev, t.qas, n)
            assert 3 <= len(strengths) <= n and len(improvements) == n, t.name
            _assert_cited(strengths, t.qas)
            _assert_cited(improvements, t.qas)
            assert len({p.text for p in strengths}) == len(strengths)
            assert len({p.text for p in improvements}) == n
            cv = fallback_cv_suggestions(ev, job_title=t.job_title, n=n)
            assert len(cv) == len(set(cv)) == n
            assert any(t.job_title in s for s in cv), t.name


def test_no_strength_is_padding(measured: Measured) -> None:
    """Answering every question, not hedging, replying in your own words: facts about the
    interview, not strengths. None of them is ever presented as one."""
    for t, ev in measured:
        for p in _strengths(ev, t.qas, 5):
            assert not PADDING.search(p.text), (t.name, p.text)


def test_weak_and_adversarial_interviews_show_no_strength(measured: Measured) -> None:
    for t, ev in measured:
        if t.kind in ADVERSARIAL_KINDS | {"one-word", "evasive", "off-topic-long"}:
            assert evidenced_strengths(ev, t.qas, 5) == [], t.name


def test_all_fine_interview_says_plainly_there_is_no_strength_and_what_would_earn_one() -> None:
    qas, ev = _fine_interview()
    assert evidenced_strengths(ev, qas, 5) == []
    items = strengths_to_earn(ev, qas, 3)
    assert len(items) == 3 and all(p.kind == "to_earn" for p in items)
    assert items[0].text.startswith("No answer in this interview showed a strength")
    assert "too short" in items[0].text
    assert "would earn a strength" in items[1].text
    assert "question 1 (“Tell me about yourself.”)" in items[1].text
    _assert_cited(items, qas)


def test_strengths_name_the_question_not_its_greeting() -> None:
    qas = [
        QA(
            "Welcome to your practice interview for the Staff Nurse role at St Brennan's. "
            "Tell me about a time a patient deteriorated on your shift.",
            "Last winter a patient on my ward dropped his blood pressure, so I escalated "
            "using SBAR, started fluids and called the outreach team within five minutes, "
            "and as a result he was stable within the hour.",
            question_number=1,
        )
    ]
    ev = measure_interview(qas, job_title="Staff Nurse", job_description=JOB, cv_text="")
    texts = [p.text for p in evidenced_strengths(ev, qas, 3) + fallback_improvements(ev, qas, 3)]
    assert texts and all("Welcome" not in t for t in texts)
    assert any("question 1 (“Tell me about a time a patient deteriorated" in t for t in texts)


def test_all_fine_interview_improvements_name_the_length() -> None:
    qas, ev = _fine_interview()
    improvements = fallback_improvements(ev, qas, 3)
    _assert_cited(improvements, qas)
    assert all("was 1 word" in p.text for p in improvements)


def test_strong_transcript_strengths_name_measured_facts(measured: Measured) -> None:
    t, ev = next((t, ev) for t, ev in measured if t.name == "backend_strong")
    strengths = evidenced_strengths(ev, t.qas, 3)
    assert "measured result" in strengths[0].text
    assert any(num in strengths[0].text for num in ("300 milliseconds", "two and a half seconds"))
    improvements = fallback_improvements(ev, t.qas, 3)
    assert not any("was 1 word" in p.text for p in improvements)


def test_evasive_answers_are_named_as_deflections(measured: Measured) -> None:
    t, ev = next((t, ev) for t, ev in measured if t.name == "pm_evasive")
    improvements = fallback_improvements(ev, t.qas, 3)
    assert all("deflected" in p.text for p in improvements)


def test_off_topic_answers_are_named_as_drift(measured: Measured) -> None:
    t, ev = next((t, ev) for t, ev in measured if t.name == "teacher_offtopic")
    improvements = fallback_improvements(ev, t.qas, 3)
    assert sum("drifted" in p.text for p in improvements) >= 2


def test_cv_suggestions_use_coverage(measured: Measured) -> None:
    t, ev = next((t, ev) for t, ev in measured if t.name == "backend_strong")
    cv = fallback_cv_suggestions(ev, job_title=t.job_title, n=5)
    joined = " ".join(cv)
    assert "300 milliseconds" in joined or "120 orders" in joined or "p95" in joined
    assert "redis" in joined.lower()


def test_fallbacks_are_deterministic(measured: Measured) -> None:
    for t, ev in measured[:4]:
        assert evidenced_strengths(ev, t.qas, 4) == evidenced_strengths(ev, t.qas, 4)
        assert fallback_improvements(ev, t.qas, 4) == fallback_improvements(ev, t.qas, 4)


def test_empty_interview_has_no_cited_points() -> None:
    ev = measure_interview([], job_title="Staff Nurse", job_description=JOB, cv_text="")
    assert evidenced_strengths(ev, [], 3) == []
    assert strengths_to_earn(ev, [], 3) == []
    assert fallback_improvements(ev, [], 3) == []
    assert len(fallback_cv_suggestions(ev, job_title="Staff Nurse", n=3)) == 3


def test_cv_never_says_a_skill_said_in_another_form_did_not_come_up() -> None:
    cv = "Ada Example\nBackend developer: Python, FastAPI, PostgreSQL, Django, Kafka, Kubernetes."
    qas = [
        QA("What did you build?", "I built a double-entry ledger in Postgres, on k8s."),
        QA("And the events?", "Kafka."),
    ]
    ev = measure_interview(
        qas, job_title="Backend Engineer", job_description="- Python\n- PostgreSQL", cv_text=cv
    )
    assert ev.coverage.cv_skills_not_discussed == ["python", "fastapi", "django"]
    joined = " ".join(fallback_cv_suggestions(ev, job_title="Backend Engineer", n=5))
    assert "lists python, fastapi and django, which didn't come up" in joined
    assert "postgresql" not in joined.split("didn't come up")[0].split("lists")[-1]
