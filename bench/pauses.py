"""The pause set: does the end of turn wait for a thinking candidate, and not for a finished one?

Spoken answers in four synthetic voices (``bench.stt_audio.RENDERINGS``), of three kinds:

- **mid-sentence**: a sentence with a thinking pause of 0.5-2.5 s inside it ("The main
  reason the migration took so long was … that nobody owned the billing code."). Ending the
  turn in the pause is a **cut-off**.
- **between sentences**: a finished sentence, a pause, then more of the answer. Ending the
  turn there is not wrong by the sentence, but the answer is split (the resumed-answer logic
  in the session joins it back; this bench counts how often it is needed).
- **complete**: a finished answer; the **endpoint delay** is from its last sound to the
  decision that the turn is over (the model's own time included).

Each answer carries the question it answers (the default end of turn lets a thin answer to
an open question wait). Three held-out groups (``bench.pause_answers``) are reported apart,
each written before the rule it tests was measured: one after the short-answer rule, one of
two-sentence answers with the unsure-pause rule (``endpoint.settled``), and one of pauses
deeper into longer answers with the thin-answer rule (``endpoint.OPEN_ANSWER_WORDS``).

The pause is made the way a speaker makes one: the whole sentence is synthesised with a
comma where the candidate stops (so the voice carries on in the same intonation, unlike a
fragment synthesised alone, which TTS ends like a statement), and the comma's short gap is
stretched to the pause length. Noise, where a voice has it, is added afterwards, over the
pause too.

Each policy is simulated on the real turn detector (``server.voice.turns``) with the real
Silero VAD and the real Smart Turn model, on a clock that follows the audio; a judgment takes
effect after the model's measured time. Policies: the fixed 700 ms timeout (the old
default), the fixed timeout at the new default maximum, Smart Turn alone, Smart Turn with the
words, with the words and the question (a 10-word bar), with those and the unsure-pause
rule, and with the 25-word bar for a thin answer (the default). The default is then run
over whole interviews (``interviews``): each voice at each pause length is one candidate,
and what a cut-off teaches the end of turn (``TurnDetector.patience``) is carried to the
answers after it.

``python -m bench.pauses`` prints the table and writes var/bench/pauses.json.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np

from bench.pause_answers import (
    BETWEEN_SENTENCES,
    COMPLETE,
    HELD_OUT_COMPLETE,
    HELD_OUT_MID_SENTENCE,
    LATER_COMPLETE,
    LATER_MID_SENTENCE,
    LONGER_COMPLETE,
    LONGER_MID_SENTENCE,
    MID_SENTENCE,
)
from bench.report import percentile
from bench.stt_audio import LEAD_MS, RENDERINGS, Renderer, Rendering, require_tools
from server.voice.asking import invites_a_long_answer
from server.voice.audio import INPUT_SAMPLE_RATE_HZ, Pcm16, silence
from server.voice.config import VoiceConfig, samples
from server.voice.endpoint import OPEN_ANSWER_WORDS, WINDOW_S, SmartTurn, verdict
from server.voice.protocol import SILENCE_MS_SEMANTIC_DEFAULT
from server.voice.stt import WhisperSTT
from server.voice.turns import (
    Judge,
    Judgment,
    Turn,
    TurnDetector,
    TurnEnd,
    patience_after,
    still_pausing,
)
from server.voice.vad import VadModel

ROOT = Path(__file__).resolve().parent.parent

Kind = Literal["mid-sentence", "between sentences", "complete"]

PAUSES_MS = (500, 1000, 1500, 2000, 2500)
BEFORE_THIN_ANSWERS = 10
"""The words an answer to an open question needed before the thin-answer rule."""
BETWEEN_PAUSES_MS = (700, 1500, 2500)


@dataclass(frozen=True)
class Item:
    kind: Kind
    voice: str
    parts: tuple[str, ...]
    pause_ms: int
    audio: Pcm16 = field(repr=False)
    resume_sample: int
    """Where speech starts again after the pause (the end of the audio for a complete one)."""
    speech_end_sample: int
    """The last sound of the answer."""
    question: str | None = None
    """The question it answers."""
    held_out: int = 0
    """0: the set the rules were made on; 1: held out from the short-answer rule; 2: held out
    from the unsure-pause rule (answers of two sentences); 3: held out from the thin-answer
    rule (pauses deeper into longer answers)."""


@dataclass(frozen=True)
class Policy:
    name: str
    semantic: bool
    silence_ms: int
    words: bool = True
    """Semantic only: the words so far can veto the model's "finished"."""
    question: bool = False
    """Semantic with words only: a short answer to an open question is not finished."""
    unsure: bool = False
    """With the question: an unsure verdict on an answer whose words are over (two whole
    sentences or more) ends it at ``endpoint_unsure_wait_ms`` of silence."""
    open_answer_words: int = OPEN_ANSWER_WORDS
    """With the question: an answer to an open one of fewer words is not over at a pause (10
    before the thin-answer rule)."""


@dataclass(frozen=True)
class Outcome:
    end_sample: int | None
    reason: str
    judgments: tuple[Judgment, ...]
    tail_ms: float | None = None
    """Whisper's time on what was left to transcribe when the turn ended (the STT tail)."""
    voice_end: int | None = None
    """Where the voice had stopped when the turn ended."""


# ------------------------------------------------------------------ making the audio


def _frame_rms(x: np.ndarray, frame: int) -> np.ndarray:
    n = len(x) // frame
    return np.asarray(np.sqrt(np.mean(x[: n * frame].reshape(n, frame) ** 2, axis=1)))


def _speech_bounds(x: np.ndarray) -> tuple[int, int]:
    """First and last sample of sound (10 ms frames above 2 % of the loudest)."""
    frame = INPUT_SAMPLE_RATE_HZ // 100
    rms = _frame_rms(x, frame)
    loud = np.flatnonzero(rms > 0.02 * rms.max())
    return int(loud[0] * frame), int((loud[-1] + 1) * frame)


def _gap_near(x: np.ndarray, start: int, end: int, expected: int) -> tuple[int, int]:
    """The silent stretch (10 ms frames under 2 % of the loudest) inside [start, end) nearest
    to ``expected``; else the quietest 10 ms there. Returns its [a, b) in samples."""
    frame = INPUT_SAMPLE_RATE_HZ // 100
    rms = _frame_rms(x, frame)
    quiet = rms < 0.02 * rms.max()
    runs: list[tuple[int, int]] = []
    i = start // frame
    while i < end // frame:
        if quiet[i]:
            j = i
            while j < end // frame and quiet[j]:
                j += 1
            if j - i >= 3:  # a 30 ms gap at least: a pause, not a plosive
                runs.append((i * frame, j * frame))
            i = j
        else:
            i += 1
    if runs:
        return min(runs, key=lambda r: abs((r[0] + r[1]) // 2 - expected))
    lo, hi = max(start, expected - INPUT_SAMPLE_RATE_HZ // 2), min(end, expected + 8000)
    k = lo // frame + int(np.argmin(rms[lo // frame : hi // frame]))
    return k * frame, k * frame + frame


def render_item(
    renderer: Renderer,
    rendering: Rendering,
    kind: Kind,
    parts: Sequence[str],
    pause_ms: int,
    *,
    question: str | None = None,
    held_out: int = 0,
) -> Item:
    clean = replace(rendering, snr_db=None)
    text = " ".join(parts)
    x = renderer.render(clean, [text]).to_float32()
    first, last = _speech_bounds(x)
    if len(parts) == 1:
        resume = len(x)
        y = x
        speech_end = last
    else:
        expected = first + int((last - first) * len(parts[0]) / len(text))
        a, b = _gap_near(x, first, last, expected)
        stretch = max(0, samples(pause_ms) - (b - a))
        y = np.concatenate([x[:b], np.zeros(stretch, dtype=np.float32), x[b:]])
        resume = b + stretch
        speech_end = last + stretch
    if rendering.snr_db is not None:
        speech_rms = float(np.sqrt(np.mean(y[first:speech_end] ** 2)))
        noise_rms = speech_rms / 10 ** (rendering.snr_db / 20)
        rng = np.random.default_rng(len(y))
        y = y + rng.normal(0.0, noise_rms, len(y)).astype(np.float32)
    audio = Pcm16.from_float32(np.clip(y, -1.0, 1.0), INPUT_SAMPLE_RATE_HZ)
    return Item(
        kind, rendering.name, tuple(parts), pause_ms, audio, resume, speech_end, question, held_out
    )


def pause_set(renderer: Renderer, renderings: Sequence[Rendering] = RENDERINGS) -> list[Item]:
    items = []
    kinds: tuple[tuple[Kind, Sequence[tuple[str, ...]], Sequence[int], int], ...] = (
        ("mid-sentence", MID_SENTENCE, PAUSES_MS, 0),
        ("between sentences", BETWEEN_SENTENCES, BETWEEN_PAUSES_MS, 0),
        ("complete", COMPLETE, (0,), 0),
        ("mid-sentence", HELD_OUT_MID_SENTENCE, PAUSES_MS, 1),
        ("complete", HELD_OUT_COMPLETE, (0,), 1),
        ("mid-sentence", LONGER_MID_SENTENCE, PAUSES_MS, 2),
        ("complete", LONGER_COMPLETE, (0,), 2),
        ("mid-sentence", LATER_MID_SENTENCE, PAUSES_MS, 3),
        ("complete", LATER_COMPLETE, (0,), 3),
    )
    for rendering in renderings:
        for kind, answers, pauses, held_out in kinds:
            for question, *parts in answers:
                for pause in pauses:
                    items.append(
                        render_item(
                            renderer,
                            rendering,
                            kind,
                            parts,
                            pause,
                            question=question,
                            held_out=held_out,
                        )
                    )
    return items


# ------------------------------------------------------------------ the simulation


def simulate(
    audio: Pcm16,
    vad_model: VadModel,
    turn_model: SmartTurn | None,
    policy: Policy,
    config: VoiceConfig | None = None,
    stt: WhisperSTT | None = None,
    question: str | None = None,
    *,
    patience: int = 0,
) -> Outcome:
    """Stream ``audio`` (then silence) through the turn detector as the session does, and say
    where the first turn ended and why. With ``stt`` and ``policy.words``, a "finished" from
    the model is checked against the words so far (the session transcribes them for good at
    that pause); the verdict takes effect after the model's and Whisper's measured time. With
    ``stt``, the STT tail left at the end of the turn is transcribed and timed too. With
    ``policy.question``, ``question`` is the interviewer's (a short answer to an open one is
    not finished). ``patience``: what the detector has learned of this candidate's pauses
    (``TurnDetector.patience``)."""
    cfg = config or VoiceConfig()
    # Without the unsure-pause rule, "unsure" starts where "finished" does: nothing settles.
    unsure_threshold = cfg.endpoint_unsure_threshold if policy.unsure else cfg.endpoint_threshold
    detector = TurnDetector(vad_model, cfg, patience=patience)
    after = silence(policy.silence_ms + 1500)
    turn: Turn | None = None
    pending: list[tuple[int, Judgment, str | None]] = []
    judgments: list[Judgment] = []
    for frame in Pcm16(audio.data + after.data, INPUT_SAMPLE_RATE_HZ).split(20):
        for window in detector.push(frame, turn):
            now = window.end_sample / INPUT_SAMPLE_RATE_HZ
            detector.observe(window, now, turn)
            if turn is None:
                onset = detector.onset(now, playing=False)
                if onset is not None:
                    turn = detector.start_turn(1, onset.start_sample, now, mode="vad")
                continue
            for entry in list(pending):
                ready, judgment, text = entry
                if window.end_sample >= ready:
                    pending.remove(entry)
                    outcome = verdict(
                        judgment.probability,
                        text,
                        threshold=cfg.endpoint_threshold,
                        unsure_threshold=unsure_threshold,
                        question=question if policy.question else None,
                        open_answer_words=policy.open_answer_words,
                    )
                    if outcome == "finished" and detector.judged_over(
                        turn, judgment, cfg.endpoint_threshold
                    ):
                        tail = _tail_ms(turn, window.end_sample, stt, cfg)
                        return Outcome(
                            window.end_sample,
                            "complete",
                            tuple(judgments),
                            tail,
                            turn.last_voice_end_sample,
                        )
                    if outcome == "settle" and still_pausing(turn, judgment):
                        turn.settle_at = (judgment.voice_end, samples(cfg.endpoint_unsure_wait_ms))
            decisions = detector.advance(
                turn,
                window,
                silence_ms=policy.silence_ms,
                transcriber_idle=True,
                semantic=policy.semantic and turn_model is not None,
            )
            for decision in decisions:
                if isinstance(decision, Judge):
                    assert turn_model is not None
                    clip = turn.pcm(decision.end - samples(1000 * WINDOW_S), decision.end)
                    started = time.perf_counter()
                    probability = turn_model.probability_sync(clip)
                    model_ms = (time.perf_counter() - started) * 1000
                    judgment = Judgment(decision.voice_end, decision.end, probability, model_ms)
                    judgments.append(judgment)
                    text = None
                    if policy.words and stt is not None and probability >= unsure_threshold:
                        # As the session does: the phrase is closed at the pause and its words
                        # transcribed (here the whole turn: the pause set's answers are one
                        # phrase, so that is what the session reads too).
                        detector.commit_until(turn, decision.end)
                        started = time.perf_counter()
                        words = turn.pcm(turn.start_sample, decision.end)
                        text = stt.transcribe_sync(words).text
                        model_ms += (time.perf_counter() - started) * 1000
                    pending.append((decision.end + samples(model_ms), judgment, text))
                elif isinstance(decision, TurnEnd):
                    tail = _tail_ms(turn, window.end_sample, stt, cfg)
                    return Outcome(
                        window.end_sample,
                        decision.reason,
                        tuple(judgments),
                        tail,
                        turn.last_voice_end_sample,
                    )
    return Outcome(None, "never", tuple(judgments))


def _tail_ms(turn: Turn, end: int, stt: WhisperSTT | None, cfg: VoiceConfig) -> float | None:
    if stt is None:
        return None
    if not turn.voiced_samples(turn.committed_until, end, cfg.silence_threshold):
        return 0.0
    started = time.perf_counter()
    stt.transcribe_sync(turn.pcm(turn.committed_until, end))
    return (time.perf_counter() - started) * 1000


def score(item: Item, outcome: Outcome) -> dict[str, Any]:
    ended = outcome.end_sample
    row: dict[str, Any] = {
        "kind": item.kind,
        "held_out": item.held_out,
        "question": item.question,
        "voice": item.voice,
        "pause_ms": item.pause_ms,
        "text": " … ".join(item.parts),
        "reason": outcome.reason,
        "model_calls": len(outcome.judgments),
        "model_ms": [round(j.model_ms, 1) for j in outcome.judgments],
        "probabilities": [round(j.probability, 3) for j in outcome.judgments],
        "judged_ms": [_to_ms(j.end) for j in outcome.judgments],
        "voice_end_ms": [_to_ms(j.voice_end) for j in outcome.judgments],
        "resume_ms": _to_ms(item.resume_sample),
        "speech_end_ms": _to_ms(item.speech_end_sample),
        "end_ms": None if ended is None else _to_ms(ended),
    }
    if item.kind == "complete":
        row["cut"] = ended is not None and ended < item.speech_end_sample
        row["delay_ms"] = (
            None if ended is None else round((ended - item.speech_end_sample) * 1000 / 16000)
        )
        # When the answer's text is complete: the end of turn, then the STT tail.
        row["transcript_ms"] = (
            None
            if row["delay_ms"] is None or outcome.tail_ms is None
            else round(row["delay_ms"] + outcome.tail_ms)
        )
    else:
        row["cut"] = ended is not None and ended < item.resume_sample
    return row


def _to_ms(sample: int) -> int:
    return round(sample * 1000 / INPUT_SAMPLE_RATE_HZ)


def summarize(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    def rate(kind: str) -> float | None:
        chosen = [r for r in rows if r["kind"] == kind]
        return sum(r["cut"] for r in chosen) / len(chosen) if chosen else None

    delays = sorted(r["delay_ms"] for r in rows if r["kind"] == "complete" and r["delay_ms"])
    texts = sorted(
        r["transcript_ms"] for r in rows if r["kind"] == "complete" and r.get("transcript_ms")
    )
    calls = [ms for r in rows for ms in r["model_ms"]]
    mid = [r for r in rows if r["kind"] == "mid-sentence"]
    by_pause = {
        str(p): sum(r["cut"] for r in mid if r["pause_ms"] == p)
        / max(1, sum(r["pause_ms"] == p for r in mid))
        for p in PAUSES_MS
    }
    # A turn ended in a pause starts the reply (the answer stored, the model generating) that
    # the candidate's next words then discard: the compute of a preemptive reply, wasted.
    false_ends = [r for r in rows if r["cut"] and r["kind"] != "complete"]
    wasted_s = sum(max(0, r["resume_ms"] - r["end_ms"]) for r in false_ends) / 1000
    return {
        "false_ends": len(false_ends),
        "discarded_reply_s_per_answer": wasted_s / len(rows) if rows else None,
        "cut_off_rate": rate("mid-sentence"),
        "cut_off_by_pause": by_pause,
        "split_rate": rate("between sentences"),
        "complete_cut_rate": rate("complete"),
        "delay_p50_ms": statistics.median(delays) if delays else None,
        "delay_p95_ms": percentile(delays, 95),
        "transcript_p50_ms": statistics.median(texts) if texts else None,
        "transcript_p95_ms": percentile(texts, 95),
        "complete_never_ended": sum(r["delay_ms"] is None for r in rows if r["kind"] == "complete"),
        "model_calls": len(calls),
        "model_ms_p50": statistics.median(calls) if calls else None,
        "items": len(rows),
    }


def run(
    items: Sequence[Item],
    vad_model: VadModel,
    turn_model: SmartTurn,
    policies: Sequence[Policy],
    config: VoiceConfig | None = None,
    stt: WhisperSTT | None = None,
) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for policy in policies:
        model = turn_model if policy.semantic else None
        rows = [
            score(item, simulate(item.audio, vad_model, model, policy, config, stt, item.question))
            for item in items
        ]
        tuned = [r for r in rows if not r.get("held_out")]
        per_voice = {
            voice: summarize([r for r in tuned if r["voice"] == voice])
            for voice in dict.fromkeys(r["voice"] for r in tuned)
        }
        held_out = [r for r in rows if r.get("held_out") == 1]
        longer = [r for r in rows if r.get("held_out") == 2]
        later = [r for r in rows if r.get("held_out") == 3]
        results[policy.name] = {
            "policy": asdict(policy),
            "all": summarize(tuned),  # the set the rules were made on, as in earlier runs
            "held_out": summarize(held_out) if held_out else None,
            "two_sentences": summarize(longer) if longer else None,
            "later_pauses": summarize(later) if later else None,
            "every_group": summarize(rows),  # the issue's target: every answer of every group
            "voices": per_voice,
            "rows": rows,
        }
    return results


def interviews(
    items: Sequence[Item],
    vad_model: VadModel,
    turn_model: SmartTurn,
    policy: Policy,
    config: VoiceConfig | None = None,
    stt: WhisperSTT | None = None,
    *,
    seed: int = 15,
) -> dict[str, Any]:
    """Each voice at each pause length as one candidate's interview: that voice's thinking
    pauses of that length (each mid-sentence answer appears in exactly one interview) and its
    finished answers, in a fixed random order. What a cut-off teaches the end of turn
    (``patience_after``, as the session learns it when the candidate goes on) is carried to
    the answers after it."""
    cfg = config or VoiceConfig()
    order = random.Random(seed)
    rows: list[dict[str, Any]] = []
    for voice in dict.fromkeys(item.voice for item in items):
        for pause in PAUSES_MS:
            answers = [
                item
                for item in items
                if item.voice == voice
                and (item.kind, item.pause_ms) in (("complete", 0), ("mid-sentence", pause))
            ]
            order.shuffle(answers)
            patience = 0
            for item in answers:
                outcome = simulate(
                    item.audio, vad_model, turn_model, policy, cfg, stt, item.question,
                    patience=patience,
                )  # fmt: skip
                row = score(item, outcome)
                row["interview"] = f"{voice}, {pause} ms"
                row["patience_ms"] = _to_ms(patience)
                rows.append(row)
                if (
                    row["cut"]
                    and item.kind == "mid-sentence"
                    and outcome.reason in ("complete", "settled")
                    and outcome.voice_end is not None
                ):
                    patience = patience_after(
                        item.resume_sample - outcome.voice_end, samples(policy.silence_ms), patience
                    )
    mid = [r for r in rows if r["kind"] == "mid-sentence"]
    cut_in = [r["interview"] for r in mid if r["cut"]]
    finished = [r for r in rows if r["kind"] == "complete" and r["delay_ms"] is not None]
    after = sorted(r["delay_ms"] for r in finished if r["patience_ms"])
    before = sorted(r["delay_ms"] for r in finished if not r["patience_ms"])
    return {
        "interviews": len(PAUSES_MS) * len({r["voice"] for r in rows}),
        "cut_off_rate": sum(r["cut"] for r in mid) / len(mid) if mid else None,
        "with_a_cut_off": len(set(cut_in)),
        "cut_offs_after_the_first": len(cut_in) - len(set(cut_in)),
        "finished_before_p50_ms": _median(before),
        "finished_before_p95_ms": percentile(before, 95),
        "finished_after_p50_ms": _median(after),
        "finished_after_p95_ms": percentile(after, 95),
        "finished_after": len(after),
        "rows": rows,
    }


def default_policies(max_ms: int = SILENCE_MS_SEMANTIC_DEFAULT) -> list[Policy]:
    return [
        Policy("fixed 700 ms", semantic=False, silence_ms=700),
        Policy(f"fixed {max_ms} ms", semantic=False, silence_ms=max_ms),
        Policy(f"Smart Turn alone (max {max_ms} ms)", True, max_ms, words=False),
        Policy(f"semantic: Smart Turn + words (max {max_ms} ms)", True, max_ms),
        Policy(
            f"semantic + the question (max {max_ms} ms)",
            True,
            max_ms,
            question=True,
            open_answer_words=BEFORE_THIN_ANSWERS,
        ),
        Policy(
            f"+ unsure pauses settled by the words (max {max_ms} ms)",
            True,
            max_ms,
            question=True,
            unsure=True,
            open_answer_words=BEFORE_THIN_ANSWERS,
        ),
        Policy(
            f"+ thin answers to open questions wait, default (max {max_ms} ms)",
            True,
            max_ms,
            question=True,
            unsure=True,
        ),
    ]


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f}%"


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}"


def format_table(results: dict[str, Any]) -> str:
    lines = [
        "| policy | cut-off rate (mid-sentence) | split between sentences | finished answers cut "
        "| endpoint delay p50 / p95 (ms) | transcript ready p50 / p95 (ms) | model calls, p50 ms "
        "| discarded reply work per answer |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, result in results.items():
        s = result["all"]
        lines.append(
            f"| {name} | {_pct(s['cut_off_rate'])} | {_pct(s['split_rate'])} "
            f"| {_pct(s['complete_cut_rate'])} "
            f"| {_ms(s['delay_p50_ms'])} / {_ms(s['delay_p95_ms'])} "
            f"| {_ms(s['transcript_p50_ms'])} / {_ms(s['transcript_p95_ms'])} "
            f"| {s['model_calls']}, {_ms(s['model_ms_p50'])} "
            f"| {s['discarded_reply_s_per_answer']:.2f} s |"
        )
    closed_open = ["to a closed question, p50", "to an open one, p50"]
    for title, extra, key, group, more in (
        (
            "Held out (answers written after the short-answer rule; long whole clauses before "
            "a thinking pause, short finished answers):",
            closed_open, "held_out", 1, _by_question,
        ),
        (
            "Held out from the unsure-pause rule (answers of two sentences: a thinking pause in "
            "the second, and finished ones):",
            ["finished answers ending at the 3 s limit"], "two_sentences", 2, _at_limit,
        ),
        (
            "Held out from the thin-answer rule (thinking pauses after 7 to 35 words; finished "
            "answers of 13 to 26 words):",
            closed_open, "later_pauses", 3, _by_question,
        ),
        (
            "Every group together (the tuned set and the three held out):",
            [], "every_group", None, lambda finished: [],
        ),
    ):  # fmt: skip
        columns = ["policy", "cut-off rate (mid-sentence)", "finished answers cut",
                   "endpoint delay p50 / p95 (ms)", *extra]  # fmt: skip
        lines += ["", title, "", f"| {' | '.join(columns)} |", "|---" * len(columns) + "|"]
        lines += _group_lines(results, key, group, more)
    lines += _interview_lines(results)
    lines += ["", "Cut-off rate by pause length, and per voice:", ""]
    header = " | ".join(f"{p} ms" for p in PAUSES_MS)
    voices = list(next(iter(results.values()))["voices"])
    lines += [
        f"| policy | {header} | " + " | ".join(voices) + " |",
        "|---|" + "---|" * (len(PAUSES_MS) + len(voices)),
    ]
    for name, result in results.items():
        by_pause = result["all"]["cut_off_by_pause"]
        per_voice = result["voices"]
        lines.append(
            f"| {name} | "
            + " | ".join(_pct(by_pause[str(p)]) for p in PAUSES_MS)
            + " | "
            + " | ".join(
                f"{_pct(per_voice[v]['cut_off_rate'])}, {_ms(per_voice[v]['delay_p50_ms'])} ms"
                for v in voices
            )
            + " |"
        )
    return "\n".join(lines)


def _interview_lines(results: dict[str, Any]) -> list[str]:
    """The default policy over whole interviews, learning from each cut-off (``interviews``)."""
    name, result = next((n, r) for n, r in results.items() if "interviews" in r)
    i = result["interviews"]
    return [
        "",
        f"Whole interviews ({name}): each voice at each pause length is one candidate, "
        "every answer of every group in a fixed random order; a cut-off teaches the end of "
        "turn that candidate's pause (half as long again) for the answers after it:",
        "",
        "| interviews | cut-off rate, answer by answer | over interviews | interviews with a "
        "cut-off | cut-offs after the first | finished answers, delay p50 / p95 (ms): before "
        "a cut-off | after one (n) |",
        "|---|---|---|---|---|---|---|",
        f"| {i['interviews']} | {_pct(result['every_group']['cut_off_rate'])} "
        f"| {_pct(i['cut_off_rate'])} | {i['with_a_cut_off']} | {i['cut_offs_after_the_first']} "
        f"| {_ms(i['finished_before_p50_ms'])} / {_ms(i['finished_before_p95_ms'])} "
        f"| {_ms(i['finished_after_p50_ms'])} / {_ms(i['finished_after_p95_ms'])} "
        f"({i['finished_after']}) |",
    ]


def _group_lines(
    results: dict[str, Any],
    key: str,
    group: int | None,
    more: Callable[[list[dict[str, Any]]], list[str]],
) -> list[str]:
    """One table row per policy for a held-out group (None: every group): its cut-off rate,
    finished answers cut, endpoint delay, then ``more`` of its finished answers."""
    lines = []
    for name, result in results.items():
        summary = result.get(key)
        if not summary:
            continue
        finished = [
            r
            for r in result["rows"]
            if r["kind"] == "complete" and group in (None, r.get("held_out"))
        ]
        cells = [
            _pct(summary["cut_off_rate"]),
            _pct(summary["complete_cut_rate"]),
            f"{_ms(summary['delay_p50_ms'])} / {_ms(summary['delay_p95_ms'])}",
            *more(finished),
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def _by_question(finished: list[dict[str, Any]]) -> list[str]:
    """The endpoint delay p50 of short answers to a closed question, then to an open one."""
    return [
        _ms(
            _median(
                [
                    r["delay_ms"]
                    for r in finished
                    if r["delay_ms"] is not None and invites_a_long_answer(r["question"]) is open_
                ]
            )
        )
        for open_ in (False, True)
    ]


def _at_limit(finished: list[dict[str, Any]]) -> list[str]:
    return [f"{sum(r['reason'] == 'silence' for r in finished)} of {len(finished)}"]


def load_engines(models_dir: Path) -> tuple[VadModel, SmartTurn, WhisperSTT]:
    """Silero, Smart Turn, and the live ear as the session runs it (tiny.en, fillers kept)."""
    from server.voice.engines import resolve_whisper_dir
    from server.voice.stt import FILLER_SEED
    from server.voice.vad import shared_silero_vad

    stt = WhisperSTT(
        resolve_whisper_dir("tiny.en", models_dir),
        device="cpu",
        compute_type="int8",
        beam_size=5,
        cpu_threads=2,
        filler_seed=FILLER_SEED,
    )
    return shared_silero_vad(), SmartTurn.load(), stt


def main(argv: list[str] | None = None) -> int:
    from server.settings import Settings

    parser = argparse.ArgumentParser(prog="python -m bench.pauses", description=__doc__)
    parser.add_argument("--max-ms", type=int, default=SILENCE_MS_SEMANTIC_DEFAULT)
    parser.add_argument("--cache", type=Path, default=ROOT / "var" / "bench" / "audio")
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench" / "pauses.json")
    args = parser.parse_args(argv)
    require_tools()
    started = time.perf_counter()
    items = pause_set(Renderer(args.cache))
    vad_model, turn_model, stt = load_engines(Settings.from_env().models_dir)
    policies = default_policies(args.max_ms)
    results = run(items, vad_model, turn_model, policies, stt=stt)
    default = policies[-1]
    results[default.name]["interviews"] = interviews(items, vad_model, turn_model, default, stt=stt)
    print(f"Pause set: {len(items)} answers in {len(RENDERINGS)} voices (lead {LEAD_MS:g} ms)\n")
    print(format_table(results))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1))
    print(f"\n{time.perf_counter() - started:.0f} s; rows in {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
