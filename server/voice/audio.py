"""Typed PCM16 audio containers and the few conversions the voice pipeline needs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

PCM16_SAMPLE_WIDTH_BYTES = 2
INPUT_SAMPLE_RATE_HZ = 16_000
"""The rate the browser AudioWorklet sends and Whisper/Silero expect."""

Float32Array = npt.NDArray[np.float32]
Int16Array = npt.NDArray[np.int16]


@dataclass(frozen=True, slots=True)
class Pcm16:
    """Little-endian signed 16-bit PCM with its format stated, never bare bytes."""

    data: bytes
    sample_rate_hz: int
    channels: int = 1

    def __post_init__(self) -> None:
        if self.sample_rate_hz <= 0:
            raise ValueError(f"sample_rate_hz must be positive, got {self.sample_rate_hz}")
        if self.channels <= 0:
            raise ValueError(f"channels must be positive, got {self.channels}")
        if len(self.data) % (PCM16_SAMPLE_WIDTH_BYTES * self.channels):
            raise ValueError(
                f"PCM16 data length {len(self.data)} is not a whole number of "
                f"{self.channels}-channel frames"
            )

    @classmethod
    def empty(cls, sample_rate_hz: int, channels: int = 1) -> Pcm16:
        return cls(b"", sample_rate_hz, channels)

    @classmethod
    def from_int16(cls, samples: Int16Array, sample_rate_hz: int) -> Pcm16:
        return cls(samples.astype("<i2", copy=False).tobytes(), sample_rate_hz)

    @classmethod
    def from_float32(cls, samples: Float32Array, sample_rate_hz: int) -> Pcm16:
        clipped = np.clip(samples, -1.0, 1.0)
        return cls.from_int16((clipped * 32767.0).astype(np.int16), sample_rate_hz)

    @property
    def num_frames(self) -> int:
        """Samples per channel."""
        return len(self.data) // (PCM16_SAMPLE_WIDTH_BYTES * self.channels)

    @property
    def duration_s(self) -> float:
        return self.num_frames / self.sample_rate_hz

    @property
    def duration_ms(self) -> float:
        return self.num_frames * 1000.0 / self.sample_rate_hz

    def to_int16(self) -> Int16Array:
        return np.frombuffer(self.data, dtype="<i2")

    def to_float32(self) -> Float32Array:
        """Mono float32 in [-1, 1), the input format of Whisper and Silero."""
        samples = self.to_int16().astype(np.float32) / 32768.0
        if self.channels > 1:
            samples = samples.reshape(-1, self.channels).mean(axis=1).astype(np.float32)
        return samples

    def rms_dbfs(self) -> float:
        """Loudness relative to full scale; -inf for empty or digital silence."""
        if not self.data:
            return float("-inf")
        samples = self.to_float32()
        rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
        return 20.0 * float(np.log10(rms)) if rms > 0 else float("-inf")

    def slice_ms(self, start_ms: float, end_ms: float | None = None) -> Pcm16:
        frame_bytes = PCM16_SAMPLE_WIDTH_BYTES * self.channels
        start = int(start_ms * self.sample_rate_hz / 1000) * frame_bytes
        end = (
            len(self.data)
            if end_ms is None
            else int(end_ms * self.sample_rate_hz / 1000) * frame_bytes
        )
        return Pcm16(self.data[start:end], self.sample_rate_hz, self.channels)

    def split(self, max_duration_ms: float) -> list[Pcm16]:
        """Cut into pieces of at most max_duration_ms (the last may be shorter)."""
        frame_bytes = PCM16_SAMPLE_WIDTH_BYTES * self.channels
        step = max(1, int(max_duration_ms * self.sample_rate_hz / 1000)) * frame_bytes
        return [
            Pcm16(self.data[i : i + step], self.sample_rate_hz, self.channels)
            for i in range(0, len(self.data), step)
        ]

    def __add__(self, other: Pcm16) -> Pcm16:
        if (other.sample_rate_hz, other.channels) != (self.sample_rate_hz, self.channels):
            raise ValueError("cannot join PCM16 audio of different formats")
        return Pcm16(self.data + other.data, self.sample_rate_hz, self.channels)


def silence(duration_ms: float, sample_rate_hz: int = INPUT_SAMPLE_RATE_HZ) -> Pcm16:
    return Pcm16(
        bytes(int(duration_ms * sample_rate_hz / 1000) * PCM16_SAMPLE_WIDTH_BYTES), sample_rate_hz
    )


def resample(audio: Pcm16, target_rate_hz: int) -> Pcm16:
    """Resample PCM16 to mono at target_rate_hz (e.g. Piper's 22,050 Hz to Whisper's 16 kHz).

    Linear interpolation after a short moving-average low-pass: good enough for
    speech recognition and tests; not meant for music-grade playback.
    """
    if not audio.data:
        return Pcm16.empty(target_rate_hz)
    if audio.sample_rate_hz == target_rate_hz and audio.channels == 1:
        return audio
    samples = audio.to_float32()
    if target_rate_hz < audio.sample_rate_hz:
        # Crude anti-aliasing: averaging over the decimation ratio attenuates what would fold back.
        width = max(1, round(audio.sample_rate_hz / target_rate_hz))
        if width > 1:
            kernel = np.ones(width, dtype=np.float32) / width
            samples = np.convolve(samples, kernel, mode="same").astype(np.float32)
    num_out = round(len(samples) * target_rate_hz / audio.sample_rate_hz)
    positions = np.arange(num_out, dtype=np.float64) * (audio.sample_rate_hz / target_rate_hz)
    out = np.interp(positions, np.arange(len(samples), dtype=np.float64), samples).astype(
        np.float32
    )
    return Pcm16.from_float32(out, target_rate_hz)
