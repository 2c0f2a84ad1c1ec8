"""The interviewer's acknowledgement of an answer: it names what the answer said in a sentence
or neutrally says what it lacked, never praises, and does not open the same way twice running."""

from __future__ import annotations

import re

import pytest

from server.services.acknowledgement import _TEMPLATES, acknowledge
from server.services.vocabulary import interview_vocabulary

CV = (
    "Alex Morgan, backend engineer at Ledgerline. Moved event delivery from cron jobs to "
    "Kafka; Redis caching for price look-ups; PostgreSQL, Django, Kubernetes."
)
JD = "Senior Backend Engineer at Tillwell: Python, PostgreSQL, Kafka, idempotency, p99 latency."
TERMS = interview_vocabulary(CV, JD).terms
PRAISE = re.compile(r"great|impressive|excellent|good|nice|well done|perfect|strong", re.I)


@pytest.mark.parametrize(
    ("answer", "kind", "named"),
    [
        ("Fine.", "brief", []),
        ("I don't know, maybe.", "brief", []),
        (
            "Ledger, double-entry, PostgreSQL, serializable, idempotency keys, outbox, Kafka, "
            "2,500 requests per second, p99 80 milliseconds, Kubernetes, Helm, Terraform.",
            "list",
            [],
        ),
        (
            "I don't really remember the details, it was a long time ago and honestly the team "
            "handled most of it, so I can't say much about it.",
            "no_example",
            [],
        ),
        (
            "At Ledgerline I moved event delivery from cron jobs to Kafka consumers, which cut "
            "the delay from four minutes to about ten seconds.",
            "named",
            ["cron jobs", "Kafka"],
        ),
        (
            "I put Redis caching in front of the price look-ups and the p99 went from 300 "
            "milliseconds to 40 milliseconds.",
            "named",
            ["Redis caching"],
        ),
        (
            "We had a big outage and I coordinated everyone, and in the end we brought the "
            "error rate down to 2 percent within three hours.",
            "number",
            ["2 percent"],
        ),
        (
            # Generic: named by its own word, and neutrally (a follow-up asks for an example).
            "I think communication is really important and I always try to be a good team "
            "player who brings energy and passion to everything I do.",
            "named",
            ["communication"],
        ),
        (
            "Last summer I went hiking in the Alps with my family and we climbed three peaks "
            "in one week.",
            "named",
            ["Alps"],
        ),
        (
            # A capital after a full stop only starts a sentence: "Then" is no name.
            "First I would check the numbers are real and not a tracking problem. Then I would "
            "split the drop by platform and look at the funnel in Looker.",
            "named",
            ["Looker"],
        ),
    ],
)
def test_an_acknowledgement_names_what_was_said_or_what_was_missing(
    answer: str, kind: str, named: list[str]
) -> None:
    ack = acknowledge(answer, terms=TERMS)
    assert ack.kind == kind, ack
    for term in named:
        assert term in ack.text and term in answer  # as the candidate said it
    assert not PRAISE.search(ack.text)
    assert len(ack.text.split()) <= 8


def test_a_term_that_is_also_an_english_word_is_named_only_as_the_documents_write_it() -> None:
    terms = ("EXPLAIN", "PostgreSQL")
    said = "Explain what I did: I rewrote the slow PostgreSQL query and indexed the table."
    assert acknowledge(said, terms=terms).text.endswith("PostgreSQL.")
    spelled = "I ran EXPLAIN on the slow query, found a sequential scan and added an index."
    assert "EXPLAIN" in acknowledge(spelled, terms=terms).text


def test_a_term_said_only_in_a_list_is_not_named() -> None:
    answer = (
        "I mostly worked on the billing side and I wrote a lot of the tests for it myself. "
        "Kafka, Redis, Kubernetes."
    )
    ack = acknowledge(answer, terms=TERMS)
    assert "Kafka" not in ack.text and "Redis" not in ack.text


def test_consecutive_acknowledgements_open_differently() -> None:
    answer = "I moved our event delivery to Kafka consumers and wrote the retry logic myself."
    earlier: list[str] = []
    openings = []
    for _ in range(len(_TEMPLATES["named"])):
        ack = acknowledge(answer, terms=TERMS, earlier=earlier)
        openings.append(ack.text.split()[0])
        earlier.append(f"{ack.text} What did you learn from it?")
    assert len(set(openings)) == len(openings)
    # Once every wording has been used, the least recently used comes back.
    again = acknowledge(answer, terms=TERMS, earlier=earlier)
    assert again.text.split()[0] == openings[0]


@pytest.mark.parametrize(
    "answer",
    [
        "Fine.",
        "Kafka, Redis, PostgreSQL, outbox, idempotency keys, Kubernetes, Terraform, Grafana.",
    ],
)
def test_a_thin_answer_has_a_follow_up_in_a_wording_not_asked_yet(answer: str) -> None:
    ack = acknowledge(answer, terms=TERMS)
    asked: list[str] = []
    # Four thin answers in one interview each get a follow-up in a wording of their own.
    while (follow_up := ack.follow_up(asked)) is not None:
        assert follow_up.endswith("?") and follow_up not in asked
        asked.append(follow_up)
    assert ack.thin and len(asked) >= 4
    full = acknowledge(
        "At Ledgerline I moved event delivery from cron jobs to Kafka consumers, which cut "
        "the delay from four minutes to about ten seconds.",
        terms=TERMS,
    )
    assert not full.thin and full.follow_up([]) is None
