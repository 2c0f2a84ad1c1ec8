"""The pure parts of ``python -m bench.stt``: WER, term recall, and the answers it speaks."""

from __future__ import annotations

import pytest

from bench.stt import (
    CV,
    FILLER,
    JOB_DESCRIPTION,
    PLAIN,
    TAIL_MS,
    TECHNICAL,
    TERMS,
    filler_counts,
    filler_hits,
    prompt_before,
    score,
    summarize,
    tail_of,
)
from bench.stt_audio import LEAD_MS
from bench.wer import corpus_wer, term_counts, term_hits, word_error_rate
from server.services.vocabulary import interview_vocabulary
from server.voice.audio import silence
from server.voice.vocabulary import mentions


def test_word_error_rate_on_normalised_words() -> None:
    assert word_error_rate("the cat sat", "The cat, sat!") == 0
    assert word_error_rate("the cat sat", "the bat sat") == pytest.approx(1 / 3)  # substitution
    assert word_error_rate("the cat sat", "the cat") == pytest.approx(1 / 3)  # deletion
    assert word_error_rate("the cat", "the cat sat down") == pytest.approx(1.0)  # insertions
    assert word_error_rate("on-call rota", "on call rota") == 0
    assert word_error_rate("", "words from nowhere") == 3.0  # invented words still count


def test_corpus_wer_weighs_answers_by_length() -> None:
    pairs = [("one two three four", "one two three four"), ("five six", "five")]
    assert corpus_wer(pairs) == pytest.approx(1 / 6)


def test_term_recall_counts_occurrences_in_any_case() -> None:
    reference = "Kafka here, Kafka there, and PostgreSQL."
    assert term_counts(reference, TERMS) == {"Kafka": 2, "PostgreSQL": 1}
    assert term_hits(reference, "kafka here, cafe there, and postgresql", TERMS) == (2, 3)
    # Terms heard but not said are not recall (plain-answer WER catches them).
    assert term_hits("nothing technical", "Kafka Kafka", TERMS) == (0, 0)


def test_summary_keeps_technical_and_plain_answers_apart() -> None:
    def row(kind: str, reference: str, unbiased: str, biased: str) -> dict[str, object]:
        out: dict[str, object] = {"kind": kind, "reference": reference, "audio_s": 1.0}
        for label, text in (("unbiased", unbiased), ("biased", biased)):
            out[label] = score(reference, text, 100)
        return out

    summary = summarize(
        [
            row("technical", "we use Kafka", "we use cafe car", "we use Kafka"),
            row("plain", "I listen first", "I listen first", "I listen Redis first"),
        ]
    )
    assert summary["unbiased"]["term_recall"] == 0.0 and summary["biased"]["term_recall"] == 1.0
    assert summary["unbiased"]["wer"] == pytest.approx(0.667, abs=1e-3)
    assert summary["biased"]["plain_wer"] == pytest.approx(1 / 3, abs=1e-3)
    assert summary["biased"]["stt_ms_per_answer"] == 100
    assert "viva" not in summary and summary["biased"]["filler_recall"] is None


def test_fillers_are_counted_as_words_and_invented_ones_apart() -> None:
    assert filler_counts("Umm, so, uh, it was, like, you know, fine. Er, yes.") == {
        "um": 1, "uh": 2, "like": 1, "you know": 1,
    }  # fmt: skip
    assert filler_counts("We know you did it.") == {}  # "you" then not "know"
    reference = "Um, we moved, uh, to Kafka, and, you know, it worked."
    assert filler_hits(reference, "We moved to Kafka and you know it worked.") == (1, 3, 0)
    assert filler_hits(reference, "Um, we, like, moved, uh, to Kafka, you know.") == (3, 3, 1)


def test_summary_reports_filler_recall_rtf_and_the_tail() -> None:
    reference = "Um, we moved, uh, to Kafka, and, you know, it worked."
    rows = [
        {
            "kind": "filler",
            "reference": reference,
            "audio_s": 4.0,
            "biased": score(reference, "We moved to Kafka and you know it worked.", 800, 1500),
            "viva": score(
                reference, "Um, we moved, uh, to Kafka, and, you know, it worked.", 1000, 1800
            ),
            "tail": {"audio_s": 2.9, "stt_ms": 300, "cpu_ms": 550},
        }
    ]
    summary = summarize(rows)
    assert summary["biased"]["filler_recall"] == pytest.approx(1 / 3, abs=1e-3)
    assert summary["viva"]["filler_recall"] == 1.0 and summary["viva"]["fillers_invented"] == 0
    # The product's own counter (server/feedback) gets all three from the seeded text.
    assert summary["viva"]["fillers_counted_share"] == 1.0
    assert summary["viva"]["rtf"] == 0.25 and summary["viva"]["cpu_s_per_audio_s"] == 0.45
    assert summary["tail_ms_p50"] == 300 and summary["tail_cpu_ms_p50"] == 550


def test_the_critical_path_tail_and_its_prompt() -> None:
    audio = silence(8000)
    assert tail_of(audio).duration_ms == pytest.approx(TAIL_MS + LEAD_MS)
    text = " ".join(f"w{i}" for i in range(30))
    head = prompt_before(text, 2.5)
    assert head is not None and head.split()[-1] == "w22"  # ~7 words in the last 2.5 s
    assert prompt_before("two words", 2.5) is None
    assert len(prompt_before("word " * 200, 2.5) or "") <= 200


def test_the_answers_measure_what_they_claim() -> None:
    vocabulary = interview_vocabulary(CV, JOB_DESCRIPTION).terms
    for answer in TECHNICAL:
        assert term_counts(answer.text, TERMS), answer.text
    for answer in PLAIN:  # no term of the bench's list, nor of Viva's own vocabulary
        assert not term_counts(answer.text, TERMS), answer.text
        assert not [t for t in vocabulary if mentions(answer.text, t)], answer.text
    assert sum(len(a.parts) > 1 for a in TECHNICAL) == 1  # one answer with a thinking pause
    for answer in (*TECHNICAL, *PLAIN):  # fillers only where the reference has them
        assert not filler_counts(answer.text), answer.text
    said = [filler_counts(a.text) for a in FILLER]
    assert all(said) and {k for counts in said for k in counts} == {"um", "uh", "like", "you know"}
    for term in TERMS:  # every term is the CV's or the job's
        assert mentions(CV, term) or mentions(JOB_DESCRIPTION, term), term
