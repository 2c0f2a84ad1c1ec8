"""The shared speech engines: loaded once at start-up, used by every voice connection."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from server.voice.audio import silence
from server.voice.stt import SpeechToText, WhisperSTT
from server.voice.tts import PiperTTS, TextToSpeech
from server.voice.vad import VadModel, shared_silero_vad

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SpeechEngines:
    stt: SpeechToText
    tts: TextToSpeech
    vad: VadModel


async def load_speech_engines(
    *,
    stt_model_dir: str | None,
    stt_device: str,
    stt_compute_type: str,
    stt_beam_size: int,
    tts_voice_path: str | None,
    cpu_threads: int,
) -> SpeechEngines:
    """Load Whisper, Piper and Silero off the event loop, then warm each once so the first
    candidate does not pay for lazy initialisation."""
    started = time.perf_counter()
    stt, tts, vad = await asyncio.gather(
        asyncio.to_thread(
            WhisperSTT,
            stt_model_dir,
            device=stt_device,
            compute_type=stt_compute_type,
            beam_size=stt_beam_size,
            cpu_threads=cpu_threads,
        ),
        asyncio.to_thread(PiperTTS.load, tts_voice_path, use_cuda=stt_device == "cuda"),
        asyncio.to_thread(shared_silero_vad),
    )
    await stt.transcribe(silence(500))
    async for _chunk in tts.synthesize("Hello."):
        pass
    logger.info("speech engines ready in %.1f s", time.perf_counter() - started)
    return SpeechEngines(stt=stt, tts=tts, vad=vad)
