"""Streaming VAD framing and the hysteresis tracker (fake model; the real one is in integration)."""

from __future__ import annotations

import numpy as np

from server.voice.audio import Float32Array, Pcm16
from server.voice.vad import (
    CONTEXT_SAMPLES,
    WINDOW_SAMPLES,
    SpeechStarted,
    SpeechStopped,
    SpeechTracker,
    StreamingVad,
    VadWindow,
)


class RecordingModel:
    def __init__(self) -> None:
        self.windows: list[Float32Array] = []

    def new_state(self) -> object:
        return 0

    def speech_probability(
        self, window_with_context: Float32Array, state: object
    ) -> tuple[float, object]:
        self.windows.append(window_with_context.copy())
        assert isinstance(state, int)
        return 0.5, state + 1


def ramp(n: int, start: int = 0) -> Pcm16:
    values = (np.arange(start, start + n) % 30000).astype(np.int16)
    return Pcm16.from_int16(values, 16_000)


def test_windows_are_contiguous_whatever_the_frame_size() -> None:
    model = RecordingModel()
    vad = StreamingVad(model)
    windows: list[VadWindow] = []
    fed = 0
    for size in (320, 100, 700, 1, 1023, 320, 2000):
        windows += vad.process(ramp(size, fed))
        fed += size
    assert vad.samples_seen == fed
    assert len(windows) == fed // WINDOW_SAMPLES
    assert [w.start_sample for w in windows] == [i * WINDOW_SAMPLES for i in range(len(windows))]
    # Each window carries the previous window's last 64 samples as context (zeros at first).
    assert all(len(w) == CONTEXT_SAMPLES + WINDOW_SAMPLES for w in model.windows)
    assert not model.windows[0][:CONTEXT_SAMPLES].any()
    for before, after in zip(model.windows, model.windows[1:], strict=False):
        assert np.array_equal(after[:CONTEXT_SAMPLES], before[-CONTEXT_SAMPLES:])
    expected = ramp(fed).to_float32()
    got = np.concatenate([w[CONTEXT_SAMPLES:] for w in model.windows])
    assert np.array_equal(got, expected[: len(got)])


def test_reset_starts_a_fresh_stream() -> None:
    vad = StreamingVad(RecordingModel())
    vad.process(ramp(1000))
    vad.reset()
    assert vad.samples_seen == 0
    assert vad.process(ramp(512))[0].start_sample == 0


def feed(tracker: SpeechTracker, probs: list[float]) -> list[tuple[int, object]]:
    events: list[tuple[int, object]] = []
    for i, prob in enumerate(probs):
        event = tracker.push(VadWindow(i * 512, (i + 1) * 512, prob))
        if event is not None:
            events.append((i, event))
    return events


def test_tracker_needs_sustained_speech_and_releases_after_silence() -> None:
    tracker = SpeechTracker(threshold=0.5, neg_threshold=0.35, min_speech_ms=96, release_ms=160)
    events = feed(tracker, [0.1, 0.9, 0.9, 0.2, 0.9, 0.4, 0.4, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1])
    # 3 voiced windows (96 ms) with a short dip between them: confirmed at window 4.
    assert events[0] == (4, SpeechStarted(512))
    assert tracker.speech_start_sample == 512
    # 0.4 keeps speech going (>= neg threshold); then 5 silent windows (160 ms) release it.
    assert events[1] == (11, SpeechStopped(7 * 512))
    assert not tracker.in_speech


def test_tracker_ignores_isolated_blips() -> None:
    tracker = SpeechTracker(min_speech_ms=96)
    assert feed(tracker, [0.9, 0.1, 0.1, 0.1, 0.1, 0.9, 0.1, 0.1, 0.1, 0.1]) == []


def test_pauses_inside_a_turn_are_measured() -> None:
    from server.voice.turns import pauses_ms
    from server.voice.vad import VadWindow

    w = 512  # 32 ms windows at 16 kHz
    probs = [0.1, 0.9, 0.9] + [0.1] * 70 + [0.9] + [0.1] * 10 + [0.9] + [0.1] * 5
    windows = [VadWindow(i * w, (i + 1) * w, p) for i, p in enumerate(probs)]
    # Leading and trailing silence are not pauses; the two gaps inside are.
    assert pauses_ms(windows, 0.35) == [2240, 320]
    assert pauses_ms([VadWindow(0, w, 0.1)], 0.35) == []
