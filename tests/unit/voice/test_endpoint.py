"""The words check of the semantic end of turn, and what counts as being asked something."""

from __future__ import annotations

import pytest

from server.voice.asking import asks_something, invites_a_long_answer
from server.voice.endpoint import OPEN_ANSWER_WORDS, finished, settled, sounds_unfinished

# What tiny.en wrote for the pause set's answers up to a thinking pause (bench/pauses.py).
STOPPED_MID_SENTENCE = [
    "The main reason the migration took so long was...",
    "So what I would do differently is...",
    "I think the trade off there is between.",
    "My manager wanted to chipped on Friday, but",
    "I started by measuring where the time went and...",
    "Before that, I worked at a small startup where.",
    "When the cue backed up.",
    "We shipped it. Then, um",
]
FINISHED = [
    "The outcome was that checkout latency dropped by 40%.",
    "Mostly python and go, with some type script on the front end.",
    "Yes, I have.",
    "No, I have not worked with Kubernetes in production yet, only inside projects.",
    "When it failed, I rolled it back.",
    "I fixed it.",
    "Because it was faster.",
    "He was made still more respectable than he was.",
]


@pytest.mark.parametrize("text", STOPPED_MID_SENTENCE)
def test_words_that_stop_mid_sentence_are_unfinished(text: str) -> None:
    assert sounds_unfinished(text)
    assert not finished(0.99, text, 0.5)  # the words veto the model


@pytest.mark.parametrize("text", FINISHED)
def test_finished_sentences_are_not_vetoed(text: str) -> None:
    assert not sounds_unfinished(text)
    assert finished(0.6, text, 0.5)
    assert not finished(0.4, text, 0.5)  # the model still has to hear it finished


def test_no_words_leave_the_model_to_decide() -> None:
    assert not sounds_unfinished("")
    assert finished(0.9, None, 0.5) and finished(0.9, "  ", 0.5)


@pytest.mark.parametrize(
    ("units", "asks"),
    [
        (["That's great!"], False),
        (["Thanks for sharing that.", "Great."], False),
        (["Great!", "How did you find the bug?"], True),
        (["Tell me about a time you disagreed with a colleague."], True),
        (["Walk me through the design."], True),
        (["Describe the outage."], True),
        (['"Can you say more?"'], True),
        ([], False),
    ],
)
def test_asks_something(units: list[str], asks: bool) -> None:
    assert asks_something(units) is asks


@pytest.mark.parametrize(
    ("message", "open_"),
    [
        ("Right, Kafka and outbox. How did you make the retries safe?", True),
        ("Tell me about a time you disagreed with a colleague.", True),
        ("Thanks. Can you walk me through the design?", True),
        ("Could you please describe the outage?", True),
        ("Why did you choose Postgres?", True),
        ("What would you do differently?", True),
        ("Have you used Kafka?", False),
        ("Got it. How many people were on the team?", False),
        ("Which languages do you use most?", False),
        ("Did you own the on-call rotation?", False),
        ("Right, Kubernetes and AWS.", False),  # asks nothing: an acknowledgement
        ("", False),
        (None, False),
    ],
)
def test_open_and_closed_questions(message: str | None, open_: bool) -> None:
    assert invites_a_long_answer(message) is open_


# The first halves of thinking pauses that are whole sentences by their words and their
# intonation (Smart Turn p 0.79-0.98 on the pause set): only the question tells them apart.
WHOLE_CLAUSES = [
    "We ran everything on Kubernetes in AWS.",
    "We cut the P99 latency from 400 milliseconds.",
    # Thin, not short: 12 and 17 words (the pause set's first held-out group cut both).
    "The primary database ran out of disk space on a Friday evening.",
    "I was the tech lead for the payments team at my last company for two years.",
    # Two whole sentences, 13 words (its second held-out group).
    "The disk filled up on the primary. We failed over to the replica.",
]


@pytest.mark.parametrize("text", WHOLE_CLAUSES)
def test_a_thin_answer_to_an_open_question_is_not_finished_at_a_pause(text: str) -> None:
    assert finished(0.95, text, 0.7)  # no question known: the model and the words decide
    assert not finished(0.95, text, 0.7, question="How did you run the service?")
    assert not finished(0.95, text, 0.7, question="Describe an outage you handled.")
    assert finished(0.95, text, 0.7, question="Did you run it on AWS?")  # closed: short is fine


def test_the_bar_for_a_thin_answer_is_a_setting_of_the_verdict() -> None:
    text = "The primary database ran out of disk space on a Friday evening."
    question = "Describe an outage you handled."
    assert not finished(0.95, text, 0.7, question=question)
    assert finished(0.95, text, 0.7, question=question, open_answer_words=10)  # the old bar


def test_a_long_answer_to_an_open_question_ends_when_it_sounds_finished() -> None:
    text = (
        "I led the migration of our order service from MySQL to Postgres without downtime. "
        "We copied the data with logical replication and switched reads over one table at a "
        "time."
    )
    assert len(text.split()) >= OPEN_ANSWER_WORDS
    assert finished(0.95, text, 0.7, question="Tell me about a migration you led.")
    assert not finished(0.5, text, 0.7, question="Tell me about a migration you led.")
    assert not finished(0.95, text + " And then,", 0.7, question="Tell me about it.")


OPEN = "Walk me through how you find a slow query."


@pytest.mark.parametrize(
    ("text", "over"),
    [
        # The bench answer the model heard at p 0.66 one run in three.
        (
            "I start with explain analyze, look for sequential scans and bad row estimates. "
            "And then add the right index or rewrite the query. At PayBright that took the "
            "refunds report from 40 seconds to 2.",
            True,
        ),
        (
            "I ran explain analyze on the refunds report and saw a sequential scan. I added an "
            "index on the customer column, and it took the report from forty seconds to two.",
            True,
        ),
        # Two whole sentences, but thin (13 words) for an open question.
        ("I added an index. It took the report from forty seconds to two.", False),
        # One sentence, however long: a thinking pause after a whole first clause.
        (
            "The primary database ran out of disk space on a Friday evening while the nightly "
            "batch was still writing its logs to the same volume as the data.",
            False,
        ),
        ("I added an index. It took the report from forty seconds to", False),
        ("I added an index. Then,", False),
        ("Yes. I did.", False),  # short, and the question is open
        ("", False),
    ],
)
def test_the_words_settle_an_unsure_pause_only_after_two_whole_sentences(
    text: str, over: bool
) -> None:
    assert settled(text, question=OPEN) is over


def test_a_short_two_sentence_answer_to_a_closed_question_is_settled() -> None:
    assert settled("Yes. I did.", question="Have you used Kafka?")
    assert not settled("Yes. I did.", question=OPEN)
