"""The hallucination guard: drop what Whisper invents, never the end of a real answer; and
what the adapter hands faster-whisper."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import faster_whisper
import pytest

from server.voice.audio import silence
from server.voice.stt import (
    FILLER_SEED,
    TranscriptSegment,
    WhisperSTT,
    compose_prompt,
    filter_hallucinations,
    is_hallucination,
    join_segments,
)


def seg(text: str, *, no_speech: float = 0.05, logprob: float = -0.3) -> TranscriptSegment:
    return TranscriptSegment(text, 0, 1000, no_speech, logprob, 1.2)


@pytest.mark.parametrize(
    "text", ["Thank you.", "you", "Thanks for watching!", "Bye.", " thank-you ", "Yeah."]
)
def test_phantom_phrases_on_little_speech_are_dropped(text: str) -> None:
    assert is_hallucination(seg(text), voiced_ms=300)


@pytest.mark.parametrize(
    "text",
    [
        "Yeah. Yeah. Yeah. Yeah. Yeah. Yeah.",  # tiny.en on 500 ms of silence, a CI run
        "Thank you. Thank you!",
        "you, you, you",
    ],
)
def test_a_phantom_phrase_said_over_and_over_is_one_too(text: str) -> None:
    assert is_hallucination(seg(text), voiced_ms=0)
    assert is_hallucination(seg(text), voiced_ms=300)


@pytest.mark.parametrize("text", ["Yeah. I think so.", "Thank you. Bye.", "Yeah, yeah, we did."])
def test_phantom_words_in_real_sentences_are_not_phantoms(text: str) -> None:
    assert not is_hallucination(seg(text), voiced_ms=300)


def test_a_real_thank_you_with_clear_speech_is_kept() -> None:
    assert not is_hallucination(seg("Thank you."), voiced_ms=900)
    assert not is_hallucination(seg("Yeah."), voiced_ms=900)
    # What tiny.en writes on 3 s of silence after the filler seed.
    assert is_hallucination(seg("Yeah.", no_speech=0.87, logprob=-0.98), voiced_ms=3000)
    assert is_hallucination(seg("Thank you.", no_speech=0.5), voiced_ms=900)


@pytest.mark.parametrize("text", ["[Music]", "(applause)", "♪♪", "...", "", "  "])
def test_annotations_and_empty_text_are_dropped(text: str) -> None:
    assert is_hallucination(seg(text), voiced_ms=2000)


def test_high_no_speech_alone_does_not_drop_real_last_words() -> None:
    # The trap: the last segment of an answer often has no_speech_prob ~0.4-0.7.
    assert not is_hallucination(
        seg("and that is why we chose Postgres.", no_speech=0.7, logprob=-0.4), voiced_ms=800
    )
    assert not is_hallucination(
        seg("which shipped on time.", no_speech=0.45, logprob=-0.9), voiced_ms=600
    )


def test_whispers_own_silence_rule_needs_both_signals() -> None:
    assert is_hallucination(seg("so yeah", no_speech=0.8, logprob=-1.3), voiced_ms=800)


def test_filter_keeps_order_and_reports_drops() -> None:
    kept, dropped = filter_hallucinations(
        [seg("I led the migration."), seg("[Music]"), seg("It took six weeks.")], voiced_ms=4000
    )
    assert join_segments(kept) == "I led the migration. It took six weeks."
    assert [s.text for s in dropped] == ["[Music]"]


class RecordingWhisperModel:
    """Stands in for ``faster_whisper.WhisperModel`` on its standard (30 s window) path."""

    def __init__(self, calls: list[dict[str, Any]]) -> None:
        self.calls = calls

    def transcribe(self, _audio: Any, **options: Any) -> tuple[Any, None]:
        self.calls.append(options)
        segment = SimpleNamespace(
            text=" We chose Kafka.",
            start=0.0,
            end=1.0,
            no_speech_prob=0.01,
            avg_logprob=-0.2,
            compression_ratio=1.1,
        )
        return iter([segment]), None


@pytest.fixture
def whisper_calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """What faster-whisper's ``transcribe`` is asked by adapters made in this test."""
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(
        faster_whisper, "WhisperModel", lambda *_args, **_kwargs: RecordingWhisperModel(calls)
    )
    return calls


async def test_hotwords_reach_faster_whisper(whisper_calls: list[dict[str, Any]]) -> None:
    stt = WhisperSTT("model-dir", draft_window="full", final_window="full", filler_seed=None)
    transcript = await stt.transcribe(
        silence(1000), prompt="We had a queue.", hotwords="Kafka, Redis"
    )
    assert transcript.text == "We chose Kafka."
    assert whisper_calls[-1]["hotwords"] == "Kafka, Redis"
    assert whisper_calls[-1]["initial_prompt"] == "We had a queue."
    await stt.transcribe(silence(1000), hotwords="Kafka, Redis", draft=True)
    assert whisper_calls[-1]["hotwords"] == "Kafka, Redis"  # live captions too
    await stt.transcribe(silence(1000), hotwords="")
    assert whisper_calls[-1]["hotwords"] is None  # nothing to bias towards: the default


def test_a_run_of_words_said_twice_in_a_row_is_a_loop() -> None:
    from server.voice.stt import repeated_run

    looped = "We moved event delivery from cron jobs. We moved event delivery from cron jobs."
    assert repeated_run(looped)
    assert not repeated_run("We moved event delivery from cron jobs to Kafka consumers.")
    assert not repeated_run("I think, I think we should, we should ship it.")  # short stutters


def test_a_pass_that_starts_a_phrase_over_is_a_loop() -> None:
    from server.voice.stt import repeated_run, restarted

    # What tiny.en's short-window pass wrote at a thinking pause in 20 dB noise (the pause
    # set); the standard path read the same audio once.
    text = (
        "I was the tech lead for the payments team at my last company for two years. "
        "I was the tech lead for the payments team"
    )
    assert restarted(text) and not repeated_run(text)  # not back to back: only this sees it
    assert not restarted("I was the tech lead for the payments team at my last company.")
    assert not restarted("We tested it, we tested it again, and then we shipped it.")


def test_the_filler_seed_comes_before_the_answer_so_far() -> None:
    assert compose_prompt("We had a queue.", filler_seed="Um, uh,") == "Um, uh, We had a queue."
    assert compose_prompt(None, filler_seed="Um, uh,") == "Um, uh,"
    assert compose_prompt("  We had a queue. ", filler_seed=None) == "We had a queue."
    assert (
        compose_prompt("", filler_seed="") is None
        and compose_prompt(None, filler_seed=None) is None
    )


def test_the_seed_is_short_and_cannot_seed_a_loop_or_invent_words() -> None:
    # "hmm" in the seed looped ("So, hmm. So, hmm.") on espeak voices; "like" and
    # "you know" in it made Whisper write fillers nobody said (docs/benchmarks.md).
    words = FILLER_SEED.lower().replace(",", " ").replace(".", " ").split()
    assert len(FILLER_SEED) <= 40 and {"um", "uh"} <= set(words)
    assert not {"hmm", "like", "know"} & set(words)
    # Ending mid-sentence, it made Whisper say a short answer twice.
    assert FILLER_SEED.endswith(".")


async def test_final_passes_keep_fillers_and_captions_do_not_bother(
    whisper_calls: list[dict[str, Any]],
) -> None:
    stt = WhisperSTT("model-dir", draft_window="full", final_window="full")
    await stt.transcribe(silence(1000), prompt="We had a queue.")
    assert whisper_calls[-1]["initial_prompt"] == f"{FILLER_SEED} We had a queue."
    await stt.transcribe(silence(1000))  # the first words of an answer: the seed alone
    assert whisper_calls[-1]["initial_prompt"] == FILLER_SEED
    await stt.transcribe(silence(1000), prompt="We had a queue.", draft=True)
    assert whisper_calls[-1]["initial_prompt"] == "We had a queue."  # captions are not stored


async def test_an_answer_starts_with_a_capital_after_the_seed(
    whisper_calls: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whisper may go on from the seed in lower case."""
    monkeypatch.setattr(
        RecordingWhisperModel,
        "transcribe",
        lambda self, _audio, **options: (
            iter([SimpleNamespace(text=" uh, we chose Kafka.", start=0.0, end=1.0,
                                  no_speech_prob=0.01, avg_logprob=-0.2,
                                  compression_ratio=1.1)]),
            None,
        ),
    )  # fmt: skip
    stt = WhisperSTT("model-dir", draft_window="full", final_window="full")
    assert (await stt.transcribe(silence(1000))).text == "Uh, we chose Kafka."
    # Mid-answer, the text goes on from what came before, as Whisper wrote it.
    assert (await stt.transcribe(silence(1000), prompt="So,")).text == "uh, we chose Kafka."


async def test_the_second_pass_engine_reads_whole_answers_with_the_seed(
    whisper_calls: list[dict[str, Any]],
) -> None:
    stt = WhisperSTT.for_second_pass("model-dir")
    assert stt.beam_size == 5 and stt.filler_seed == FILLER_SEED
    assert WhisperSTT.for_second_pass("model-dir", keep_fillers=False).filler_seed is None
