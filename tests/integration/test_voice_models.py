"""The real voice models end to end: Piper speaks, Silero hears, Whisper writes it back.

Slow (model loading, CPU inference): marked ``slow``. ~30 s on 2 cores.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import faster_whisper
import numpy as np
import pytest

from bench.stt import FILLER, filler_counts, filler_hits
from bench.wer import word_edits
from server.services.vocabulary import interview_vocabulary
from server.voice.audio import Pcm16, resample, silence
from server.voice.config import VoiceConfig
from server.voice.protocol import (
    FinalTranscript,
    InterviewerSentence,
    PartialTranscript,
    ServerEvent,
    TurnTimings,
)
from server.voice.session import VoiceSession
from server.voice.stt import WhisperSTT, normalize_words
from server.voice.tts import PiperTTS, default_piper_voice_path
from server.voice.vad import SileroVadModel, StreamingVad, shared_silero_vad
from tests.unit.voice.conftest import FakeConversation, FakeTTS

pytestmark = pytest.mark.slow

SENTENCES = [
    "In my last role I led the migration of our billing service to three smaller services.",
    "We ran both systems in parallel for two weeks and compared every invoice"
    " before switching over.",
]


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Word-level Levenshtein distance over the reference length (case and punctuation ignored):
    the speech benchmark's own measure."""
    edits, words = word_edits(reference, hypothesis)
    return edits / max(1, words)


def test_word_error_rate_helper() -> None:
    assert word_error_rate("the cat sat", "The cat, sat!") == 0
    assert word_error_rate("the cat sat", "the bat sat") == pytest.approx(1 / 3)
    assert word_error_rate("the cat sat", "the cat") == pytest.approx(1 / 3)
    assert word_error_rate("the cat", "the cat sat down") == pytest.approx(1.0)


@pytest.fixture(scope="module")
def piper() -> PiperTTS:
    # The same text, the same audio: what Whisper hears back does not vary from run to run
    # (with Piper's noise, one run in many heard only the first sentence).
    return PiperTTS.load(varied=False)


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


BIASED_SENTENCE = (
    "At PayBright I built the refunds API in Django, and at Parcelly we moved to FastAPI "
    "with Redis."
)
BIASED_TERMS = ("PayBright", "Parcelly", "FastAPI", "Redis")


def test_the_interviews_terms_are_heard_with_its_vocabulary(
    piper: PiperTTS, whisper: WhisperSTT, sample_cv: str, sample_jd: str
) -> None:
    """Piper says a sentence a little differently each time (its generator noise), so the
    comparison is over three renderings: 0-1 of the 4 terms unbiased, usually all biased."""
    hotwords = interview_vocabulary(sample_cv, sample_jd).hotwords()
    heard = {"unbiased": 0, "biased": 0}
    errors = {"unbiased": 0.0, "biased": 0.0}
    for _ in range(3):
        audio = resample(asyncio.run(synthesize(piper, BIASED_SENTENCE)), 16_000)
        for label, words in (("unbiased", None), ("biased", hotwords)):
            text = whisper.transcribe_sync(audio, hotwords=words).text
            said = f" {normalize_words(text)} "
            heard[label] += sum(f" {t.lower()} " in said for t in BIASED_TERMS)
            errors[label] += word_error_rate(BIASED_SENTENCE, text)
    assert heard["biased"] >= 2 * len(BIASED_TERMS) and heard["biased"] > heard["unbiased"]
    assert errors["biased"] < errors["unbiased"], errors


def test_hotwords_reach_whispers_prompt_in_both_windows(
    spoken: list[Pcm16], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The short-window pass builds its prompt itself: the hotwords must be in it too."""
    seen: list[str | None] = []

    class PromptSpy(faster_whisper.WhisperModel):  # type: ignore[misc]
        def get_prompt(self, *args: Any, **kwargs: Any) -> list[int]:
            seen.append(kwargs.get("hotwords"))
            return list(super().get_prompt(*args, **kwargs))

    monkeypatch.setattr(faster_whisper, "WhisperModel", PromptSpy)
    audio = resample(spoken[0], 16_000)
    for window in ("fit", "full"):
        seen.clear()
        WhisperSTT(final_window=window).transcribe_sync(audio, hotwords="Parcelly, PayBright")
        assert seen and set(seen) == {"Parcelly, PayBright"}, window


def test_fillers_survive_a_final_transcription(spoken: list[Pcm16], whisper: WhisperSTT) -> None:
    """The delivery analytics count "um" and "uh" from the stored text: the adapter's filler
    seed must keep them (tiny.en drops most without it) and invent none in fluent speech."""
    from piper import PiperVoice, SynthesisConfig

    voice = PiperVoice.load(default_piper_voice_path())
    quiet = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0)  # the same audio every run
    engines = {"seeded": whisper, "unseeded": WhisperSTT(filler_seed=None)}
    assert whisper.filler_seed  # the default
    kept = dict.fromkeys(engines, 0)
    said = 0
    for answer in (FILLER[0], FILLER[2]):  # 3 + 2 "um"/"uh", and a "you know"
        chunks = list(voice.synthesize(answer.text, syn_config=quiet))
        audio = Pcm16(b"".join(c.audio_int16_bytes for c in chunks), chunks[0].sample_rate)
        audio = resample(audio, 16_000)
        said += sum(filler_counts(answer.text).values())
        for label, stt in engines.items():
            text = stt.transcribe_sync(audio).text
            hits, _n, invented = filler_hits(answer.text, text)
            kept[label] += hits
            assert invented == 0, (label, text)
    assert kept["seeded"] >= said - 1 and kept["seeded"] > kept["unseeded"], (kept, said)
    for audio in spoken:  # fluent answers: no filler appears from the seed
        assert not filler_counts(whisper.transcribe_sync(resample(audio, 16_000)).text)


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


async def test_the_engines_work_while_the_default_executor_is_taken(
    spoken: list[Pcm16], whisper: WhisperSTT, piper: PiperTTS
) -> None:
    """Whisper, Piper and Smart Turn run on threads of their own (server/voice/workers.py): a
    queue of their jobs cannot starve the event loop's default executor, nor wait behind it
    (under load, before, the server stopped answering: docs/reliability.md)."""
    from concurrent.futures import ThreadPoolExecutor

    from server.voice.endpoint import SmartTurn

    turn_model = await asyncio.to_thread(SmartTurn.load)
    loop = asyncio.get_running_loop()
    release = asyncio.Event()
    taken = ThreadPoolExecutor(max_workers=1)
    loop.set_default_executor(taken)
    blocker = loop.run_in_executor(None, lambda: asyncio.run_coroutine_threadsafe(
        release.wait(), loop).result())  # fmt: skip
    try:
        answer = resample(spoken[0], 16_000)
        async with asyncio.timeout(30):
            heard = await whisper.transcribe(answer)
            voiced = [chunk async for chunk in piper.synthesize("Tell me about a hard bug.")]
            finished = await turn_model.probability(answer)
        assert heard.text and voiced and 0.0 <= finished <= 1.0
        assert not blocker.done()  # the default executor was taken all along
    finally:
        release.set()
        await blocker
        loop.set_default_executor(ThreadPoolExecutor())
        taken.shutdown()


def test_importing_the_server_keeps_openblas_to_one_thread() -> None:
    import subprocess
    import sys

    code = "import server, os; print(os.environ['OPENBLAS_NUM_THREADS'])"
    env = {k: v for k, v in __import__("os").environ.items() if k != "OPENBLAS_NUM_THREADS"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "1", out.stderr
