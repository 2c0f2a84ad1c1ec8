"""The incremental transcriber: the text of one turn, built while the candidate speaks.

Commits (stretches closed by a pause) are transcribed for good, in order, each prompted
with the text before it; partials (live captions) transcribe the uncommitted stretch as a
draft. When the turn ends, ``final_text`` waits for the commits, retries any that failed,
and transcribes only the tail, so the critical path is a few seconds of audio at most.

``Prefiller`` hands the caption so far to the model (one request at a time, only the
newest text), so that when the answer ends only its last words are left to read.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from server.voice.audio import INPUT_SAMPLE_RATE_HZ
from server.voice.commands import COMMAND_MAX_MS, with_command_cues
from server.voice.stt import SpeechToText
from server.voice.turns import Turn

Spawn = Callable[[Awaitable[Any], str], "asyncio.Task[Any]"]
"""Start a task the session owns (cancelled when it closes)."""
OnCaption = Callable[["TurnTranscriber"], Awaitable[None]]


@dataclass(eq=False)
class Commit:
    start_sample: int
    end_sample: int
    task: asyncio.Task[str | None]
    text: str | None = None


class TurnTranscriber:
    """Commit and partial jobs of one turn, its live caption, and its final text."""

    def __init__(
        self,
        turn: Turn,
        *,
        stt: SpeechToText,
        spawn: Spawn,
        on_caption: OnCaption,
        log: logging.LoggerAdapter[logging.Logger] | logging.Logger,
        hotwords: str | None = None,
        context: str | None = None,
        prompt_chars: int = 200,
        silence_threshold: float = 0.35,
    ) -> None:
        self.turn = turn
        self.hotwords = hotwords
        """The interview's terms, those of the question being answered first (every pass)."""
        self._short_hotwords = with_command_cues(hotwords)
        """For a short utterance at the start of a turn: the spoken commands first."""
        self.context = context
        """The question being answered: Whisper's context until the answer has text of its own."""
        self._stt = stt
        self._spawn = spawn
        self._on_caption = on_caption
        self._log = log
        self._prompt_chars = prompt_chars
        self._silence_threshold = silence_threshold
        self.commits: list[Commit] = []
        self._lock = asyncio.Lock()  # jobs of one turn run in order: each prompts the next
        self.jobs_pending = 0
        self.draft_text = ""
        self.draft_start_sample = -1
        self.caption = ""

    @property
    def idle(self) -> bool:
        return self.jobs_pending == 0

    def committed_text(self) -> str:
        return " ".join(c.text for c in self.commits if c.text)

    def _hotwords_for(self, start: int, end: int, *, first: bool) -> str | None:
        """A short stretch with nothing said before it may be a spoken command ("Skip this
        question."): Whisper is cued with the commands too (tiny.en heard a lone "End the
        interview." as "And the interview." without them)."""
        short = end - start <= COMMAND_MAX_MS * INPUT_SAMPLE_RATE_HZ // 1000
        return self._short_hotwords if first and short else self.hotwords

    def _prompt(self, text: str) -> str | None:
        """Whisper's context for the next stretch: the answer so far, else the question."""
        return (text or self.context or "")[-self._prompt_chars :] or None

    # ------------------------------------------------------------------ jobs

    def commit(self, start: int, end: int) -> None:
        self.jobs_pending += 1
        index = len(self.commits)
        task = self._spawn(
            self._commit_job(index, start, end), f"commit-{self.turn.number}-{index}"
        )
        self.commits.append(Commit(start, end, task))

    async def _commit_job(self, index: int, start: int, end: int) -> str | None:
        turn = self.turn
        try:
            async with self._lock:
                prompt = self._prompt(" ".join(c.text for c in self.commits[:index] if c.text))
                first = not any(c.text for c in self.commits[:index])
                transcript = await self._stt.transcribe(
                    turn.pcm(start, end),
                    prompt=prompt,
                    hotwords=self._hotwords_for(start, end, first=first),
                )
        except Exception:
            # The final pass re-transcribes this stretch; the answer is not lost.
            self._log.exception("turn %d: commit %d failed", turn.number, index)
            return None
        finally:
            self.jobs_pending -= 1
        self.commits[index].text = transcript.text
        self._log.debug(
            "turn %d: committed %.1f s in %.0f ms",
            turn.number,
            (end - start) / INPUT_SAMPLE_RATE_HZ,
            transcript.processing_ms,
        )
        await self._update_caption()
        return transcript.text

    def partial(self, start: int, end: int) -> None:
        self.jobs_pending += 1
        self._spawn(self._partial_job(start, end), f"partial-{self.turn.number}")

    async def _partial_job(self, start: int, end: int) -> None:
        turn = self.turn
        try:
            async with self._lock:
                if turn.ended:
                    return  # the final pass is due: don't make it wait
                transcript = await self._stt.transcribe(
                    turn.pcm(start, end),
                    prompt=self._prompt(self.committed_text()),
                    hotwords=self.hotwords,
                    draft=True,
                )
        except Exception:
            self._log.exception("turn %d: live caption failed", turn.number)
            return  # captions are best effort; the final pass does not depend on them
        finally:
            self.jobs_pending -= 1
        if transcript.skipped:
            return  # the caption so far stays up
        self.draft_text = transcript.text
        self.draft_start_sample = start
        await self._update_caption()

    async def _update_caption(self) -> None:
        if self.turn.closed:
            return
        parts = [self.committed_text()]
        if self.draft_text and self.draft_start_sample >= (
            self.commits[-1].end_sample if self.commits else -1
        ):
            parts.append(self.draft_text)
        caption = " ".join(p for p in parts if p)
        if caption and caption != self.caption:
            self.caption = caption
            await self._on_caption(self)

    async def text_so_far(self) -> str:
        """The committed text once every commit so far is transcribed (failed ones left out)."""
        for commit in list(self.commits):
            await asyncio.shield(commit.task)
        return self.committed_text()

    # ------------------------------------------------------------------ the end of the turn

    async def final_text(self) -> str:
        turn = self.turn
        end = turn.end_sample
        parts: list[str] = []
        for commit in list(self.commits):
            # shield: if this pass is cancelled (the candidate went on), the commits live on.
            text = await asyncio.shield(commit.task)
            if text is None:
                async with self._lock:
                    retry = await self._stt.transcribe(
                        turn.pcm(commit.start_sample, commit.end_sample),
                        prompt=self._prompt(" ".join(parts)),
                        hotwords=self._hotwords_for(
                            commit.start_sample, commit.end_sample, first=not parts
                        ),
                    )
                text = commit.text = retry.text
            if text:
                parts.append(text)
        tail_start = turn.committed_until
        # The lower (silence) threshold: a quiet last word must survive.
        if end > tail_start and turn.voiced_samples(tail_start, end, self._silence_threshold) > 0:
            async with self._lock:
                tail = await self._stt.transcribe(
                    turn.pcm(tail_start, end),
                    prompt=self._prompt(" ".join(parts)),
                    hotwords=self._hotwords_for(tail_start, end, first=not parts),
                )
            if tail.text:
                parts.append(tail.text)
        return " ".join(parts).strip()


class Prefiller:
    """Lets the model read the answer so far while the candidate goes on.

    One request at a time, only the newest text: ``offer`` replaces what is queued. A
    draft's last words may still change; the model server's cache then matches up to where
    they differ. Prefill is a hint: its failures are logged, never raised.
    """

    def __init__(
        self,
        prefill: Callable[[str], Awaitable[None]],
        *,
        spawn: Spawn,
        log: logging.LoggerAdapter[logging.Logger] | logging.Logger,
    ) -> None:
        self._prefill = prefill
        self._spawn = spawn
        self._log = log
        self._next: tuple[Turn, str] | None = None
        self._task: asyncio.Task[None] | None = None

    def offer(self, turn: Turn, text: str) -> None:
        self._next = (turn, text)
        if self._task is None or self._task.done():
            self._task = self._spawn(self._loop(), f"prefill-{turn.number}")

    async def _loop(self) -> None:
        while self._next is not None:
            (turn, text), self._next = self._next, None
            if turn.ended:
                continue
            try:
                await self._prefill(text)
            except Exception:  # a hint: the reply works without it
                self._log.warning("prefill failed", exc_info=True)
