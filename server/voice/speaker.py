"""The reply speaker: LLM text deltas → sentence splitter → Piper → paced audio frames.

The LLM runs ahead in a child task while each unit (a first clause, then sentences) is
synthesised and sent; the speaker keeps an estimate of where the client's playback is, so
that on barge-in it can say which units the candidate actually heard.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from server.voice.audio import Pcm16
from server.voice.protocol import AudioEnd, AudioStart, InterviewerSentence, ServerEvent
from server.voice.sentences import SentenceSplitter
from server.voice.tts import TextToSpeech, closing

logger = logging.getLogger(__name__)

Outbound = ServerEvent | Pcm16
"""What ``send`` receives: a JSON event (text frame) or interviewer audio (binary frame)."""
Emit = Callable[[Outbound], Awaitable[None]]
Clock = Callable[[], float]
Hook = Callable[[], Awaitable[None]]


@dataclass(eq=False)
class Unit:
    index: int
    text: str
    playback_start: float
    """Estimated wall-clock time the client starts playing it."""


@dataclass(eq=False)
class Utterance:
    """One interviewer message as spoken: its units, and where the client's playback is."""

    message: int = 0
    marks: dict[str, float] = field(default_factory=dict)
    units: list[Unit] = field(default_factory=list)
    audio_started: bool = False
    audio_ms: float = 0.0
    play_cursor: float = 0.0
    """Estimated wall-clock time at which the client's playback queue runs dry."""
    flushed: bool = False
    """The client was told to drop what it had not played yet."""
    voice_failed: bool = False
    """Speech synthesis failed: the rest of the message was sent as text only."""

    @property
    def playing(self) -> bool:
        """The interviewer may be audible (started and not flushed)."""
        return self.audio_started and not self.flushed

    def heard(self, spoke_at: float) -> list[str]:
        """Units whose playback began before the candidate started talking over them.

        At least the first: once the interviewer has started speaking, the message exists
        (and the interview engine needs a question before the next answer).
        """
        heard = [u.text for u in self.units if u.playback_start <= spoke_at]
        return heard or [u.text for u in self.units[:1]]


class _Failed:
    def __init__(self, error: Exception) -> None:
        self.error = error


_END_OF_UNITS = object()


async def one_text(text: str) -> AsyncIterator[str]:
    """A reply whose text is known (a stored question said again, the closing line)."""
    yield text


class ReplySpeaker:
    """Speaks text deltas as paced audio through ``emit``; see the module docstring."""

    def __init__(
        self,
        tts: TextToSpeech,
        emit: Emit,
        *,
        clock: Clock,
        first_clause_min_words: int = 5,
        audio_chunk_ms: float = 100.0,
    ) -> None:
        self._tts = tts
        self._emit = emit
        self._clock = clock
        self._first_clause_min_words = first_clause_min_words
        self._audio_chunk_ms = audio_chunk_ms

    async def speak(
        self,
        utterance: Utterance,
        deltas: AsyncIterator[str],
        *,
        speed: float,
        on_audio_start: Hook,
        on_first_audio: Hook,
    ) -> str:
        """Speak the deltas; returns all the text spoken (units joined).

        Marks ``first_token``, ``first_sentence`` and ``first_audio`` on the utterance;
        ``on_audio_start`` runs once, after ``audio_start`` is sent, and ``on_first_audio``
        after the first audio frame.
        """
        units: asyncio.Queue[str | _Failed | object] = asyncio.Queue()
        producer = asyncio.create_task(
            self._produce_units(utterance, deltas, units), name=f"llm-{utterance.message}"
        )
        spoken: list[str] = []
        try:
            while True:
                item = await units.get()
                if item is _END_OF_UNITS:
                    break
                if isinstance(item, _Failed):
                    raise item.error
                assert isinstance(item, str)
                spoken.append(item)
                await self._speak_unit(
                    utterance,
                    len(spoken) - 1,
                    item,
                    speed=speed,
                    on_audio_start=on_audio_start,
                    on_first_audio=on_first_audio,
                )
        finally:
            if not producer.done():
                producer.cancel()
            await asyncio.gather(producer, return_exceptions=True)
        if utterance.audio_started:
            await self._emit(
                AudioEnd(message=utterance.message, duration_ms=int(utterance.audio_ms))
            )
        return " ".join(spoken)

    async def _produce_units(
        self,
        utterance: Utterance,
        deltas: AsyncIterator[str],
        units: asyncio.Queue[str | _Failed | object],
    ) -> None:
        splitter = SentenceSplitter(first_clause_min_words=self._first_clause_min_words)
        marks = utterance.marks
        try:
            async with closing(deltas) as stream:
                async for delta in stream:
                    marks.setdefault("first_token", self._clock())
                    for unit in splitter.push(delta):
                        marks.setdefault("first_sentence", self._clock())
                        units.put_nowait(unit)
            for unit in splitter.flush():
                marks.setdefault("first_sentence", self._clock())
                units.put_nowait(unit)
            units.put_nowait(_END_OF_UNITS)
        except Exception as err:
            units.put_nowait(_Failed(err))  # raised by the consumer, in the reply task

    async def _speak_unit(
        self,
        utterance: Utterance,
        index: int,
        text: str,
        *,
        speed: float,
        on_audio_start: Hook,
        on_first_audio: Hook,
    ) -> None:
        unit: Unit | None = None
        if utterance.voice_failed:
            await self._caption(utterance, index, text, self._clock())
            return
        async with closing(self._tts.synthesize(text, speed=speed)) as chunks:
            pieces = aiter(chunks)
            while True:
                try:
                    chunk = await anext(pieces)
                except StopAsyncIteration:
                    break
                except Exception:
                    # The candidate still gets the question: as text, this one and the rest.
                    logger.exception("speech synthesis failed; the message goes on as text")
                    utterance.voice_failed = True
                    if unit is None:
                        await self._caption(utterance, index, text, self._clock())
                    return
                for piece in chunk.split(self._audio_chunk_ms):
                    now = self._clock()
                    if not utterance.audio_started:
                        utterance.audio_started = True
                        utterance.play_cursor = now
                        await self._emit(
                            AudioStart(
                                message=utterance.message, sample_rate_hz=piece.sample_rate_hz
                            )
                        )
                        await on_audio_start()
                    if unit is None:
                        unit = await self._caption(utterance, index, text, now)
                    utterance.play_cursor = max(utterance.play_cursor, now) + piece.duration_s
                    utterance.audio_ms += piece.duration_ms
                    await self._emit(piece)
                    if "first_audio" not in utterance.marks:
                        utterance.marks["first_audio"] = self._clock()
                        await on_first_audio()

    async def _caption(self, utterance: Utterance, index: int, text: str, now: float) -> Unit:
        """A unit begins: its caption is due when the audio before it has played (a unit sent
        as text only has no audio of its own)."""
        unit = Unit(index, text, max(utterance.play_cursor, now))
        utterance.units.append(unit)
        await self._emit(
            InterviewerSentence(
                message=utterance.message,
                index=index,
                text=text,
                audio_offset_ms=int(utterance.audio_ms),
            )
        )
        return unit
