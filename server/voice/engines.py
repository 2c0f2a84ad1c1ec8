"""The shared speech engines: loaded once at start-up, used by every voice connection."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from server.ai.model_files import WHISPER_BUILDS, terminal_progress, whisper_model_dir
from server.voice.audio import silence
from server.voice.endpoint import SmartTurn, TurnCompletion
from server.voice.stt import FILLER_SEED, SpeechToText, WhisperSTT
from server.voice.tts import PhraseCache, PiperTTS, TextToSpeech
from server.voice.vad import VadModel, shared_silero_vad

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SpeechEngines:
    stt: SpeechToText
    tts: TextToSpeech
    vad: VadModel
    second_pass_stt: SpeechToText | None = None
    """Re-reads whole answers off the critical path (None: the live ``stt`` does)."""
    turn_model: TurnCompletion | None = None
    """Judges at each short pause whether the candidate has finished (None: silence does)."""


async def warm_phrases(engines: SpeechEngines) -> None:
    """Synthesise the cached phrases ahead of their first use (a no-op without a cache)."""
    if isinstance(engines.tts, PhraseCache):
        started = time.perf_counter()
        await engines.tts.warm()
        logger.info("stock phrases synthesised in %.1f s", time.perf_counter() - started)


def resolve_whisper_dir(model: str, models_dir: Path | None) -> str:
    """The verified directory of a packaged Whisper model (``VIVA_STT_MODEL``), assembled
    from its packages into ``models_dir`` on first use (blocking: call it in a thread)."""
    build = WHISPER_BUILDS[model]
    if models_dir is None:
        from server.settings import Settings

        models_dir = Settings.from_env().models_dir
    return str(whisper_model_dir(build, models_dir, terminal_progress(build.description)))


def _load_whisper(
    *,
    model: str,
    model_dir: str | None,
    models_dir: Path | None,
    device: str,
    compute_type: str,
    beam_size: int,
    cpu_threads: int,
    keep_fillers: bool,
) -> WhisperSTT:
    return WhisperSTT(
        model_dir or resolve_whisper_dir(model, models_dir),
        device=device,
        compute_type=compute_type,
        beam_size=beam_size,
        cpu_threads=cpu_threads,
        filler_seed=FILLER_SEED if keep_fillers else None,
    )


async def load_second_pass_stt(
    *,
    model: str,
    models_dir: Path | None,
    device: str,
    compute_type: str,
    cpu_threads: int,
    keep_fillers: bool = True,
) -> WhisperSTT:
    """The engine for the second pass over whole answers (``VIVA_STT_SECOND_PASS_MODEL``),
    loaded off the event loop; see ``WhisperSTT.for_second_pass``."""

    def load() -> WhisperSTT:
        return WhisperSTT.for_second_pass(
            resolve_whisper_dir(model, models_dir),
            device=device,
            compute_type=compute_type,
            cpu_threads=cpu_threads,
            keep_fillers=keep_fillers,
        )

    stt = await asyncio.to_thread(load)
    await stt.transcribe(silence(500))
    return stt


async def load_speech_engines(
    *,
    stt_model_dir: str | None,
    stt_device: str,
    stt_compute_type: str,
    stt_beam_size: int,
    tts_voice_path: str | None,
    cpu_threads: int,
    stt_model: str = "tiny.en",
    models_dir: Path | None = None,
    stt_keep_fillers: bool = True,
    second_pass_model: str | None = None,
    turn_model: bool = False,
    tts_phrases: Sequence[str] = (),
) -> SpeechEngines:
    """Load Whisper, Piper and Silero off the event loop, then warm each once so the first
    candidate does not pay for lazy initialisation. Whisper is ``stt_model_dir`` when set,
    else the packaged ``stt_model``, verified (and assembled once) into ``models_dir``.
    ``second_pass_model``: the packaged model for the second pass, loaded too when it is not
    the live one (None: no separate engine). ``turn_model``: load Smart Turn too
    (``VIVA_TURN_MODEL``). ``tts_phrases``: phrases whose audio is made once and kept
    (``PhraseCache``; ``warm_phrases`` makes it ahead of time)."""
    started = time.perf_counter()
    stt, tts, vad = await asyncio.gather(
        asyncio.to_thread(
            _load_whisper,
            model=stt_model,
            model_dir=stt_model_dir,
            models_dir=models_dir,
            device=stt_device,
            compute_type=stt_compute_type,
            beam_size=stt_beam_size,
            cpu_threads=cpu_threads,
            keep_fillers=stt_keep_fillers,
        ),
        asyncio.to_thread(PiperTTS.load, tts_voice_path, use_cuda=stt_device == "cuda"),
        asyncio.to_thread(shared_silero_vad),
    )
    await stt.transcribe(silence(500))
    async for _chunk in tts.synthesize("Hello."):
        pass
    voice: TextToSpeech = PhraseCache(tts, tts_phrases) if tts_phrases else tts
    second: WhisperSTT | None = None
    if second_pass_model and (stt_model_dir or second_pass_model != stt_model):
        second = await load_second_pass_stt(
            model=second_pass_model,
            models_dir=models_dir,
            device=stt_device,
            compute_type=stt_compute_type,
            cpu_threads=cpu_threads,
            keep_fillers=stt_keep_fillers,
        )
    completion = await asyncio.to_thread(SmartTurn.load) if turn_model else None
    logger.info("speech engines ready in %.1f s", time.perf_counter() - started)
    return SpeechEngines(stt=stt, tts=voice, vad=vad, second_pass_stt=second, turn_model=completion)
