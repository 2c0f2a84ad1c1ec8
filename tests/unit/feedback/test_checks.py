"""What a model-written point must pass before the report shows it."""

from __future__ import annotations

import pytest

from server.feedback.checks import point_problem
from server.feedback.evidence import QA, AnswerEvidence, measure_interview

JOB = "We need a Backend Engineer.\n- Python and PostgreSQL\n- Redis caching\n- Kafka events"
CV = "Ada Example\nBackend developer: Python, Django, PostgreSQL, Kafka."
STORY = QA(
    "Tell me about a performance problem you fixed.",
    "Last year our checkout timed out at peak. I traced it to an N plus one query in Django, "
    "rewrote it with select_related and added an index in Postgres, and as a result p95 went "
    "from two seconds to 300 milliseconds.",
)
AVOIDANT = QA(
    "Tell me about a time you disagreed with a teammate.",
    "I try to avoid disagreements. If someone wants something, we usually just do it, it "
    "keeps everyone happy.",
)


def _evidence(qa: QA) -> AnswerEvidence:
    return measure_interview(
        [qa], job_title="Backend Engineer", job_description=JOB, cv_text=CV
    ).answers[0]


@pytest.fixture(scope="module")
def story() -> AnswerEvidence:
    return _evidence(STORY)


@pytest.fixture(scope="module")
def avoidant() -> AnswerEvidence:
    return _evidence(AVOIDANT)


def _check(text: str, answer: AnswerEvidence, qa: QA, *, praise: bool) -> str | None:
    return point_problem(text, praise=praise, answer=answer, qa=qa, context=f"{CV}\n{JOB}")


def test_a_specific_second_person_strength_about_a_substantive_answer_passes(
    story: AnswerEvidence,
) -> None:
    assert (
        _check("You traced the slow checkout to an N plus one query.", story, STORY, praise=True)
        is None
    )
    assert (
        _check("You named Postgres and cut p95 to 300 milliseconds.", story, STORY, praise=True)
        is None
    )


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("The candidate traced the slow checkout to a query.", "written about the candidate"),
        ("They traced the slow checkout to a query. Good.", "written about the candidate"),
        ("Traced the slow checkout to an N plus one query.", "not addressed"),
        ("You showed real passion for fixing the checkout.", "generic praise"),
        ("You gave a clear and concise answer about the checkout.", "generic praise"),
        ("You moved the checkout onto Kubernetes.", "names 'kubernetes'"),
        ("You used Kafka to fix the checkout timeouts.", "names 'kafka'"),  # in the CV, not said
        ("You clearly understand the company culture and its values.", "nobody raised"),
    ],
)
def test_strengths_that_are_not_true_or_not_to_you_are_refused(
    story: AnswerEvidence, text: str, reason: str
) -> None:
    problem = _check(text, story, STORY, praise=True)
    assert problem is not None and reason in problem, problem


def test_no_praise_for_an_answer_the_evidence_marks_weak(avoidant: AnswerEvidence) -> None:
    problem = _check(
        "You avoid disagreements, which keeps everyone happy.", avoidant, AVOIDANT, praise=True
    )
    assert problem == "praises an answer the evidence marks weak"


def test_advice_may_draw_on_the_cv_and_job_but_must_be_advice(avoidant: AnswerEvidence) -> None:
    assert (
        _check(
            "Give one example of a time you said no, and what you said.",
            avoidant,
            AVOIDANT,
            praise=False,
        )
        is None
    )
    # Kafka is in the CV and the job: advice may suggest it, a strength may not claim it.
    assert (
        _check("Mention the Kafka events you owned, if any.", avoidant, AVOIDANT, praise=False)
        is None
    )
    problem = _check("Your answer was great and very good.", avoidant, AVOIDANT, praise=False)
    assert problem is not None and "compliment" in problem
    problem = _check(
        "Your answer covered the topic of disagreement.", avoidant, AVOIDANT, praise=False
    )
    assert problem == "no advice"


def test_you_mentioned_x_only_if_the_answer_contains_x() -> None:
    qa = QA(
        "Describe a time you noticed a medication error. What did you do?",
        "Once I noticed that a patient's paracetamol had been given twice because it wasn't "
        "signed for properly. I told the nurse in charge and we filled in an incident form "
        "and the doctor checked the patient, and as a result she was fine.",
    )
    answer = _evidence(qa)
    assert (
        _check("You mentioned the incident form and the doctor's check.", answer, qa, praise=True)
        is None
    )
    problem = _check("You mentioned the incident form and the fire drill.", answer, qa, praise=True)
    assert problem is not None and "'fire drill'" in problem
