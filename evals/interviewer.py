"""``python -m evals.interviewer``: scripted candidates interviewed by the real model.

Each script is a labelled transcript's candidate (``tests/data/labelled``: strong, thin,
evasive, off-topic and keyword-list candidates for several roles), given in an interview mode.
The app runs in-process with the real embedded model, exactly as it answers typed answers;
the candidate gives its answers in order, whatever it is asked (as a scripted candidate does),
until the interview ends. Then every interviewer reply is read by rules written apart from the
code that composes them, and the table prints, per interview and in all:

- **stock openers**: replies opening with "That's great!", "Thank you for providing…" and
  the like; target at most one per interview;
- **acknowledgement references the answer**: the reply's first sentence names a word of the
  answer it follows, or says what that answer lacked; target at least 80 %;
- **repeated questions**: a question sentence most of whose content words an earlier one of
  the same interview had; target 0;
- **praise after weak answers**: praise anywhere in a reply to an answer of a candidate whose
  kind a careful interviewer marks weak; target 0;
- **follow-ups after thin answers**: of the answers that are thin by word count or kind (not
  the last one, and not an answer to a follow-up: one per question), the share followed by a
  follow-up (the same question asked deeper) on a realistic interview;
- **requirement coverage of the plan**: the share of the job description's requirement lines
  whose terms the interviewer named when asking (its messages but their first sentence, the
  welcome or the acknowledgement);
- **first spoken unit**: its words, p50 (what the candidate hears first).

``--profile fast`` runs the 0.5B model; ``--only a,b`` some scripts; ``--json PATH`` writes the
rows. Exits 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from server.feedback.evidence import job_requirements
from server.feedback.labelled import ADVERSARIAL_KINDS, LabelledTranscript, load_labelled
from server.feedback.lexicon import FUNCTION_WORDS
from server.voice.sentences import SentenceSplitter

ROOT = Path(__file__).resolve().parents[1]
LABELLED = ROOT / "tests" / "data" / "labelled"
QUESTIONS = 5

# (labelled transcript, interview mode): strong, thin, evasive, off-topic and keyword-list
# candidates, in four roles and three modes.
SCRIPTS: tuple[tuple[str, str], ...] = (
    ("backend_strong", "technical"),
    ("backend_oneword", "mixed"),
    ("adv_backend_keywords", "technical"),
    ("pm_evasive", "behavioural"),
    ("teacher_offtopic", "behavioural"),
    ("adv_analyst_generic", "mixed"),
    ("analyst_strong", "mixed"),
    ("nurse_oneword", "behavioural"),
    ("adv_pm_keywords", "mixed"),
    ("pm_strong", "behavioural"),
)
WEAK_KINDS = ADVERSARIAL_KINDS | {"one-word", "evasive", "off-topic-long"}
THIN_KINDS = frozenset({"one-word", "keyword-list", "evasive"})
THIN_WORDS = 12

STOCK_OPENER = re.compile(
    r"^\W*(?:that'?s (?:great|interesting|impressive|a great|very impressive|wonderful|"
    r"fantastic|amazing)|great\b|excellent\b|wonderful\b|awesome\b|fantastic\b|"
    r"thank you for (?:providing|sharing|your answer)|thanks for (?:sharing|your answer))",
    re.IGNORECASE,
)
PRAISE = re.compile(
    r"\b(?:great|impressive|excellent|fantastic|amazing|awesome|wonderful|brilliant|perfect|"
    r"well done|outstanding|good job|nice work)\b",
    re.IGNORECASE,
)
NAMES_A_GAP = re.compile(
    r"\b(?:brief(?:ly)?|short|list|terms|example|specific|result|detail|more)\b", re.IGNORECASE
)
_WORD = re.compile(r"[a-z][a-z0-9'+#.-]*")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def content_words(text: str) -> set[str]:
    words = {w.strip(".'") for w in _WORD.findall(text.lower())}
    return {w for w in words if len(w) > 3 and w not in FUNCTION_WORDS}


def first_sentence(text: str) -> str:
    return _SENTENCE.split(text.strip(), maxsplit=1)[0]


def first_unit_words(text: str) -> int:
    splitter = SentenceSplitter()
    for word in re.findall(r"\S+\s*", text):
        if units := splitter.push(word):
            return len(units[0].split())
    units = splitter.flush()
    return len(units[0].split()) if units else 0


def repeats(questions: Sequence[str]) -> int:
    """Question sentences most of whose content words (four or more) one earlier question had."""
    count = 0
    for i, question in enumerate(questions):
        mine = content_words(question)
        if len(mine) < 4:
            continue
        if any(len(mine & content_words(q)) >= 0.75 * len(mine) for q in questions[:i]):
            count += 1
    return count


@dataclass
class Reply:
    answer: str
    text: str
    question_number: int | None
    follow_up: bool


@dataclass
class Row:
    name: str
    kind: str
    mode: str
    replies: list[Reply] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)
    asked: list[str] = field(default_factory=list)  # each message but its first sentence
    requirements: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def weak(self) -> bool:
        return self.kind in WEAK_KINDS

    @property
    def stock_openers(self) -> int:
        return sum(1 for r in self.replies if STOCK_OPENER.match(r.text))

    @property
    def acknowledged(self) -> int:
        return sum(
            1
            for r in self.replies
            if content_words(first_sentence(r.text)) & content_words(r.answer)
            or NAMES_A_GAP.search(first_sentence(r.text))
        )

    @property
    def repeated(self) -> int:
        return repeats(self.questions)

    @property
    def weak_praise(self) -> int:
        return sum(1 for r in self.replies if self.weak and PRAISE.search(r.text))

    def thin(self, reply: Reply) -> bool:
        return self.kind in THIN_KINDS or len(reply.answer.split()) < THIN_WORDS

    def _may_follow_up(self) -> list[Reply]:
        """Replies to a thin answer that may be a follow-up: not the closing, and not after a
        follow-up already (one per question)."""
        return [
            r
            for previous, r in zip([None, *self.replies], self.replies, strict=False)
            if self.thin(r)
            and r.question_number is not None
            and not (previous is not None and previous.follow_up)
        ]

    @property
    def thin_answers(self) -> int:
        return len(self._may_follow_up())

    @property
    def followed_up(self) -> int:
        return sum(1 for r in self._may_follow_up() if r.follow_up)

    @property
    def coverage(self) -> float:
        asked = content_words(" ".join(self.asked))
        covered = [req for req in self.requirements if content_words(req) & asked]
        return len(covered) / len(self.requirements) if self.requirements else 1.0

    @property
    def first_units(self) -> list[int]:
        return [first_unit_words(r.text) for r in self.replies]


async def interview(client: Any, script: LabelledTranscript, mode: str, *, company: str) -> Row:
    """One scripted interview through the app's typed API; the rows of what was said."""
    row = Row(script.name, script.kind, mode, requirements=job_requirements(script.job_description))
    started = time.perf_counter()
    created = await client.post(
        "/api/sessions",
        data={
            "job_title": script.job_title,
            "company_name": company or "Acme",
            "job_description": script.job_description,
            "cv_text": script.cv_text,
            "question_count": str(QUESTIONS),
            "interview_mode": mode,
            "difficulty": "realistic",
        },
        files={"_": ("", b"")},
    )
    created.raise_for_status()
    sid = created.json()["id"]
    opening = (await client.post(f"/api/sessions/{sid}/next")).json()["reply"]
    row.questions += [s for s in _SENTENCE.split(opening["content"]) if s.endswith("?")]
    row.asked += _SENTENCE.split(opening["content"])[1:]
    number = opening["question_number"]
    for qa in script.qas:
        response = await client.post(f"/api/sessions/{sid}/answers", json={"text": qa.answer})
        if response.status_code == 409:
            break  # the interview has ended
        response.raise_for_status()
        reply = response.json()["reply"]
        row.replies.append(
            Reply(
                qa.answer,
                reply["content"],
                reply["question_number"],
                follow_up=reply["question_number"] is not None
                and reply["question_number"] == number,
            )
        )
        row.questions += [s for s in _SENTENCE.split(reply["content"]) if s.endswith("?")]
        row.asked += _SENTENCE.split(reply["content"])[1:]
        number = reply["question_number"] or number
        if response.json()["progress"]["awaiting"] == "finished":
            break
    row.seconds = time.perf_counter() - started
    return row


@dataclass(frozen=True)
class Summary:
    interviews: int
    replies: int
    stock_openers_max: int
    stock_opener_share: float
    acknowledged_share: float
    repeated_questions: int
    weak_praise: int
    followed_up_share: float
    coverage_p50: float
    first_unit_words_p50: float
    seconds_p50: float

    @property
    def passed(self) -> bool:
        return (
            self.repeated_questions == 0
            and self.weak_praise == 0
            and self.stock_openers_max <= 1
            and self.acknowledged_share >= 0.8
        )


def summarise(rows: Sequence[Row]) -> Summary:
    replies = sum(len(r.replies) for r in rows) or 1
    thin = sum(r.thin_answers for r in rows)
    units = [u for r in rows for u in r.first_units] or [0]
    return Summary(
        interviews=len(rows),
        replies=replies,
        stock_openers_max=max((r.stock_openers for r in rows), default=0),
        stock_opener_share=round(sum(r.stock_openers for r in rows) / replies, 2),
        acknowledged_share=round(sum(r.acknowledged for r in rows) / replies, 2),
        repeated_questions=sum(r.repeated for r in rows),
        weak_praise=sum(r.weak_praise for r in rows),
        followed_up_share=round(sum(r.followed_up for r in rows) / thin, 2) if thin else 1.0,
        coverage_p50=round(statistics.median([r.coverage for r in rows] or [0.0]), 2),
        first_unit_words_p50=float(statistics.median(units)),
        seconds_p50=round(statistics.median([r.seconds for r in rows] or [0.0]), 1),
    )


def table(rows: Sequence[Row], summary: Summary, profile: str) -> str:
    lines = [
        f"Interviewer evaluation, {profile} profile ({summary.interviews} interviews, "
        f"{summary.replies} replies)",
        "",
        "| script | kind | mode | replies | stock openers | acknowledged | repeated questions "
        "| praise after weak | follow-ups / thin | requirement coverage | first unit words p50 "
        "| s |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        units = statistics.median(r.first_units) if r.first_units else 0
        lines.append(
            f"| {r.name} | {r.kind} | {r.mode} | {len(r.replies)} | {r.stock_openers} "
            f"| {r.acknowledged}/{len(r.replies)} | {r.repeated} | {r.weak_praise} "
            f"| {r.followed_up}/{r.thin_answers} | {r.coverage:.0%} | {units:g} "
            f"| {r.seconds:.0f} |"
        )
    s = summary
    lines += [
        "",
        f"- stock openers: {s.stock_opener_share:.0%} of replies, at most {s.stock_openers_max} "
        "in one interview (target ≤ 1)",
        f"- acknowledgement references the answer: {s.acknowledged_share:.0%} (target ≥ 80%)",
        f"- repeated questions: {s.repeated_questions} (target 0)",
        f"- praise after weak answers: {s.weak_praise} (target 0)",
        f"- follow-ups after thin answers: {s.followed_up_share:.0%}",
        f"- requirement coverage of the plan: p50 {s.coverage_p50:.0%}",
        f"- first spoken unit: {s.first_unit_words_p50:g} words (p50)",
        f"- time per interview: p50 {s.seconds_p50} s",
        f"- {'PASS' if s.passed else 'FAIL'}",
    ]
    return "\n".join(lines)


async def evaluate(
    scripts: Sequence[tuple[str, str]], profile: str, *, progress: bool = False
) -> list[Row]:
    """The scripts through the app with the real embedded model of ``profile``."""
    from litestar.testing import AsyncTestClient

    from server.ai.embedded import EmbeddedLlamaServer
    from server.ai.model_files import BUILDS, assemble
    from server.app import create_app
    from server.settings import Settings

    server = EmbeddedLlamaServer(
        assemble(BUILDS[profile], Settings.from_env().models_dir),
        threads=Settings.from_env().llm_threads,
    )
    await asyncio.to_thread(server.start)
    try:
        # The model by URL, as a deployment would point at it: the app makes and closes its
        # client on its own event loop (the test client runs the app on one of its own).
        settings = interviewer_settings(
            Settings.from_env(), base_url=server.base_url, model=profile
        )
        async with AsyncTestClient(app=create_app(settings), timeout=600) as client:
            return await run_scripts(client, scripts, progress=progress)
    finally:
        server.stop()


def interviewer_settings(settings: Any, *, base_url: str, model: str) -> Any:
    """The app's settings for the evaluation: the model at ``base_url``, read and written as
    the embedded one is (prefill, first words in turn), no notes (the report is not under test),
    and the in-process client's host allowed."""
    return dataclasses.replace(
        settings,
        llm_base_url=base_url,
        llm_model=model,
        llm_prefill=True,
        llm_first_words_in_turn=True,
        llm_reply_timeout_s=300.0,
        load_speech_models=False,
        notes_during_interview=False,
        new_sessions_per_minute=1000,
        allowed_hosts=(*settings.allowed_hosts, "testserver.local"),
    )


async def run_scripts(
    client: Any, scripts: Sequence[tuple[str, str]], *, progress: bool = False
) -> list[Row]:
    """The scripts through an app (``client``: a test client of it), one after another."""
    transcripts = {t.name: t for t in load_labelled(LABELLED)}
    companies = {
        p.stem: json.loads(p.read_text(encoding="utf-8")).get("company", "")
        for p in LABELLED.glob("*.json")
    }
    await client.get("/api/sessions")  # a page load: the visitor identity
    rows = []
    for name, mode in scripts:
        row = await interview(client, transcripts[name], mode, company=companies[name])
        rows.append(row)
        if progress:
            print(
                f"  {name} ({mode}): {len(row.replies)} replies, {row.seconds:.0f} s",
                file=sys.stderr,
                flush=True,
            )
    return rows


async def _main(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="viva-eval-") as scratch:
        # A database of its own (read when the app is first imported), not the user's.
        os.environ["VIVA_DATABASE_URL"] = f"sqlite:///{scratch}/eval.sqlite3"
        return await _run(args)


async def _run(args: argparse.Namespace) -> int:
    scripts = list(SCRIPTS)
    if args.only:
        wanted = set(args.only.split(","))
        scripts = [s for s in scripts if s[0] in wanted]
    rows = await evaluate(scripts, args.profile, progress=True)
    summary = summarise(rows)
    print(table(rows, summary, args.profile))
    if args.show:
        for r in rows:
            print(f"\n## {r.name} ({r.kind}, {r.mode})")
            for reply in r.replies:
                print(f"  A: {reply.answer[:100]}\n  Q{reply.question_number}: {reply.text}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {"summary": asdict(summary), "rows": [asdict(r) for r in rows]}
        args.json.write_text(json.dumps(payload, indent=1), encoding="utf-8")
    return 0 if summary.passed else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.interviewer", description=__doc__)
    parser.add_argument("--profile", default="quality", choices=("quality", "fast"))
    parser.add_argument("--only", help="comma-separated script names")
    parser.add_argument("--json", type=Path, help="write the rows and summary here")
    parser.add_argument("--show", action="store_true", help="print every answer and reply")
    return asyncio.run(_main(parser.parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
