"""A slice of ``make eval-interviewer`` with the real default model (docs/interviewer.md): a
keyword-list candidate and a one-word candidate. Fails on a question asked twice, on praise
after their weak answers, on more than one stock opener, if a thin answer got no follow-up,
and if fewer than 80 % of the acknowledgements name something of the answer."""

from __future__ import annotations

import pytest
from litestar.testing import AsyncTestClient

from evals.interviewer import interviewer_settings, run_scripts, summarise, table
from server.ai.embedded import EmbeddedLlamaServer
from server.settings import Settings

pytestmark = [pytest.mark.slow, pytest.mark.db]

SLICE = (("adv_backend_keywords", "technical"), ("backend_oneword", "mixed"))


async def test_the_interviewer_never_repeats_or_praises_weak_answers(
    embedded_llm: EmbeddedLlamaServer, settings: Settings, db: None
) -> None:
    from server.app import create_app

    app = create_app(interviewer_settings(settings, base_url=embedded_llm.base_url, model="local"))
    async with AsyncTestClient(app=app, timeout=600) as client:
        rows = await run_scripts(client, SLICE)
    summary = summarise(rows)
    print("\n" + table(rows, summary, "quality"))
    assert summary.repeated_questions == 0
    assert summary.weak_praise == 0
    assert summary.stock_openers_max <= 1
    # Follow-ups and acknowledgements are composed from the answer, not left to the model.
    assert all(r.followed_up == r.thin_answers > 0 for r in rows)  # one per thin answer
    assert summary.acknowledged_share >= 0.8
