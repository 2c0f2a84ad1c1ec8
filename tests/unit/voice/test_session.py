"""VoiceSession with fake STT/TTS/conversation, an energy VAD and virtual time."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from server.voice.audio import Pcm16
from server.voice.commands import with_command_cues
from server.voice.config import VoiceConfig
from server.voice.protocol import (
    CLOSE_UNUSABLE,
    AudioEnd,
    AudioStart,
    CommandHeard,
    ErrorEvent,
    FinalTranscript,
    FlushPlayback,
    Hello,
    InterviewerSentence,
    InterviewFinished,
    PartialTranscript,
    ProgressEvent,
    SettingsChanged,
    State,
    TurnDiscarded,
    TurnTimings,
)
from server.voice.vocabulary import Vocabulary
from tests.unit.voice.conftest import FakeTurnModel, Harness, SavedTurn, settle, speech

ANSWER = "alpha bravo charlie delta echo"
NATO = "alpha bravo charlie delta echo foxtrot golf hotel india juliet"
LONG_ANSWER = f"{NATO} {NATO} alpha bravo charlie delta echo foxtrot"
"""Not a thin answer (``OPEN_ANSWER_WORDS``): it ends at a pause that sounds finished. Fed
with ``quick`` (4.2 s), so it is one phrase, as a real answer of 26 words would be."""


def quick(text: str) -> Pcm16:
    """``speech`` at about a real speaker's pace: 160 ms a word."""
    return speech(text, word_ms=120, gap_ms=40)


def states(h: Harness) -> list[str]:
    return [e.state for e in h.of(State)]


def saved(h: Harness, role: str | None = None) -> list[str]:
    return [t.text for t in h.conversation.saved if role is None or t.role == role]


async def answer(h: Harness, words: str = ANSWER, *, quiet_ms: float = 1000) -> None:
    await h.feed(speech(words))
    await h.quiet(quiet_ms)


# --------------------------------------------------------------------------- start / resume


async def test_hello_then_start_speaks_the_first_question(make_harness: Any) -> None:
    h = await make_harness()
    hello = h.of(Hello)[0]
    assert hello.protocol_version == 1
    assert hello.tts_sample_rate_hz == 22_050
    assert hello.input_audio.sample_rate_hz == 16_000
    await h.start()
    assert states(h) == ["thinking", "speaking", "listening"]
    sentences = [e.text for e in h.of(InterviewerSentence)]
    assert sentences == ["Tell me about yourself.", "What drew you to this role?"]
    offsets = [e.audio_offset_ms for e in h.of(InterviewerSentence)]
    assert offsets[0] == 0 and offsets[1] > 0
    assert len(h.of(AudioStart)) == 1 and len(h.of(AudioEnd)) == 1
    assert h.audio_out and all(a.sample_rate_hz == 22_050 for a in h.audio_out)
    # Audio follows its caption; the end marker follows all audio.
    kinds = [type(e).__name__ for e in h.sent]
    assert kinds.index("InterviewerSentence") < kinds.index("Pcm16")
    assert kinds.index("AudioEnd") > max(i for i, k in enumerate(kinds) if k == "Pcm16")
    assert saved(h) == ["Tell me about yourself. What drew you to this role?"]
    assert h.conversation.saved[0].meta["interrupted"] is False
    assert h.of(ProgressEvent)[-1].awaiting == "answer"


async def test_resume_while_an_answer_is_due_repeats_the_question_without_saving(
    make_harness: Any,
) -> None:
    h = await make_harness()
    h.conversation.question, h.conversation.awaiting = 1, "answer"
    h.conversation.saved.append(SavedTurn("assistant", "Why Rust?", {}))
    await h.start()
    assert [e.text for e in h.of(InterviewerSentence)] == ["Why Rust?"]
    assert h.audio_out
    assert len(h.conversation.saved) == 1  # nothing new stored
    assert h.conversation.streams_started == 0
    await answer(h, "alpha bravo")
    assert saved(h, "user") == ["alpha bravo"]


async def test_start_again_and_again_speaks_only_within_its_budget(make_harness: Any) -> None:
    """Each ``start`` or ``retry`` speaks the question again: a client looping on it gets a
    few, then an error and no more speech synthesis until the budget refills."""
    h = await make_harness()
    h.conversation.question, h.conversation.awaiting = 1, "answer"
    h.conversation.saved.append(SavedTurn("assistant", "Why Rust?", {}))
    for _ in range(3):
        await h.start()
    assert len(h.of(InterviewerSentence)) == 3
    h.clear()
    await h.control('{"type":"retry"}')
    assert [e.code for e in h.of(ErrorEvent)] == ["too_many_requests"]
    assert not h.of(InterviewerSentence) and not h.audio_out
    await h.wait(10.5)
    await h.start()
    assert [e.text for e in h.of(InterviewerSentence)] == ["Why Rust?"]


async def test_start_on_a_finished_interview_says_so(make_harness: Any) -> None:
    h = await make_harness()
    h.conversation.question, h.conversation.awaiting = 3, "finished"
    await h.control('{"type":"start"}')
    assert h.of(InterviewFinished)
    assert not h.audio_out


# --------------------------------------------------------------------------- turn-taking


async def test_silence_timeout_ends_the_turn_and_the_answer_is_stored(make_harness: Any) -> None:
    h = await make_harness()
    await h.start()
    h.clear()
    await answer(h)
    finals = h.of(FinalTranscript)
    assert [f.text for f in finals] == [ANSWER]
    assert finals[0].source == "voice"
    assert saved(h, "user") == [ANSWER]
    meta = h.conversation.saved[1].meta
    assert meta["continues"] is False
    assert 1000 < meta["audio_duration_ms"] < 2500
    assert "end_of_turn_ms" in meta["timings"]
    # The reply to the answer is the next question.
    assert "Describe a hard bug you fixed." in [e.text for e in h.of(InterviewerSentence)]
    assert states(h)[:2] == ["hearing", "thinking"]


async def test_end_of_turn_waits_for_the_configured_silence(make_harness: Any) -> None:
    h = await make_harness()
    await h.start()
    h.clear()
    await h.feed(speech(ANSWER))
    await h.quiet(600)  # < 700 ms default
    assert h.session.state == "hearing"
    assert not h.of(FinalTranscript)
    await h.quiet(200)
    assert h.of(FinalTranscript)


async def test_a_pause_shorter_than_the_timeout_never_cuts_the_candidate_off(
    make_harness: Any,
) -> None:
    h = await make_harness()
    await h.control('{"type":"settings","silence_ms":1500}')
    assert h.of(SettingsChanged)[-1].settings.silence_ms == 1500
    await h.start()
    await h.feed(speech("alpha bravo charlie"))
    await h.quiet(1200)  # a long thinking pause, still under 1500 ms
    await h.feed(speech("delta echo foxtrot"))
    assert h.session.state == "hearing"
    await h.quiet(1600)
    assert [f.text for f in h.of(FinalTranscript)] == ["alpha bravo charlie delta echo foxtrot"]
    assert saved(h, "user") == ["alpha bravo charlie delta echo foxtrot"]


async def test_a_skipped_draft_leaves_the_live_caption_as_it_was(make_harness: Any) -> None:
    h = await make_harness()
    await h.start()
    h.clear()
    first = "alpha bravo charlie delta echo foxtrot golf hotel india juliet alpha bravo"
    await h.feed(speech(first))
    await h.quiet(500)  # committed
    await h.feed(speech("charlie delta echo foxtrot"))  # a draft of the new words
    shown = h.of(PartialTranscript)[-1].text
    assert shown.startswith(first) and len(shown) > len(first)
    h.stt.skip_drafts = True  # Whisper is busy with another interview from now on
    await h.feed(speech("golf hotel india juliet"))
    assert h.of(PartialTranscript)[-1].text == shown  # not cut back to the committed text
    await h.quiet(1000)
    assert [f.text for f in h.of(FinalTranscript)] == [
        f"{first} charlie delta echo foxtrot golf hotel india juliet"
    ]


async def test_live_captions_come_before_the_final_and_only_the_tail_is_left(
    make_harness: Any,
) -> None:
    h = await make_harness()
    await h.start()
    h.clear()
    long_answer = "alpha bravo charlie delta echo foxtrot golf hotel india juliet alpha bravo"
    await h.feed(speech(long_answer))
    await h.quiet(500)  # a sentence pause: the phrase is committed while the candidate thinks
    await h.feed(speech("alpha bravo"))
    await h.quiet(1000)
    kinds = h.types()
    assert "PartialTranscript" in kinds
    assert kinds.index("PartialTranscript") < kinds.index("FinalTranscript")
    captions = [p.text for p in h.of(PartialTranscript)]
    assert captions[-1].startswith("alpha bravo charlie")
    assert [f.text for f in h.of(FinalTranscript)] == [f"{long_answer} alpha bravo"]
    finals = [c for c in h.stt.calls if not c.draft]
    # On the critical path, one pass for the committed phrase and one for the short tail; the
    # whole answer is read again only by the second pass, after the reply (test_second_pass.py).
    assert [c.words for c in finals[:2]] == [long_answer.split(), ["alpha", "bravo"]]
    assert [c.words for c in finals[2:]] in ([], [f"{long_answer} alpha bravo".split()])
    assert finals[1].duration_ms < 2000
    assert finals[1].prompt and finals[1].prompt.endswith("juliet alpha bravo")
    drafts = [c for c in h.stt.calls if c.draft]
    assert 2 <= len(drafts) <= 4  # throttled to ~1 per second of speech


async def test_every_pass_of_an_answer_is_biased_towards_the_interviews_terms(
    make_harness: Any,
) -> None:
    h = await make_harness(
        vocabulary=Vocabulary(("Redis", "Kafka", "PostgreSQL")),
        replies=[
            "Tell me about yourself.",
            "Why did you move the queue to Kafka?",
            "How do you tune PostgreSQL?",
        ],
    )
    await h.start()
    long_answer = "alpha bravo charlie delta echo foxtrot golf hotel india juliet alpha bravo"
    await h.feed(speech(long_answer))
    await h.quiet(500)  # committed while the candidate goes on
    await answer(h, "alpha bravo")
    await h.play_out()
    kinds = {(c.draft, c.duration_ms < 2000) for c in h.stt.calls}
    assert {(True, False), (False, False), (False, True)} <= kinds  # captions, commit, tail
    assert {c.hotwords for c in h.stt.calls} == {"Redis, Kafka, PostgreSQL"}
    h.stt.calls.clear()
    await answer(h)  # answers "Why did you move the queue to Kafka?": its term leads
    assert h.stt.calls
    # A short answer with nothing before it may be a spoken command: the passes that decide
    # its text are cued with the commands too, within the same budget (captions, and the
    # second pass once it is stored, are not).
    terms = "Kafka, Redis, PostgreSQL"
    assert {c.hotwords for c in h.stt.calls if c.draft} <= {terms}
    assert {c.hotwords for c in h.stt.calls if not c.draft} == {terms, with_command_cues(terms)}


async def test_without_a_vocabulary_nothing_is_biased(make_harness: Any) -> None:
    h = await make_harness()
    await h.start()
    await answer(h)
    assert h.stt.calls and {c.hotwords for c in h.stt.calls} == {None}


async def test_the_model_reads_each_committed_phrase_while_the_candidate_goes_on(
    make_harness: Any,
) -> None:
    h = await make_harness()
    await h.start()
    first = "alpha bravo charlie delta echo foxtrot golf hotel india juliet alpha bravo"
    await h.feed(speech(first))
    prefills = list(h.conversation.prefills)
    assert prefills and all(first.startswith(p) for p in prefills)  # live drafts, in order
    await h.quiet(500)  # committed: the model gets the answer so far
    assert h.conversation.prefills[-1] == first
    assert h.conversation.saved[-1].role == "assistant"  # nothing is stored yet
    await h.feed(speech("charlie delta echo"))
    sent = len(h.conversation.prefills)
    await h.quiet(1000)  # the end: the reply comes; no prefill queued in front of it
    assert len(h.conversation.prefills) == sent
    assert saved(h, "user") == [f"{first} charlie delta echo"]
    # The stored answer extends what the model read, so its prompt cache holds all but the tail.
    assert saved(h, "user")[0].startswith(h.conversation.prefills[-1])


async def test_noise_never_becomes_an_answer(make_harness: Any) -> None:
    h = await make_harness()
    await h.start()
    h.clear()
    await h.feed(speech("alpha", word_ms=40))  # a click: too short to start a turn
    await h.quiet(1000)
    assert "hearing" not in states(h)
    # A thump long enough to start a turn, but not a word the recognizer knows.
    await h.feed(_noise(200))
    await h.quiet(1000)
    assert "hearing" in states(h)
    assert h.of(TurnDiscarded) and not h.of(FinalTranscript)
    assert saved(h, "user") == []
    assert h.session.state == "listening"


def _noise(ms: float) -> Any:
    import numpy as np

    from server.voice.audio import Pcm16

    rng = np.random.default_rng(1)
    return Pcm16.from_float32((0.3 * rng.standard_normal(int(ms * 16))).astype(np.float32), 16_000)


async def test_the_candidate_going_on_after_the_timeout_continues_the_same_answer(
    make_harness: Any,
) -> None:
    h = await make_harness()
    await h.start()
    h.clear()
    h.stt.gate = asyncio.Event()  # hold the final pass: still "finalizing"
    await h.feed(speech("alpha bravo charlie"))
    await h.quiet(800)
    assert h.session.state == "thinking"
    await h.feed(speech("delta echo"))
    assert h.session.state == "hearing"
    h.stt.gate.set()
    await h.quiet(1000)
    assert [f.text for f in h.of(FinalTranscript)] == ["alpha bravo charlie delta echo"]
    assert saved(h, "user") == ["alpha bravo charlie delta echo"]


async def test_speech_after_the_answer_was_stored_but_before_the_reply_continues_it(
    make_harness: Any,
) -> None:
    h = await make_harness()
    await h.start()
    h.clear()
    h.conversation.stream_gate = asyncio.Event()  # the LLM is slow to start
    await answer(h, "alpha bravo")
    assert saved(h, "user") == ["alpha bravo"]
    await h.feed(speech("charlie delta"))
    assert h.session.state == "hearing"
    assert h.conversation.streams_closed == h.conversation.streams_started == 2  # draft dropped
    h.conversation.stream_gate.set()
    await h.quiet(1000)
    assert saved(h, "user") == ["alpha bravo charlie delta"]
    assert h.conversation.saved[-1].meta["continues"] is True
    await h.play_out()
    assert saved(h, "assistant")[-1].startswith("Describe a hard bug")


# --------------------------------------------------------------------------- push-to-talk


async def test_push_to_talk_has_no_timeout_and_ends_on_key_up(make_harness: Any) -> None:
    h = await make_harness()
    await h.control('{"type":"settings","mode":"ptt"}')
    await h.start()
    h.clear()
    await h.feed(speech("alpha bravo"))
    await h.quiet(1000)
    assert "hearing" not in states(h)  # speech alone does nothing in push-to-talk
    await h.control('{"type":"ptt_down"}')
    assert h.session.state == "hearing"
    await h.feed(speech("charlie delta"))
    await h.quiet(3000)  # far past the silence timeout
    assert h.session.state == "hearing"
    await h.feed(speech("echo"))
    await h.control('{"type":"ptt_up"}')
    await h.quiet(200)
    assert [f.text for f in h.of(FinalTranscript)] == ["charlie delta echo"]
    assert saved(h, "user") == ["charlie delta echo"]


async def test_ptt_down_while_the_interviewer_speaks_interrupts(make_harness: Any) -> None:
    h = await make_harness()
    await h.control('{"type":"settings","mode":"ptt"}')
    await h.start(answer_ready=False)
    await h.quiet(300)
    assert h.session.state == "speaking"
    await h.control('{"type":"ptt_down"}')
    assert h.of(FlushPlayback)
    assert h.session.state == "hearing"
    await settle_saves(h)
    assert saved(h, "assistant") == ["Tell me about yourself."]
    assert h.conversation.saved[0].meta["interrupted"] is True


async def settle_saves(h: Harness) -> None:
    await h.quiet(20)


# --------------------------------------------------------------------------- barge-in


async def test_barge_in_flushes_playback_and_stores_only_what_was_heard(make_harness: Any) -> None:
    h = await make_harness()
    await h.start(answer_ready=False)
    await h.quiet(200)  # 0.2 s into "Tell me about yourself." (0.8 s of audio)
    assert h.session.state == "speaking"
    h.clear()
    await h.feed(speech("alpha bravo", amplitude=0.3))  # loud, sustained: real barge-in
    flush = h.of(FlushPlayback)
    assert len(flush) == 1
    assert "hearing" in states(h)
    await h.quiet(1000)
    assert saved(h) == ["Tell me about yourself.", "alpha bravo"]
    assert h.conversation.saved[0].meta["interrupted"] is True
    assert h.tts.closed >= 1
    # The next message starts a new audio stream after the flush.
    assert h.of(AudioStart)[-1].message > flush[0].message


async def test_echo_protection_soft_speech_during_playback_is_not_a_barge_in(
    make_harness: Any,
) -> None:
    h = await make_harness()
    await h.start(answer_ready=False)
    await h.feed(speech("alpha bravo charlie", amplitude=0.03))  # like the interviewer's echo
    assert not h.of(FlushPlayback)
    await h.play_out()
    assert saved(h) == ["Tell me about yourself. What drew you to this role?"]
    assert h.conversation.saved[0].meta["interrupted"] is False


async def test_a_short_loud_sound_during_playback_is_not_a_barge_in(make_harness: Any) -> None:
    h = await make_harness()
    await h.start(answer_ready=False)
    await h.feed(speech("alpha", word_ms=200))  # < 300 ms of strong speech
    await h.quiet(100)
    assert not h.of(FlushPlayback)


# --------------------------------------------------------------------------- typed answers


async def test_typed_answer_at_listening(make_harness: Any) -> None:
    h = await make_harness()
    await h.start()
    h.clear()
    await h.control('{"type":"typed_answer","text":"  I build compilers.  "}')
    final = h.of(FinalTranscript)[0]
    assert (final.text, final.source) == ("I build compilers.", "typed")
    assert saved(h, "user") == ["I build compilers."]
    assert h.conversation.saved[-1].meta["audio_duration_ms"] is None
    await h.play_out()
    timings = h.of(TurnTimings)[0]
    assert timings.reference == "answer_received"


async def test_typed_answer_while_the_interviewer_speaks_interrupts_it(make_harness: Any) -> None:
    h = await make_harness()
    await h.start(answer_ready=False)
    await h.quiet(100)
    await h.control('{"type":"typed_answer","text":"Skip ahead please."}')
    assert h.of(FlushPlayback)
    await h.quiet(100)
    assert saved(h) == ["Tell me about yourself.", "Skip ahead please."]


async def test_typed_answer_before_start_is_refused(make_harness: Any) -> None:
    h = await make_harness()
    await h.control('{"type":"typed_answer","text":"hello"}')
    assert h.of(ErrorEvent)[0].code == "not_started"


# --------------------------------------------------------------------------- timings


async def test_turn_timings_cover_every_stage(make_harness: Any) -> None:
    h = await make_harness()
    await h.start()
    h.clear()
    await answer(h)
    timings = h.of(TurnTimings)
    assert len(timings) == 1
    event = timings[0]
    assert event.reference == "speech_end"
    for key in (
        "end_of_turn_ms",
        "final_transcript_ms",
        "candidate_saved_ms",
        "first_token_ms",
        "first_sentence_ms",
        "first_audio_ms",
        "final_transcript_after_end_of_turn_ms",
    ):
        assert key in event.timings_ms, key
    # Virtual time: end of turn ~700 ms after the last voiced window.
    assert 650 <= event.timings_ms["end_of_turn_ms"] <= 800
    ordered = [
        event.timings_ms[k] for k in ("end_of_turn_ms", "final_transcript_ms", "first_audio_ms")
    ]
    assert ordered == sorted(ordered)


# --------------------------------------------------------------------------- errors, retry


async def test_a_failed_save_keeps_the_answer_and_retry_stores_it(make_harness: Any) -> None:
    h = await make_harness()
    await h.start()
    h.clear()
    h.conversation.fail_save_candidate = 1
    await answer(h)
    error = h.of(ErrorEvent)[0]
    assert (error.code, error.retryable) == ("database_unavailable", True)
    assert h.session.state == "listening"
    assert saved(h, "user") == []
    await h.control('{"type":"retry"}')
    assert saved(h, "user") == [ANSWER]
    await h.play_out()
    assert saved(h, "assistant")[-1].startswith("Describe a hard bug")


async def test_a_failed_save_is_not_lost_when_the_candidate_answers_again(
    make_harness: Any,
) -> None:
    h = await make_harness()
    await h.start()
    h.conversation.fail_save_candidate = 1
    await answer(h, "alpha bravo")
    await answer(h, "charlie")
    assert saved(h, "user") == ["alpha bravo charlie"]


async def test_llm_failure_reports_and_retry_regenerates(make_harness: Any) -> None:
    h = await make_harness()
    h.conversation.fail_stream = 1
    await h.control('{"type":"start"}')
    error = h.of(ErrorEvent)[0]
    assert (error.code, error.retryable) == ("ai_service_error", True)
    assert h.session.state == "listening"
    await h.control('{"type":"retry"}')
    await h.play_out()
    assert saved(h) == ["Tell me about yourself. What drew you to this role?"]


async def test_tts_failure_mid_message_goes_on_as_text_and_is_stored(make_harness: Any) -> None:
    h = await make_harness()
    h.tts.fail_on = "drew"
    await h.control('{"type":"start"}')
    await h.play_out()
    # The first sentence was spoken; the one the voice failed on arrives as text, in order.
    sentences = [(s.index, s.text) for s in h.of(InterviewerSentence)]
    assert sentences == [(0, "Tell me about yourself."), (1, "What drew you to this role?")]
    assert not h.of(FlushPlayback)
    error = h.of(ErrorEvent)[0]
    assert (error.code, error.retryable) == ("voice_unavailable", False)
    assert "shown as text" in error.message
    assert saved(h) == ["Tell me about yourself. What drew you to this role?"]
    # The candidate answers; with the voice back, the next question is spoken again.
    h.tts.fail_on = None
    h.clear()
    await answer(h)
    await h.play_out()
    assert saved(h, "user") == [ANSWER]
    assert h.audio_out and not h.of(ErrorEvent)


async def test_a_voice_that_fails_from_the_first_word_still_asks_in_text(
    make_harness: Any,
) -> None:
    h = await make_harness()
    h.tts.fail_on = ""  # every unit
    await h.control('{"type":"start"}')
    await h.play_out()
    assert not h.audio_out and not h.of(AudioStart)
    assert [s.text for s in h.of(InterviewerSentence)] == [
        "Tell me about yourself.",
        "What drew you to this role?",
    ]
    assert len(h.tts.texts) == 1  # after one failure the rest goes as text, without waiting
    assert saved(h) == ["Tell me about yourself. What drew you to this role?"]


async def test_stt_failure_keeps_the_recording_and_retry_transcribes_it(
    make_harness: Any,
) -> None:
    h = await make_harness()
    await h.start()
    h.clear()
    h.stt.fail_next = 1000  # every pass on this answer fails
    await answer(h)
    error = h.of(ErrorEvent)[0]
    assert (error.code, error.retryable) == ("speech_service_error", True)
    assert "recording is kept" in error.message
    assert saved(h, "user") == [] and h.session.state == "listening"
    h.stt.fail_next = 0
    await h.control('{"type":"retry"}')
    assert saved(h, "user") == [ANSWER]
    assert h.conversation.saved[-1].meta["audio_ms"]  # stored as a spoken answer, its audio kept
    await h.play_out()
    assert saved(h, "assistant")[-1].startswith("Describe a hard bug")


async def test_an_answer_said_again_replaces_the_one_that_was_not_heard(
    make_harness: Any,
) -> None:
    h = await make_harness()
    await h.start()
    h.stt.fail_next = 1000
    await answer(h, "alpha bravo")
    h.stt.fail_next = 0
    await answer(h, "charlie delta")
    await h.play_out()
    await h.control('{"type":"retry"}')  # nothing is kept any more: no second answer
    await h.play_out()
    assert saved(h, "user") == ["charlie delta"]


async def test_start_while_busy_is_refused(make_harness: Any) -> None:
    h = await make_harness()
    await h.start(answer_ready=False)
    await h.control('{"type":"start"}')
    assert h.of(ErrorEvent)[-1].code == "busy"


# --------------------------------------------------------------------------- bad input, flood


async def test_bad_frames_and_messages_become_errors_and_the_session_goes_on(
    make_harness: Any,
) -> None:
    h = await make_harness()
    await h.start()
    h.clear()
    await h.session.receive_audio(b"\x00\x01\x02")
    await h.session.receive_audio(b"\x00" * (64 * 1024 + 2))
    await h.session.receive_audio(b"")
    await h.session.receive_text("{nope")
    await h.session.receive_text('{"type":"dance"}')
    await h.session.receive_text('{"type":"settings","silence_ms":50}')
    codes = [e.code for e in h.of(ErrorEvent)]
    assert codes == [
        "bad_audio_frame",
        "audio_frame_too_large",
        "bad_audio_frame",
        "malformed_json",
        "unknown_type",
        "invalid_value",
    ]
    assert h.session.close_code is None
    await answer(h)
    assert saved(h, "user") == [ANSWER]


async def test_a_stream_of_garbage_closes_the_connection(make_harness: Any) -> None:
    h = await make_harness()
    for _ in range(30):
        await h.session.receive_text("garbage")
    assert h.session.close_code == CLOSE_UNUSABLE
    assert h.session.closed.is_set()


async def test_audio_faster_than_real_time_is_dropped_then_the_connection_closed(
    make_harness: Any,
) -> None:
    h = await make_harness()
    await h.start()
    h.clear()
    frame = speech("alpha").split(20)[0].data
    # 3 s of audio in no time: the first ~2 s pass, the rest is dropped.
    for _ in range(150):
        await h.session.receive_audio(frame)
    errors = [e for e in h.of(ErrorEvent) if e.code == "audio_flood"]
    assert len(errors) == 1  # rate-limited
    assert h.session.close_code is None
    # Sustained: 2x real time for a long while.
    for _ in range(1500):
        h.clock.advance(0.01)
        await h.session.receive_audio(frame)
    assert h.session.close_code == CLOSE_UNUSABLE


async def test_network_jitter_within_the_bound_is_accepted(make_harness: Any) -> None:
    h = await make_harness()
    await h.start()
    h.clear()
    frames = speech(ANSWER).split(20)
    for i in range(0, len(frames), 25):  # bursts of 0.5 s, delivered every 0.5 s
        h.clock.advance(0.5)
        for frame in frames[i : i + 25]:
            await h.session.receive_audio(frame.data)
    assert not h.of(ErrorEvent)


# --------------------------------------------------------------------------- settings, end


async def test_voice_speed_reaches_tts(make_harness: Any) -> None:
    h = await make_harness()
    await h.control('{"type":"settings","voice_speed":1.5}')
    await h.start()
    assert set(h.tts.speeds) == {1.5}


async def test_muted_audio_is_ignored(make_harness: Any) -> None:
    h = await make_harness()
    await h.start()
    await h.control('{"type":"mute"}')
    assert h.of(SettingsChanged)[-1].settings.muted is True
    h.clear()
    await answer(h)
    assert not h.of(State)
    await h.control('{"type":"unmute"}')
    await answer(h)
    assert saved(h, "user") == [ANSWER]


async def test_end_interview_while_awaiting_an_answer_finishes_quietly(make_harness: Any) -> None:
    h = await make_harness()
    await h.start()
    await h.control('{"type":"end_interview"}')
    assert h.of(InterviewFinished)
    assert not h.of(ErrorEvent)


async def test_end_interview_finishes_and_ignores_later_audio(make_harness: Any) -> None:
    h = await make_harness()
    await h.start()
    h.conversation.stream_gate = asyncio.Event()  # the reply to the answer is still coming
    await answer(h)
    h.clear()
    await h.control('{"type":"end_interview"}')
    await h.wait(3)
    assert h.of(InterviewFinished)
    assert saved(h) == [
        "Tell me about yourself. What drew you to this role?",
        ANSWER,
        "Thanks, that's all.",
    ]
    assert [e.text for e in h.of(InterviewerSentence)] == ["Thanks, that's all."]
    h.clear()
    await answer(h)
    assert not h.of(State) and not h.of(FinalTranscript)


async def test_the_last_answer_gets_the_closing_line_then_finished(make_harness: Any) -> None:
    h = await make_harness(total=1)
    await h.start()
    await answer(h)
    await h.wait(3)
    assert saved(h, "assistant")[-1] == "Thanks, that's all."
    assert h.of(InterviewFinished)
    assert h.session.state == "listening"
    assert h.types()[-1] == "InterviewFinished"


async def test_first_clause_is_voiced_early(make_harness: Any) -> None:
    h = await make_harness(
        replies=["Thanks for that answer, it was really clear and helpful. Next question?"],
        config=VoiceConfig(first_clause_min_words=3),
    )
    await h.start()
    assert h.tts.texts[0] == "Thanks for that answer,"
    assert saved(h) == ["Thanks for that answer, it was really clear and helpful. Next question?"]


async def test_aclose_cancels_a_reply_in_flight(make_harness: Any) -> None:
    h = await make_harness()
    h.conversation.stream_gate = asyncio.Event()
    await h.control('{"type":"start"}')
    assert h.conversation.streams_started == 1
    await h.session.aclose()
    assert h.conversation.streams_closed == 1
    assert not h.session._tasks


# --------------------------------------------------------------------------- more edges


async def test_without_a_pending_question_speech_is_not_an_answer(make_harness: Any) -> None:
    h = await make_harness()
    h.conversation.fail_stream = 1
    await h.control('{"type":"start"}')  # the first question fails to arrive
    h.clear()
    await answer(h)
    assert "hearing" not in states(h)
    await h.control('{"type":"typed_answer","text":"hello?"}')
    await h.control('{"type":"ptt_down"}')
    assert [e.code for e in h.of(ErrorEvent)] == ["no_question", "no_question"]
    assert saved(h) == []


async def test_an_unsaveable_answer_is_dropped_after_three_tries(make_harness: Any) -> None:
    h = await make_harness()
    await h.start()
    h.clear()
    h.conversation.fail_save_candidate = 3
    await h.control('{"type":"typed_answer","text":"one"}')
    await h.control('{"type":"retry"}')
    await h.control('{"type":"retry"}')
    codes = [e.code for e in h.of(ErrorEvent)]
    assert codes == ["database_unavailable"] * 3 + ["answer_not_saved"]
    await h.control('{"type":"typed_answer","text":"two"}')
    assert saved(h, "user") == ["two"]


async def test_ptt_down_works_in_vad_mode_and_disables_the_timeout(make_harness: Any) -> None:
    h = await make_harness()
    await h.start()
    await h.control('{"type":"ptt_down"}')
    await h.feed(speech("alpha"))
    await h.quiet(2000)
    await h.feed(speech("bravo"))
    assert h.session.state == "hearing"
    await h.control('{"type":"ptt_up"}')
    await h.quiet(100)
    assert saved(h, "user") == ["alpha bravo"]


async def test_held_silence_is_never_transcribed(make_harness: Any) -> None:
    h = await make_harness()
    await h.control('{"type":"settings","mode":"ptt"}')
    await h.start()
    h.clear()
    await h.control('{"type":"ptt_down"}')
    await h.quiet(3000)
    await h.control('{"type":"ptt_up"}')
    await h.quiet(100)
    assert h.of(TurnDiscarded)
    assert h.stt.calls == []


async def test_a_long_answer_without_pauses_is_committed_in_pieces(make_harness: Any) -> None:
    h = await make_harness(config=VoiceConfig(first_clause_min_words=0, max_uncommitted_ms=3000))
    await h.start()
    words = " ".join(["alpha", "bravo", "charlie", "delta", "echo"] * 4)
    await h.feed(speech(words, gap_ms=100))
    await h.quiet(1000)
    finals = [c for c in h.stt.calls if not c.draft]
    assert len(finals) >= 3  # committed while speaking, not all at the end
    assert saved(h, "user") == [words]


async def test_barge_in_keeps_sentences_started_before_the_candidate_spoke(
    make_harness: Any,
) -> None:
    h = await make_harness()
    await h.start(answer_ready=False)
    # "Tell me about yourself." plays 0.8 s; the second sentence starts at 0.8 s.
    await h.quiet(1000)
    await h.feed(speech("alpha bravo"))
    await h.quiet(1000)
    assert saved(h, "assistant") == ["Tell me about yourself. What drew you to this role?"]
    assert h.conversation.saved[0].meta["interrupted"] is True
    assert saved(h, "user") == ["alpha bravo"]


async def test_closing_the_session_lets_an_answer_being_stored_finish(make_harness: Any) -> None:
    h = await make_harness()
    await h.start()
    release = asyncio.Event()
    original = h.conversation.save_candidate_turn

    async def slow_save(text: str, **kwargs: Any) -> Any:
        await release.wait()
        return await original(text, **kwargs)

    h.conversation.save_candidate_turn = slow_save
    await h.control('{"type":"typed_answer","text":"my answer"}')
    closing = asyncio.create_task(h.session.aclose())
    await settle()
    assert not closing.done()
    release.set()
    await closing
    assert saved(h, "user") == ["my answer"]


# --------------------------------------------------------------------------- semantic end of turn


async def test_a_finished_answer_ends_at_a_short_pause_with_nothing_left_to_transcribe(
    make_harness: Any,
) -> None:
    model = FakeTurnModel(finished=0.9)
    config = VoiceConfig(first_clause_min_words=0, second_pass=False)
    h = await make_harness(turn_model=model, config=config)
    await h.start()
    h.clear()
    await h.feed(quick(LONG_ANSWER))
    calls_before = len(h.stt.calls)
    await h.quiet(400)  # well under the 700 ms silence limit
    assert [f.text for f in h.of(FinalTranscript)] == [LONG_ANSWER]
    assert saved(h, "user") == [LONG_ANSWER]
    assert model.heard_ms and model.heard_ms[0] >= 250  # the pause itself is heard
    # The phrase was transcribed for good at the pause: the end of turn had no tail to read.
    finals = [c for c in h.stt.calls[calls_before:] if not c.draft]
    assert [c.words for c in finals] == [LONG_ANSWER.split()]
    timings = h.conversation.saved[1].meta["timings"]
    assert timings["end_of_turn_ms"] < 700


async def test_a_long_phrase_is_transcribed_while_the_model_judges_the_pause(
    make_harness: Any,
) -> None:
    model = FakeTurnModel(finished=0.9, gate=asyncio.Event())
    config = VoiceConfig(first_clause_min_words=0, second_pass=False)
    h = await make_harness(turn_model=model, config=config)
    await h.start()
    h.clear()
    words = LONG_ANSWER  # 4.2 s: a phrase of its own
    await h.feed(quick(words))
    calls_before = len(h.stt.calls)
    await h.quiet(300)
    # The model has not answered, and the phrase is being transcribed already.
    assert not h.of(FinalTranscript)
    assert [c.words for c in h.stt.calls[calls_before:] if not c.draft] == [words.split()]
    model.gate.set()
    await h.quiet(100)
    assert [f.text for f in h.of(FinalTranscript)] == [words]
    assert len([c for c in h.stt.calls[calls_before:] if not c.draft]) == 1  # nothing re-read


async def test_an_answer_that_stops_mid_sentence_waits_for_the_pause_limit(
    make_harness: Any,
) -> None:
    h = await make_harness(turn_model=FakeTurnModel(finished=0.9))
    await h.start()
    h.clear()
    await h.feed(speech("alpha bravo and"))  # the model hears "finished"; the words do not
    await h.quiet(500)
    assert h.session.state == "hearing"
    assert not h.of(FinalTranscript)
    await h.feed(quick(LONG_ANSWER))
    await h.quiet(400)
    assert [f.text for f in h.of(FinalTranscript)] == [f"alpha bravo and {LONG_ANSWER}"]


async def test_a_short_answer_to_a_closed_question_ends_at_a_short_pause(
    make_harness: Any,
) -> None:
    h = await make_harness(
        turn_model=FakeTurnModel(finished=0.9),
        replies=["Have you used Kafka in production?", "Which version did you run?"],
    )
    await h.start()
    h.clear()
    await h.feed(speech(ANSWER))
    await h.quiet(500)
    assert [f.text for f in h.of(FinalTranscript)] == [ANSWER]


@pytest.mark.parametrize(
    "probability",
    [
        0.1,  # the model hears it unfinished
        # Finished by the model, but five words asked "What drew you to this role?" are more
        # often a candidate thinking (a whole first clause, "We ran everything on Kubernetes
        # in AWS, …") than an answer: the turn waits for the candidate's own limit too.
        0.9,
    ],
)
async def test_an_unfinished_sounding_pause_waits_for_the_candidates_own_limit(
    make_harness: Any, probability: float
) -> None:
    model = FakeTurnModel(finished=probability)
    h = await make_harness(turn_model=model)
    await h.control('{"type":"settings","silence_ms":2000}')
    await h.start()
    h.clear()
    await h.feed(speech(ANSWER))
    await h.quiet(1500)
    assert h.session.state == "hearing" and not h.of(FinalTranscript)
    assert len(model.heard_ms) == 1  # once per pause
    await h.quiet(600)
    assert [f.text for f in h.of(FinalTranscript)] == [ANSWER]


TWO_SENTENCES = f"{NATO} alpha bravo charlie . {NATO} delta echo foxtrot golf hotel ."
"""Two whole sentences, 28 words: not thin."""


@pytest.mark.parametrize(
    ("probability", "words", "ends_at_ms"),
    [
        # The model is unsure (0.5-0.7) and the words say the answer is over: the candidate
        # does not wait out the 3 s limit, only ``endpoint_unsure_wait_ms``.
        (0.6, TWO_SENTENCES, 1200),
        (0.3, TWO_SENTENCES, 3000),  # the model hears it unfinished
        (0.6, f"{LONG_ANSWER} .", 3000),  # one sentence: a whole first clause sounds like it
        (0.6, f"{NATO} alpha bravo charlie . {NATO} delta echo and", 3000),
    ],
    ids=["two-sentences", "unfinished", "one-sentence", "mid-sentence"],
)
async def test_an_unsure_pause_ends_sooner_only_after_two_finished_sentences(
    make_harness: Any, probability: float, words: str, ends_at_ms: int
) -> None:
    model = FakeTurnModel(finished=probability)
    h = await make_harness(turn_model=model)
    await h.start()
    h.clear()
    await h.feed(quick(words))
    await h.quiet(ends_at_ms - 200)
    assert h.session.state == "hearing" and not h.of(FinalTranscript)
    await h.quiet(400)
    assert len(h.of(FinalTranscript)) == 1
    assert len(model.heard_ms) == 1  # once per pause


async def test_speech_after_an_unsure_pause_cancels_its_shorter_wait(make_harness: Any) -> None:
    h = await make_harness(turn_model=FakeTurnModel(finished=0.6))
    await h.start()
    h.clear()
    await h.feed(quick(TWO_SENTENCES))
    await h.quiet(800)
    await h.feed(speech("alpha bravo and"))  # the candidate goes on, and stops mid-sentence
    await h.quiet(1500)
    assert h.session.state == "hearing" and not h.of(FinalTranscript)


async def test_speech_after_the_pause_makes_the_models_verdict_moot(make_harness: Any) -> None:
    h = await make_harness(turn_model=FakeTurnModel(finished=0.9))
    h.stt.gate = asyncio.Event()  # the words at the pause take a while to transcribe
    await h.start()
    h.stt.gate.set()
    h.clear()
    h.stt.gate.clear()
    await h.feed(quick(LONG_ANSWER))
    await h.quiet(300)  # judged finished; its words are still being transcribed
    await h.feed(speech("alpha bravo"))  # ... and the candidate goes on
    h.stt.gate.set()
    await h.quiet(400)
    assert [f.text for f in h.of(FinalTranscript)] == [f"{LONG_ANSWER} alpha bravo"]


async def test_a_failing_turn_model_leaves_the_pause_limit_in_charge(make_harness: Any) -> None:
    h = await make_harness(turn_model=FakeTurnModel(fail=True))
    await h.start()
    h.clear()
    await h.feed(speech(ANSWER))
    await h.quiet(2900)
    assert h.session.state == "hearing"
    await h.quiet(200)
    assert [f.text for f in h.of(FinalTranscript)] == [ANSWER]


async def test_the_pause_limit_defaults_to_3_s_with_the_turn_model_and_700_ms_without(
    make_harness: Any,
) -> None:
    with_model = await make_harness(turn_model=FakeTurnModel())
    without = await make_harness()
    assert with_model.of(Hello)[0].settings.silence_ms == 3000
    assert without.of(Hello)[0].settings.silence_ms == 700


async def test_push_to_talk_never_asks_the_turn_model(make_harness: Any) -> None:
    model = FakeTurnModel(finished=0.9)
    h = await make_harness(turn_model=model)
    await h.control('{"type":"settings","mode":"ptt"}')
    await h.start()
    await h.control('{"type":"ptt_down"}')
    await h.feed(speech(ANSWER))
    await h.quiet(1500)
    assert not model.heard_ms and not h.of(FinalTranscript)
    await h.control('{"type":"ptt_up"}')
    await h.quiet(100)
    assert [f.text for f in h.of(FinalTranscript)] == [ANSWER]


# --------------------------------------------------------------------------- resumed answers


async def test_going_on_over_an_acknowledgement_continues_the_answer(make_harness: Any) -> None:
    h = await make_harness(
        replies=["Tell me about yourself.", "Great! So how did you find the bug?", "Why?"]
    )
    await h.start()
    await answer(h, "alpha bravo", quiet_ms=760)  # the reply starts as the turn ends
    h.clear()
    assert h.session.state == "speaking"  # "Great!" is playing
    await h.feed(speech("charlie delta", amplitude=0.3))  # the candidate goes on
    flush = h.of(FlushPlayback)
    assert len(flush) == 1 and flush[0].kept is False
    await h.quiet(1000)
    await h.wait(3.0)  # the reply to the whole answer plays out, then is stored
    # No acknowledgement stored as a question; the words joined the answer they continue.
    assert saved(h) == [
        "Tell me about yourself.",
        "alpha bravo charlie delta",
        "Great! So how did you find the bug?",
    ]
    continuation = [f for f in h.of(FinalTranscript) if f.text == "charlie delta"]
    assert continuation and continuation[0].continues is True
    assert h.conversation.question == 2  # questions asked: the first, and the full reply


async def test_interrupting_the_opening_keeps_it_even_without_a_question_heard(
    make_harness: Any,
) -> None:
    h = await make_harness(replies=["Welcome to your interview. What drew you here?", "Why?"])
    await h.start(answer_ready=False)
    await h.quiet(200)  # "Welcome to your interview." is playing: no answer to continue
    await h.feed(speech("alpha bravo", amplitude=0.3))
    assert h.of(FlushPlayback)[0].kept is True
    await h.quiet(1000)
    assert saved(h)[:2] == ["Welcome to your interview.", "alpha bravo"]
    assert h.conversation.saved[0].meta["interrupted"] is True


async def test_interrupting_a_question_keeps_what_was_heard_of_it(make_harness: Any) -> None:
    h = await make_harness(
        replies=["Tell me about yourself.", "Why did you leave? And what next?", "Why?"]
    )
    await h.start()
    await answer(h, "alpha bravo", quiet_ms=760)
    h.clear()
    await h.quiet(400)  # "Why did you leave?" is playing
    await h.feed(speech("charlie delta", amplitude=0.3))
    assert h.of(FlushPlayback)[0].kept is True
    await h.quiet(1000)
    assert saved(h)[:4] == [
        "Tell me about yourself.",
        "alpha bravo",
        "Why did you leave?",
        "charlie delta",
    ]
    assert h.conversation.saved[2].meta["interrupted"] is True


# --------------------------------------------------------------------------- commands

FIRST_QUESTION = "Tell me about yourself. What drew you to this role?"


async def test_a_spoken_repeat_the_question_says_it_again_and_stores_nothing(
    make_harness: Any,
) -> None:
    h = await make_harness()
    await h.start()
    h.clear()
    await answer(h, "repeat the question")
    await h.play_out()
    assert [(e.turn, e.reason) for e in h.of(TurnDiscarded)] == [(1, "command")]
    (heard,) = h.of(CommandHeard)
    assert (heard.name, heard.spoken, heard.text) == ("repeat", True, "repeat the question")
    assert " ".join(e.text for e in h.of(InterviewerSentence)) == FIRST_QUESTION
    assert not h.of(FinalTranscript)
    assert saved(h) == [FIRST_QUESTION]  # nothing new stored
    await answer(h)  # the answer that follows answers the first question
    assert saved(h, "user") == [ANSWER]


async def test_the_repeat_button_says_the_question_again(make_harness: Any) -> None:
    h = await make_harness()
    await h.start()
    h.clear()
    await h.control('{"type":"repeat_question"}')
    await h.play_out()
    (heard,) = h.of(CommandHeard)
    assert (heard.name, heard.spoken) == ("repeat", False)
    assert " ".join(e.text for e in h.of(InterviewerSentence)) == FIRST_QUESTION
    assert saved(h) == [FIRST_QUESTION]


async def test_give_me_a_moment_waits_for_the_candidate_and_a_longer_pause(
    make_harness: Any,
) -> None:
    h = await make_harness()
    await h.start()
    h.clear()
    await answer(h, "give me a moment")
    await h.play_out()
    assert [e.name for e in h.of(CommandHeard)] == ["wait"]
    assert " ".join(e.text for e in h.of(InterviewerSentence)) == "Take your time. I'm listening."
    assert saved(h) == [FIRST_QUESTION]
    # The answer after it may pause for 2.5 s (the limit is otherwise 700 ms): one answer.
    await h.feed(speech("alpha bravo"))
    await h.quiet(2500)
    assert h.session.state == "hearing"
    await answer(h, "charlie delta", quiet_ms=3500)
    assert saved(h, "user") == ["alpha bravo charlie delta"]
    # "Take your time" was not the question: repeating says the question.
    h.clear()
    await h.wait(30)  # the reply plays out; the budget for repeats refills
    await h.control('{"type":"repeat_question"}')
    await h.play_out()
    assert "Describe a hard bug you fixed." in " ".join(e.text for e in h.of(InterviewerSentence))


async def test_a_spoken_end_the_interview_ends_it(make_harness: Any) -> None:
    h = await make_harness()
    await h.start()
    h.clear()
    await answer(h, "end the interview")
    for _ in range(50):
        if h.of(InterviewFinished):
            break
        await h.quiet(200)
    assert [e.name for e in h.of(CommandHeard)] == ["end"]
    assert h.of(InterviewFinished)
    assert saved(h, "user") == []


async def test_a_command_inside_an_answer_is_the_answer(make_harness: Any) -> None:
    h = await make_harness()
    await h.start()
    h.clear()
    await answer(h, "alpha repeat the question bravo")
    assert not h.of(CommandHeard)
    assert saved(h, "user") == ["alpha repeat the question bravo"]


async def test_a_spoken_skip_this_question_stores_it_skipped_and_moves_on(
    make_harness: Any,
) -> None:
    h = await make_harness()
    await h.start()
    h.clear()
    await answer(h, "skip this question")
    await h.play_out()
    assert [e.name for e in h.of(CommandHeard)] == ["skip"]
    assert [(t.role, t.meta.get("skipped")) for t in h.conversation.saved] == [
        ("assistant", None),
        ("user", True),
        ("assistant", None),
    ]
    assert "Describe a hard bug you fixed." in " ".join(e.text for e in h.of(InterviewerSentence))
    assert h.of(ProgressEvent)[-1].awaiting == "answer"


async def test_the_skip_button_skips_and_is_refused_before_a_question(make_harness: Any) -> None:
    h = await make_harness()
    await h.control('{"type":"start"}')  # the first question is still being spoken
    await h.control('{"type":"skip_question"}')
    assert [e.code for e in h.of(ErrorEvent)] == ["busy"]
    await h.play_out()
    h.clear()
    await h.control('{"type":"skip_question"}')
    await h.play_out()
    assert [(e.name, e.spoken) for e in h.of(CommandHeard)] == [("skip", False)]
    assert saved(h, "user") == ["(skipped)"]


async def test_a_candidate_cut_off_in_a_thinking_pause_is_not_cut_off_there_again(
    make_harness: Any,
) -> None:
    h = await make_harness(turn_model=FakeTurnModel(finished=0.9))
    await h.start()
    h.clear()
    h.conversation.stream_gate = asyncio.Event()  # the reply is slow to start
    await h.feed(quick(LONG_ANSWER))
    await h.quiet(1000)  # the model hears a finished answer at the pause: it is stored...
    assert saved(h, "user") == [LONG_ANSWER]
    await h.feed(quick("alpha bravo charlie ."))  # ... but the candidate was thinking
    detector = h.session._detector
    assert detector.patience == 0  # learned once their words are kept
    h.conversation.stream_gate.set()
    # Three words, but they go on with 26: not a thin answer, so it ends at a judged pause.
    await h.quiet(1000)
    assert [f.text for f in h.of(FinalTranscript)][-1] == "alpha bravo charlie."
    assert 1.4 <= detector.patience / 16_000 <= 1.6  # that 1 s pause, and half again
    await h.play_out()
    assert saved(h, "user") == [f"{LONG_ANSWER} alpha bravo charlie."]
    # The next answer: the same thinking pause is waited out, and the answer is one turn.
    h.clear()
    await h.feed(quick(LONG_ANSWER))
    await h.quiet(1000)
    assert h.session.state == "hearing" and not h.of(FinalTranscript)
    await h.feed(quick(LONG_ANSWER))
    await h.quiet(1000)
    assert h.session.state == "hearing"  # a finished verdict, but not before 1.5 s
    await h.quiet(600)
    assert [f.text for f in h.of(FinalTranscript)] == [f"{LONG_ANSWER} {LONG_ANSWER}"]


@pytest.mark.parametrize("heard", ["Great!", "Great! So how did you find the bug?"])
async def test_going_on_over_the_acknowledgement_of_an_early_end_teaches_patience(
    make_harness: Any, heard: str
) -> None:
    h = await make_harness(
        turn_model=FakeTurnModel(finished=0.9),
        replies=["Tell me about yourself.", "Great! So how did you find the bug?", "Why?"],
    )
    await h.start()
    await h.feed(quick(LONG_ANSWER))
    await h.quiet(400)  # judged finished at the pause
    for _ in range(40):
        if h.session.state == "speaking":
            break
        await h.quiet(20)
    if heard != "Great!":  # the candidate waits for the question, then talks over it
        await h.wait(0.6)
    await h.feed(speech("charlie delta", amplitude=0.3))
    (flush,) = h.of(FlushPlayback)
    went_on = flush.kept is False  # only the acknowledgement was heard: the answer goes on
    assert went_on is (heard == "Great!")
    # What they say over a question answers it: the stored answer's words no longer count.
    assert (h.session._writer.open_answer_words > 0) is went_on
    await h.quiet(3200)
    assert [f.text for f in h.of(FinalTranscript)][-1] == "charlie delta"
    assert (h.session._detector.patience > 0) is went_on


@pytest.mark.parametrize("words", [True, False], ids=["words", "a cough"])
async def test_only_words_after_an_early_end_teach_patience(make_harness: Any, words: bool) -> None:
    h = await make_harness(turn_model=FakeTurnModel(finished=0.9))
    await h.start()
    h.clear()
    h.conversation.stream_gate = asyncio.Event()  # the reply is slow to start
    await h.feed(quick(LONG_ANSWER))
    await h.quiet(1000)  # judged finished at the pause: the answer is stored
    assert saved(h, "user") == [LONG_ANSWER]
    await h.feed(speech("charlie delta") if words else _noise(200))
    assert h.session.state == "hearing"  # the draft reply is dropped either way
    h.conversation.stream_gate.set()
    await h.quiet(3200)
    discarded = [d.reason for d in h.of(TurnDiscarded)]
    assert discarded == ([] if words else ["no_speech"])
    assert (h.session._detector.patience > 0) is words
