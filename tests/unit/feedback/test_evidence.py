"""Unit tests for the per-answer evidence features and interview coverage."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import threading
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pytest

from server.ai.embedder import MiniLmEmbedder, default_embedder
from server.feedback.evidence import (
    QA,
    InterviewEvidence,
    SpeechMetrics,
    answer_segments,
    claim_spans,
    count_filler_words,
    extract_numbers,
    extract_skills,
    find_evasion,
    find_hedges,
    job_requirements,
    measure_answer_text,
    measure_interview,
    ownership_counts,
    repeated_answers,
    star_cues,
    substantive,
)


class HashingEmbedder:
    """A deterministic bag-of-words stand-in for MiniLM: fast, no model file."""

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        out = np.zeros((len(texts), 384), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"[a-z]+", text.lower()):
                out[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % 384] += 1.0
            norm = np.linalg.norm(out[row])
            if norm:
                out[row] /= norm
        return out


JOB = """We are hiring a Backend Engineer.
- Build REST APIs in Python and Django
- Write efficient queries in PostgreSQL
- Use Redis for caching"""
CV = """Ada Example
Backend developer, 2019-present: Python, Django, PostgreSQL, Celery."""


# ---------------------------------------------------------------------- numbers


def test_numbers_digits_units_and_spelled_quantities() -> None:
    found = extract_numbers(
        "p95 went from two and a half seconds to 300 ms, a 40% drop for 12,000 users."
    )
    assert found == ["p95", "two and a half seconds", "300 ms", "40%", "12,000 users"]


def test_numbers_spelled_need_a_unit() -> None:
    assert extract_numbers("We onboarded twelve customers in three weeks.") == [
        "twelve customers",
        "three weeks",
    ]
    # "one of the", "two of us" and a bare "two" are not measured facts.
    assert extract_numbers("One of the things two of us liked was the two-way chat.") == []


def test_numbers_absent_from_plain_answer() -> None:
    assert extract_numbers("Fine.") == []


# -------------------------------------------------------------------- STAR cues


def test_star_cues_full_story() -> None:
    cues = star_cues(
        "Last year at my previous job the checkout kept failing. My task was to fix it. "
        "I rewrote the query and added a cache, and as a result p95 dropped from 2 s to 300 ms."
    )
    assert cues == {"situation": True, "task": True, "action": True, "result": True}


def test_star_cues_none_in_one_word_answer() -> None:
    assert not any(star_cues("Fine.").values())


def test_star_action_needs_first_person_past_action() -> None:
    assert not star_cues("I think testing is important and I love clean code.")["action"]
    assert star_cues("I escalated it to the registrar.")["action"]


def test_concrete_example_needs_action_plus_context() -> None:
    assert measure_answer_text(
        "Once a patient's NEWS2 went from 2 to 5, so I escalated to the registrar."
    ).concrete_example
    assert not measure_answer_text("I am a hard worker and a team player.").concrete_example


# -------------------------------------------------------------------- ownership


def test_ownership_counts_first_person_agency() -> None:
    assert ownership_counts(
        "I designed the schema, I wrote the migration and I then reviewed it."
    ) == (3, 0)


def test_ownership_counts_team_and_others() -> None:
    assert ownership_counts(
        "We did it. The team handled the rollout and someone else deployed it."
    ) == (0, 3)


def test_ownership_ignores_non_agency_i() -> None:
    assert ownership_counts("I don't remember. I think it was fine.") == (0, 0)
    assert measure_answer_text("Fine.").ownership == 0.0


def test_ownership_share() -> None:
    features = measure_answer_text("I built the API and we shipped it together.")
    assert features.agency_self == 1 and features.agency_others == 1
    assert features.ownership == 0.5


# ------------------------------------------------------------- evasion, hedging


def test_evasion_phrases() -> None:
    assert find_evasion("I don't remember. Someone else handled it, it's not my area.") == [
        "i don't remember",
        "someone else handled it",
        "not my area",
    ]
    assert find_evasion("I rebuilt the pipeline myself.") == []


def test_it_depends_only_hedges_without_follow_through() -> None:
    assert find_hedges("It depends. Maybe. I guess so.") == ["it depends", "maybe", "i guess"]
    assert find_hedges("It depends on the load, so I measure first.") == []


def test_evasive_unless_an_example_follows() -> None:
    assert measure_answer_text("I can't remember one. Someone else usually does that.").evasive
    assert not measure_answer_text(
        "I don't remember the exact date, but last year I rewrote our deploy script and "
        "deploys went from 40 minutes to 8."
    ).evasive
    assert measure_answer_text("It depends. I'm not sure, I'd probably ask my manager.").evasive


# ------------------------------------------------------------------------ speech


def test_filler_words_lower_bound() -> None:
    assert count_filler_words("Um, so, uh, you know, it was, like, fine.") == 4
    # "you know what" and "like" as a verb are not fillers.
    assert count_filler_words("You know what I like about SQL? Joins.") == 0


def test_speech_metrics_from_transcript() -> None:
    metrics = SpeechMetrics.from_transcript(
        "um " + "word " * 149, duration_ms=60_000, pause_durations_ms=[2_500, 1_000, 2_000]
    )
    assert metrics.words_per_minute == 150.0
    assert metrics.long_pauses == 2
    assert metrics.filler_words == 1


def test_speech_metrics_are_noted() -> None:
    qa = QA(
        "Tell me about a time you fixed a bug.",
        "Um, so, uh, last year I fixed a bug in the billing service that double charged people.",
        speech=SpeechMetrics(
            duration_ms=5_000, words_per_minute=190.0, long_pauses=2, filler_words=3
        ),
    )
    ev = measure_interview(
        [qa], job_title="Engineer", job_description=JOB, cv_text=CV, embedder=HashingEmbedder()
    )
    notes = " | ".join(ev.answers[0].findings)
    assert "spoke fast (190 words/min)" in notes
    assert "2 long pauses" in notes
    assert "3 filler words (counted from the transcript)" in notes


def test_the_report_says_how_fillers_were_counted() -> None:
    from server.feedback.lexicon import FILLERS_HOW_COUNTED, FILLERS_KEPT_SHARE
    from server.feedback.rubric import score_interview

    qa = QA(
        "Tell me about a time you fixed a bug.",
        "Um, so, uh, last year I fixed a bug in the billing service that double charged people.",
        speech=SpeechMetrics(
            duration_ms=5_000, words_per_minute=150.0, long_pauses=0, filler_words=2
        ),
    )
    ev = measure_interview(
        [qa], job_title="Engineer", job_description=JOB, cv_text=CV, embedder=HashingEmbedder()
    )
    clarity = next(r for r in score_interview(ev).reasons if r.startswith("Clarity"))
    assert f"2 filler words ({FILLERS_HOW_COUNTED})" in clarity
    assert "at least" not in clarity  # no longer a guess: the seed keeps most fillers
    assert f"{FILLERS_KEPT_SHARE:.0%}" in FILLERS_HOW_COUNTED
    assert FILLERS_HOW_COUNTED.startswith("counted from your transcript")


# ------------------------------------------------------------------------ skills


def test_skills_from_gazetteer_filter_ambiguous_words() -> None:
    assert extract_skills("I used Redis and Postgres with Docker.") == [
        "redis",
        "postgres",
        "docker",
    ]
    # "was", "did" and a teacher called Mr Jenkins are in the gazetteer but aren't skills.
    assert extract_skills("I was there and did it, Mr Jenkins said.") == []


def test_job_requirements_bullets_or_sentences() -> None:
    assert job_requirements("We want:\n- Python\n* SQL\n1. Kindness\n") == [
        "Python",
        "SQL",
        "Kindness",
    ]
    assert job_requirements(
        "You will have experience with SQL. We are nice. You must be kind."
    ) == [
        "You will have experience with SQL",
        "You must be kind",
    ]


def test_answer_segments_are_verbatim_and_bounded() -> None:
    answer = "So last year, " + "we had a long and winding incident, " * 12 + "and it ended."
    segments = answer_segments(answer)
    assert sum(len(s.split()) for s in segments) <= 64 + 30  # budget, plus one whole part
    normalised = " ".join(answer.split())
    assert all(" ".join(s.split()) in normalised for s in segments)


# ------------------------------------------------------------- measure_interview


def _qas() -> list[QA]:
    return [
        QA(
            "Tell me about a performance problem you fixed.",
            "Last year our checkout API got slow, p95 was 2 seconds. I profiled it in Python, "
            "found an N+1 query in PostgreSQL, added Redis caching, and p95 dropped to 300 ms.",
            message_id=11,
        ),
        QA("How do you test your code?", "Fine.", message_id=13),
    ]


def test_measure_interview_shape_and_json() -> None:
    ev = measure_interview(
        _qas(),
        job_title="Backend Engineer",
        job_description=JOB,
        cv_text=CV,
        embedder=HashingEmbedder(),
    )
    assert isinstance(ev, InterviewEvidence)
    assert [a.index for a in ev.answers] == [0, 1]
    assert [a.message_id for a in ev.answers] == [11, 13]
    strong, short = ev.answers
    assert strong.concrete_example and strong.star["result"]
    assert {"redis", "postgresql", "python"} <= set(strong.skills)
    assert {"redis", "postgresql", "python"} <= set(strong.job_skills)
    assert short.word_count == 1 and short.numbers == [] and short.skills == []
    assert "very short answer (1 word)" in short.findings
    for a in ev.answers:
        assert 0.0 <= a.question_relevance <= 1.0
        assert 0.0 <= a.job_relevance <= 1.0
    json.dumps(dataclasses.asdict(ev))  # the contract: JSON-serialisable


def test_coverage_requirements_and_cv() -> None:
    # Real MiniLM: coverage only counts on-topic answers, and relevance needs it.
    ev = measure_interview(_qas(), job_title="Backend Engineer", job_description=JOB, cv_text=CV)
    cov = ev.coverage
    assert "Use Redis for caching" in cov.requirements_evidenced
    assert "redis" in cov.discussed_not_in_cv  # said aloud, absent from the CV
    assert "celery" in cov.cv_skills_not_discussed
    assert "postgresql" not in cov.discussed_not_in_cv
    assert cov.achievements_not_in_cv and "300 ms" in cov.achievements_not_in_cv[0]


def test_one_word_answers_evidence_nothing() -> None:
    qas = [QA("Tell me about Redis.", "Redis."), QA("And PostgreSQL?", "Yes.")]
    ev = measure_interview(
        qas,
        job_title="Backend Engineer",
        job_description=JOB,
        cv_text=CV,
        embedder=HashingEmbedder(),
    )
    assert ev.coverage.requirements_evidenced == []
    assert len(ev.coverage.requirements_missing) == 3


def test_empty_interview() -> None:
    ev = measure_interview(
        [],
        job_title="Backend Engineer",
        job_description=JOB,
        cv_text=CV,
        embedder=HashingEmbedder(),
    )
    assert ev.answers == []
    assert ev.coverage.requirements_missing == job_requirements(JOB)


# ------------------------------------------------------------------ real MiniLM


def test_minilm_off_topic_ramble_is_less_relevant() -> None:
    question = "How do you make sure the code you ship is reliable?"
    on_topic = (
        "I write unit tests for the logic and integration tests against a real database, "
        "CI runs them on every pull request, and risky changes go out behind a feature flag."
    )
    ramble = (
        "My dad was a postman for thirty years and never missed a day. I go to the gym four "
        "times a week and last summer we went to Portugal, the food was amazing."
    )
    ev = measure_interview(
        [QA(question, on_topic), QA(question, ramble)],
        job_title="Backend Engineer",
        job_description=JOB,
        cv_text=CV,
    )
    good, bad = ev.answers
    assert good.question_relevance > 0.6
    assert bad.question_relevance < 0.35
    assert bad.off_topic  # names what it drifted into
    assert all(" ".join(p.split()) in " ".join(ramble.split()) for p in bad.off_topic_parts)


def test_default_embedder_is_shared_and_thread_safe() -> None:
    results: list[tuple[int, bytes]] = []

    def work() -> None:
        embedder = default_embedder()
        results.append(
            (id(embedder), embedder.embed(["I tuned the PostgreSQL indexes."]).tobytes())
        )

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({r[0] for r in results}) == 1
    assert len({r[1] for r in results}) == 1


def test_minilm_vectors_are_normalised_and_independent_of_batch() -> None:
    embedder = MiniLmEmbedder()
    alone = embedder.embed(["Patients first."])
    together = embedder.embed(
        ["A much longer sentence about nursing handovers.", "Patients first."]
    )
    assert alone.shape == (1, 384)
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(alone[0], together[1])


@pytest.mark.parametrize("text", ["", "   ", "?!"])
def test_degenerate_answers_do_not_crash(text: str) -> None:
    ev = measure_interview(
        [QA("Anything?", text)],
        job_title="Nurse",
        job_description="",
        cv_text="",
        embedder=HashingEmbedder(),
    )
    assert ev.answers[0].word_count == 0


# ----------------------------------------------------------------------- claims


def test_claims_are_sentences_with_a_subject_not_term_lists() -> None:
    text = (
        "Ledger, double-entry, PostgreSQL, serializable, idempotency keys, outbox, Kafka. "
        "I moved the ledger to PostgreSQL with serializable transactions. "
        "2,500 requests per second, p99 80 milliseconds."
    )
    spans = claim_spans(text)
    assert [text[a:b] for a, b in spans] == [
        "I moved the ledger to PostgreSQL with serializable transactions."
    ]


def test_a_list_of_job_terms_is_keyword_only_and_shows_nothing() -> None:
    listed = measure_answer_text(
        "Django, FastAPI, PostgreSQL, Redis caching, Celery, Docker, AWS ECS, p95 200 "
        "milliseconds, 40,000 parcels a day, CI pipeline, on-call rota."
    )
    assert listed.keyword_only and listed.claim_share == 0.0
    told = measure_answer_text(
        "Last year our checkout timed out, so I added an index in PostgreSQL and cached the "
        "summary in Redis, and p95 went from two seconds to 200 milliseconds."
    )
    assert not told.keyword_only and told.claim_share == 1.0
    assert not measure_answer_text("Yes.").keyword_only  # short, not a list


def test_keyword_lists_evidence_no_requirement_and_count_no_specifics() -> None:
    ev = measure_interview(
        [
            QA(
                "How do you keep the API fast?",
                "Python, Django, PostgreSQL, Redis caching, "
                "indexes, p95 120 milliseconds, 3,000 requests per second, Celery, Docker.",
            )
        ],
        job_title="Backend Engineer",
        job_description=JOB,
        cv_text=CV,
        embedder=HashingEmbedder(),
    )
    a = ev.answers[0]
    assert a.keyword_only and a.claim_specifics == 0 and a.job_skills == []
    assert not substantive(a)
    assert ev.coverage.requirements_evidenced == []
    assert any("a list of terms" in f for f in a.findings)


def test_a_canned_pitch_repeated_for_another_question_is_a_repeat() -> None:
    pitch = (
        "So at my last job I moved our event pipeline onto Kafka, I put PostgreSQL behind it "
        "and a Redis cache in front, and p95 dropped from 1.8 seconds to 220 milliseconds."
    )
    again = pitch.replace("So at my last job", "Well, in my last role").replace("dropped", "fell")
    other = (
        "A colleague wanted to rewrite the billing service and I disagreed, so we wrote down "
        "the risks together, agreed a two-week spike, and kept the old service running."
    )
    assert repeated_answers([pitch, other, again, "Yes."]) == [2, None, 0, None]


def test_self_descriptions_are_not_skills() -> None:
    skills = extract_skills(
        "I bring a data-driven, hypothesis-driven mindset, business value, high standards of "
        "data integrity and continuous improvement in an agile way, using SQL and Tableau."
    )
    assert skills == ["sql", "tableau"]
