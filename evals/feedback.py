"""``python -m evals.feedback``: the labelled transcripts through the real feedback pipeline.

Each transcript of ``tests/data/labelled`` (strong, weak, one-word, evasive and adversarial
candidates) is measured and scored, the real default model writes its note on every answer
(``AnswerNotes``, as during an interview), the report is composed as the service composes it,
and an independent audit (``evals/audit.py``) reads every statement. Prints a table per
transcript and a summary; exits 1 if a target is missed:

- no ordering violation (within a pair group, a label 2+ higher scores higher),
- every adversarial transcript at 3 or less,
- 0 false statements, 0 third-person points, 0 invented topics, 0 padding strengths,
  0 praise of answers a careful interviewer marks weak, 0 questions named by a greeting.

``--only a,b`` runs some transcripts; ``--json PATH`` writes the rows.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from evals.audit import ReportAudit, audit_report
from server.ai.llm import ChatModel
from server.feedback.compose import Assessment, compose
from server.feedback.labelled import (
    ADVERSARIAL_KINDS,
    ADVERSARIAL_MAX,
    LabelledTranscript,
    load_labelled,
)
from server.feedback.notes import AnswerNotes
from server.feedback.rubric import score_interview
from server.feedback.service import qas_from_history
from server.repositories.records import MessageRecord, SessionRecord

ROOT = Path(__file__).resolve().parents[1]
LABELLED = ROOT / "tests" / "data" / "labelled"

# Kinds whose every answer a careful interviewer marks weak: nothing in them may be praised.
WEAK_KINDS = ADVERSARIAL_KINDS | {"one-word", "evasive", "off-topic-long"}
FINDING_KINDS = (
    "false_statement",
    "third_person",
    "invented_topic",
    "padding",
    "weak_praise",
    "greeting",
)


@dataclass
class Row:
    name: str
    kind: str
    label: int
    score: int
    rubric: dict[str, float]
    written_by: str
    seconds: float
    strengths: list[str]
    weaknesses: list[str]
    cv_improvements: list[str]
    citations: dict[str, Any]
    audit: ReportAudit = field(default_factory=ReportAudit)
    pair_group: str | None = None


def _history(t: LabelledTranscript) -> list[MessageRecord]:
    now = datetime.now(UTC)
    out: list[MessageRecord] = []
    for n, qa in enumerate(t.qas, 1):
        for role, content in (("assistant", qa.question), ("user", qa.answer)):
            out.append(
                MessageRecord(
                    id=len(out) + 1,
                    role=role,  # type: ignore[arg-type]
                    content=content,
                    question_number=n if role == "assistant" else None,
                    is_closing=False,
                    audio_duration_ms=None,
                    timings=None,
                    interrupted=False,
                    created_at=now,
                )
            )
    return out


def _session(t: LabelledTranscript, number: int, company: str) -> SessionRecord:
    now = datetime.now(UTC)
    return SessionRecord(
        id=number,
        public_id=f"eval-{t.name}",
        owner_id="eval",
        job_title=t.job_title,
        company_name=company,
        cv_text=t.cv_text,
        cv_filename=None,
        job_description_text=t.job_description,
        status="completed",
        question_target=len(t.qas),
        created_at=now,
        updated_at=now,
    )


async def evaluate(
    transcripts: Sequence[LabelledTranscript],
    llm: ChatModel,
    *,
    companies: dict[str, str] | None = None,
    progress: bool = False,
) -> list[Row]:
    """One report per transcript, written by ``llm`` and audited."""
    notes = AnswerNotes(llm)
    rows: list[Row] = []
    for number, t in enumerate(transcripts, 1):
        company = (companies or {}).get(t.name, "")
        session = _session(t, number, company)
        history = _history(t)
        started = time.perf_counter()
        qas = qas_from_history(history)
        evidence = await asyncio.to_thread(t.measure)
        rubric = score_interview(evidence)
        assessment = Assessment(qas, evidence, rubric, 0.0)
        written = await notes.collect(session, history)
        context = "\n".join((t.cv_text, t.job_description, t.job_title, company))
        composed = compose(assessment, written, job_title=t.job_title, context=context)
        seconds = time.perf_counter() - started
        citations = composed.citations(qas)
        weak = range(len(t.qas)) if t.kind in WEAK_KINDS else ()
        row = Row(
            name=t.name,
            kind=t.kind,
            label=t.label,
            score=rubric.score,
            rubric={
                "relevance": rubric.relevance,
                "clarity": rubric.clarity,
                "technical_depth": rubric.technical_depth,
                "alignment": rubric.alignment,
            },
            written_by=composed.written_by,
            seconds=round(seconds, 1),
            strengths=[p.text for p in composed.strengths],
            weaknesses=[p.text for p in composed.weaknesses],
            cv_improvements=composed.cv_improvements,
            citations=citations,
            audit=audit_report(
                strengths=[p.text for p in composed.strengths],
                weaknesses=[p.text for p in composed.weaknesses],
                cv_improvements=composed.cv_improvements,
                citations=citations,
                questions=[qa.question for qa in t.qas],
                answers=[qa.answer for qa in t.qas],
                cv_text=t.cv_text,
                job_description=t.job_description,
                job_title=t.job_title,
                company=company,
                weak_answers=list(weak),
            ),
            pair_group=t.pair_group,
        )
        rows.append(row)
        notes.forget(session.id)
        if progress:
            flags = ", ".join(
                f"{k} {row.audit.count(k)}" for k in FINDING_KINDS if row.audit.count(k)
            )
            print(
                f"  {t.name}: score {row.score} (label {t.label}), {row.seconds:.0f} s"
                + (f" — {flags}" if flags else ""),
                file=sys.stderr,
                flush=True,
            )
    return rows


def ordering_violations(rows: Sequence[Row]) -> list[tuple[str, str]]:
    """(higher-labelled, lower-labelled) pairs of one group where the score does not follow."""
    out: list[tuple[str, str]] = []
    for a in rows:
        for b in rows:
            same_group = a.pair_group is not None and a.pair_group == b.pair_group
            if same_group and a.label - b.label >= 2 and a.score <= b.score:
                out.append((a.name, b.name))
    return out


@dataclass(frozen=True)
class Summary:
    transcripts: int
    statements: int
    ordering_violations: list[tuple[str, str]]
    highest_adversarial: int | None
    findings: dict[str, int]
    seconds_p50: float
    seconds_max: float

    @property
    def passed(self) -> bool:
        return (
            not self.ordering_violations
            and (self.highest_adversarial is None or self.highest_adversarial <= ADVERSARIAL_MAX)
            and not any(self.findings.values())
        )


def summarise(rows: Sequence[Row]) -> Summary:
    adversarial = [r.score for r in rows if r.kind in ADVERSARIAL_KINDS]
    seconds = [r.seconds for r in rows] or [0.0]
    return Summary(
        transcripts=len(rows),
        statements=sum(r.audit.statements for r in rows),
        ordering_violations=ordering_violations(rows),
        highest_adversarial=max(adversarial) if adversarial else None,
        findings={k: sum(r.audit.count(k) for r in rows) for k in FINDING_KINDS},
        seconds_p50=round(statistics.median(seconds), 1),
        seconds_max=round(max(seconds), 1),
    )


def table(rows: Sequence[Row], summary: Summary) -> str:
    head = "| transcript | kind | label | score | written by | s | " + " | ".join(
        k.replace("_", " ") for k in FINDING_KINDS
    )
    lines = [head + " |", "|---|---|---:|---:|---|---:|" + "---:|" * len(FINDING_KINDS)]
    for r in rows:
        counts = " | ".join(str(r.audit.count(k)) for k in FINDING_KINDS)
        lines.append(
            f"| {r.name} | {r.kind} | {r.label} | {r.score} | {r.written_by} | {r.seconds:.0f} "
            f"| {counts} |"
        )
    s = summary
    lines += [
        "",
        f"- transcripts: {s.transcripts}, statements audited: {s.statements}",
        f"- ordering violations: {len(s.ordering_violations)}"
        + (
            f" ({', '.join(f'{a} ≤ {b}' for a, b in s.ordering_violations)})"
            if s.ordering_violations
            else ""
        ),
        f"- highest adversarial score: {s.highest_adversarial} (target ≤ {ADVERSARIAL_MAX})",
        *(f"- {k.replace('_', ' ')}: {v}" for k, v in s.findings.items()),
        f"- time per report (notes from scratch + compose): p50 {s.seconds_p50} s, "
        f"max {s.seconds_max} s",
        f"- {'PASS' if s.passed else 'FAIL'}",
    ]
    return "\n".join(lines)


def _companies(directory: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for path in directory.glob("*.json"):
        out[path.stem] = json.loads(path.read_text(encoding="utf-8")).get("company", "")
    return out


async def _main(args: argparse.Namespace) -> int:
    from server.ai.embedded import EmbeddedLlamaServer
    from server.ai.llm import OpenAIChatModel
    from server.ai.model_files import BUILDS, assemble
    from server.settings import Settings

    transcripts = load_labelled(args.labelled)
    if args.only:
        wanted = set(args.only.split(","))
        transcripts = [t for t in transcripts if t.name in wanted]
    if not transcripts:
        print("No transcripts selected.", file=sys.stderr)
        return 2
    settings = Settings.from_env()
    server = EmbeddedLlamaServer(
        assemble(BUILDS[args.profile], settings.models_dir), threads=settings.llm_threads
    )
    print(f"Starting the embedded {args.profile} model…", file=sys.stderr, flush=True)
    await asyncio.to_thread(server.start)
    llm = OpenAIChatModel(base_url=server.base_url, api_key="", model=args.profile, timeout_s=300)
    try:
        rows = await evaluate(transcripts, llm, companies=_companies(args.labelled), progress=True)
    finally:
        await llm.aclose()
        server.stop()
    summary = summarise(rows)
    print(table(rows, summary))
    if args.show:
        for r in rows:
            print(f"\n## {r.name} ({r.kind}, label {r.label}, score {r.score})")
            for section in ("strengths", "weaknesses", "cv_improvements"):
                print(f"{section}:")
                for item in getattr(r, section):
                    print(f"  - {item}")
            for f in r.audit.findings:
                print(f"  ! {f.kind} [{f.section}]: {f.detail} — {f.text[:120]}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {"summary": asdict(summary), "rows": [asdict(r) for r in rows]}
        args.json.write_text(json.dumps(payload, indent=1), encoding="utf-8")
    return 0 if summary.passed else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.feedback", description=__doc__)
    parser.add_argument("--labelled", type=Path, default=LABELLED)
    parser.add_argument("--only", help="comma-separated transcript names")
    parser.add_argument("--profile", default="quality", choices=("quality", "fast"))
    parser.add_argument("--json", type=Path, help="write the rows and summary here")
    parser.add_argument("--show", action="store_true", help="print every report and finding")
    return asyncio.run(_main(parser.parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
