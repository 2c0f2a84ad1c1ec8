"""TurnTranscriber and Prefiller alone: a hand-made turn of tone speech, ToneSTT, no session."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from server.voice.audio import Pcm16, silence
from server.voice.commands import with_command_cues
from server.voice.transcriber import Prefiller, TurnTranscriber
from server.voice.turns import Turn, TurnPhase
from server.voice.vad import StreamingVad, VadWindow
from tests.unit.voice.conftest import EnergyVad, ToneSTT, settle, speech

log = logging.getLogger("tests.transcriber")
OFFSET = 8000
"""The turn starts half a second into the stream: cut points are stream samples."""


def make_turn(*parts: Pcm16) -> tuple[Turn, list[int]]:
    """A turn of the parts, and where each part ends (stream samples)."""
    audio = parts[0]
    for part in parts[1:]:
        audio = audio + part
    windows = [
        VadWindow(w.start_sample + OFFSET, w.end_sample + OFFSET, w.speech_prob)
        for w in StreamingVad(EnergyVad()).process(audio)
    ]
    ends: list[int] = []
    position = OFFSET
    for part in parts:
        position += part.num_frames
        ends.append(position)
    turn = Turn(
        number=7,
        mode="vad",
        start_sample=OFFSET,
        audio=bytearray(audio.data),
        windows=windows,
        last_voice_end_sample=OFFSET,
        last_voice_wall=0.0,
        committed_until=OFFSET,
    )
    return turn, ends


@dataclass
class Rig:
    turn: Turn
    stt: ToneSTT
    transcriber: TurnTranscriber
    captions: list[str] = field(default_factory=list)
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)

    async def done(self) -> None:
        await asyncio.gather(*self.tasks)

    @property
    def words(self) -> list[list[str]]:
        return [c.words for c in self.stt.calls]

    @property
    def prompts(self) -> list[str | None]:
        return [c.prompt for c in self.stt.calls]


def rig(turn: Turn, *, hotwords: str | None = None, prompt_chars: int = 200) -> Rig:
    stt = ToneSTT()
    tasks: list[asyncio.Task[Any]] = []
    captions: list[str] = []

    def spawn(coro: Awaitable[Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        tasks.append(task)
        return task

    async def on_caption(t: TurnTranscriber) -> None:
        captions.append(t.caption)

    transcriber = TurnTranscriber(
        turn,
        stt=stt,
        spawn=spawn,
        on_caption=on_caption,
        log=log,
        hotwords=hotwords,
        prompt_chars=prompt_chars,
    )
    return Rig(turn, stt, transcriber, captions, tasks)


GAP = silence(400)
P1, P2, P3 = speech("alpha bravo"), speech("charlie delta"), speech("echo foxtrot")


# --------------------------------------------------------------------------- commits


async def test_commits_run_in_order_each_prompted_with_the_text_before_it() -> None:
    turn, (_p1, g1, _p2, g2, p3) = make_turn(P1, GAP, P2, GAP, P3)
    r = rig(turn)
    r.stt.gate = asyncio.Event()
    t = r.transcriber
    t.commit(OFFSET, g1)
    t.commit(g1, g2)
    t.commit(g2, p3)
    await settle()
    assert r.stt.calls == [] and t.jobs_pending == 3 and not t.idle
    r.stt.gate.set()
    await r.done()
    assert r.words == [["alpha", "bravo"], ["charlie", "delta"], ["echo", "foxtrot"]]
    assert r.prompts == [None, "alpha bravo", "alpha bravo charlie delta"]
    assert not any(c.draft for c in r.stt.calls)
    assert [c.text for c in t.commits] == ["alpha bravo", "charlie delta", "echo foxtrot"]
    assert t.idle
    assert r.captions == [
        "alpha bravo",
        "alpha bravo charlie delta",
        "alpha bravo charlie delta echo foxtrot",
    ]


async def test_the_prompt_is_the_last_prompt_chars_of_the_answer() -> None:
    turn, (_p1, g1, _p2, g2, p3) = make_turn(P1, GAP, P2, GAP, P3)
    r = rig(turn, prompt_chars=12)
    r.transcriber.commit(OFFSET, g1)
    r.transcriber.commit(g1, g2)
    r.transcriber.commit(g2, p3)
    await r.done()
    assert r.prompts == [None, "alpha bravo"[-12:], "charlie delta"[-12:]]


async def test_a_failed_commit_is_retried_by_final_text_and_its_text_used(
    caplog: pytest.LogCaptureFixture,
) -> None:
    turn, (_p1, g1, _p2, g2) = make_turn(P1, GAP, P2, GAP)
    r = rig(turn)
    t = r.transcriber
    t.commit(OFFSET, g1)
    await r.done()
    r.stt.fail_next = 1
    with caplog.at_level(logging.ERROR, logger=log.name):
        t.commit(g1, g2)
        await r.done()
    assert t.commits[1].text is None and t.idle
    assert any("commit 1 failed" in rec.getMessage() for rec in caplog.records)
    turn.committed_until = g2
    turn.phase = TurnPhase.ENDED
    assert await t.final_text() == "alpha bravo charlie delta"
    # The retry is a final pass over the same stretch, prompted with the text before it.
    assert r.words == [["alpha", "bravo"], ["charlie", "delta"]]
    assert r.prompts == [None, "alpha bravo"]
    assert t.commits[1].text == "charlie delta"


async def test_final_text_is_the_commits_and_the_voiced_tail() -> None:
    turn, (_p1, g1, _p2) = make_turn(P1, GAP, P2)
    r = rig(turn)
    r.transcriber.commit(OFFSET, g1)
    turn.committed_until = g1
    turn.phase = TurnPhase.ENDED
    assert await r.transcriber.final_text() == "alpha bravo charlie delta"
    assert r.words == [["alpha", "bravo"], ["charlie", "delta"]]
    assert r.prompts == [None, "alpha bravo"]
    assert r.stt.calls[-1].duration_ms == pytest.approx(P2.duration_ms, abs=1)


async def test_a_silent_tail_is_not_transcribed() -> None:
    turn, (_p1, g1, _tail) = make_turn(P1, GAP, silence(1500))
    r = rig(turn)
    r.transcriber.commit(OFFSET, g1)
    turn.committed_until = g1
    turn.phase = TurnPhase.ENDED
    assert await r.transcriber.final_text() == "alpha bravo"
    assert len(r.stt.calls) == 1


@pytest.mark.parametrize(("prob", "transcribed"), [(0.4, True), (0.3, False)])
async def test_the_tail_counts_as_voiced_from_the_silence_threshold(
    prob: float, transcribed: bool
) -> None:
    turn, (_p1, g1, _p2) = make_turn(P1, GAP, P2)
    turn.windows = [
        VadWindow(w.start_sample, w.end_sample, prob) if w.end_sample > g1 else w
        for w in turn.windows
    ]
    r = rig(turn)
    r.transcriber.commit(OFFSET, g1)
    turn.committed_until = g1
    turn.phase = TurnPhase.ENDED
    text = await r.transcriber.final_text()
    assert text == ("alpha bravo charlie delta" if transcribed else "alpha bravo")


async def test_final_text_of_a_turn_without_commits_is_its_tail() -> None:
    turn, _ = make_turn(silence(300), P1, P2, silence(300))
    r = rig(turn)
    turn.phase = TurnPhase.ENDED
    assert await r.transcriber.final_text() == "alpha bravo charlie delta"
    assert r.prompts == [None]


async def test_cancelling_final_text_leaves_the_commits_running() -> None:
    turn, (_p1, g1, _p2, g2) = make_turn(P1, GAP, P2, GAP)
    r = rig(turn)
    t = r.transcriber
    r.stt.gate = asyncio.Event()
    t.commit(OFFSET, g1)
    turn.committed_until = g1
    turn.phase = TurnPhase.ENDED
    final = asyncio.ensure_future(t.final_text())
    await settle()
    final.cancel()
    await asyncio.gather(final, return_exceptions=True)
    assert final.cancelled()
    assert not t.commits[0].task.done()  # the candidate went on: the commit lives on
    r.stt.gate.set()
    await r.done()
    assert t.commits[0].text == "alpha bravo"
    t.commit(g1, g2)
    turn.committed_until = g2
    assert await t.final_text() == "alpha bravo charlie delta"
    assert len(r.stt.calls) == 2  # nothing transcribed twice


# --------------------------------------------------------------------------- captions


async def test_captions_combine_committed_text_and_the_newest_draft() -> None:
    turn, (_p1, g1, p2, _g2, p3) = make_turn(P1, GAP, P2, GAP, P3)
    r = rig(turn)
    t = r.transcriber
    t.partial(OFFSET, p2)
    await r.done()
    assert r.captions == ["alpha bravo charlie delta"]
    # A commit of the first phrase: the draft began before its end, so it is stale.
    t.commit(OFFSET, g1)
    await r.done()
    assert r.captions[-1] == "alpha bravo"
    t.partial(g1, p3)
    await r.done()
    assert r.captions == [
        "alpha bravo charlie delta",
        "alpha bravo",
        "alpha bravo charlie delta echo foxtrot",
    ]
    drafts = [c for c in r.stt.calls if c.draft]
    assert [c.prompt for c in drafts] == [None, "alpha bravo"]
    # The same caption again is not sent again.
    t.partial(g1, p3)
    await r.done()
    assert len(r.captions) == 3


async def test_a_skipped_draft_keeps_the_caption() -> None:
    turn, (p1, _g1, p2) = make_turn(P1, GAP, P2)
    r = rig(turn)
    t = r.transcriber
    t.partial(OFFSET, p1)
    await r.done()
    r.stt.skip_drafts = True
    t.partial(OFFSET, p2)
    await r.done()
    assert t.caption == "alpha bravo" and r.captions == ["alpha bravo"]
    assert t.idle


async def test_a_failed_partial_is_logged_and_leaves_the_transcriber_idle(
    caplog: pytest.LogCaptureFixture,
) -> None:
    turn, (p1,) = make_turn(P1)
    r = rig(turn)
    r.stt.fail_next = 1
    with caplog.at_level(logging.ERROR, logger=log.name):
        r.transcriber.partial(OFFSET, p1)
        await r.done()
    assert r.transcriber.idle and r.captions == []
    assert any("live caption failed" in rec.getMessage() for rec in caplog.records)


async def test_no_caption_once_the_turn_is_closed() -> None:
    turn, (p1,) = make_turn(P1)
    r = rig(turn)
    r.transcriber.commit(OFFSET, p1)
    turn.phase = TurnPhase.CLOSED
    await r.done()
    assert r.transcriber.commits[0].text == "alpha bravo"
    assert r.captions == []


async def test_a_partial_does_not_run_once_the_turn_has_ended() -> None:
    turn, (_p1, g1, p2) = make_turn(P1, GAP, P2)
    r = rig(turn)
    t = r.transcriber
    r.stt.gate = asyncio.Event()
    t.commit(OFFSET, g1)
    t.partial(g1, p2)  # queued behind the commit
    await settle()
    turn.phase = TurnPhase.ENDED
    r.stt.gate.set()
    await r.done()
    assert r.words == [["alpha", "bravo"]]
    assert t.idle
    t.partial(g1, p2)
    await r.done()
    assert len(r.stt.calls) == 1 and t.idle


async def test_hotwords_are_passed_on_every_pass() -> None:
    turn, (p1, g1, _p2, g2, _p3) = make_turn(P1, GAP, P2, GAP, P3)
    hotwords = "Kubernetes, Rust"
    r = rig(turn, hotwords=hotwords)
    t = r.transcriber
    t.partial(OFFSET, p1)
    await r.done()
    r.stt.fail_next = 1
    t.commit(OFFSET, g1)  # fails: retried by the final pass
    await r.done()
    t.commit(g1, g2)
    await r.done()
    turn.committed_until = g2
    turn.phase = TurnPhase.ENDED
    assert await t.final_text() == "alpha bravo charlie delta echo foxtrot"
    # A draft, a commit, the retry of the failed commit, the tail. The first phrase is short
    # and opens the turn: it may be a spoken command, so the commands cue Whisper too.
    assert [c.draft for c in r.stt.calls] == [True, False, False, False]
    cued = with_command_cues(hotwords)
    assert cued is not None and cued.startswith("Skip this question") and cued.endswith(hotwords)
    assert [c.hotwords for c in r.stt.calls] == [hotwords, cued, cued, hotwords]


async def test_a_long_first_phrase_is_an_answer_and_gets_no_command_cues() -> None:
    long_phrase = speech(" ".join(["alpha", "bravo", "charlie", "delta", "echo"] * 2))
    turn, (p1, _g1) = make_turn(long_phrase, GAP)
    r = rig(turn, hotwords="Kubernetes, Rust")
    r.transcriber.commit(OFFSET, p1)
    await r.done()
    assert [c.hotwords for c in r.stt.calls] == ["Kubernetes, Rust"]


# --------------------------------------------------------------------------- prefill


@dataclass
class PrefillRig:
    prefiller: Prefiller
    calls: list[str]
    tasks: list[asyncio.Task[Any]]


def prefill_rig(prefill: Callable[[str], Awaitable[None]], calls: list[str]) -> PrefillRig:
    tasks: list[asyncio.Task[Any]] = []

    def spawn(coro: Awaitable[Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        tasks.append(task)
        return task

    return PrefillRig(Prefiller(prefill, spawn=spawn, log=log), calls, tasks)


async def test_prefill_sends_only_the_newest_text_one_request_at_a_time() -> None:
    turn, _ = make_turn(P1)
    gate = asyncio.Event()
    calls: list[str] = []
    running = 0
    most = 0

    async def prefill(text: str) -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        calls.append(text)
        await gate.wait()
        running -= 1

    p = prefill_rig(prefill, calls)
    p.prefiller.offer(turn, "alpha")
    await settle()
    p.prefiller.offer(turn, "alpha bravo")
    p.prefiller.offer(turn, "alpha bravo charlie")
    await settle()
    assert calls == ["alpha"]
    gate.set()
    await asyncio.gather(*p.tasks)
    assert calls == ["alpha", "alpha bravo charlie"]
    assert most == 1 and len(p.tasks) == 1
    p.prefiller.offer(turn, "alpha bravo charlie delta")  # idle again: a new request
    await asyncio.gather(*p.tasks)
    assert calls[-1] == "alpha bravo charlie delta"


async def test_prefill_failures_are_logged_never_raised(caplog: pytest.LogCaptureFixture) -> None:
    turn, _ = make_turn(P1)
    calls: list[str] = []

    async def prefill(text: str) -> None:
        calls.append(text)
        if text == "boom":
            raise RuntimeError("model server down")

    p = prefill_rig(prefill, calls)
    with caplog.at_level(logging.WARNING, logger=log.name):
        p.prefiller.offer(turn, "boom")
        await asyncio.gather(*p.tasks)  # does not raise
    assert any("prefill failed" in rec.getMessage() for rec in caplog.records)
    p.prefiller.offer(turn, "alpha")
    await asyncio.gather(*p.tasks)
    assert calls == ["boom", "alpha"]


async def test_no_prefill_for_a_turn_that_has_ended() -> None:
    turn, _ = make_turn(P1)
    calls: list[str] = []

    async def prefill(text: str) -> None:
        calls.append(text)

    p = prefill_rig(prefill, calls)
    turn.phase = TurnPhase.ENDED
    p.prefiller.offer(turn, "alpha")
    await asyncio.gather(*p.tasks)
    assert calls == []
