"""The suite: every scenario against one server, the table and the verdict."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from bench.resilience.faults import disconnects, fuzz, model_faults
from bench.resilience.harness import Figures, Run
from bench.resilience.instances import two_instances
from bench.resilience.kills import kills
from bench.resilience.load import load
from bench.resilience.schema import schema_run
from bench.resilience.speech import speech_faults
from bench.resilience.uploads import bombs_under_voice, summary
from bench.server_proc import ROOT, ServerProcess
from bench.stub_llm import StubModel


async def main_async(args: argparse.Namespace) -> Figures:
    figures = Figures()
    rng = random.Random(args.seed)
    out = ROOT / "var" / "resilience"
    with tempfile.TemporaryDirectory(prefix="viva-resilience-") as tmp:
        async with StubModel() as stub:
            # Its speech engines behind fault switches (bench/faulty_speech.py).
            run = Run(stub, Path(tmp) / "data", out, module="bench.faulty_speech")
            server = await run.start()
            try:
                started = time.perf_counter()
                print(f"[resilience] forced disconnects ({args.disconnects})", flush=True)
                await disconnects(
                    server.base_url, figures, interviews=max(1, args.disconnects // 4), rng=rng
                )
                print(f"[resilience] model faults ({time.perf_counter() - started:.0f} s)")
                await model_faults(server.base_url, stub, figures)
                print(f"[resilience] fuzzed frames ({args.frames})", flush=True)
                await fuzz(server.base_url, figures, frames=args.frames, rng=rng)
                if args.load_seconds > 0:
                    print(
                        f"[resilience] load: {args.clients} API visitors and {args.voices} "
                        f"spoken interviews for {args.load_seconds:.0f} s",
                        flush=True,
                    )
                    await load(
                        server.base_url,
                        figures,
                        clients=args.clients,
                        voices=args.voices,
                        seconds=args.load_seconds,
                        seed=args.seed,
                    )
                print("[resilience] upload bombs during a spoken interview", flush=True)
                await bombs_under_voice(server.base_url, figures)
                print("[resilience] speech engine faults", flush=True)
                await speech_faults(server.base_url, run.data_dir, figures)
                if args.schema_examples > 0:
                    print("[resilience] property-based run over the OpenAPI schema", flush=True)
                    await _schema(server, figures, args)
                await _instances(run, figures, args, "sqlite")
                print(f"[resilience] kill -9 ({args.kills})", flush=True)
                await kills(run, figures, times=args.kills)
                figures.kill_databases.append("sqlite")
            finally:
                run.stop()
            if args.postgres:
                run = Run(stub, Path(tmp) / "pg", out, database_url=args.postgres, name="postgres")
                await run.start()
                try:
                    await _instances(run, figures, args, "postgresql")
                    print(f"[resilience] kill -9 on PostgreSQL ({args.kills})", flush=True)
                    await kills(run, figures, times=args.kills)
                    figures.kill_databases.append("postgresql")
                finally:
                    run.stop()
    return figures


async def _schema(server: ServerProcess, figures: Figures, args: argparse.Namespace) -> None:
    schema = await schema_run(
        server.base_url,
        max_examples=args.schema_examples,
        seed=args.seed,
        log_path=server.log_path,
    )
    figures.schema_operations = schema.operations
    figures.schema_operations_missed = schema.operations - schema.operations_covered
    figures.schema_cases = schema.cases_sent
    figures.schema_responses = dict(schema.responses)
    figures.schema_crashes = schema.crashes
    figures.schema_errors_not_logged = schema.errors_not_logged
    for line in schema.failure_kinds():
        print(line, flush=True)


async def _instances(run: Run, figures: Figures, args: argparse.Namespace, database: str) -> None:
    """A second app instance on ``run``'s data directory and database, for the two-instance
    scenario, stopped after it."""
    print(f"[resilience] two instances on {database}", flush=True)
    assert run.server is not None
    second = Run(
        run.stub, run.data_dir, run.log_dir, database_url=run.database_url, name=f"{run.name}-b"
    )
    other = await second.start()
    try:
        await two_instances(
            run.server.base_url,
            other.base_url,
            figures,
            handovers=args.handovers,
            races=args.races,
        )
        figures.instance_databases.append(database)
    finally:
        second.stop()


def table(f: Figures) -> str:
    rows = [
        ("forced disconnects", f.disconnects),
        ("answers sent", f.answers_sent),
        ("answers resent (dropped before the server had them)", f.answers_resent),
        ("answers lost", f.answers_lost),
        ("answers stored twice", f.answers_doubled),
        ("interviews not resumable", f.not_resumable),
        ("turns that hung (no transcript or reply in 30-60 s)", f.turns_stalled),
        ("reports not generated exactly once", f.reports_not_once),
        ("model faults injected", f.faults_injected),
        ("faults without a clear error within the timeout", f.fault_errors_late),
        ("answers lost to model faults", f.fault_answers_lost),
        ("retries that failed", f.fault_retries_failed),
        ("frames fuzzed", f.frames_fuzzed),
        ("internal-error closes under fuzzing", f.fuzz_internal_errors),
        ("interviews damaged by fuzzing", f.fuzz_interview_damaged),
        ("kill -9", f.kills),
        ("answers lost to kill -9", f.kill_answers_lost),
        ("interviews not resumable after kill -9", f.kill_not_resumable),
        ("database integrity failures", f.kill_integrity_failures),
        ("speech engine faults injected (recognition, synthesis)", f.speech_faults_injected),
        ("speech faults without a clear error in time", f.speech_faults_unclear),
        ("answers lost to a speech fault", f.speech_answers_lost),
        ("questions lost to a speech fault (not shown as stored)", f.speech_questions_lost),
        ("voices not back after a speech fault", f.speech_not_recovered),
        (
            f"load: API requests ({f.load_clients} visitors, {f.load_seconds:.0f} s)",
            f.load_requests,
        ),
        ("API errors under load", f.load_errors),
        (f"spoken turns under load ({f.load_voices} interviews)", f.load_voice_turns),
        ("spoken turns that failed under load", f.load_voice_errors),
        ("upload bombs sent during a spoken interview", f.bombs_sent),
        ("bombs not refused (4xx) within 2 s", f.bombs_not_refused_in_time),
        ("spoken turns that failed during bombs", f.bomb_voice_failures),
        ("reply audio chunks late during bombs", f.bomb_audio_late),
        (
            f"schema run: requests over {f.schema_operations} operations",
            f.schema_cases,
        ),
        ("schema run: 5xx", f.schema_responses.get("5xx", 0)),
        ("schema run: requests not answered", f.schema_crashes),
        ("schema run: errors not logged", f.schema_errors_not_logged),
        ("socket handovers between two instances", f.instance_handovers),
        ("sockets left live on two instances", f.instance_sockets_both_live),
        ("races (one interview's turn sent to both instances at once)", f.instance_races),
        ("turns stored twice across instances", f.instance_turns_doubled),
        ("5xx responses (other than a model fault's 502)", f.server_5xx),
    ]
    lines = ["| figure | n |", "|---|---:|", *(f"| {name} | {n} |" for name, n in rows)]
    lines.append(f"\nseconds to the error, per model fault: {f.fault_error_s}")
    lines.append(f"HTTP status, per model fault: {f.fault_status}")
    lines.append(f"fuzzing: closes by code: {f.fuzz_closes}")
    lines.append(f"seconds to the error, per speech fault: {f.speech_error_s}")
    lines.append(
        f"under load: API latency ms {f.load_api_ms}, voice-to-voice ms {f.load_v2v_ms}, "
        f"errors {f.load_error_kinds}"
    )
    for route, ms in f.load_api_ms_by_route.items():
        lines.append(f"  {route}: {ms}")
    lines.append(summary(f))
    lines.append(f"schema run: responses by class {f.schema_responses}")
    lines.append(f"kill -9 on: {f.kill_databases}; two instances on: {f.instance_databases}")
    lines.append(f"two instances: answers refused (409) by {f.instance_refused}")
    if f.instance_handover_s:
        lines.append(
            f"handover seconds (the new socket's hello after open): p50 "
            f"{statistics.median(f.instance_handover_s):.2f}, max {max(f.instance_handover_s):.2f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.resilience", description=__doc__)
    parser.add_argument("--disconnects", type=int, default=100)
    parser.add_argument("--frames", type=int, default=1000)
    parser.add_argument("--kills", type=int, default=4)
    parser.add_argument("--clients", type=int, default=50, help="API visitors under load")
    parser.add_argument("--voices", type=int, default=2, help="spoken interviews under load")
    parser.add_argument("--load-seconds", type=float, default=120)
    parser.add_argument(
        "--schema-examples", type=int, default=100, help="per operation, in the schema run"
    )
    parser.add_argument("--handovers", type=int, default=20)
    parser.add_argument("--races", type=int, default=20)
    parser.add_argument(
        "--postgres",
        default=os.environ.get("VIVA_RESILIENCE_DATABASE_URL", ""),
        help="a PostgreSQL database: two instances and kill -9 on it too",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, default=ROOT / "var" / "resilience" / "results.json")
    args = parser.parse_args(argv)
    os.environ.setdefault("VIVA_LOG_LEVEL", "INFO")
    figures = asyncio.run(main_async(args))
    print(table(figures))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(asdict(figures), indent=2))
    problems = figures.problems()
    print("\n" + ("FAIL: " + "; ".join(problems) if problems else "PASS"))
    return 1 if problems else 0
