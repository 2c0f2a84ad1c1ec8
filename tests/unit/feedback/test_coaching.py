"""Stronger versions of answers: only the candidate's own sentences, and marked gaps."""

from __future__ import annotations

from pathlib import Path

from server.feedback.coaching import coach
from server.feedback.evidence import QA, measure_interview
from server.feedback.labelled import load_labelled
from server.feedback.writeup import find_quote

LABELLED = Path(__file__).resolve().parents[2] / "data" / "labelled"
JOB = "We need a Backend Engineer.\n- Python and PostgreSQL\n- Keep the API fast"


def test_every_said_part_is_verbatim_from_its_own_answer() -> None:
    checked = 0
    for t in load_labelled(LABELLED):
        coaching = coach(t.measure(), t.qas)
        assert [c.answer_index for c in coaching] == list(range(len(t.qas)))
        assert sum(c.one_thing is not None for c in coaching) == 2, t.name
        for c in coaching:
            answer = t.qas[c.answer_index].answer
            assert c.parts, t.name
            for part in c.parts:
                if part.said:
                    assert find_quote(part.text.rstrip("…"), [answer]) == 0, (t.name, part)
                    checked += 1
                else:
                    assert part.text.startswith("[") and part.text.endswith("]"), part
            assert "Welcome" not in c.question
    assert checked > 50


def test_a_full_story_keeps_its_own_order_and_words() -> None:
    answer = (
        "Last Black Friday our checkout started timing out. I pulled the traces and found an "
        "N plus one query, so I rewrote it with select_related. As a result p95 went from "
        "two seconds to 300 milliseconds."
    )
    qas = [QA("Tell me about a performance problem you fixed.", answer, question_number=2)]
    ev = measure_interview(qas, job_title="Backend Engineer", job_description=JOB, cv_text="")
    (c,) = coach(ev, qas)
    assert [p.label for p in c.parts] == ["Situation", "What you did", "Result"]
    assert all(p.said for p in c.parts)
    assert c.parts[0].text == "Last Black Friday our checkout started timing out."
    assert c.question.startswith("question 2 (“Tell me about a performance problem")


def test_gaps_say_what_to_add_and_point_to_a_number_given_elsewhere() -> None:
    qas = [
        QA(
            "How did you speed up the API?",
            "I added an index to the orders table and cached the summary in Redis, and as a "
            "result p95 dropped from 900 to 180 milliseconds.",
        ),
        QA("Tell me about a time you mentored someone.", "I paired with a junior engineer."),
        QA("What do you do when a deploy fails?", "Fine."),
    ]
    ev = measure_interview(qas, job_title="Backend Engineer", job_description=JOB, cv_text="")
    coaching = coach(ev, qas)
    mentoring = coaching[1]
    result = next(p for p in mentoring.parts if p.label == "Result")
    assert not result.said and "question 1" in result.text and "180 milliseconds" in result.text
    fine = coaching[2]
    assert not any(p.said for p in fine.parts)
    assert fine.one_thing is not None and "concrete example" in fine.one_thing
    assert coaching[0].one_thing is None  # the strongest answer is not among the two weakest
