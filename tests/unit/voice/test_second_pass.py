"""The second pass (server/voice/revision.py): each answer heard again, whole, after the reply
is synthesised, and stored only if it is a sane reading of the same answer."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

from server.voice.config import VoiceConfig
from server.voice.protocol import AnswerRevised, FinalTranscript, InterviewFinished
from server.voice.revision import acceptable, repeated_ngrams
from tests.unit.voice.conftest import Harness, speech

FIRST_QUESTION = "Tell me about yourself. What drew you to this role?"
# The live passes are not prompted with the question here, so a pass prompted with it is the
# second pass (ToneSTT.reread is keyed by the prompt).
CONFIG = VoiceConfig(first_clause_min_words=0, question_as_context=False)
ANSWER = "alpha bravo charlie delta echo"


def user_texts(h: Harness) -> list[str]:
    return [t.text for t in h.conversation.saved if t.role == "user"]


def whole_answer_calls(h: Harness) -> list[Any]:
    return [c for c in h.stt.calls if not c.draft and c.prompt == FIRST_QUESTION]


# --------------------------------------------------------------------------- what may replace


def test_a_different_reading_of_the_same_answer_is_acceptable() -> None:
    live = "we moved to calf consumers and cut the late and see"
    assert acceptable(live, "we moved to Kafka consumers and cut the latency")


def test_the_same_words_are_not_a_revision() -> None:
    assert not acceptable("We use Kafka.", "we use kafka")


def test_a_phrase_heard_twice_that_was_heard_once_is_refused() -> None:
    live = "with a b tree index the lookups are under ten milliseconds now"
    doubled = (
        "with a b tree index the lookups are under ten milliseconds "
        "with a b tree index the lookups are under ten"
    )
    assert repeated_ngrams(doubled)
    assert not acceptable(live, doubled)


def test_a_repetition_the_live_text_also_had_is_allowed() -> None:
    live = "again and again and again we shipped it on time"
    assert acceptable(live, "again and again and again we shipped it on time twice")


def test_losing_or_inventing_half_the_words_is_refused() -> None:
    live = "first we profiled the service then we added an index and the latency halved"
    assert not acceptable(live, "first we profiled the service")
    assert not acceptable(live, f"{live} and then many more words that were never said at all")
    assert not acceptable(live, "")


# --------------------------------------------------------------------------- in the session


async def test_the_answer_is_heard_again_whole_after_the_reply_and_the_reading_stored(
    make_harness: Any,
) -> None:
    h = await make_harness(config=CONFIG)
    h.stt.reread[FIRST_QUESTION] = "alpha bravo charlie delta golf"
    await h.start()
    await h.feed(speech(ANSWER))
    await h.quiet(1000)
    # Live, the candidate saw (and the interviewer was given) what the live passes heard.
    assert [f.text for f in h.of(FinalTranscript)] == [ANSWER]
    await h.play_out()
    calls = whole_answer_calls(h)
    assert len(calls) == 1
    assert calls[0].duration_ms >= 1500  # the whole turn's audio
    assert user_texts(h) == ["alpha bravo charlie delta golf"]
    assert h.conversation.revisions == [(1, ANSWER, "alpha bravo charlie delta golf")]
    assert h.conversation.saved[1].meta["revised_from"] == ANSWER
    # The room is told, so the transcript on screen matches the record.
    (revised,) = h.of(AnswerRevised)
    assert revised.text == "alpha bravo charlie delta golf"
    assert revised.turns == [h.of(FinalTranscript)[0].turn]
    # Off the critical path: the reply to this answer was synthesised before the re-read.
    assert any("hard bug" in text for text in h.tts.texts)


async def test_a_revision_the_checks_refuse_keeps_the_live_text(make_harness: Any) -> None:
    h = await make_harness(config=CONFIG)
    h.stt.reread[FIRST_QUESTION] = "alpha"  # most of the answer lost: not believed
    await h.start()
    await h.feed(speech(ANSWER))
    await h.quiet(1000)
    await h.play_out()
    assert len(whole_answer_calls(h)) == 1
    assert user_texts(h) == [ANSWER]
    assert h.conversation.revisions == []
    assert h.of(AnswerRevised) == []


async def test_an_answer_the_candidate_went_on_with_is_heard_again_as_one(
    make_harness: Any,
) -> None:
    h = await make_harness(config=CONFIG)
    await h.start()
    h.conversation.stream_gate = asyncio.Event()  # the LLM is slow to start
    await h.feed(speech("alpha bravo"))
    await h.quiet(1000)
    await h.feed(speech("charlie delta"))
    await h.quiet(1000)
    h.stt.reread[FIRST_QUESTION] = "alpha bravo charlie echo"
    h.conversation.stream_gate.set()
    await h.play_out()
    assert user_texts(h) == ["alpha bravo charlie echo"]
    assert h.conversation.revisions == [
        (1, "alpha bravo charlie delta", "alpha bravo charlie echo")
    ]
    assert h.of(AnswerRevised)[0].turns == [f.turn for f in h.of(FinalTranscript)]
    assert len(h.of(FinalTranscript)) == 2
    # Both parts' audio, read at once.
    assert whole_answer_calls(h)[0].duration_ms >= 2 * 1000


async def test_typed_answers_are_not_re_read(make_harness: Any) -> None:
    h = await make_harness(config=CONFIG)
    h.stt.reread[FIRST_QUESTION] = "golf hotel"
    await h.start()
    await h.control('{"type":"typed_answer","text":"I build compilers."}')
    await h.play_out()
    assert whole_answer_calls(h) == []
    assert user_texts(h) == ["I build compilers."]


async def test_no_second_pass_when_it_is_turned_off(make_harness: Any) -> None:
    h = await make_harness(config=replace(CONFIG, second_pass=False))
    h.stt.reread[FIRST_QUESTION] = "alpha bravo charlie delta golf"
    await h.start()
    await h.feed(speech(ANSWER))
    await h.quiet(1000)
    await h.play_out()
    assert whole_answer_calls(h) == []
    assert user_texts(h) == [ANSWER]


async def test_the_end_of_the_interview_waits_for_the_last_answers_pass(
    make_harness: Any,
) -> None:
    h = await make_harness(config=CONFIG, total=1)
    h.stt.reread[FIRST_QUESTION] = "alpha bravo charlie delta golf"
    h.stt.reread_gate = asyncio.Event()  # the second pass is slow
    await h.start()
    await h.feed(speech(ANSWER))
    await h.quiet(1000)
    await h.wait(3.0)  # the closing line is spoken and played out
    assert "Thanks, that's all." in h.tts.texts
    assert h.of(InterviewFinished) == []  # the report would read the live text
    h.stt.reread_gate.set()
    await h.wait(1.0)
    assert len(h.of(InterviewFinished)) == 1
    assert user_texts(h) == ["alpha bravo charlie delta golf"]


async def test_the_question_is_the_first_live_pass_context_then_the_answer_so_far(
    make_harness: Any,
) -> None:
    h = await make_harness()  # question_as_context on, as in the app
    await h.start()
    first = "alpha bravo charlie delta echo foxtrot golf hotel india juliet alpha bravo"
    await h.feed(speech(first))
    await h.quiet(500)  # a sentence pause: the phrase is committed
    await h.feed(speech("charlie delta"))
    await h.quiet(1000)
    live = [c for c in h.stt.calls if not c.draft][:2]
    assert live[0].prompt == FIRST_QUESTION
    assert live[1].prompt is not None and live[1].prompt.endswith("india juliet alpha bravo")


def test_a_long_answer_is_read_in_pieces_cut_at_its_pauses() -> None:
    from server.voice.audio import INPUT_SAMPLE_RATE_HZ, silence
    from server.voice.revision import pieces

    audio = silence(60_000)  # a minute
    second = INPUT_SAMPLE_RATE_HZ
    pauses = [s * second for s in (8, 17, 24, 31, 40, 49, 55)]
    cut = pieces(audio, pauses, max_s=25.0)
    assert [round(p.duration_s) for p in cut] == [24, 25, 11]  # at 24 s and 49 s
    assert sum(len(p.data) for p in cut) == len(audio.data)  # nothing lost or doubled
    assert [round(p.duration_s) for p in pieces(silence(20_000), pauses)] == [20]
    # No pause to cut at: the piece stays whole rather than cut mid-word.
    assert [round(p.duration_s) for p in pieces(audio, [])] == [60]


async def test_while_other_interviews_run_the_passes_wait_for_the_end(
    make_harness: Any,
) -> None:
    busy = True
    h = await make_harness(config=CONFIG, total=2, others_busy=lambda: busy)
    h.stt.reread[FIRST_QUESTION] = "alpha bravo charlie delta golf"
    await h.start()
    await h.feed(speech(ANSWER))
    await h.quiet(1000)
    await h.play_out()
    # Another candidate's reply may be being written: no second pass during the interview.
    assert whole_answer_calls(h) == [] and user_texts(h) == [ANSWER]
    await h.feed(speech("foxtrot golf hotel"))
    await h.quiet(1000)
    await h.wait(3.0)  # the closing line
    # At the end it runs, before interview_finished, so the report reads it.
    assert len(whole_answer_calls(h)) == 1
    assert user_texts(h)[0] == "alpha bravo charlie delta golf"
    assert len(h.of(InterviewFinished)) == 1
