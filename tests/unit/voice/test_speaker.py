"""ReplySpeaker alone: text deltas in, captions and paced audio out, through a fake TTS."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator

import pytest

from server.voice.audio import Pcm16
from server.voice.protocol import AudioEnd, AudioStart, InterviewerSentence
from server.voice.speaker import Outbound, ReplySpeaker, Unit, Utterance, one_text
from tests.unit.voice.conftest import FakeClock, FakeTTS, settle

REPLY = ["Tell me ", "about yourself. ", "What drew you ", "to this role? ", "Take your time."]
UNITS = ["Tell me about yourself.", "What drew you to this role?", "Take your time."]


class Deltas:
    """An LLM stream: yields its deltas (advancing the clock), optionally fails or hangs."""

    def __init__(
        self,
        deltas: list[str],
        clock: FakeClock,
        *,
        fail_after: int | None = None,
        hang_after: int | None = None,
    ) -> None:
        self._deltas = list(deltas)
        self._clock = clock
        self._fail_after = fail_after
        self._hang_after = hang_after
        self.sent = 0
        self.closed = False
        self.error = RuntimeError("llm exploded")

    def __aiter__(self) -> Deltas:
        return self

    async def __anext__(self) -> str:
        await asyncio.sleep(0)
        if self.sent == self._fail_after:
            raise self.error
        if self.sent == self._hang_after:
            await asyncio.Event().wait()
        if self.sent >= len(self._deltas):
            raise StopAsyncIteration
        self._clock.advance(0.05)
        self.sent += 1
        return self._deltas[self.sent - 1]

    async def aclose(self) -> None:
        self.closed = True


class Rig:
    def __init__(
        self,
        *,
        audio_chunk_ms: float = 100.0,
        clock: FakeClock | None = None,
        tts: FakeTTS | None = None,
    ) -> None:
        self.clock = clock or FakeClock()
        self.tts = tts or FakeTTS()
        self.out: list[Outbound] = []
        self.hooks: list[tuple[str, int]] = []
        """(hook, how many items had been emitted when it ran)."""
        self.block_audio: asyncio.Event | None = None
        self.speaker = ReplySpeaker(
            self.tts,
            self._emit,
            clock=self.clock,
            first_clause_min_words=0,
            audio_chunk_ms=audio_chunk_ms,
        )

    async def _emit(self, item: Outbound) -> None:
        self.out.append(item)
        if isinstance(item, Pcm16) and self.block_audio is not None:
            await self.block_audio.wait()

    async def speak(self, utterance: Utterance, deltas: AsyncIterator[str]) -> str:
        async def on_audio_start() -> None:
            self.hooks.append(("audio_start", len(self.out)))

        async def on_first_audio() -> None:
            self.hooks.append(("first_audio", len(self.out)))

        return await self.speaker.speak(
            utterance,
            deltas,
            speed=1.25,
            on_audio_start=on_audio_start,
            on_first_audio=on_first_audio,
        )

    @property
    def audio(self) -> list[Pcm16]:
        return [e for e in self.out if isinstance(e, Pcm16)]


def rig(*, audio_chunk_ms: float = 100.0) -> Rig:
    return Rig(audio_chunk_ms=audio_chunk_ms)


async def test_units_are_spoken_in_order_with_their_events() -> None:
    r = rig()
    utterance = Utterance(message=4)
    text = await r.speak(utterance, Deltas(REPLY, r.clock))
    assert text == " ".join(UNITS)
    assert r.tts.texts == UNITS and r.tts.speeds == [1.25] * 3
    kinds = [type(e).__name__ for e in r.out]
    assert kinds[0] == "AudioStart" and kinds[-1] == "AudioEnd"
    assert kinds[1] == "InterviewerSentence" and kinds[2] == "Pcm16"
    start = r.out[0]
    assert isinstance(start, AudioStart)
    assert start.message == 4 and start.sample_rate_hz == r.tts.sample_rate_hz
    sentences = [e for e in r.out if isinstance(e, InterviewerSentence)]
    assert [(s.message, s.index, s.text) for s in sentences] == [
        (4, i, u) for i, u in enumerate(UNITS)
    ]
    # Each caption comes right before its audio, at the audio offset where it starts.
    offset = 0.0
    for item in r.out[1:-1]:
        if isinstance(item, InterviewerSentence):
            assert item.audio_offset_ms == int(offset)
        else:
            assert isinstance(item, Pcm16)
            offset += item.duration_ms
    end = r.out[-1]
    assert isinstance(end, AudioEnd)
    assert end.message == 4 and end.duration_ms == int(utterance.audio_ms) == int(offset)
    expected_ms = sum(r.tts.ms_per_word * len(u.split()) / 1.25 for u in UNITS)
    assert end.duration_ms == pytest.approx(expected_ms, abs=3)
    assert [u.text for u in utterance.units] == UNITS


@pytest.mark.parametrize("chunk_ms", [100.0, 40.0, 30.0])
async def test_audio_goes_out_in_audio_chunk_ms_pieces(chunk_ms: float) -> None:
    r = rig(audio_chunk_ms=chunk_ms)
    await r.speak(Utterance(), one_text("Alpha bravo charlie delta echo."))
    pieces = r.audio
    # 5 words at speed 1.25: 800 ms, which FakeTTS yields as two 400 ms chunks.
    assert sum(p.duration_ms for p in pieces) == pytest.approx(800, abs=0.1)
    assert all(p.duration_ms <= chunk_ms + 0.05 for p in pieces)
    assert len(pieces) == 2 * math.ceil(400 / chunk_ms)


async def test_marks_are_set_in_order_and_hooks_run_once() -> None:
    r = rig()
    utterance = Utterance()
    await r.speak(utterance, Deltas(REPLY, r.clock))
    marks = utterance.marks
    assert set(marks) == {"first_token", "first_sentence", "first_audio"}
    # The first sentence is certain only once the next delta shows it ended.
    assert marks["first_token"] < marks["first_sentence"] <= marks["first_audio"]
    assert [name for name, _ in r.hooks] == ["audio_start", "first_audio"]
    (_, emitted_at_start), (_, emitted_at_first_audio) = r.hooks
    assert isinstance(r.out[emitted_at_start - 1], AudioStart)
    assert isinstance(r.out[emitted_at_first_audio - 1], Pcm16)
    assert sum(isinstance(e, Pcm16) for e in r.out[:emitted_at_first_audio]) == 1


async def test_no_text_means_no_audio_events_and_no_hooks() -> None:
    r = rig()
    utterance = Utterance()
    assert await r.speak(utterance, Deltas(["  "], r.clock)) == ""
    assert r.out == [] and r.hooks == [] and not utterance.audio_started


async def test_llm_errors_propagate_to_speak() -> None:
    r = rig()
    deltas = Deltas(REPLY, r.clock, fail_after=2)
    with pytest.raises(RuntimeError) as raised:
        await r.speak(Utterance(), deltas)
    assert raised.value is deltas.error
    assert deltas.closed
    assert r.tts.texts == ["Tell me about yourself."]  # what came before the error was spoken


async def test_a_tts_error_turns_the_rest_of_the_message_into_text() -> None:
    r = rig()
    r.tts.fail_on = "drew"
    deltas = Deltas(REPLY, r.clock)
    utterance = Utterance()
    spoken = await r.speak(utterance, deltas)
    assert utterance.voice_failed
    whole = "Tell me about yourself. What drew you to this role? Take your time."
    assert spoken == whole  # the whole message, to be stored as said
    captions = [e.text for e in r.out if isinstance(e, InterviewerSentence)]
    assert " ".join(captions) == whole  # every sentence reached the candidate, in order
    assert r.tts.texts[-1].startswith("What drew")  # not tried again after the failure
    assert deltas.closed


async def test_the_streams_are_closed_when_speak_is_cancelled_waiting_for_the_llm() -> None:
    r = rig()
    deltas = Deltas(REPLY, r.clock, hang_after=3)
    task = asyncio.ensure_future(r.speak(Utterance(message=2), deltas))
    await settle()
    assert r.tts.texts == ["Tell me about yourself."] and r.tts.closed == 1
    task.cancel()
    await asyncio.wait_for(asyncio.gather(task, return_exceptions=True), 2)  # no hang
    assert task.cancelled()
    assert deltas.closed
    assert not [t for t in asyncio.all_tasks() if t.get_name() == "llm-2"]


async def test_the_streams_are_closed_when_speak_is_cancelled_mid_sentence() -> None:
    r = rig()
    r.block_audio = asyncio.Event()  # the socket stalls on the first audio frame
    deltas = Deltas(REPLY, r.clock)
    task = asyncio.ensure_future(r.speak(Utterance(message=3), deltas))
    await settle()
    assert len(r.audio) == 1 and r.tts.closed == 0
    task.cancel()
    await asyncio.wait_for(asyncio.gather(task, return_exceptions=True), 2)  # no hang
    assert task.cancelled()
    assert r.tts.closed == 1  # Piper's stream is closed (its worker stops)
    assert deltas.closed
    assert not [t for t in asyncio.all_tasks() if t.get_name() == "llm-3"]


async def test_the_llm_stream_is_closed_when_it_ends_normally() -> None:
    r = rig()
    deltas = Deltas(REPLY, r.clock)
    await r.speak(Utterance(), deltas)
    assert deltas.closed and r.tts.closed == len(UNITS)


async def test_heard_is_the_units_whose_playback_started_before_spoke_at() -> None:
    r = rig()
    utterance = Utterance()
    t0 = r.clock()
    await r.speak(utterance, one_text(" ".join(UNITS)))
    # The clock did not move while speaking: units are queued back to back from t0.
    starts = [u.playback_start for u in utterance.units]
    durations = [r.tts.ms_per_word * len(u.split()) / 1.25 / 1000 for u in UNITS]
    assert starts[0] == t0
    assert starts[1] == pytest.approx(t0 + durations[0], abs=0.002)
    assert starts[2] == pytest.approx(t0 + durations[0] + durations[1], abs=0.002)
    assert utterance.play_cursor == pytest.approx(t0 + sum(durations), abs=0.003)
    assert utterance.heard(starts[1] - 0.01) == UNITS[:1]
    assert utterance.heard(starts[1] + 0.001) == UNITS[:2]
    assert utterance.heard(starts[2] + 10) == UNITS
    assert utterance.heard(t0 - 5) == UNITS[:1]  # at least the first
    assert Utterance().heard(t0) == []


async def test_a_unit_after_playback_ran_dry_starts_now() -> None:
    clock = FakeClock()

    class SlowTTS(FakeTTS):
        async def synthesize(self, text: str, *, speed: float = 1.0) -> AsyncIterator[Pcm16]:
            if self.texts:
                clock.advance(30)  # the second sentence takes long: the client ran dry
            async for chunk in super().synthesize(text, speed=speed):
                yield chunk

    r = Rig(clock=clock, tts=SlowTTS())
    utterance = Utterance()
    t0 = r.clock()
    await r.speak(utterance, one_text("Tell me about yourself. What drew you to this role?"))
    assert utterance.units[0].playback_start == t0
    assert utterance.units[1].playback_start == t0 + 30
    assert utterance.heard(t0 + 20) == UNITS[:1]


def test_playing_is_started_and_not_flushed() -> None:
    utterance = Utterance(units=[Unit(0, "Hi.", 1.0)])
    assert not utterance.playing
    utterance.audio_started = True
    assert utterance.playing
    utterance.flushed = True
    assert not utterance.playing
