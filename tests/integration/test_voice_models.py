"""The real voice models end to end: Piper speaks, Silero hears, Whisper writes it back.

Slow (model loading, CPU inference): marked ``slow``. ~30 s on 2 cores.
"""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest

from server.voice.audio import Pcm16, resample, silence
from server.voice.protocol import (
    FinalTranscript,
    InterviewerSentence,
    PartialTranscript,
    ServerEvent,
    TurnTimings,
)
from server.voice.session import VoiceConfig, VoiceSession
from server.voice.stt import WhisperSTT, normalize_words
from server.voice.tts import PiperTTS
from server.voice.vad import SileroVadModel, StreamingVad, shared_silero_vad
from tests.unit.voice.conftest import FakeConversation, FakeTTS

pytestmark = pytest.mark.slow

SENTENCES = [
    "In my last role I led the migration of our billing service to three smaller services.",
    "We ran both systems in parallel for two weeks and compared every invoice"
    " before switching over.",
]


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Word-level Levenshtein distance over the reference length (case and punctuation ignored)."""
    ref = normalize_words(reference).split()
    hyp = normalize_words(hypothesis).split()
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        current = [i]
        for j, h in enumerate(hyp, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h)))
        previous = current
    return previous[-1] / max(1, len(ref))


def test_word_error_rate_helper() -> None:
    assert word_error_rate("the cat sat", "The cat, sat!") == 0
    assert word_error_rate("the cat sat", "the bat sat") == pytest.approx(1 / 3)
    assert word_error_rate("the cat sat", "the cat") == pytest.approx(1 / 3)
    assert word_error_rate("the cat", "the cat sat down") == pytest.approx(1.0)


@pytest.fixture(scope="module")
def piper() -> PiperTTS:
    return PiperTTS.load()


@pytest.fixture(scope="module")
def whisper() -> WhisperSTT:
    return WhisperSTT()


@pytest.fixture(scope="module")
def silero() -> SileroVadModel:
    return shared_silero_vad()


async def synthesize(piper: PiperTTS, text: str) -> Pcm16:
    audio = Pcm16.empty(piper.sample_rate_hz)
    async for chunk in piper.synthesize(text):
        audio = audio + chunk
    return audio


@pytest.fixture(scope="module")
def spoken(piper: PiperTTS) -> list[Pcm16]:
    """Each sentence as Piper says it, at 22,050 Hz."""
    return [asyncio.run(synthesize(piper, s)) for s in SENTENCES]


def speech_windows(silero: SileroVadModel, audio: Pcm16) -> list[float]:
    vad = StreamingVad(silero)
    return [w.speech_prob for frame in audio.split(20) for w in vad.process(frame)]


def test_piper_output_is_non_silent_speech_at_22050(spoken: list[Pcm16], piper: PiperTTS) -> None:
    assert piper.sample_rate_hz == 22_050
    for audio in spoken:
        assert audio.sample_rate_hz == 22_050 and audio.channels == 1
        assert 2.0 < audio.duration_s < 15.0
        assert audio.rms_dbfs() > -30.0
        assert np.abs(audio.to_int16()).max() > 10_000


async def test_piper_first_chunk_arrives_before_the_text_is_done(piper: PiperTTS) -> None:
    started = time.perf_counter()
    stream = piper.synthesize("Thanks, that helps. Tell me more about the cutover plan.")
    first = await anext(stream)
    first_s = time.perf_counter() - started
    rest = [chunk async for chunk in stream]
    total_s = time.perf_counter() - started
    assert first.duration_s > 0.5 and rest  # one chunk per sentence
    assert first_s < total_s


def test_whisper_transcribes_piper_back(spoken: list[Pcm16], whisper: WhisperSTT) -> None:
    for text, audio in zip(SENTENCES, spoken, strict=True):
        transcript = whisper.transcribe_sync(resample(audio, 16_000))
        assert word_error_rate(text, transcript.text) < 0.15, transcript.text
        draft = whisper.transcribe_sync(resample(audio, 16_000), draft=True)
        assert word_error_rate(text, draft.text) < 0.3, draft.text


def test_a_draft_is_skipped_while_whisper_transcribes_another_interview(
    spoken: list[Pcm16], whisper: WhisperSTT
) -> None:
    audio = resample(spoken[0], 16_000)
    with whisper._lock:  # another interview's transcription holds the engine
        draft = whisper.transcribe_sync(audio, draft=True)
    assert draft.skipped and draft.text == ""
    again = whisper.transcribe_sync(audio, draft=True)
    assert not again.skipped and word_error_rate(SENTENCES[0], again.text) < 0.3


def test_vad_finds_speech_in_speech_and_none_in_silence(
    spoken: list[Pcm16], silero: SileroVadModel
) -> None:
    probs = speech_windows(silero, resample(spoken[0], 16_000))
    assert sum(p > 0.5 for p in probs) > 0.5 * len(probs)
    assert max(speech_windows(silero, silence(3000))) < 0.1
    rng = np.random.default_rng(7)
    hiss = Pcm16.from_float32((0.003 * rng.standard_normal(48_000)).astype(np.float32), 16_000)
    assert max(speech_windows(silero, hiss)) < 0.5


async def test_silence_is_never_transcribed_into_text(whisper: WhisperSTT) -> None:
    rng = np.random.default_rng(3)
    hiss = Pcm16.from_float32((0.003 * rng.standard_normal(32_000)).astype(np.float32), 16_000)
    for audio in (silence(500), silence(3000), hiss):
        for draft in (False, True):
            transcript = await whisper.transcribe(audio, draft=draft)
            assert transcript.text == "", (audio.duration_ms, draft, transcript)


async def test_a_spoken_answer_through_the_session(
    spoken: list[Pcm16], whisper: WhisperSTT, silero: SileroVadModel
) -> None:
    """Real VAD + STT in VoiceSession at ~2x real time: live captions, then the whole answer,
    and the last words survive even when the voice trails off."""
    parts = [resample(a, 16_000) for a in spoken]
    last = parts[-1].to_float32()
    fade = int(0.6 * 16_000)  # the speaker trails off over the last 0.6 s
    last[-fade:] *= np.linspace(1.0, 0.25, fade, dtype=np.float32)
    parts[-1] = Pcm16.from_float32(last, 16_000)
    answer = silence(300) + parts[0] + silence(450) + parts[1] + silence(1500)

    sent: list[tuple[float, ServerEvent | Pcm16]] = []

    async def send(item: ServerEvent | Pcm16) -> None:
        sent.append((time.perf_counter(), item))

    conversation = FakeConversation(replies=["Next?"] * 3, question=1, awaiting="answer")
    config = VoiceConfig(flood_max_ahead_ms=60_000)  # we feed faster than real time on purpose
    session = VoiceSession(
        session_id="it",
        conversation=conversation,
        stt=whisper,
        tts=FakeTTS(),
        vad_model=silero,
        send=send,
        config=config,
    )
    async with session:
        await session.receive_text('{"type":"retry"}')
        started = time.perf_counter()
        for i, frame in enumerate(answer.split(20)):
            await asyncio.sleep(max(0.0, started + i * 0.01 - time.perf_counter()))
            await session.receive_audio(frame.data)
        await _wait_for(sent, TurnTimings, timeout_s=30)

    events = [e for _, e in sent if not isinstance(e, Pcm16)]
    finals = [e for e in events if isinstance(e, FinalTranscript)]
    assert len(finals) == 1
    final = finals[0].text
    assert word_error_rate(" ".join(SENTENCES), final) < 0.15, final
    assert normalize_words(final).endswith("switching over"), final
    assert conversation.saved[0].text == final
    first_partial = next(i for i, e in enumerate(events) if isinstance(e, PartialTranscript))
    assert first_partial < events.index(finals[0])
    timings = next(e for e in events if isinstance(e, TurnTimings)).timings_ms
    assert "final_transcript_after_end_of_turn_ms" in timings


async def _wait_for(
    sent: list[tuple[float, ServerEvent | Pcm16]], kind: type, *, timeout_s: float
) -> None:
    deadline = time.perf_counter() + timeout_s
    while not any(isinstance(e, kind) for _, e in sent):
        assert time.perf_counter() < deadline, f"no {kind.__name__} within {timeout_s} s"
        await asyncio.sleep(0.05)


async def test_the_interviewer_speaks_with_piper_through_the_session(
    piper: PiperTTS, whisper: WhisperSTT, silero: SileroVadModel
) -> None:
    question = "Thanks for coming in today, it is good to meet you. What are you working on?"
    sent: list[ServerEvent | Pcm16] = []

    async def send(item: ServerEvent | Pcm16) -> None:
        sent.append(item)

    async def no_playback_wait(_seconds: float) -> None:
        await asyncio.sleep(0)

    conversation = FakeConversation(replies=[question])
    session = VoiceSession(
        session_id="it-tts",
        conversation=conversation,
        stt=whisper,
        tts=piper,
        vad_model=silero,
        send=send,
        sleep=no_playback_wait,
    )
    async with session:
        await session.receive_text('{"type":"start"}')
        deadline = time.perf_counter() + 30
        while not conversation.saved:
            assert time.perf_counter() < deadline
            await asyncio.sleep(0.05)

    audio = [a for a in sent if isinstance(a, Pcm16)]
    assert audio and all(a.sample_rate_hz == 22_050 and a.duration_ms <= 101 for a in audio)
    captions = [e.text for e in sent if isinstance(e, InterviewerSentence)]
    # The first clause is voiced on its own, to get audio out sooner.
    assert captions == [
        "Thanks for coming in today,",
        "it is good to meet you.",
        "What are you working on?",
    ]
    spoken = resample(sum(audio[1:], audio[0]), 16_000)
    assert word_error_rate(question, whisper.transcribe_sync(spoken).text) < 0.15
    assert conversation.saved[0].text == question
    timings = next(e for e in sent if isinstance(e, TurnTimings))
    assert timings.reference == "request"
    assert "first_audio_after_first_sentence_ms" in timings.timings_ms
