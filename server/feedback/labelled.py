"""The labelled transcripts (tests/data/labelled) and the rubric's agreement table over them.

python -m server.feedback.labelled --report tests/data/labelled [--timing]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from server.ai.embedder import Embedder, MiniLmEmbedder
from server.feedback.evidence import (
    QA,
    InterviewEvidence,
    SpeechMetrics,
    extract_skills,
    measure_interview,
)
from server.feedback.lexicon import OFF_TOPIC_PROTOTYPES
from server.feedback.rubric import RubricScore, score_interview

__all__ = ["ADVERSARIAL_KINDS", "LabelledTranscript", "agreement_table", "load_labelled"]

ADVERSARIAL_KINDS = frozenset(
    {"keyword-list", "number-salad", "generic-fluent", "star-offtopic", "wrong-question",
     "praise-bait"}
)  # fmt: skip
"""Transcripts written to game term, number and cue counting; the rubric holds each at <= 3."""
ADVERSARIAL_MAX = 3


@dataclass(frozen=True)
class LabelledTranscript:
    name: str
    job_title: str
    job_description: str
    cv_text: str
    qas: list[QA]
    label: int
    kind: str
    pair_group: str | None

    @classmethod
    def load(cls, path: Path) -> LabelledTranscript:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        qas = [
            QA(
                question=item["question"],
                answer=item["answer"],
                speech=SpeechMetrics(**item["speech"]) if item.get("speech") else None,
            )
            for item in data["qas"]
        ]
        return cls(
            name=path.stem,
            job_title=data["job_title"],
            job_description=data["job_description"],
            cv_text=data["cv_text"],
            qas=qas,
            label=int(data["label"]),
            kind=data["kind"],
            pair_group=data.get("pair_group"),
        )

    def measure(self, embedder: Embedder | None = None) -> InterviewEvidence:
        return measure_interview(
            self.qas,
            job_title=self.job_title,
            job_description=self.job_description,
            cv_text=self.cv_text,
            embedder=embedder,
        )


def load_labelled(directory: Path) -> list[LabelledTranscript]:
    return [LabelledTranscript.load(p) for p in sorted(directory.glob("*.json"))]


def agreement_table(rows: Sequence[tuple[LabelledTranscript, RubricScore]]) -> str:
    """The label-vs-score table as Markdown, with a closing agreement line."""
    lines = [
        "| transcript | role | kind | label | score | diff "
        "| relevance | clarity | depth | alignment | band |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    within = 0
    for t, s in rows:
        diff = s.score - t.label
        within += abs(diff) <= 1
        lines.append(
            f"| {t.name} | {t.job_title} | {t.kind} | {t.label} | {s.score} | {diff:+d} | "
            f"{s.relevance} | {s.clarity} | {s.technical_depth} | {s.alignment} | {s.band} |"
        )
    n = len(rows)
    lines.append("")
    lines.append(f"Within ±1 of the label: {within} of {n} ({within / max(n, 1):.0%}).")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m server.feedback.labelled")
    parser.add_argument(
        "--report",
        type=Path,
        required=True,
        metavar="DIR",
        help="folder of labelled transcripts (*.json); prints the agreement table",
    )
    parser.add_argument(
        "--timing",
        action="store_true",
        help="also print, to stderr, how long measuring and scoring each transcript took",
    )
    args = parser.parse_args(argv)
    transcripts = load_labelled(args.report)
    if not transcripts:
        print(f"No labelled transcripts in {args.report}", file=sys.stderr)
        return 1
    if args.timing:
        _print_timings(transcripts)
    rows = [(t, score_interview(t.measure())) for t in transcripts]
    print(agreement_table(rows))
    return 0


def _print_timings(transcripts: Sequence[LabelledTranscript]) -> None:
    """Measure+score time per transcript with a loaded model but no cached vectors
    for the transcript's own texts (the off-topic themes are cached, as in a server).
    CPU time is printed too: on a shared machine it is the steadier number."""
    embedder = MiniLmEmbedder()
    started = time.perf_counter()
    embedder.embed(list(OFF_TOPIC_PROTOTYPES.values()))
    extract_skills("warm up the gazetteer")
    print(f"model + gazetteer load: {time.perf_counter() - started:.2f} s", file=sys.stderr)
    wall_per_answer: list[float] = []
    cpu_per_answer: list[float] = []
    for t in transcripts:
        wall, cpu = time.perf_counter(), time.process_time()
        score_interview(t.measure(embedder=embedder))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        wall_per_answer.append(wall / len(t.qas))
        cpu_per_answer.append(cpu / len(t.qas))
        words = sum(len(qa.answer.split()) for qa in t.qas)
        print(
            f"{t.name}: {len(t.qas)} answers, {words} words: {wall * 1000:.0f} ms wall, "
            f"{cpu * 1000:.0f} ms CPU ({cpu / len(t.qas) * 1000:.0f} ms CPU per answer)",
            file=sys.stderr,
        )
    print(
        f"per answer: median {statistics.median(wall_per_answer) * 1000:.0f} ms wall, "
        f"{statistics.median(cpu_per_answer) * 1000:.0f} ms CPU; "
        f"max {max(cpu_per_answer) * 1000:.0f} ms CPU",
        file=sys.stderr,
    )


if __name__ == "__main__":
    raise SystemExit(main())
