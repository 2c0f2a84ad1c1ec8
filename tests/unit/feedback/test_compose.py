"""The pure compose step: which model points are shown, and what fills the rest."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.feedback.compose import Assessment, Composed, Note, compose
from server.feedback.contract import validate_feedback
from server.feedback.evidence import QA
from server.feedback.labelled import LabelledTranscript
from server.feedback.rubric import score_interview

LABELLED = Path(__file__).resolve().parents[2] / "data" / "labelled"


def _assessment(name: str) -> tuple[LabelledTranscript, Assessment]:
    t = LabelledTranscript.load(LABELLED / f"{name}.json")
    evidence = t.measure()
    return t, Assessment(list(t.qas), evidence, score_interview(evidence), 0.0)


def _compose(name: str, notes: list[Note | None]) -> Composed:
    t, assessment = _assessment(name)
    context = "\n".join((t.cv_text, t.job_description, t.job_title))
    return compose(assessment, notes, job_title=t.job_title, context=context)


@pytest.fixture(scope="module")
def strong() -> tuple[LabelledTranscript, Assessment]:
    return _assessment("backend_strong")


def _texts(composed: Composed) -> list[str]:
    return [p.text for p in composed.strengths + composed.weaknesses]


def test_second_person_points_about_the_answer_are_shown_with_their_own_quote() -> None:
    t, _ = _assessment("backend_strong")
    notes: list[Note | None] = [None] * len(t.qas)
    notes[1] = {
        "strength": "You traced the slow checkout to an N plus one query in the traces.",
        "improvement": "Say how many queries the order summary ran before and after your fix.",
    }
    composed = _compose("backend_strong", notes)
    assert composed.strengths[0].text == notes[1]["strength"]
    assert composed.strengths[0].answer_index == 1
    assert composed.strengths[0].quote in t.qas[1].answer
    assert notes[1]["improvement"] in _texts(composed)
    assert composed.written_by == "model+evidence" and composed.model_items == 2


@pytest.mark.parametrize(
    ("strength", "why"),
    [
        ("The candidate traced the slow checkout to an N plus one query.", "third person"),
        ("Traced the slow checkout to an N plus one query.", "not addressed to you"),
        ("You showed real passion for clean code and a strong work ethic.", "generic praise"),
        ("You moved the checkout service onto Kubernetes with Istio.", "names what was not said"),
        ("You have a strong understanding of the company culture and its values.", "invented"),
    ],
)
def test_model_strengths_that_fail_a_check_are_never_shown(strength: str, why: str) -> None:
    t, _ = _assessment("backend_strong")
    notes: list[Note | None] = [{"strength": strength, "improvement": ""}] * len(t.qas)
    composed = _compose("backend_strong", notes)
    assert strength not in _texts(composed), why
    assert composed.model_items == 0
    assert all(p.kind == "evidenced" for p in composed.strengths)  # the evidence fills in


def test_a_model_strength_for_an_answer_the_evidence_marks_weak_is_dropped() -> None:
    t, _ = _assessment("adv_pm_avoidant")
    notes: list[Note | None] = [
        {
            "strength": "You avoid disagreements, which keeps your team positive and happy.",
            "improvement": "Give one example of a time you said no, and what you said.",
        }
    ] * len(t.qas)
    composed = _compose("adv_pm_avoidant", notes)
    assert not any("avoid disagreements" in p.text for p in composed.strengths)
    assert notes[0] is not None and notes[0]["improvement"] in _texts(composed)


def test_improvements_must_be_advice_not_compliments() -> None:
    t, _ = _assessment("backend_strong")
    notes: list[Note | None] = [
        {"strength": "", "improvement": "Your answer was great and very impressive."}
    ] * len(t.qas)
    composed = _compose("backend_strong", notes)
    assert "Your answer was great and very impressive." not in _texts(composed)


def test_an_interview_with_nothing_to_praise_says_so_and_still_meets_the_contract() -> None:
    composed = _compose("adv_backend_keywords", [None] * 6)
    assert not composed.strengths_shown
    assert all(p.kind == "to_earn" for p in composed.strengths)
    assert composed.strengths[0].text.startswith("No answer in this interview showed a strength")
    assert "listed terms" in composed.strengths[0].text
    valid = validate_feedback(
        {
            "score": 1,
            "strengths": [p.text for p in composed.strengths],
            "weaknesses": [p.text for p in composed.weaknesses],
            "cv_improvements": composed.cv_improvements,
        }
    )
    assert len(valid.strengths) == 3
    kinds = [
        c["kind"]
        for c in composed.citations(_assessment("adv_backend_keywords")[0].qas)["strengths"]
    ]
    assert kinds == ["to_earn"] * 3


def test_citations_carry_kind_and_message(strong: tuple[LabelledTranscript, Assessment]) -> None:
    t, assessment = strong
    qas = [QA(q.question, q.answer, message_id=100 + i) for i, q in enumerate(t.qas)]
    composed = compose(
        Assessment(qas, assessment.evidence, assessment.rubric, 0.0),
        [None] * len(qas),
        job_title=t.job_title,
    )
    cites = composed.citations(qas)
    assert {c["kind"] for c in cites["strengths"]} == {"evidenced"}
    for c in cites["strengths"] + cites["weaknesses"]:
        assert c["message_id"] == 100 + c["answer_index"]
