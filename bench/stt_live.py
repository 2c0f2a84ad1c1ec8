"""What Viva *stores* when an answer is spoken live, against what the same model hears reading
the whole file: the speech benchmark's live section (``python -m bench.stt``).

Each answer (bench/stt_audio.py renders them) is streamed in 20 ms frames through the product's
``VoiceSession`` with the real Silero VAD and Whisper: turn detection, commits at pauses,
live captions, the final tail and the second pass all run as in an interview. The interviewer
is a stand-in that takes as long as the embedded model to start its reply (so a candidate
who goes on after a thinking pause continues the same answer, as in the app) and says one
short line. Time runs ``speed`` times faster than the wall clock for the session (audio is fed
faster, timers fire sooner); Whisper takes its real time, so the critical-path figures are, if
anything, pessimistic.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bench.wer import corpus_wer, term_hits, word_error_rate
from server.voice.audio import Pcm16, silence
from server.voice.config import VoiceConfig
from server.voice.conversation import Progress
from server.voice.protocol import InterviewFinished, ServerEvent
from server.voice.revision import repeated_ngrams
from server.voice.session import VoiceSession
from server.voice.stt import SpeechToText, normalize_words
from server.voice.vad import VadModel
from server.voice.vocabulary import Vocabulary

QUESTION = "Tell me about the backend systems you have built, and how you kept them fast."
REPLY_DELAY_S = 2.0
"""The stand-in interviewer's time to its first words (the embedded model's, roughly)."""
TTS_RATE_HZ = 22_050


class _Clock:
    """Session time running ``speed`` times faster than the wall clock."""

    def __init__(self, speed: float) -> None:
        self.speed = speed
        self._t0 = time.perf_counter()

    def __call__(self) -> float:
        return (time.perf_counter() - self._t0) * self.speed

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self.speed)


@dataclass
class _StandIn:
    """The interview side: one question, one answer (possibly continued), one short reply."""

    clock: _Clock
    answer: str = ""
    timings: dict[str, Any] = field(default_factory=dict)
    revisions: list[tuple[str, str]] = field(default_factory=list)
    awaiting: str = "answer"

    def _progress(self, answer_id: int | None = None) -> Progress:
        return Progress(1, 1, self.awaiting, QUESTION, answer_id)  # type: ignore[arg-type]

    async def progress(self) -> Progress:
        return self._progress()

    async def save_candidate_turn(
        self,
        text: str,
        *,
        audio_duration_ms: int | None,
        timings: Mapping[str, Any],
        continues_previous: bool,
        audio: Pcm16 | None = None,
    ) -> Progress:
        self.answer = f"{self.answer} {text}".strip() if continues_previous else text
        self.timings = dict(timings)
        self.awaiting = "question"
        return self._progress(answer_id=1)

    async def revise_answer(self, answer_id: int, heard: str, text: str) -> bool:
        self.revisions.append((heard, text))
        if heard != self.answer:
            return False
        self.answer = text
        return True

    async def prefill(self, answer_so_far: str) -> None:
        return None

    async def stream_interviewer_reply(self) -> AsyncIterator[str]:
        await self.clock.sleep(REPLY_DELAY_S)
        yield "Thank you."

    async def save_interviewer_turn(
        self, text: str, *, interrupted: bool, timings: Mapping[str, float]
    ) -> Progress:
        self.awaiting = "finished"
        return self._progress()

    async def end_interview(self) -> Progress:
        self.awaiting = "finished"
        return self._progress()


class _SilentVoice:
    """The interviewer's voice: 0.4 s of silence per line (the bench measures the ear)."""

    sample_rate_hz = TTS_RATE_HZ

    async def synthesize(self, text: str, *, speed: float = 1.0) -> AsyncIterator[Pcm16]:
        yield Pcm16(bytes(int(0.4 * TTS_RATE_HZ) * 2), TTS_RATE_HZ)


@dataclass(frozen=True)
class LiveResult:
    stored_live: str
    """The answer as the live passes stored it."""
    stored: str
    """The answer as stored in the end (after the second pass, if it revised it)."""
    tail_ms: float
    """Wall-clock time from the end-of-turn decision to the final transcript."""
    second_pass_ms: float | None
    revised: bool


async def stream_answer(
    audio: Pcm16,
    *,
    stt: SpeechToText,
    vad_model: VadModel,
    vocabulary: Vocabulary | None,
    speed: float,
    config: VoiceConfig | None = None,
    second_pass_stt: SpeechToText | None = None,
) -> LiveResult:
    clock = _Clock(speed)
    stand_in = _StandIn(clock)
    finished = asyncio.Event()

    async def send(item: ServerEvent | Pcm16) -> None:
        if isinstance(item, InterviewFinished):
            finished.set()

    session = VoiceSession(
        session_id="bench",
        conversation=stand_in,
        stt=stt,
        tts=_SilentVoice(),
        vad_model=vad_model,
        send=send,
        vocabulary=vocabulary,
        second_pass_stt=second_pass_stt,
        config=config or VoiceConfig(),
        clock=clock,
        sleep=clock.sleep,
    )
    async with session:
        await session.receive_text('{"type":"start"}')
        await asyncio.sleep(0.5 / speed)  # the question is "spoken"
        trailing = silence(1500)
        frames = [*audio.split(20), *trailing.split(20)]
        fed_from = time.perf_counter()
        for i, frame in enumerate(frames):
            await session.receive_audio(frame.data)
            delay = fed_from + (i + 1) * 0.02 / speed - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
        keep_alive = silence(100)
        deadline = time.perf_counter() + 120
        while not finished.is_set() and time.perf_counter() < deadline:
            await session.receive_audio(keep_alive.data)  # the microphone stays open
            await asyncio.sleep(0.1 / speed)
        if not finished.is_set():
            raise RuntimeError("the answer never finished (no interview_finished in 120 s)")
        passes = session._second_pass.done if session._second_pass is not None else []
    tail = stand_in.timings.get("final_transcript_after_end_of_turn_ms", float("nan"))
    live = stand_in.revisions[0][0] if stand_in.revisions else stand_in.answer
    return LiveResult(
        stored_live=live,
        stored=stand_in.answer,
        tail_ms=float(tail) / speed,
        second_pass_ms=passes[0].processing_ms if passes else None,
        revised=bool(passes and passes[0].stored),
    )


# ---------------------------------------------------------------------------- measures


def _alignment_tail_deletions(reference: Sequence[str], hypothesis: Sequence[str]) -> int:
    """Reference words at the very end that the best word alignment leaves unmatched."""
    n, m = len(reference), len(hypothesis)
    cost = np.zeros((n + 1, m + 1), dtype=np.int32)
    cost[:, 0] = np.arange(n + 1)
    cost[0, :] = np.arange(m + 1)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            sub = cost[i - 1, j - 1] + (reference[i - 1] != hypothesis[j - 1])
            cost[i, j] = min(sub, cost[i - 1, j] + 1, cost[i, j - 1] + 1)
    # Walk back from the end; count deletions before the first word that was aligned.
    i, j, deletions = n, m, 0
    while i > 0:
        if j > 0 and cost[i, j] == cost[i - 1, j - 1] + (reference[i - 1] != hypothesis[j - 1]):
            return deletions
        if j > 0 and cost[i, j] == cost[i, j - 1] + 1:
            j -= 1  # an inserted word after the ending: the ending may still come
            continue
        deletions += 1
        i -= 1
    return deletions


def ending_kept(reference: str, hypothesis: str) -> bool:
    """Whether the answer's last word was heard (as itself or misheard, not dropped)."""
    return _alignment_tail_deletions(normalize_words(reference).split(),
                                     normalize_words(hypothesis).split()) == 0  # fmt: skip


def doubled_phrases(reference: str, hypothesis: str) -> int:
    """Four-word phrases heard more often than they were said."""
    said = repeated_ngrams(reference)
    heard = repeated_ngrams(hypothesis)
    return sum(count - max(1, said.get(gram, 1)) for gram, count in heard.items())


# ---------------------------------------------------------------------------- the section


async def live_rows(
    answers: Sequence[tuple[str, Any]],
    render: Any,
    *,
    stt: Any,
    vad_model: VadModel,
    vocabulary: Vocabulary | None,
    terms: Sequence[str],
    speed: float,
    config: VoiceConfig | None = None,
    second_pass_stt: SpeechToText | None = None,
) -> list[dict[str, Any]]:
    """One row per answer: stored live, stored in the end, and a whole-file decode."""
    hotwords = vocabulary.hotwords(QUESTION) if vocabulary is not None else None
    rows = []
    for kind, answer in answers:
        audio = render(answer.parts)
        result = await stream_answer(
            audio,
            stt=stt,
            vad_model=vad_model,
            vocabulary=vocabulary,
            speed=speed,
            config=config,
            second_pass_stt=second_pass_stt,
        )
        whole = await asyncio.to_thread(stt.transcribe_sync, audio, hotwords=hotwords)
        row: dict[str, Any] = {
            "kind": kind,
            "reference": answer.text,
            "pause": len(answer.parts) > 1,
            "audio_s": round(audio.duration_s, 2),
            "tail_ms": round(result.tail_ms),
            "second_pass_ms": round(result.second_pass_ms)
            if result.second_pass_ms is not None
            else None,
            "revised": result.revised,
        }
        for label, text in (
            ("live", result.stored_live),
            ("stored", result.stored),
            ("whole_file", whole.text),
        ):
            hits, said = term_hits(answer.text, text, terms)
            row[label] = {
                "text": text,
                "wer": round(word_error_rate(answer.text, text), 3),
                "term_hits": hits,
                "terms_said": said,
                "ending_kept": ending_kept(answer.text, text),
                "doubled": doubled_phrases(answer.text, text),
            }
        rows.append(row)
    return rows


def summarize_live(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"answers": len(rows)}
    for label in ("live", "stored", "whole_file"):
        hits = sum(r[label]["term_hits"] for r in rows)
        said = sum(r[label]["terms_said"] for r in rows)
        out[label] = {
            "wer": round(corpus_wer((r["reference"], r[label]["text"]) for r in rows), 3),
            "term_recall": round(hits / said, 3) if said else None,
            "endings_kept": sum(r[label]["ending_kept"] for r in rows),
            "doubled": sum(r[label]["doubled"] for r in rows),
        }
    whole = out["whole_file"]["wer"]
    out["stored_vs_whole_file"] = round(out["stored"]["wer"] / whole, 2) if whole else None
    out["live_vs_whole_file"] = round(out["live"]["wer"] / whole, 2) if whole else None
    tails = sorted(r["tail_ms"] for r in rows)
    out["tail_ms_p50"] = tails[len(tails) // 2] if tails else None
    out["tail_ms_max"] = tails[-1] if tails else None
    passes = sorted(r["second_pass_ms"] for r in rows if r["second_pass_ms"] is not None)
    out["second_pass_ms_p50"] = passes[len(passes) // 2] if passes else None
    out["revised"] = sum(r["revised"] for r in rows)
    return out


def format_live_table(summary: Mapping[str, Mapping[str, Any]]) -> str:
    lines = [
        "| voice | WER live → stored (whole file) | stored ÷ whole file "
        "| term recall live → stored (whole file) | endings kept live → stored "
        "| phrases doubled live → stored | STT tail p50 / max | second pass p50 (revised) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, s in summary.items():
        live, stored, whole = s["live"], s["stored"], s["whole_file"]

        def recall(x: Mapping[str, Any]) -> str:
            return "n/a" if x["term_recall"] is None else f"{x['term_recall']:.2f}"

        lines.append(
            f"| {name} | {live['wer']:.2f} → {stored['wer']:.2f} ({whole['wer']:.2f}) "
            f"| {s['stored_vs_whole_file']}× "
            f"| {recall(live)} → {recall(stored)} ({recall(whole)}) "
            f"| {live['endings_kept']} → {stored['endings_kept']} of {s['answers']} "
            f"| {live['doubled']} → {stored['doubled']} "
            f"| {s['tail_ms_p50']} / {s['tail_ms_max']} ms "
            f"| {s['second_pass_ms_p50']} ms ({s['revised']} of {s['answers']}) |"
        )
    return "\n".join(lines)
