"""A slice of ``make resilience`` (bench/resilience.py, docs/reliability.md): the real server in
a process of its own, its model a stub on loopback; forced disconnects, model faults, fuzzed
frames and kill -9. Fails on any answer lost or stored twice, an interview that cannot resume,
a report not generated exactly once, a model fault without a clear error in time, an
internal-error close, a damaged interview or database, or a 5xx."""

from __future__ import annotations

import argparse

import pytest

from bench.resilience import main_async, table

pytestmark = pytest.mark.slow


async def test_faults_lose_nothing() -> None:
    args = argparse.Namespace(
        disconnects=12,
        frames=300,
        kills=2,
        handovers=4,
        races=6,
        postgres="",
        clients=10,
        voices=1,
        load_seconds=20,
        schema_examples=0,  # tests/integration/test_schema_run.py runs its slice
        seed=11,
    )
    figures = await main_async(args)
    print("\n" + table(figures))
    assert figures.disconnects >= 12 and figures.frames_fuzzed == 300 and figures.kills == 2
    assert figures.problems() == []
