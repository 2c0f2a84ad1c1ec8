"""The hallucination guard: drop what Whisper invents, never the end of a real answer."""

from __future__ import annotations

import pytest

from server.voice.stt import (
    TranscriptSegment,
    filter_hallucinations,
    is_hallucination,
    join_segments,
)


def seg(text: str, *, no_speech: float = 0.05, logprob: float = -0.3) -> TranscriptSegment:
    return TranscriptSegment(text, 0, 1000, no_speech, logprob, 1.2)


@pytest.mark.parametrize(
    "text", ["Thank you.", "you", "Thanks for watching!", "Bye.", " thank-you "]
)
def test_phantom_phrases_on_little_speech_are_dropped(text: str) -> None:
    assert is_hallucination(seg(text), voiced_ms=300)


def test_a_real_thank_you_with_clear_speech_is_kept() -> None:
    assert not is_hallucination(seg("Thank you."), voiced_ms=900)
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
