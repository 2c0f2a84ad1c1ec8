"""The reply guard: what a small model says out of role is never spoken, and every question
turn ends with a question. The slips below are verbatim from the 0.5B "fast" model."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator

import pytest

from server.services import plans
from server.services.interview import reply_plan
from server.services.plans import PLANS
from server.services.prompts import interview_messages, plain_question
from server.services.reply_guard import (
    ACKNOWLEDGEMENT,
    FALLBACK_CLOSING,
    Guard,
    ReplyPlan,
    asks_again,
    guard_reply,
)
from server.voice.sentences import SentenceSplitter
from tests.helpers import interview_records

ANSWER = (
    "At Parcelly I led the move of our order tracking service from a Django monolith to async "
    "FastAPI services. I designed the Postgres schema, and with Redis caching and rewritten "
    "queries we cut the p95 latency from nine hundred to one hundred and eighty milliseconds."
)
CV = (
    "Alex Morgan. Senior Backend Engineer with six years of experience building Python "
    "services for payments and logistics."
)
JD = (
    "We are looking for a Senior Backend Engineer to own core services in our patient booking "
    "domain."
)
PLAIN_QUESTIONS = tuple(t.plain for t in PLANS["mixed"])
QUESTION = PLAIN_QUESTIONS[1]
PLAN = ReplyPlan(answer=ANSWER, documents=(CV, JD), question=QUESTION, greeting=ACKNOWLEDGEMENT)
OPENING = ReplyPlan(
    answer=None, documents=(CV, JD), question=PLAIN_QUESTIONS[0], greeting="Welcome."
)
CLOSING = ReplyPlan(answer=ANSWER, documents=(CV, JD), question=None, greeting=ACKNOWLEDGEMENT)


class Model:
    """Streams ``text`` in small deltas and records how far it was read."""

    def __init__(self, text: str, size: int = 4) -> None:
        self.deltas = [text[i : i + size] for i in range(0, len(text), size)]
        self.read = 0

    async def stream(self) -> AsyncIterator[str]:
        for delta in self.deltas:
            self.read += 1
            yield delta


async def run(text: str, plan: ReplyPlan = PLAN, size: int = 4) -> tuple[str, Model]:
    model = Model(text, size)
    return "".join([d async for d in guard_reply(model.stream(), plan)]), model


@pytest.mark.parametrize("size", [1, 4, 50])
@pytest.mark.parametrize(
    "reply",
    [
        "Thanks. Which part of the migration are you proudest of, and why?",
        # Quoting the candidate back in the second person is a good follow-up, not an echo.
        "You said you cut the p95 latency from nine hundred to one hundred and eighty "
        "milliseconds. How did you measure it?",
        "I see, that is a big improvement. How did you roll it out?",
        "I'm curious about the schema. What would you change today?",
        "Welcome to your interview for the Senior Backend Engineer role at Fernway Health. "
        "Tell me about your most relevant project?",
    ],
)
async def test_an_interviewer_reply_passes_unchanged(reply: str, size: int) -> None:
    said, model = await run(reply, size=size)
    assert said == reply
    assert model.read == len(model.deltas)


@pytest.mark.parametrize(
    ("reply", "plan", "reason"),
    [
        (ANSWER, PLAN, "repeats the candidate's answer"),
        (
            "I designed the Postgres schema, and with Redis caching we cut the latency.",
            PLAN,
            "speaks as the candidate",
        ),
        (JD + " " + QUESTION, OPENING, "reads out"),
        (
            "I'm Alex Morgan, a Senior Backend Engineer with six years of experience.",
            OPENING,
            "speaks as the candidate",
        ),
        ("I'm sorry, but I can't assist with that.", PLAN, "refuses"),
        # The 0.5B model telling the candidate's own work back in the first person.
        (
            "I used Redis caching to make the order tracking service faster for everyone.",
            PLAN,
            "speaks as the candidate",
        ),
    ],
)
async def test_a_slip_is_never_spoken_and_the_planned_question_is_asked(
    reply: str, plan: ReplyPlan, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="server.services.reply_guard"):
        said, model = await run(reply + " More text the model would go on with. " * 5, plan)
    assert said == f"{plan.greeting} {plan.question}"
    assert model.read < len(model.deltas)  # the model was not read to the end
    assert reason in caplog.text and "finished with the planned question" in caplog.text
    assert ANSWER[:20] not in caplog.text  # the log names the slip, not what was said


async def test_a_slip_after_a_good_sentence_keeps_the_sentence() -> None:
    said, _ = await run("Great, that is impressive. " + ANSWER)
    assert said == f"Great, that is impressive. {QUESTION}"


async def test_a_question_turn_without_a_question_gets_the_planned_question() -> None:
    said, _ = await run("Thank you for sharing that.")
    assert said == f"Thank you for sharing that. {QUESTION}"


async def test_closing_line() -> None:
    assert (await run("Thank you, that was great. Your report is coming.", CLOSING))[0] == (
        "Thank you, that was great. Your report is coming."
    )  # no question added to a closing line
    assert (await run(ANSWER, CLOSING))[0] == FALLBACK_CLOSING


async def test_clauses_are_released_while_the_model_is_still_writing() -> None:
    """No latency: the first clause goes out as soon as it is complete and long enough."""
    model = Model("Thanks, that sounds like a solid migration plan, well done. " + QUESTION, 2)
    stream = guard_reply(model.stream(), PLAN)
    first = await anext(stream)
    assert first == "Thanks, that sounds like a solid migration plan, "
    assert model.read * 2 < len(first) + 8
    await stream.aclose()


async def test_a_released_sentence_can_be_voiced_at_once() -> None:
    """The speech stage cuts a sentence at its period only once it sees what follows ("3." may
    become "3.5"), and the guard releases the next sentence only whole: the space after the
    period is released with the sentence, so its audio does not wait for the next one."""
    model = Model("Thanks, that is a clear example. What did you measure after the change?", 2)
    stream = guard_reply(model.stream(), PLAN)
    first = await anext(stream)
    assert SentenceSplitter().push(first) == ["Thanks, that is a clear example."]
    assert model.read < len(model.deltas)  # the second sentence is still being written
    await stream.aclose()


async def test_later_sentences_are_released_whole() -> None:
    """Only the first sentence is voiced in clauses, so a slip later never leaves half a
    sentence behind; one in the first sentence is marked as a break."""
    model = Model("Great. I designed the Postgres schema, and with Redis caching we cut it.", 2)
    pieces = [d async for d in guard_reply(model.stream(), PLAN)]
    assert pieces == ["Great. ", QUESTION]
    said, _ = await run("That sounds like a big migration, I designed the Postgres schema.")
    assert said == f"That sounds like a big migration, … {QUESTION}"


def test_a_long_run_of_the_answer_is_an_echo_however_long_the_sentence() -> None:
    guard = Guard(PLAN)
    sentence = (
        "That is a great result, and with Redis caching and rewritten queries the whole "
        "logistics team must have been very pleased indeed with the new tracking service."
    )
    assert guard.slip(sentence) == "repeats the candidate's answer"
    assert guard.slip("That is a great result, and the team must have been pleased.") is None


async def test_an_echo_without_a_person_is_still_an_echo() -> None:
    """What the fast model says after Whisper's transcript: fragments of the answer."""
    said, _ = await run("Move of our order tracking service from a Django monolith. Why?")
    assert said == f"{ACKNOWLEDGEMENT} {QUESTION}"


async def test_short_first_clauses_and_apologies_are_held_until_judged() -> None:
    model = Model("At Parcelly, I led the move of our order tracking service.", 2)
    said = "".join([d async for d in guard_reply(model.stream(), PLAN)])
    assert "Parcelly" not in said  # "At Parcelly," alone was too short to release
    said, _ = await run("I'm sorry, I'm afraid I cannot help with that, it is outside my role.")
    assert "sorry" not in said


@pytest.mark.parametrize("mode", list(PLANS))
def test_plain_questions_follow_the_topic_plan(mode: str) -> None:
    session, _ = interview_records(["x"] * 8)
    session = dataclasses.replace(session, interview_mode=mode)  # type: ignore[arg-type]
    plan = PLANS[mode]  # type: ignore[index]
    role, company = session.job_title, session.company_name
    assert plain_question(session, 1) == plan[0].plain.format(role=role, company=company)
    assert plain_question(session, 9) == plain_question(session, 1)  # topics cycle
    assert plain_question(session, 8) == plans.CLOSING.plain.format(role=role, company=company)
    assert all(t.plain.endswith("?") and t.focus for t in plan)
    assert len({t.plain for t in plan}) == len(plan)


def test_the_plan_keeps_the_note_and_documents_from_being_read_out_but_not_the_role() -> None:
    session, history = interview_records(["I built the billing service."])
    prompt = interview_messages(session, [])  # the opening turn
    guard = Guard(reply_plan(session, [], prompt))
    role = f"for the role of {session.job_title} at {session.company_name}"
    assert guard.slip(f"Welcome to your spoken mock interview {role}.") is None
    assert guard.slip("The candidate has just joined, welcome them by role and company.")
    assert guard.slip(f"{session.job_description_text}")
    plan = reply_plan(session, history, interview_messages(session, history))
    assert plan.answer == "I built the billing service." and plan.question == plain_question(
        session, 2
    )


# ------------------------------------------------ after an acknowledgement already said

ACKNOWLEDGED = ReplyPlan(
    answer=ANSWER,
    documents=(CV, JD),
    question=QUESTION,
    greeting=ACKNOWLEDGEMENT,
    said="You mentioned Redis caching and Django.",
)


@pytest.mark.parametrize("size", [1, 4, 50])
@pytest.mark.parametrize(
    ("reply", "spoken"),
    [
        # The model's own acknowledgement, praise, is dropped: one was already said.
        ("That's great! How did you measure the p95?", "How did you measure the p95?"),
        (
            "Thank you for sharing that detailed example. How did you roll it out?",
            "How did you roll it out?",
        ),
        ("Oh no! That sounds like a challenging situation. What broke?", "What broke?"),
        ("That's very impressive, so how did you roll it out?", "So how did you roll it out?"),
        # Verbatim from the 1.5B model after "Okay.":
        (
            "That's a good skill. How did you use it in your previous work?",
            "How did you use it in your previous work?",
        ),
        # A first sentence that is not praise is the model's to say.
        (
            "Let's stay with the schema for a moment. What would you change today?",
            "Let's stay with the schema for a moment. What would you change today?",
        ),
    ],
)
async def test_praise_after_the_acknowledgement_is_not_spoken(
    reply: str, spoken: str, size: int
) -> None:
    said, _ = await run(reply, ACKNOWLEDGED, size=size)
    assert said == spoken


async def test_only_praise_after_the_acknowledgement_gets_the_planned_question() -> None:
    said, _ = await run("That's a great answer!", ACKNOWLEDGED)
    assert said == QUESTION  # the acknowledgement was said: no "Thank you." before it


async def test_without_an_acknowledgement_the_models_own_first_sentence_stays() -> None:
    reply = "Thanks. Which part of the migration are you proudest of, and why?"
    said, _ = await run(reply, PLAN)
    assert said == reply


# ------------------------------------------------------------ no question asked twice

ASKED = (
    "How did you identify the race condition and check out flow in your Django order service?",
    "Take one of them and walk me through a real project where you used it: what did you do?",
    "Can you describe a realistic problem you faced in the last year and how you solved it?",
    "Could you say more, with one real case: the situation, your part, and the outcome?",
    "Even if you are unsure, what is one real situation you can describe, and your part in it?",
)


@pytest.mark.parametrize(
    "repeat",
    [
        ASKED[0],  # verbatim, as the 1.5B model did
        "So how did you identify the race condition in the checkout flow of the Django service?",
        "Can you describe a realistic problem you faced in the last year, and how you solved it?",
        # All frame, few content words: copied from the follow-up the 1.5B model had heard.
        "Take one of them and walk me through a real project where you used it: what did you do?",
        # The 0.5B model rewording a follow-up asked before, around a copied half.
        "Could you explain a situation, your part, and the outcome?",
        "Can you think of one real situation you can describe, and your part in it?",
    ],
)
async def test_a_question_already_asked_is_never_asked_again(
    repeat: str, caplog: pytest.LogCaptureFixture
) -> None:
    plan = ReplyPlan(
        answer=ANSWER, documents=(CV, JD), question=QUESTION, greeting=ACKNOWLEDGEMENT, asked=ASKED
    )
    with caplog.at_level(logging.WARNING, logger="server.services.reply_guard"):
        said, _ = await run(repeat, plan)
    assert said == f"{ACKNOWLEDGEMENT} {QUESTION}"
    assert "asks a question already asked" in caplog.text


@pytest.mark.parametrize(
    "new",
    [
        "How did you decide between Redis caching and rewriting the queries?",
        "Can you tell me about a time you disagreed with a teammate about a design?",
        "What would you do differently if you built the order tracking service again today?",
        # Half a follow-up's frame, with a topic of its own.
        "Walk me through the payment outage at Parcelly: the situation, your part, and the "
        "outcome?",
    ],
)
async def test_a_new_question_in_the_same_words_frame_is_asked(new: str) -> None:
    plan = ReplyPlan(
        answer=ANSWER, documents=(CV, JD), question=QUESTION, greeting=ACKNOWLEDGEMENT, asked=ASKED
    )
    said, _ = await run(new, plan)
    assert said == new


def test_the_plain_questions_are_all_different_questions() -> None:
    """The fallback goes round them when its planned one was asked already."""
    plain = [
        q.format(role="Senior Python Backend Engineer", company="Fernway Health")
        for q in PLAIN_QUESTIONS
    ]
    for i, question in enumerate(plain):
        assert not asks_again(question, plain[:i] + plain[i + 1 :]), question


def test_the_fallback_is_a_plain_question_not_asked_yet() -> None:
    session, history = interview_records(["An answer about Redis."])
    planned = plain_question(session, 2)
    asked_before = dataclasses.replace(history[0], content=f"Welcome. {planned}")
    prompt = interview_messages(session, [asked_before, history[1]])
    plan = reply_plan(session, [asked_before, history[1]], prompt)
    assert plan.question is not None and plan.question != planned
    assert not asks_again(plan.question, [planned])
