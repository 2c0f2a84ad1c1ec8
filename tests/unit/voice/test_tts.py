"""PiperTTS's thread hand-off with a stand-in voice (the real voice is in integration)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from server.errors import AIServiceError
from server.voice.tts import PiperTTS


@dataclass
class Chunk:
    audio_int16_bytes: bytes
    sample_rate: int = 22_050
    sample_channels: int = 1


@dataclass
class Config:
    sample_rate: int = 22_050
    length_scale: float = 1.0


@dataclass
class StandInVoice:
    """Yields one chunk per sentence; each takes `seconds` to "synthesize"."""

    seconds: float = 0.05
    config: Config = field(default_factory=Config)
    produced: list[str] = field(default_factory=list)
    length_scales: list[float] = field(default_factory=list)
    threads: set[str] = field(default_factory=set)
    fail: bool = False

    def synthesize(self, text: str, syn_config: Any) -> Iterator[Chunk]:
        self.length_scales.append(syn_config.length_scale)
        for sentence in text.split("|"):
            self.threads.add(threading.current_thread().name)
            time.sleep(self.seconds)
            if self.fail:
                raise RuntimeError("onnx exploded")
            self.produced.append(sentence)
            yield Chunk(np.full(2205, 1000, dtype=np.int16).tobytes())


async def test_chunks_arrive_as_they_are_made_off_the_event_loop() -> None:
    voice = StandInVoice(seconds=0.1)
    tts = PiperTTS(voice)
    assert tts.sample_rate_hz == 22_050
    started = time.perf_counter()
    arrivals = []
    async for chunk in tts.synthesize("one|two|three"):
        arrivals.append(time.perf_counter() - started)
        assert (chunk.sample_rate_hz, chunk.channels, chunk.num_frames) == (22_050, 1, 2205)
    assert len(arrivals) == 3
    assert arrivals[0] < 0.2  # the first chunk did not wait for the whole text
    assert arrivals[2] >= 0.29
    assert threading.current_thread().name not in voice.threads


async def test_the_event_loop_stays_free_while_piper_works() -> None:
    tts = PiperTTS(StandInVoice(seconds=0.2))
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    task = asyncio.create_task(ticker())
    async for _ in tts.synthesize("a|b"):
        pass
    task.cancel()
    assert ticks >= 20


async def test_closing_early_stops_synthesis_after_the_current_sentence() -> None:
    voice = StandInVoice(seconds=0.05)
    tts = PiperTTS(voice)
    stream = tts.synthesize("one|two|three|four")
    await anext(stream)
    await stream.aclose()
    await tts.aclose()
    assert len(voice.produced) <= 2


async def test_voice_speed_maps_to_length_scale() -> None:
    voice = StandInVoice(seconds=0)
    tts = PiperTTS(voice)
    async for _ in tts.synthesize("x", speed=2.0):
        pass
    async for _ in tts.synthesize("x", speed=0.5):
        pass
    assert voice.length_scales == [0.5, 2.0]


async def test_failures_surface_as_ai_service_errors() -> None:
    tts = PiperTTS(StandInVoice(seconds=0, fail=True))
    with pytest.raises(AIServiceError, match="Text to speech failed"):
        async for _ in tts.synthesize("x"):
            pass


async def test_blank_text_yields_nothing() -> None:
    tts = PiperTTS(StandInVoice())
    assert [c async for c in tts.synthesize("   ")] == []
