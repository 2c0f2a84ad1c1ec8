"""The semantic end of turn and resumed answers, for real: Piper speech, Silero, Smart Turn and
faster-whisper, first on the turn detector alone (the pause set's simulation), then streamed at
real time through the real WebSocket into the real app (the interviewer's words scripted, so
the test knows when an acknowledgement plays)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bench.pauses import BEFORE_THIN_ANSWERS, Policy, load_engines, render_item, simulate
from bench.stt_audio import RENDERINGS, Renderer
from server.container import load_speech
from server.settings import Settings
from server.voice.audio import INPUT_SAMPLE_RATE_HZ, Pcm16, resample, silence
from server.voice.config import samples
from server.voice.engines import SpeechEngines
from server.voice.tts import PiperTTS
from server.voice.turns import patience_after
from server.voice_client import VoiceClient, create_sample_session
from tests.fakes import FakeChatModel
from tests.live import serve

pytestmark = pytest.mark.slow

PIPER = RENDERINGS[0]
SEMANTIC = Policy("semantic", semantic=True, silence_ms=3000)


@pytest.fixture(scope="module")
def turn_engines() -> tuple[object, object, object]:
    return load_engines(Settings.from_env().models_dir)


def test_a_finished_answer_ends_at_its_pause_and_a_thinking_pause_is_waited_out(
    turn_engines: tuple[object, object, object], tmp_path: Path
) -> None:
    vad, turn_model, stt = turn_engines
    renderer = Renderer(tmp_path)
    finished = render_item(
        renderer, PIPER, "complete", ("I set up the on-call rotation for the team.",), 0
    )
    outcome = simulate(finished.audio, vad, turn_model, SEMANTIC, stt=stt)  # type: ignore[arg-type]
    assert outcome.reason == "complete"
    assert outcome.end_sample is not None
    delay_ms = (outcome.end_sample - finished.speech_end_sample) * 1000 / INPUT_SAMPLE_RATE_HZ
    assert delay_ms < 3000 * 0.5  # far sooner than the pause limit

    thinking = render_item(
        renderer,
        PIPER,
        "mid-sentence",
        ("The hardest part of that project was,", "convincing the other team to change."),
        2000,
    )
    outcome = simulate(thinking.audio, vad, turn_model, SEMANTIC, stt=stt)  # type: ignore[arg-type]
    assert outcome.end_sample is not None and outcome.end_sample > thinking.speech_end_sample


DEFAULT = dataclasses.replace(SEMANTIC, question=True, unsure=True)


@pytest.mark.parametrize(
    ("parts", "pause_ms", "asked", "weaker"),
    [
        # A whole sentence by its words and its intonation: Smart Turn and the words hear it
        # finished, and without the question the turn ended in the thinking pause.
        (
            (
                "We ran everything on Kubernetes in AWS,",
                "and I set up Prometheus alerts for checkout.",
            ),
            2000,
            "How did you run the checkout service?",
            SEMANTIC,
        ),
        # Twelve words (Smart Turn p 0.79 on the pause set): cut with the 10-word bar.
        (
            (
                "The primary database ran out of disk space on a Friday evening,",
                "so we failed over to the replica.",
            ),
            1500,
            "Describe an outage you handled.",
            dataclasses.replace(DEFAULT, open_answer_words=BEFORE_THIN_ANSWERS),
        ),
    ],
    ids=["short", "thin"],
)
def test_a_whole_first_clause_asked_an_open_question_is_waited_out(
    turn_engines: tuple[object, object, object],
    tmp_path: Path,
    parts: tuple[str, str],
    pause_ms: int,
    asked: str,
    weaker: Policy,
) -> None:
    vad, turn_model, stt = turn_engines
    thinking = render_item(Renderer(tmp_path), PIPER, "mid-sentence", parts, pause_ms)
    cut = simulate(thinking.audio, vad, turn_model, weaker, stt=stt, question=asked)  # type: ignore[arg-type]
    assert cut.end_sample is not None and cut.end_sample < thinking.resume_sample
    waited = simulate(thinking.audio, vad, turn_model, DEFAULT, stt=stt, question=asked)  # type: ignore[arg-type]
    assert waited.end_sample is not None and waited.end_sample > thinking.speech_end_sample


def test_a_whisper_restart_does_not_make_a_thin_answer_look_long(
    turn_engines: tuple[object, object, object], tmp_path: Path
) -> None:
    # In 20 dB noise tiny.en's short-window pass read this 16-word clause, then started it
    # again: 27 words, not thin, and the turn ended in the thinking pause. Such a pass is now
    # redone on the standard path (``stt.restarted``), which reads it once.
    vad, turn_model, stt = turn_engines
    noisy = next(r for r in RENDERINGS if r.name == "piper-slow-noisy")
    thinking = render_item(
        Renderer(tmp_path),
        noisy,
        "mid-sentence",
        (
            "I was the tech lead for the payments team at my last company for two years,",
            "and before that I worked on fraud detection.",
        ),
        1000,
    )
    asked = "Tell me about your last role."
    waited = simulate(thinking.audio, vad, turn_model, DEFAULT, stt=stt, question=asked)  # type: ignore[arg-type]
    assert waited.end_sample is not None and waited.end_sample > thinking.speech_end_sample


def test_a_short_answer_to_a_closed_question_ends_at_its_pause(
    turn_engines: tuple[object, object, object], tmp_path: Path
) -> None:
    vad, turn_model, stt = turn_engines
    short = render_item(Renderer(tmp_path), PIPER, "complete", ("About six years.",), 0)
    closed = "How many years of Python do you have?"
    ended = simulate(short.audio, vad, turn_model, DEFAULT, stt=stt, question=closed)  # type: ignore[arg-type]
    assert ended.reason == "complete"


def test_a_candidate_cut_off_once_is_not_cut_off_at_the_next_such_pause(
    turn_engines: tuple[object, object, object], tmp_path: Path
) -> None:
    # With the 10-word bar, both whole first clauses are cut at a 1.5 s thinking pause (Smart
    # Turn p 0.79 and 0.98 on the pause set). What the first cut-off teaches (the candidate
    # went on after 1.5 s) keeps the second answer whole.
    vad, turn_model, stt = turn_engines
    renderer = Renderer(tmp_path)
    policy = dataclasses.replace(DEFAULT, open_answer_words=BEFORE_THIN_ANSWERS)
    first, second = (
        render_item(renderer, PIPER, "mid-sentence", parts, 1500)
        for parts in (
            (
                "The primary database ran out of disk space on a Friday evening,",
                "so we failed over to the replica.",
            ),
            (
                "I was the tech lead for the payments team at my last company for two years,",
                "and before that I worked on fraud detection.",
            ),
        )
    )
    asked = "Describe an outage you handled."
    cut = simulate(first.audio, vad, turn_model, policy, stt=stt, question=asked)  # type: ignore[arg-type]
    assert cut.end_sample is not None and cut.end_sample < first.resume_sample
    assert cut.voice_end is not None
    patience = patience_after(first.resume_sample - cut.voice_end, samples(3000))
    asked = "Tell me about your last role."
    plain = simulate(second.audio, vad, turn_model, policy, stt=stt, question=asked)  # type: ignore[arg-type]
    assert plain.end_sample is not None and plain.end_sample < second.resume_sample
    learned = simulate(
        second.audio,
        vad,
        turn_model,
        policy,
        stt=stt,
        question=asked,
        patience=patience,  # type: ignore[arg-type]
    )
    assert learned.end_sample is not None and learned.end_sample > second.speech_end_sample


# --------------------------------------------------------------------------- the real socket


@pytest.fixture(scope="module")
def engines() -> SpeechEngines:
    return asyncio.run(
        load_speech(dataclasses.replace(Settings(), stt_beam_size=5, stt_second_pass=False))
    )


@pytest.fixture
def live_url(
    engines: SpeechEngines, fake_llm: FakeChatModel, settings: Settings, db: None
) -> Iterator[str]:
    from server.app import create_app

    with serve(create_app(settings, llm=fake_llm, speech=engines)) as url:
        yield url


async def _say(voice: PiperTTS, text: str) -> Pcm16:
    chunks = [chunk async for chunk in voice.synthesize(text)]
    voice = Pcm16(b"".join(c.data for c in chunks), chunks[0].sample_rate_hz)
    return resample(voice, INPUT_SAMPLE_RATE_HZ)


async def _answering(http: httpx.AsyncClient, live_url: str) -> tuple[str, VoiceClient]:
    """A new interview on the socket, its first question asked: an answer is due."""
    # Turn-taking is under test: the first halves said here are short, and would each get a
    # follow-up on a realistic interview.
    sid = await create_sample_session(http, difficulty="easy")
    client = await VoiceClient.open(live_url, sid, http.cookies["viva_owner"])
    await client.until("hello")
    await client.send({"type": "start"})
    await client.until_progress("answer", timeout_s=120)
    return sid, client


async def _answers(http: httpx.AsyncClient, sid: str) -> list[dict[str, object]]:
    messages = (await http.get(f"/api/sessions/{sid}")).json()["messages"]
    return list(messages)


@pytest.mark.db
async def test_going_on_over_an_acknowledgement_is_one_answer(
    live_url: str, candidate_voice: PiperTTS, fake_llm: FakeChatModel
) -> None:
    fake_llm.chat_replies = [
        # The composed acknowledgement plays first; "That's great!" is dropped after it.
        "That's great! What would you do differently, looking back on that project today?",
        "Thanks. What did you learn from the outage?",
    ]
    first = await _say(candidate_voice, "I led the migration of our order service to Postgres.")
    more = await _say(candidate_voice, "It took three months, and we had no downtime at all.")
    async with httpx.AsyncClient(base_url=live_url, timeout=120) as http:
        sid, client = await _answering(http, live_url)
        try:
            await client.speak(
                Pcm16(silence(400).data + first.data, INPUT_SAMPLE_RATE_HZ), trailing_silence_ms=0
            )
            # A finished sentence: the turn ends, the acknowledgement starts playing...
            await client.silence_until("audio_start", timeout_s=60)
            # ... and the candidate goes on with their answer over it.
            await client.speak(more, trailing_silence_ms=400)
            # The reply to the whole answer starts (the candidate has stopped again).
            await client.silence_until("audio_start", timeout_s=60)
            await client.until_progress("answer", timeout_s=60)
        finally:
            await client.close()
        messages = await _answers(http, sid)

    (flush,) = client.of_type("flush_playback")
    assert flush["kept"] is False  # only the acknowledgement was heard: not kept as a question
    finals = client.of_type("final_transcript")
    assert [f["continues"] for f in finals] == [False, True]
    roles = [m["role"] for m in messages]
    assert roles == ["assistant", "user", "assistant"], messages
    answer = str(messages[1]["content"]).lower()
    # Both halves, whatever Whisper makes of the number ("three months" or "3 months").
    assert "migration" in answer and "months" in answer and "downtime" in answer
    # The acknowledgement composed from the whole answer, then the model's question (its own
    # "Thanks." dropped: the answer was acknowledged already).
    ack, question = str(messages[2]["content"]).split(" ", 1)[0], str(messages[2]["content"])
    assert question.endswith(". What did you learn from the outage?") and ack != "Thanks."
    assert messages[2]["question_number"] == 2  # the acknowledgement took no number


@pytest.mark.db
async def test_a_thinking_pause_mid_sentence_does_not_split_the_answer(
    live_url: str, candidate_voice: PiperTTS
) -> None:
    before = await _say(candidate_voice, "The main reason the migration took so long was,")
    after = await _say(candidate_voice, "that nobody on the team owned the billing code.")
    answer = Pcm16(
        silence(400).data + before.data + silence(1500).data + after.data, INPUT_SAMPLE_RATE_HZ
    )
    async with httpx.AsyncClient(base_url=live_url, timeout=120) as http:
        sid, client = await _answering(http, live_url)
        try:
            await client.speak(answer, trailing_silence_ms=0)
            await client.silence_until("audio_start", timeout_s=60)  # the reply begins
            await client.until_progress("answer", timeout_s=60)
        finally:
            await client.close()
        messages = await _answers(http, sid)

    assert not client.of_type("flush_playback")  # the interviewer never started too early
    (final,) = client.of_type("final_transcript")
    text = str(final["text"]).lower()
    assert "migration" in text and "billing" in text
    assert [m["role"] for m in messages] == ["assistant", "user", "assistant"]
