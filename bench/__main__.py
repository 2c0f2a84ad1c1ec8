"""``python -m bench``: voice-to-voice latency (streaming vs naive), components, start-up,
memory, feedback time and concurrency, for each LLM profile. A table on stdout, JSON on disk.

Develop with ``--quick`` (fast profile, 2 spoken turns, 1 and 2 clients; a few minutes)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import naive, report
from bench.answers import load_answers
from bench.server_proc import ROOT, ServerProcess
from bench.voice import concurrent, interview
from server.voice.protocol import SILENCE_MS_DEFAULT

FIRST_CLAUSE_TOKENS = 8  # when no reply was heard: "Thanks, that is a good example."
# 1, 2 and 4 interviews at once for the default (quality) profile only, so that both profiles
# fit well inside `make bench`'s 15 minutes; `--concurrency 1,2,4` runs them for every profile.
DEFAULT_CONCURRENCY = {"quality": [1, 2, 4], "fast": [1]}
# Spoken turns per client at each level. Interviews started in the same second pay for the
# model's first read of each (~800 tokens) in their first answer, so two at once get three
# turns: the p50 is then a turn of two interviews in progress, and the first turns are
# reported on their own. Four at once: first answers only (time).
DEFAULT_CONC_TURNS = {2: 3, 4: 1}
# Naive turns: each re-reads the whole prompt (~30-40 s on quality). One turn per profile
# keeps `make bench` well inside 15 minutes; the speed-ups measured (5-11x) are far from the
# 3x target. ``--naive-turns 6`` runs the whole interview.
DEFAULT_NAIVE_TURNS = 1
FIXED_SILENCE_MS = 700  # the end of turn before the semantic endpoint: the A/B's other side


def composed_acknowledgement() -> bool:
    """Whether the servers this run starts compose each reply's acknowledgement (the default,
    ``VIVA_ACKNOWLEDGE_ANSWERS``): then the first spoken unit needs no model work."""
    return os.environ.get("VIVA_ACKNOWLEDGE_ANSWERS", "1").lower() not in (
        "0",
        "false",
        "no",
        "off",
    )


def conc_turns(spec: str) -> dict[int, int]:
    """``--conc-turns``: ``3`` (every level) or ``2:3,4:1`` (per level; others get 1)."""
    if not spec:
        return dict(DEFAULT_CONC_TURNS)
    if ":" not in spec:
        return {level: int(spec) for level in (2, 3, 4, 5, 6, 7, 8)}
    return {int(k): int(v) for k, v in (item.split(":") for item in spec.split(",") if item)}


def machine() -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem_kb = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal:")
    )
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gb": round(mem_kb / 1024**2, 1),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "load_before": os.getloadavg(),
    }


def _log(msg: str) -> None:
    sys.stderr.write(f"[bench {time.strftime('%H:%M:%S')}] {msg}\n")
    sys.stderr.flush()


def analyse(
    single: dict[str, Any],
    llm_rows: list[dict[str, Any]],
    guarded: list[str],
    naive_run: dict[str, Any],
    turns: int,
) -> dict[str, Any]:
    """Everything derived from one profile's raw runs (pure apart from its inputs)."""
    v2v = [t["voice_to_voice_ms"] for t in single["turns"]]
    breakdown = report.median_by_key([t["server_timings_ms"] for t in single["turns"]])
    naive_lat = report.summarize(t["latency_ms"] for t in naive_run["turns"])
    v2v_summary = report.summarize(v2v)
    # The opening is fixed text: the model's first request is the read of the interview
    # while the opening plays (a prefill), and reply k answers spoken answer k.
    replies = [r for r in llm_rows if r["kind"] == "reply"]
    turn_rows = replies[:turns]
    spoken = [r for r in turn_rows if not r.get("stopped")]  # the guard stopped the others
    gen = [r["gen_tps"] for r in llm_rows if r.get("gen_n", 0) >= 8 and "gen_tps" in r]
    hits = [r["cache_hit"] for r in spoken]
    prompt_tps_turn = report.percentile([r["prompt_tps"] for r in spoken if "prompt_tps" in r], 50)
    gen_tps = report.percentile(gen, 50)
    all_prefills = [r for r in llm_rows if r["kind"] == "prefill"]
    first_read, prefills = (all_prefills[0], all_prefills[1:]) if all_prefills else ({}, [])
    notes = [r for r in llm_rows if r["kind"] == "answer_note"]
    nt = naive_run["turns"]
    components = {
        "stt": {
            "rtf_beam1_fit": report.percentile([t["stt_rtf_beam1_fit"] for t in nt], 50),
            "rtf_beam5_full": report.percentile([t["stt_rtf_beam5_full"] for t in nt], 50),
        },
        "tts": {
            "rtf": report.percentile([t["tts_rtf"] for t in nt if t["tts_rtf"]], 50),
            "first_chunk_ms": report.percentile([t["tts_first_chunk_ms"] for t in nt], 50),
            "first_clause_first_chunk_ms": naive_run["tts_first_clause_ms"],
        },
        "llm": {
            "prompt_tps_cold": first_read.get("prompt_tps"),
            "prompt_tokens_cold": first_read.get("prompt_n"),
            "prompt_tps_uncached_naive": report.percentile(
                [t["prompt_tps"] for t in nt if t.get("prompt_tps")], 50
            ),
            "prompt_tps_turn_p50": prompt_tps_turn,
            "read_at_reply_tokens_p50": report.percentile([r["read_n"] for r in spoken], 50),
            "prefill_requests": len(prefills),
            "prefill_read_tokens_p50": report.percentile([r["read_n"] for r in prefills], 50),
            "answer_notes": len(notes),
            "answer_note_ms_p50": report.percentile([r["ms"] for r in notes], 50),
            "answer_note_tokens_p50": report.percentile([r["gen_n"] for r in notes], 50),
            "replies": len(replies),
            "guarded_replies": len(guarded),
            "guard_reasons": guarded,
            "spoken_replies_stopped": len(turn_rows) - len(spoken),
            "gen_tps_p50": gen_tps,
            "first_unit_tokens_p50": report.percentile(
                [report.first_unit_tokens(t["reply"]) for t in single["turns"] if t.get("reply")],
                50,
            ),
            "first_unit_words_p50": report.percentile(
                [report.first_unit_words(t["reply"]) for t in single["turns"] if t.get("reply")],
                50,
            ),
            "cache_hit_per_turn": hits,
            "cache_hit_p50": report.percentile(hits, 50),
            "cache_hit_min": min(hits) if hits else None,
        },
    }
    floor = report.critical_path_floor(
        # The end of turn as measured (the semantic endpoint's p50), else the fixed timeout.
        silence_ms=breakdown.get("end_of_turn_ms") or SILENCE_MS_DEFAULT,
        stt_tail_ms=breakdown.get("final_transcript_after_end_of_turn_ms") or 0.0,
        new_prompt_tokens=components["llm"]["read_at_reply_tokens_p50"] or 0.0,
        prompt_tps=prompt_tps_turn or 0.0,
        first_clause_tokens=components["llm"]["first_unit_tokens_p50"] or FIRST_CLAUSE_TOKENS,
        gen_tps=gen_tps or 0.0,
        tts_first_chunk_ms=naive_run["tts_first_clause_ms"],
        composed_first_unit=composed_acknowledgement(),
    )
    return {
        "voice_to_voice_ms": v2v_summary,
        "server_breakdown_p50_ms": breakdown,
        "naive": {"latency_ms": naive_lat, "turns": nt},
        "streaming_speedup_p50": report.ratio(naive_lat["p50"], v2v_summary["p50"]),
        "components": components,
        "floor": floor,
        "llm_requests": llm_rows,
    }


# Each A/B side re-runs the single interview's spoken turns on a server with one change off,
# side by side in one run: (name, server environment, room settings).
AB_SIDES: tuple[tuple[str, dict[str, str], dict[str, Any]], ...] = (
    (f"fixed {FIXED_SILENCE_MS} ms end of turn", {"VIVA_TURN_MODEL": "off"}, {}),
    ("model-written acknowledgement", {"VIVA_ACKNOWLEDGE_ANSWERS": "0"}, {}),
    ("stock phrases synthesised each time", {"VIVA_TTS_PHRASE_CACHE": "0"}, {}),
)


def ab_sides(
    profile: str,
    pcms: list[Any],
    args: argparse.Namespace,
    data_dir: Path,
    out_dir: Path,
    default: dict[str, Any],
) -> dict[str, Any]:
    """The single interview's turns again, once per change turned off (``AB_SIDES``): the
    semantic end of turn (the fixed 700 ms it had before), the composed acknowledgement (the
    model writing its own) and the stock phrases' cached audio (synthesised each time), each
    against the defaults, side by side in one run."""
    sides = {"default": default}
    for i, (name, env, settings) in enumerate(AB_SIDES):
        if name.startswith("fixed"):
            settings = {"silence_ms": FIXED_SILENCE_MS}
        srv = ServerProcess(profile, data_dir, out_dir / f"server-{profile}-ab{i}.log", env)
        srv.start()
        try:
            sides[name] = asyncio.run(
                interview(
                    srv.base_url,
                    pcms,
                    turns=args.turns,
                    questions=args.questions,
                    settings=settings or None,
                )
            )
        finally:
            srv.stop()

    def side(run: dict[str, Any]) -> dict[str, Any]:
        turns = run["turns"]
        return {
            "voice_to_voice_ms": report.summarize(t["voice_to_voice_ms"] for t in turns),
            "end_of_turn_ms": report.summarize(
                t["server_timings_ms"].get("end_of_turn_ms") for t in turns
            ),
            "final_transcript_ms": report.summarize(
                t["server_timings_ms"].get("final_transcript_ms") for t in turns
            ),
            "first_audio_after_first_text_ms": report.summarize(
                _after(t["server_timings_ms"], "first_audio_ms", "first_sentence_ms") for t in turns
            ),
            "first_unit_words": report.summarize(
                report.first_unit_words(t["reply"]) for t in turns if t.get("reply")
            ),
            "replies": [t.get("reply") for t in turns],
            "errors": run["errors"],
        }

    return {name: side(run) for name, run in sides.items()}


def _after(marks: dict[str, Any], later: str, earlier: str) -> float | None:
    if marks.get(later) is None or marks.get(earlier) is None:
        return None
    return float(marks[later]) - float(marks[earlier])


def run_profile(
    profile: str,
    args: argparse.Namespace,
    answers: list[Any],
    out_dir: Path,
    save: Callable[[dict[str, Any]], None],
) -> dict[str, Any]:
    """Cold start → spoken interview → feedback → stop → naive pipeline → warm start →
    concurrency. ``save`` is called with the partial result after every phase."""
    pcms = [pcm for _text, pcm in answers]
    data_dir = Path(tempfile.mkdtemp(prefix=f"viva-bench-{profile}-"))
    phases: dict[str, float] = {}
    result: dict[str, Any] = {"load_before": os.getloadavg(), "phases": phases, "errors": []}
    try:
        t0 = time.perf_counter()
        _log(f"{profile}: cold start (fresh data dir: model assembly + load)")
        srv = ServerProcess(profile, data_dir, out_dir / f"server-{profile}-single.log")
        cold = srv.start()
        result["startup_s"] = {"cold": round(cold, 2)}
        try:
            _log(
                f"{profile}: spoken interview, {args.turns} turns, "
                f"then feedback for {args.questions} questions"
            )
            single = asyncio.run(
                interview(
                    srv.base_url, pcms, turns=args.turns, questions=args.questions, feedback=True
                )
            )
        finally:
            srv.stop()
        result["errors"] += single["errors"]
        log = srv.log_text()
        llm_rows, guarded = report.parse_llm_log(log), report.parse_guard_log(log)
        phases["single_s"] = round(time.perf_counter() - t0, 1)
        result.update(
            peak_rss_mb=srv.peak_rss_mb,
            opening_s=single.get("opening_s"),
            turns=single["turns"],
            voice_to_voice_ms=report.summarize(t["voice_to_voice_ms"] for t in single["turns"]),
            server_breakdown_p50_ms=report.median_by_key(
                [t["server_timings_ms"] for t in single["turns"]]
            ),
            feedback={
                "questions": args.questions,
                "spoken": args.turns,
                "feedback_s": single.get("feedback_s"),
                "status": single.get("feedback_status"),
                "score_ms": single.get("score_ms"),
                "score": single.get("score"),
            },
            llm_requests=llm_rows,
        )
        save(result)

        if args.ab:
            t0 = time.perf_counter()
            _log(f"{profile}: the same spoken turns with each change off (A/B)")
            result["ab"] = ab_sides(profile, pcms, args, data_dir, out_dir, single)
            phases["ab_s"] = round(time.perf_counter() - t0, 1)
            save(result)

        t0 = time.perf_counter()
        _log(f"{profile}: naive pipeline, {args.naive_turns} turn(s) (app server stopped)")
        with naive.stderr_to(out_dir / f"naive-{profile}.log"):
            naive_run = naive.run(
                profile,
                data_dir / "models",
                answers,
                turns=args.naive_turns,
                questions=args.questions,
                first_question=single.get("first_question", ""),
            )
        phases["naive_s"] = round(time.perf_counter() - t0, 1)
        result.update(analyse(single, llm_rows, guarded, naive_run, args.turns))
        save(result)

        t0 = time.perf_counter()
        _log(f"{profile}: warm start (models assembled already)")
        srv2 = ServerProcess(profile, data_dir, out_dir / f"server-{profile}-concurrency.log")
        result["startup_s"]["warm"] = round(srv2.start(), 2)
        conc: dict[str, Any] = {
            "1": {"voice_to_voice_ms": result["voice_to_voice_ms"], "source": "single interview"}
        }
        result["concurrency"] = conc
        try:
            levels = args.concurrency or DEFAULT_CONCURRENCY[profile]
            for level in (n for n in levels if n > 1):
                per_client = args.conc_turns.get(level, 1)
                _log(f"{profile}: {level} interviews at once, {per_client} turn(s) each")
                run = asyncio.run(
                    concurrent(
                        srv2.base_url,
                        pcms,
                        clients=level,
                        turns=per_client,
                        timeout_s=args.conc_timeout,
                    )
                )
                turns = [t for c in run["clients"] for t in c["turns"]]
                conc[str(level)] = {
                    "turns_per_client": per_client,
                    "voice_to_voice_ms": report.summarize(t["voice_to_voice_ms"] for t in turns),
                    "first_turns_ms": report.summarize(
                        c["turns"][0]["voice_to_voice_ms"] for c in run["clients"] if c["turns"]
                    ),
                    "later_turns_ms": report.summarize(
                        t["voice_to_voice_ms"] for c in run["clients"] for t in c["turns"][1:]
                    ),
                    "server_breakdown_p50_ms": report.median_by_key(
                        [t["server_timings_ms"] for t in turns]
                    ),
                    "opening_s": [c.get("opening_s") for c in run["clients"]],
                    "wall_s": run["wall_s"],
                    "errors": [e for c in run["clients"] for e in c["errors"]],
                }
                result["peak_rss_mb"] = max(
                    x for x in (result["peak_rss_mb"], srv2.current_peak_rss_mb(), 0.0) if x
                )
                save(result)
        finally:
            srv2.stop()
        phases["concurrency_s"] = round(time.perf_counter() - t0, 1)
        rss = [x for x in (srv.peak_rss_mb, srv2.peak_rss_mb) if x is not None]
        result.update(
            peak_rss_mb=round(max(rss), 1) if rss else None,
            peak_rss_mb_by_run={"single": srv.peak_rss_mb, "concurrency": srv2.peak_rss_mb},
            load_after=os.getloadavg(),
        )
    except Exception as err:
        _log(f"{profile}: FAILED: {type(err).__name__}: {err}")
        result["errors"].append(f"{type(err).__name__}: {err}")
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    return result


def main(argv: list[str] | None = None) -> int:
    # SIGTERM exits through atexit, which stops any server this run started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--profiles", default="quality,fast")
    parser.add_argument("--turns", type=int, default=6, help="spoken turns in the single interview")
    parser.add_argument("--questions", type=int, default=8, help="interview length for feedback")
    parser.add_argument(
        "--naive-turns", type=int, default=DEFAULT_NAIVE_TURNS, help="turns of the naive pipeline"
    )
    parser.add_argument(
        "--concurrency",
        default="",
        help="interviews at once, e.g. 1,2,4 (default: 1,2,4 for quality, 1 for fast)",
    )
    parser.add_argument(
        "--conc-turns",
        default="",
        help="spoken turns per concurrent client: 3, or per level 2:3,4:1 (the default)",
    )
    parser.add_argument("--conc-timeout", type=float, default=240.0, help="per client, seconds")
    parser.add_argument(
        "--quick", action="store_true", help="smoke test: fast profile, 2 turns, 1-2 clients"
    )
    parser.add_argument(
        "--no-ab",
        dest="ab",
        action="store_false",
        help="skip re-running the spoken turns with each change off (fixed 700 ms end of turn; "
        "the model's own acknowledgement; no phrase cache)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench" / "results.json")
    args = parser.parse_args(argv)
    if args.quick:
        args.profiles, args.turns, args.questions, args.concurrency = "fast", 2, 3, "1,2"
        args.conc_turns = args.conc_turns or "2:2"
    args.naive_turns = min(args.naive_turns, args.turns)
    args.questions = max(args.questions, args.turns + 1)
    args.concurrency = [int(x) for x in str(args.concurrency).split(",") if x]
    args.conc_turns = conc_turns(args.conc_turns)
    profiles = [p for p in args.profiles.split(",") if p]

    started = time.perf_counter()
    out_dir = args.out.parent
    out_dir.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "schema_version": report.SCHEMA_VERSION,
        "machine": machine(),
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "git_commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip(),
        "profiles": {},
    }
    _log("candidate answers (Piper, cached in var/bench)")
    answers = load_answers(out_dir / "answers")
    results["answers_s"] = [round(pcm.duration_s, 2) for _t, pcm in answers]
    for profile in profiles:

        def save(partial: dict[str, Any], profile: str = profile) -> None:
            results["profiles"][profile] = partial
            args.out.write_text(json.dumps(results, indent=2, default=str))

        save(run_profile(profile, args, answers, out_dir, save))
    results["duration_s"] = round(time.perf_counter() - started, 1)
    results["machine"]["load_after"] = os.getloadavg()
    args.out.write_text(json.dumps(results, indent=2, default=str))
    print(report.format_table(results))
    load = results["machine"]
    print(
        f"\n{results['duration_s']:.0f} s; load average before {load['load_before']}, "
        f"after {load['load_after']}; JSON: {args.out}"
    )
    return 1 if any(r.get("errors") for r in results["profiles"].values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
