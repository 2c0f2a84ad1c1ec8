"""The question plan names the job's own requirements (issue 16: the plan covers the job
description), one line per question, and the reply guard lets that line be quoted."""

from __future__ import annotations

import dataclasses

from server.services.interview import reply_plan
from server.services.prompts import interview_messages, plain_question, question_focus
from server.services.reply_guard import Guard
from tests.helpers import interview_records

JD = """Senior Backend Engineer at Fernway Health.

What you will do:
- Design, build and operate Python services backed by PostgreSQL
- Improve reliability and performance of APIs that clinics depend on every day
- Work with product and clinical staff to turn requirements into safe features

What you bring:
- Experience with message queues or event-driven systems
"""


def _session(mode: str, questions: int = 8, jd: str = JD):  # type: ignore[no-untyped-def]
    session, history = interview_records(["An answer."] * 2, jd=jd)
    return (
        dataclasses.replace(session, interview_mode=mode, question_target=questions),
        history,
    )


def test_requirement_topics_name_the_jobs_lines_one_each() -> None:
    session, _ = _session("mixed")
    # Mixed: question 2 (a skill the job asks for) and 6 (a realistic problem) are on the job.
    assert plain_question(session, 2) == (
        "The role asks for this: design, build and operate Python services backed by "
        "PostgreSQL. Where have you done that, and how did it go?"
    )
    assert "improve reliability and performance of APIs" in plain_question(session, 6)
    assert '"improve reliability and performance of APIs' in question_focus(session, 6)
    # The others are the plan's own topics.
    assert "requirement" not in question_focus(session, 3)
    # Technical: the fixed opening question is already on the job's first line.
    technical, _ = _session("technical")
    assert "design, build and operate Python services" in plain_question(technical, 1)


def test_a_job_without_requirement_lines_keeps_the_generic_topic() -> None:
    session, _ = _session("mixed", jd="A friendly team in Leeds. Good coffee.")
    assert plain_question(session, 2) == (
        "Which skill from the Backend Engineer job description have you used the most, and how "
        "did you use it?"
    )


def test_the_requirement_in_question_may_be_quoted_but_not_the_rest_of_the_job() -> None:
    session, history = _session("mixed", questions=5)
    history = history[:2]  # question 1 answered: question 2 is on the first requirement line
    plan = reply_plan(session, history, interview_messages(session, history))
    assert plan.quotable
    guard = Guard(plan)
    quoting = (
        "You design, build and operate Python services backed by PostgreSQL in this role: "
        "where have you done that?"
    )
    assert guard.slip(quoting) is None
    reading_out = "Improve reliability and performance of APIs that clinics depend on every day."
    assert guard.slip(reading_out) == "reads out its instructions, the CV or the job description"
