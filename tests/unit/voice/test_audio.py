"""Pcm16 containers and conversions."""

from __future__ import annotations

import numpy as np
import pytest

from server.voice.audio import Pcm16, resample, silence


def test_durations_and_formats() -> None:
    audio = Pcm16(b"\x00\x00" * 16_000, 16_000)
    assert audio.num_frames == 16_000
    assert audio.duration_s == pytest.approx(1.0)
    assert audio.duration_ms == pytest.approx(1000.0)
    stereo = Pcm16(b"\x00\x00" * 4, 8_000, channels=2)
    assert stereo.num_frames == 2


def test_rejects_partial_samples_and_bad_rates() -> None:
    with pytest.raises(ValueError, match="whole number"):
        Pcm16(b"\x00", 16_000)
    with pytest.raises(ValueError, match="sample_rate_hz"):
        Pcm16(b"", 0)


def test_float_round_trip_and_loudness() -> None:
    samples = np.array([0.0, 0.5, -0.5, 0.999], dtype=np.float32)
    audio = Pcm16.from_float32(samples, 16_000)
    assert np.allclose(audio.to_float32(), samples, atol=1e-4)
    assert silence(100).rms_dbfs() == float("-inf")
    assert -7.0 < Pcm16.from_float32(np.full(160, 0.5, dtype=np.float32), 16_000).rms_dbfs() < -5.0


def test_split_and_slice() -> None:
    audio = silence(250)
    pieces = audio.split(100)
    assert [round(p.duration_ms) for p in pieces] == [100, 100, 50]
    assert sum(p.num_frames for p in pieces) == audio.num_frames
    assert round(audio.slice_ms(50, 150).duration_ms) == 100
    assert (audio.slice_ms(0, 100) + audio.slice_ms(100)).data == audio.data


def test_resample_keeps_duration_and_pitch() -> None:
    t = np.arange(22_050) / 22_050
    tone = Pcm16.from_float32((0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), 22_050)
    down = resample(tone, 16_000)
    assert down.sample_rate_hz == 16_000
    assert abs(down.num_frames - 16_000) <= 1
    spectrum = np.abs(np.fft.rfft(down.to_float32()))
    assert abs(np.argmax(spectrum) * 16_000 / down.num_frames - 440) < 2
    assert resample(Pcm16.empty(22_050), 16_000).num_frames == 0
