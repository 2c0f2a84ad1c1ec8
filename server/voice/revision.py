"""The second pass: each spoken answer re-transcribed whole, off the critical path, for the record.

The live transcript is built from phrases cut at pauses, each heard with only the text before
it as context; the same model reading the whole answer at once hears it better (measured in
docs/benchmarks.md). So once an answer is stored, its audio waits here, and while the
interviewer speaks the reply (after the reply is synthesised, when the model and the speech
engine are idle and the candidate is listening) it is transcribed again, whole, biased with
the interview's vocabulary and with the question as context. The stored text is replaced only
if it is still what was heard live (a candidate's correction always wins) and the new text
passes sanity checks (no phrase repeated that the live text had once, no large loss of words).

The audio is held in memory only until the pass has run; whether it is also kept on disk is
the recording setting's business, not this module's.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from server.voice.audio import INPUT_SAMPLE_RATE_HZ, Pcm16
from server.voice.stt import SpeechToText, normalize_words

Revise = Callable[[int, str, str], Awaitable[bool]]
"""(answer id, the text as stored live, the second pass's text) → whether it was stored."""
OnRevised = Callable[[list[int], str], Awaitable[None]]
"""(the turns the answer was spoken in, its new text): tell the client."""
Spawn = Callable[[Awaitable[Any], str], "asyncio.Task[Any]"]

MAX_PIECE_S = 25.0
"""A long answer is read in pieces of at most this long, cut at its pauses, each with the text
before it as context: past ~27 s Whisper's window would split it anywhere, and the context
would reach only its first window."""
MIN_WORD_RATIO = 0.6
MAX_WORD_RATIO = 1.6
"""The second pass's text may differ from the live text, not lose or invent half of it."""
REPEAT_NGRAM = 4
"""A phrase of this many words said once and heard more often is a doubled phrase."""


def pieces(audio: Pcm16, pauses: list[int], max_s: float = MAX_PIECE_S) -> list[Pcm16]:
    """``audio`` cut at some of ``pauses`` (sample offsets where the candidate paused, in
    order) into pieces of at most ``max_s`` where the pauses allow: greedily, the latest
    pause that keeps the piece short enough."""
    total = len(audio.data) // 2
    limit = int(max_s * INPUT_SAMPLE_RATE_HZ)
    cuts: list[int] = []
    start = 0
    candidates = [p for p in pauses if 0 < p < total]
    while total - start > limit:
        fitting = [p for p in candidates if start < p <= start + limit]
        cut = fitting[-1] if fitting else next((p for p in candidates if p > start), total)
        if cut >= total:
            break
        cuts.append(cut)
        start = cut
    bounds = [0, *cuts, total]
    return [
        Pcm16(audio.data[2 * a : 2 * b], INPUT_SAMPLE_RATE_HZ)
        for a, b in itertools.pairwise(bounds)
        if b > a
    ]


def repeated_ngrams(text: str, n: int = REPEAT_NGRAM) -> Counter[tuple[str, ...]]:
    """Phrases of ``n`` words that occur more than once (how many times each)."""
    words = normalize_words(text).split()
    counts = Counter(tuple(words[i : i + n]) for i in range(len(words) - n + 1))
    return Counter({gram: c for gram, c in counts.items() if c > 1})


def acceptable(live: str, revised: str) -> bool:
    """Whether ``revised`` may replace ``live``: it is a different reading of the same answer,
    not an empty, truncated, run-on or looping one."""
    live_words = normalize_words(live).split()
    new_words = normalize_words(revised).split()
    if not new_words or new_words == live_words:
        return False
    ratio = len(new_words) / max(1, len(live_words))
    if not MIN_WORD_RATIO <= ratio <= MAX_WORD_RATIO:
        return False
    before = repeated_ngrams(live)
    after = repeated_ngrams(revised)
    return all(count <= before.get(gram, 1) for gram, count in after.items())


@dataclass(eq=False)
class _Answer:
    answer_id: int
    parts: list[str]
    audio: list[tuple[Pcm16, list[int]]]
    """Each part's audio and the sample offsets of its pauses (where the live pass cut it)."""
    hotwords: str | None
    context: str | None
    turns: list[int] = field(default_factory=list)
    revisable: bool = True

    @property
    def live_text(self) -> str:
        return " ".join(self.parts)


@dataclass
class Revision:
    """What one pass did (for logs, the benchmark and tests)."""

    answer_id: int
    live: str
    revised: str
    stored: bool
    processing_ms: float
    audio_ms: float


@dataclass(eq=False)
class SecondPass:
    """Answers waiting for their second pass, and the one background task that runs them."""

    stt: SpeechToText
    revise: Revise
    spawn: Spawn
    log: logging.LoggerAdapter[logging.Logger] | logging.Logger
    on_revised: OnRevised | None = None
    context_chars: int = 200
    done: list[Revision] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._pending: list[_Answer] = []
        self._task: asyncio.Task[None] | None = None

    def add(
        self,
        answer_id: int | None,
        text: str,
        audio: Pcm16 | None,
        *,
        hotwords: str | None,
        question: str | None,
        turn: int,
        pauses: list[int] | None = None,
        revisable: bool = True,
    ) -> None:
        """An answer (or more of one: the same ``answer_id`` again) was stored as ``text``;
        ``pauses``: sample offsets in ``audio`` where the candidate paused (cut points).

        Without ``audio`` (a typed part) or ``revisable`` (text stored that this audio does
        not cover), the answer keeps its live text."""
        if answer_id is None:
            return
        current = next((a for a in self._pending if a.answer_id == answer_id), None)
        if current is None:
            current = _Answer(
                answer_id,
                [],
                [],
                hotwords,
                question[-self.context_chars :] if question else None,
            )
            self._pending.append(current)
        current.parts.append(text)
        current.turns.append(turn)
        if audio is None or not revisable:
            current.revisable = False
        else:
            current.audio.append((audio, list(pauses or [])))

    def run(self) -> None:
        """Start the passes for the answers stored so far (in the background, one at a time)."""
        if not self._pending or (self._task is not None and not self._task.done()):
            return
        self._task = self.spawn(self._run(), "second-pass")

    async def wait(self, timeout_s: float) -> None:
        """Until the passes started or pending are done (at most ``timeout_s``)."""
        self.run()
        task = self._task
        if task is None or task.done():
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout_s)
        except TimeoutError:
            self.log.warning("second pass still running after %.0f s; not waiting", timeout_s)

    async def _run(self) -> None:
        while self._pending:
            answer = self._pending.pop(0)
            if not answer.revisable or not answer.audio:
                continue
            try:
                await self._revise(answer)
            except Exception:
                # The live text stays; the record is as good as it was.
                self.log.exception("second pass of answer %d failed", answer.answer_id)

    async def _revise(self, answer: _Answer) -> None:
        # All of the answer at once (the parts of one the candidate went on with are joined,
        # their boundaries being pauses too), in pieces only where it is long.
        data = bytearray()
        pauses: list[int] = []
        for part, part_pauses in answer.audio:
            offset = len(data) // 2
            if offset:
                pauses.append(offset)
            pauses.extend(offset + p for p in part_pauses)
            data += part.data
        texts: list[str] = []
        processing_ms = audio_ms = 0.0
        for piece in pieces(Pcm16(bytes(data), INPUT_SAMPLE_RATE_HZ), pauses):
            before = " ".join(texts)
            transcript = await self.stt.transcribe(
                piece,
                prompt=before[-self.context_chars :] if before else answer.context,
                hotwords=answer.hotwords,
            )
            processing_ms += transcript.processing_ms
            audio_ms += piece.duration_ms
            if transcript.text.strip():
                texts.append(transcript.text.strip())
        live = answer.live_text
        revised = " ".join(texts)
        stored = acceptable(live, revised) and await self.revise(answer.answer_id, live, revised)
        if stored and self.on_revised is not None:
            await self.on_revised(answer.turns, revised)
        self.done.append(Revision(answer.answer_id, live, revised, stored, processing_ms, audio_ms))
        self.log.info(
            "second pass of answer %d: %.1f s of audio in %.0f ms, %s",
            answer.answer_id,
            audio_ms / 1000,
            processing_ms,
            "stored" if stored else "live text kept",
        )
