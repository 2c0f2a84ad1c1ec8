"""Fakes for the voice pipeline: a virtual clock, an energy VAD, and a "tone language".

Synthetic speech is a run of tones, one frequency per word; ToneSTT recognizes the tones
back into words. That lets the tests check that the audio each transcription pass sees
covers every word exactly once, without a real model.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from server.voice.audio import INPUT_SAMPLE_RATE_HZ, Float32Array, Pcm16, silence
from server.voice.config import VoiceConfig
from server.voice.conversation import Progress
from server.voice.protocol import ServerEvent, decode_client_message
from server.voice.session import VoiceSession
from server.voice.stt import Transcript, TranscriptSegment
from server.voice.vocabulary import Vocabulary

WORDS = (
    "alpha",
    "bravo",
    "charlie",
    "delta",
    "echo",
    "foxtrot",
    "golf",
    "hotel",
    "india",
    "juliet",
    "and",  # a word no sentence ends on (the semantic end of turn's words check)
    # Spoken commands ("repeat the question", "give me a moment", "end the interview").
    "repeat",
    "the",
    "question",
    "give",
    "me",
    "a",
    "moment",
    "end",
    "interview",
    "skip",
    "this",
    ".",  # a full stop, written after the word before it (a sentence ends)
)
BLOCK = 320  # 20 ms at 16 kHz


def word_hz(word: str) -> float:
    return 400.0 + 200.0 * WORDS.index(word)


def speech(text: str, *, word_ms: float = 240, gap_ms: float = 60, amplitude: float = 0.3) -> Pcm16:
    """Tone-language speech for words from WORDS, separated by short gaps."""
    parts: list[Float32Array] = []
    for word in text.split():
        n = int(word_ms * INPUT_SAMPLE_RATE_HZ / 1000)
        t = np.arange(n) / INPUT_SAMPLE_RATE_HZ
        parts.append((amplitude * np.sin(2 * np.pi * word_hz(word) * t)).astype(np.float32))
        parts.append(np.zeros(int(gap_ms * INPUT_SAMPLE_RATE_HZ / 1000), dtype=np.float32))
    return Pcm16.from_float32(np.concatenate(parts), INPUT_SAMPLE_RATE_HZ)


def recognize_tones(audio: Pcm16) -> list[str]:
    samples = audio.to_float32()
    labels: list[str | None] = []
    for i in range(0, len(samples) - BLOCK + 1, BLOCK):
        block = samples[i : i + BLOCK]
        if np.sqrt(np.mean(block**2)) < 0.005:
            labels.append(None)
            continue
        spectrum = np.abs(np.fft.rfft(block * np.hanning(BLOCK)))
        hz = np.argmax(spectrum) * INPUT_SAMPLE_RATE_HZ / BLOCK
        k = round((hz - 400) / 200)
        labels.append(WORDS[k] if 0 <= k < len(WORDS) else None)
    words: list[str] = []
    run_label: str | None = None
    run = 0
    for label in [*labels, None]:
        if label == run_label:
            run += 1
            continue
        if run_label is not None and run >= 3:
            words.append(run_label)
        run_label, run = label, 1
    return words


class EnergyVad:
    """VadModel by loudness: loud → 0.95 (barge-in strength), soft → 0.6 (speech), else 0.02."""

    def new_state(self) -> object:
        return None

    def speech_probability(
        self, window_with_context: Float32Array, state: object
    ) -> tuple[float, object]:
        rms = float(np.sqrt(np.mean(window_with_context[64:] ** 2)))
        if rms > 0.05:
            return 0.95, state
        if rms > 0.01:
            return 0.6, state
        return 0.02, state


@dataclass
class SttCall:
    duration_ms: float
    draft: bool
    prompt: str | None
    words: list[str]
    hotwords: str | None = None


@dataclass
class ToneSTT:
    calls: list[SttCall] = field(default_factory=list)
    fail_next: int = 0
    gate: asyncio.Event | None = None
    skip_drafts: bool = False  # as Whisper does while it transcribes another interview
    reread: dict[str, str] = field(default_factory=dict)
    """A final pass prompted with a key (the question: the second pass) reads its words."""
    reread_gate: asyncio.Event | None = None
    """Holds those passes (a slow second pass)."""

    async def transcribe(
        self,
        pcm16_16k: Pcm16,
        *,
        prompt: str | None = None,
        hotwords: str | None = None,
        draft: bool = False,
    ) -> Transcript:
        if self.gate is not None:
            await self.gate.wait()
        if self.reread_gate is not None and not draft and prompt in self.reread:
            await self.reread_gate.wait()
        await asyncio.sleep(0)
        if self.fail_next:
            self.fail_next -= 1
            raise RuntimeError("stt exploded")
        if draft and self.skip_drafts:
            return Transcript("", (), (), int(pcm16_16k.duration_ms), 0.0, draft, skipped=True)
        words = recognize_tones(pcm16_16k)
        if not draft and prompt in self.reread:
            words = self.reread[prompt].split()
        self.calls.append(SttCall(pcm16_16k.duration_ms, draft, prompt, words, hotwords))
        text = " ".join(words).replace(" .", ".")
        segments = (
            (TranscriptSegment(text, 0, int(pcm16_16k.duration_ms), 0.01, -0.2, 1.0),)
            if text
            else ()
        )
        return Transcript(text, segments, (), int(pcm16_16k.duration_ms), 1.0, draft)


@dataclass
class FakeTTS:
    ms_per_word: float = 200.0
    texts: list[str] = field(default_factory=list)
    speeds: list[float] = field(default_factory=list)
    closed: int = 0
    fail_on: str | None = None

    @property
    def sample_rate_hz(self) -> int:
        return 22_050

    async def synthesize(self, text: str, *, speed: float = 1.0) -> AsyncIterator[Pcm16]:
        self.texts.append(text)
        self.speeds.append(speed)
        if self.fail_on is not None and self.fail_on in text:
            raise RuntimeError("tts exploded")
        total_ms = self.ms_per_word * len(text.split()) / speed
        n = int(total_ms * self.sample_rate_hz / 1000)
        t = np.arange(n) / self.sample_rate_hz
        audio = Pcm16.from_float32(
            (0.1 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), self.sample_rate_hz
        )
        try:
            half = audio.slice_ms(0, total_ms / 2)
            yield half
            await asyncio.sleep(0)
            yield audio.slice_ms(total_ms / 2)
        finally:
            self.closed += 1


class FakeAppError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class SavedTurn:
    role: str
    text: str
    meta: dict[str, Any]


@dataclass
class FakeTurnModel:
    """A turn-completion model that hears what it is told to (``finished``: probability)."""

    finished: float = 0.9
    heard_ms: list[float] = field(default_factory=list)
    fail: bool = False
    gate: asyncio.Event | None = None

    async def probability(self, audio: Pcm16) -> float:
        await asyncio.sleep(0)
        if self.gate is not None:
            await self.gate.wait()
        if self.fail:
            raise RuntimeError("onnxruntime exploded")
        self.heard_ms.append(audio.duration_ms)
        return self.finished


@dataclass
class FakeConversation:
    """Mirrors the interview engine's rules: answers only when one is awaited."""

    replies: list[str] = field(default_factory=list)
    total: int = 3
    question: int = 0
    awaiting: str = "question"
    saved: list[SavedTurn] = field(default_factory=list)
    fail_save_candidate: int = 0
    fail_stream: int = 0
    stream_gate: asyncio.Event | None = None
    streams_started: int = 0
    streams_closed: int = 0
    closing_line: str = "Thanks, that's all."
    prefills: list[str] = field(default_factory=list)
    revisions: list[tuple[int, str, str]] = field(default_factory=list)

    def _progress(self) -> Progress:
        last = next((t.text for t in reversed(self.saved) if t.role == "assistant"), None)
        return Progress(self.question, self.total, self.awaiting, last)  # type: ignore[arg-type]

    async def progress(self) -> Progress:
        return self._progress()

    async def save_candidate_turn(
        self,
        text: str,
        *,
        audio_duration_ms: int | None,
        timings: Mapping[str, float],
        continues_previous: bool,
        audio: Pcm16 | None = None,
    ) -> Progress:
        if self.fail_save_candidate:
            self.fail_save_candidate -= 1
            raise FakeAppError("database_unavailable", "could not store the answer")
        meta = {
            "audio_duration_ms": audio_duration_ms,
            "timings": dict(timings),
            "continues": continues_previous,
            "audio_ms": audio.duration_ms if audio is not None else None,
        }
        if continues_previous:
            assert self.awaiting == "question" and self.saved[-1].role == "user", (
                "nothing to continue"
            )
            self.saved[-1] = SavedTurn("user", f"{self.saved[-1].text} {text}", meta)
        else:
            if self.awaiting != "answer":
                raise FakeAppError("conflict", f"not awaiting an answer ({self.awaiting})")
            self.saved.append(SavedTurn("user", text, meta))
        self.awaiting = "question"
        answer_id = max(i for i, t in enumerate(self.saved) if t.role == "user")
        return dataclasses.replace(self._progress(), answer_id=answer_id)

    async def revise_answer(self, answer_id: int, heard: str, text: str) -> bool:
        self.revisions.append((answer_id, heard, text))
        turn = self.saved[answer_id]
        if turn.role != "user" or turn.text != heard:
            return False
        self.saved[answer_id] = SavedTurn("user", text, {**turn.meta, "revised_from": heard})
        return True

    async def prefill(self, answer_so_far: str) -> None:
        assert self.awaiting == "answer", "prefill is only for an answer in progress"
        self.prefills.append(answer_so_far)

    async def stream_interviewer_reply(self) -> AsyncIterator[str]:
        assert self.awaiting == "question"
        self.streams_started += 1
        try:
            if self.stream_gate is not None:
                await self.stream_gate.wait()
            if self.fail_stream:
                self.fail_stream -= 1
                raise FakeAppError("ai_service_error", "the model is down")
            text = self.closing_line if self.question >= self.total else self.replies[self.question]
            for word in text.split(" "):
                yield word + " "
                await asyncio.sleep(0)
        finally:
            self.streams_closed += 1

    async def save_interviewer_turn(
        self, text: str, *, interrupted: bool, timings: Mapping[str, float]
    ) -> Progress:
        assert self.awaiting == "question", self.awaiting
        self.saved.append(
            SavedTurn("assistant", text, {"interrupted": interrupted, "timings": dict(timings)})
        )
        if self.question >= self.total:
            self.awaiting = "finished"
        else:
            self.question += 1
            self.awaiting = "answer"
        return self._progress()

    async def skip_question(self) -> Progress:
        if self.awaiting != "answer":
            raise FakeAppError("conflict", f"not awaiting an answer ({self.awaiting})")
        self.saved.append(SavedTurn("user", "(skipped)", {"skipped": True}))
        self.awaiting = "question"
        return dataclasses.replace(self._progress(), answer_id=len(self.saved) - 1)

    async def end_interview(self) -> Progress:
        if self.awaiting == "question" and self.question > 0:
            self.saved.append(SavedTurn("assistant", self.closing_line, {"interrupted": False}))
        self.awaiting = "finished"
        return self._progress()


class FakeClock:
    """Virtual time: sleepers wake only when the test advances the clock."""

    def __init__(self) -> None:
        self.t = 1000.0
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def __call__(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sleepers.append((self.t + seconds, future))
        await future

    def advance(self, seconds: float) -> None:
        self.t += seconds
        keep = []
        for target, future in self._sleepers:
            if future.done():
                continue
            if target <= self.t + 1e-9:
                future.set_result(None)
            else:
                keep.append((target, future))
        self._sleepers = keep


async def settle(rounds: int = 30) -> None:
    for _ in range(rounds):
        await asyncio.sleep(0)


@dataclass
class Harness:
    session: VoiceSession
    clock: FakeClock
    conversation: FakeConversation
    stt: ToneSTT
    tts: FakeTTS
    sent: list[ServerEvent | Pcm16]

    @property
    def events(self) -> list[ServerEvent]:
        return [e for e in self.sent if not isinstance(e, Pcm16)]

    def of(self, cls: type[Any]) -> list[Any]:
        return [e for e in self.sent if isinstance(e, cls)]

    def types(self) -> list[str]:
        return [type(e).__name__ for e in self.events]

    @property
    def audio_out(self) -> list[Pcm16]:
        return [e for e in self.sent if isinstance(e, Pcm16)]

    def clear(self) -> None:
        self.sent.clear()

    async def control(self, text: str) -> None:
        decode_client_message(text)  # the tests only send valid JSON through this helper
        await self.session.receive_text(text)
        await settle()

    async def feed(self, audio: Pcm16, *, frame_ms: float = 20) -> None:
        """Send audio in real-time-sized frames, advancing virtual time per frame."""
        for frame in audio.split(frame_ms):
            self.clock.advance(frame.duration_s)
            await self.session.receive_audio(frame.data)
            await settle(5)
        await settle()

    async def quiet(self, ms: float) -> None:
        await self.feed(silence(ms))

    async def wait(self, seconds: float, *, step_s: float = 0.05) -> None:
        """Let virtual time pass without audio (e.g. playback finishing)."""
        elapsed = 0.0
        while elapsed < seconds:
            self.clock.advance(step_s)
            elapsed += step_s
            await settle(5)
        await settle()

    async def start(self, *, answer_ready: bool = True) -> None:
        """start → first question spoken and played out → listening."""
        await self.control('{"type":"start"}')
        if answer_ready:
            await self.play_out()

    async def play_out(self) -> None:
        # Silence (not a pause in sending) keeps the audio path alive while playback runs.
        for _ in range(400):
            if self.session.state == "listening" and self.session._reply is None:
                return
            await self.quiet(100)
        raise AssertionError(f"still {self.session.state}")


@pytest.fixture
async def make_harness() -> AsyncIterator[Any]:
    created: list[Harness] = []

    async def make(
        *,
        replies: list[str] | None = None,
        config: VoiceConfig | None = None,
        vocabulary: Vocabulary | None = None,
        others_busy: Any = None,
        turn_model: Any = None,
        **conversation: Any,
    ) -> Harness:
        clock = FakeClock()
        sent: list[ServerEvent | Pcm16] = []

        async def send(item: ServerEvent | Pcm16) -> None:
            sent.append(item)

        conv = FakeConversation(
            replies=replies
            or [
                "Tell me about yourself. What drew you to this role?",
                "Describe a hard bug you fixed. How did you find it?",
                "Where do you see yourself in five years?",
            ],
            **conversation,
        )
        stt = ToneSTT()
        tts = FakeTTS()
        session = VoiceSession(
            session_id="test-session",
            conversation=conv,
            stt=stt,
            tts=tts,
            vad_model=EnergyVad(),
            send=send,
            vocabulary=vocabulary,
            others_busy=others_busy,
            turn_model=turn_model,
            config=config or VoiceConfig(first_clause_min_words=0),
            clock=clock,
            sleep=clock.sleep,
        )
        await session.open()
        harness = Harness(session, clock, conv, stt, tts, sent)
        created.append(harness)
        return harness

    yield make
    for harness in created:
        await harness.session.aclose()
