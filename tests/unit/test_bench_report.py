"""The pure parts of ``python -m bench``: statistics, log parsing, the floor, the table.

No timing assertions: these check arithmetic and shape, never how fast anything ran.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from bench import report

# Lines as llama.cpp's server prints them (verbosity 3), column padding trimmed.
LLM_LOG = "\n".join(
    [
        "2026-11-26 01:00:00,000 INFO server.ai.llm: llm reply: prompt=805 cached=0 "
        "generated=18 ms=24000 prompt_tps=35.9 gen_tps=9.6",
        "2026-11-26 01:00:30,000 INFO server.voice.session: [session x] turn 1 timings ...",
        "2026-11-26 01:00:31,000 INFO server.ai.llm: llm prefill: prompt=880 cached=820 "
        "generated=1 ms=1800 prompt_tps=33.3 gen_tps=0.0",
        "2026-11-26 01:00:40,000 INFO server.ai.llm: llm reply: prompt=902 cached=890 "
        "generated=40 ms=4500 prompt_tps=30.1 gen_tps=9.9",
        "2026-11-26 01:00:45,000 INFO server.ai.llm: llm answer_note: prompt=1010 cached=900 "
        "generated=95 ms=12000",
        "2026-11-26 01:01:00,000 WARNING server.services.reply_guard: reply x: repeats the "
        "candidate's answer; finished with the planned question",
        "2026-11-26 01:01:00,100 INFO server.ai.llm: llm reply: stopped ms=2100",
    ]
)


def test_percentile_interpolates_like_numpy() -> None:
    data = [10, 20, 30, 40]
    assert report.percentile(data, 50) == 25
    assert report.percentile(data, 0) == 10
    assert report.percentile(data, 100) == 40
    assert report.percentile(data, 95) == pytest.approx(38.5)
    assert report.percentile([7], 95) == 7
    assert report.percentile([], 50) is None
    with pytest.raises(ValueError):
        report.percentile(data, 101)


def test_summarize_skips_missing_values() -> None:
    assert report.summarize([3.0, None, 1.0, 2.0]) == {"n": 3, "p50": 2.0, "p95": 2.9, "max": 3.0}
    assert report.summarize([]) == {"n": 0, "p50": None, "p95": None, "max": None}


def test_median_by_key_over_rows_with_different_keys() -> None:
    rows = [{"a": 1.0, "b": 10.0}, {"a": 3.0}, {"a": 2.0, "b": 30.0}]
    assert report.median_by_key(rows) == {"a": 2.0, "b": 20.0}


def test_parse_llm_log_reads_each_request() -> None:
    rows = report.parse_llm_log(LLM_LOG)
    assert [r["kind"] for r in rows] == ["reply", "prefill", "reply", "answer_note", "reply"]
    opening, prefill, reply, note, stopped = rows
    assert stopped == {"kind": "reply", "stopped": True, "ms": 2100}  # no token counts
    assert opening["prompt_n"] == 805 and opening["cache_n"] == 0 and opening["cache_hit"] == 0
    assert opening["prompt_tps"] == pytest.approx(35.9) and opening["gen_tps"] == 9.6
    assert prefill["read_n"] == 60 and prefill["gen_n"] == 1
    assert reply["read_n"] == 12 and reply["cache_hit"] == pytest.approx(890 / 902, abs=1e-4)
    assert "prompt_tps" not in note  # a server that reports no rates (OpenAI, vLLM)
    assert report.parse_llm_log("nothing here") == []


def test_parse_guard_log_reads_each_corrected_reply() -> None:
    assert report.parse_guard_log(LLM_LOG) == ["repeats the candidate's answer"]
    assert report.parse_guard_log("nothing here") == []


def test_floor_is_the_sum_of_the_critical_path() -> None:
    floor = report.critical_path_floor(
        silence_ms=700,
        stt_tail_ms=150,
        new_prompt_tokens=100,
        prompt_tps=200,
        first_clause_tokens=8,
        gen_tps=16,
        tts_first_chunk_ms=120,
    )
    assert floor["llm_prefill_ms"] == 500
    assert floor["llm_first_clause_ms"] == 500
    assert floor["total_ms"] == 700 + 150 + 500 + 500 + 120
    zero = report.critical_path_floor(
        silence_ms=700,
        stt_tail_ms=0,
        new_prompt_tokens=10,
        prompt_tps=0,
        first_clause_tokens=8,
        gen_tps=0,
        tts_first_chunk_ms=0,
    )
    assert zero["total_ms"] == 700  # unknown rates never divide by zero


def _results() -> dict[str, Any]:
    profile = {
        "voice_to_voice_ms": {"n": 6, "p50": 1400.0, "p95": 2600.0, "max": 2700.0},
        "server_breakdown_p50_ms": {"first_audio_ms": 1300.0},
        "turns": [],
        "naive": {"latency_ms": {"n": 6, "p50": 5600.0, "p95": 6000.0, "max": 6100.0}},
        "streaming_speedup_p50": 4.0,
        "components": {"stt": {}, "tts": {}, "llm": {"cache_hit_p50": 0.93}},
        "feedback": {"questions": 8, "feedback_s": 25.0, "score_ms": 12.0},
        "startup_s": {"cold": 30.0, "warm": 10.0},
        "peak_rss_mb": 2100.0,
        "concurrency": {
            "1": {"voice_to_voice_ms": {"n": 6, "p50": 1400.0, "p95": 2600.0}},
            "2": {
                "voice_to_voice_ms": {"n": 6, "p50": 2500.0, "p95": 9000.0},
                "first_turns_ms": {"n": 2, "p50": 8000.0},
                "later_turns_ms": {"n": 4, "p50": 2400.0},
            },
        },
        "floor": {"total_ms": 1000.0},
    }
    return {
        "schema_version": report.SCHEMA_VERSION,
        "machine": {},
        "started_at": "x",
        "duration_s": 1.0,
        "config": {},
        "profiles": {"quality": profile},
    }


def test_table_marks_targets_met_and_missed() -> None:
    text = report.format_table(_results())
    lines = {
        metric.strip(): f"{value} {target}"
        for _p, metric, value, target in report.table_rows(_results())
    }
    assert all(value in text for _p, _m, value, _t in report.table_rows(_results()))
    assert "✓ ≤ 1500" in lines["voice-to-voice p50"]
    assert "✗ ≤ 2500" in lines["voice-to-voice p95"]
    assert "✓ ≥ 3" in lines["streaming speed-up (p50)"]
    assert "✗ ≤ 20" in lines["feedback (8 questions)"]
    assert "✓ ≤ 2800" in lines["2 interviews p50 / p95"]  # 2 × the single p50
    assert "1.4×" in lines["p50 / floor"]
    assert "8000 / 2400 ms (n=2 / 4)" in lines["first answers p50 / later turns p50"]


def test_conc_turns_per_level() -> None:
    from bench.__main__ import DEFAULT_CONC_TURNS, conc_turns

    assert conc_turns("") == DEFAULT_CONC_TURNS
    assert conc_turns("2:3,4:2") == {2: 3, 4: 2}
    assert conc_turns("2")[4] == 2


def test_markdown_table_has_one_row_per_metric() -> None:
    md = report.format_table(_results(), markdown=True).splitlines()
    assert md[0] == "| profile | metric | value | target |"
    assert len(md) == 2 + len(report.table_rows(_results()))
    assert all(line.startswith("|") and line.endswith("|") for line in md)


def test_missing_values_print_as_a_dash() -> None:
    results: dict[str, Any] = {"profiles": {"fast": {"voice_to_voice_ms": {}}}}
    assert "–" in report.format_table(results)


def test_json_shape_check() -> None:
    results = _results()
    assert report.check_shape(json.loads(json.dumps(results))) == []
    del results["profiles"]["quality"]["floor"]
    del results["machine"]
    assert report.check_shape(results) == ["missing machine", "quality: missing floor"]


def test_first_unit_tokens_estimates_the_first_spoken_unit() -> None:
    assert report.first_unit_tokens("Thank you. Which skill have you used the most?") == 2
    # A long first sentence is spoken from its first clause (five words or more).
    long = "That is a really solid example, and I would like to hear more. Why?"
    assert report.first_unit_tokens(long) == round(len("That is a really solid example,") / 4)
    assert report.first_unit_tokens("") == 1


def test_analyse_pairs_each_spoken_answer_with_its_reply() -> None:
    """The opening is fixed text: the model's first request is the read-ahead (a prefill),
    and reply k is the reply to spoken answer k."""
    from bench.__main__ import analyse

    def row(kind: str, prompt: int, cached: int, tps: float = 30.0, gen: int = 1) -> Any:
        return {
            "kind": kind,
            "prompt_n": prompt,
            "cache_n": cached,
            "read_n": prompt - cached,
            "gen_n": gen,
            "ms": 1000,
            "cache_hit": round(cached / prompt, 4),
            "prompt_tps": tps,
            "gen_tps": 10.0,
        }

    llm_rows = [
        row("prefill", 800, 0, tps=40.0),  # the read-ahead while the opening plays
        row("prefill", 850, 797),
        row("reply", 860, 850, tps=20.0, gen=20),
        row("answer_note", 960, 860, gen=80),
        {"kind": "reply", "stopped": True, "ms": 900},  # the guard stopped turn 2's reply
        row("reply", 1100, 1050, tps=9.0, gen=20),  # a typed answer's reply: not a spoken turn
    ]
    turn = {"voice_to_voice_ms": 3000.0, "server_timings_ms": {}, "reply": "Thank you. Why?"}
    naive_run = {
        "turns": [
            {
                "latency_ms": 30000.0,
                "stt_rtf_beam1_fit": 0.04,
                "stt_rtf_beam5_full": 0.1,
                "tts_rtf": 0.07,
                "tts_first_chunk_ms": 400.0,
            }
        ],
        "tts_first_clause_ms": 150.0,
    }
    result = analyse({"turns": [turn, turn]}, llm_rows, [], naive_run, turns=2)
    llm = result["components"]["llm"]
    assert llm["prompt_tps_cold"] == 40.0 and llm["prompt_tokens_cold"] == 800
    assert llm["prompt_tps_turn_p50"] == 20.0  # turn 1's reply only: turn 2's was stopped
    assert llm["read_at_reply_tokens_p50"] == 10 and llm["cache_hit_per_turn"] == [0.9884]
    assert llm["prefill_requests"] == 1 and llm["spoken_replies_stopped"] == 1
    assert result["streaming_speedup_p50"] == 10.0
