"""A slice of ``make eval-feedback`` with the real default model, run in CI.

Four labelled interviews (a strong one, a keyword list, agreeable bad practice, an evasive
one) go through the real pipeline: the embedded Qwen model writes its note on every answer,
the report is composed, and the independent audit (``evals/audit.py``) reads every
statement. Any false statement, third-person point, invented topic, padding strength,
praise of a weak answer or question named by its greeting fails the suite, as does an
adversarial score above 3 or a weak interview scoring with a strong one.
"""

from __future__ import annotations

import json

import pytest

from evals.feedback import LABELLED, evaluate, summarise, table
from server.ai.embedded import EmbeddedLlamaServer
from server.ai.llm import OpenAIChatModel
from server.feedback.labelled import LabelledTranscript

pytestmark = pytest.mark.slow

SLICE = ("backend_strong", "adv_backend_keywords", "adv_pm_avoidant", "analyst_evasive")


def _slice() -> tuple[list[LabelledTranscript], dict[str, str]]:
    transcripts = [LabelledTranscript.load(LABELLED / f"{name}.json") for name in SLICE]
    companies = {
        name: json.loads((LABELLED / f"{name}.json").read_text())["company"] for name in SLICE
    }
    return transcripts, companies


async def test_real_model_reports_hold_every_statement_to_the_transcript(
    embedded_llm: EmbeddedLlamaServer,
) -> None:
    transcripts, companies = _slice()
    llm = OpenAIChatModel(base_url=embedded_llm.base_url, api_key="", model="local", timeout_s=300)
    try:
        rows = await evaluate(transcripts, llm, companies=companies)
    finally:
        await llm.aclose()
    summary = summarise(rows)
    print("\n" + table(rows, summary))
    for row in rows:
        for finding in row.audit.findings:
            print(f"  ! {row.name} {finding.kind} [{finding.section}]: {finding.detail}")
    assert summary.findings == dict.fromkeys(summary.findings, 0), summary.findings
    assert summary.highest_adversarial is not None and summary.highest_adversarial <= 3
    assert summary.ordering_violations == []
    by_name = {r.name: r for r in rows}
    # The model is really in the loop: some of its checked points are kept.
    assert any(r.written_by != "evidence" for r in rows), [r.written_by for r in rows]
    assert by_name["backend_strong"].score >= 8
    for name in ("adv_backend_keywords", "adv_pm_avoidant", "analyst_evasive"):
        kinds = {c["kind"] for c in by_name[name].citations["strengths"]}
        assert kinds == {"to_earn"}, (name, by_name[name].strengths)
