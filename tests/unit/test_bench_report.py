"""The pure parts of ``python -m bench``: statistics, log parsing, the floor, the table.

No timing assertions: these check arithmetic and shape, never how fast anything ran.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from bench import report

# Lines as llama.cpp's server prints them (verbosity 3), column padding trimmed.
LLAMA_LOG = "\n".join(
    [
        "I slot launch_slot_: id  0 | task 0 | processing task, is_child = 0",
        "I slot print_timing: id  0 | task 0 | prompt eval time =   22427.05 ms /   805 tokens"
        " (   27.86 ms per token,    35.89 tokens per second)",
        "I slot print_timing: id  0 | task 0 |        eval time =   17281.12 ms /    18 tokens"
        " ( 1016.54 ms per token,     0.98 tokens per second)",
        "I slot print_timing: id  0 | task 0 |       total time =   39708.17 ms /   823 tokens",
        "I slot      release: id  0 | task 0 | stop processing: n_tokens = 822, truncated = 0",
        "I slot get_availabl: id  0 | task -1 | selected slot by LCP similarity",
        "I slot print_timing: id  0 | task 23 | prompt eval time =     952.01 ms /    64 tokens"
        " (   14.88 ms per token,    67.23 tokens per second)",
        "I slot print_timing: id  0 | task 23 |        eval time =     858.88 ms /    17 tokens"
        " (   53.68 ms per token,    18.63 tokens per second)",
        "I slot      release: id  0 | task 23 | stop processing: n_tokens = 788, truncated = 0",
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


def test_parse_llama_log_reads_rates_and_cache_reuse() -> None:
    rows = report.parse_llama_log(LLAMA_LOG)
    assert [r["task"] for r in rows] == [0, 23]
    cold, turn = rows
    assert cold["prompt_n"] == 805 and cold["gen_n"] == 18
    assert cold["prompt_tps"] == pytest.approx(35.89)
    assert cold["cache_n"] == 0 and cold["cache_hit"] == 0
    assert turn["gen_tps"] == pytest.approx(18.63)
    assert turn["cache_n"] == 788 - 64 - 17
    assert turn["cache_hit"] == pytest.approx(707 / (707 + 64), abs=1e-4)
    assert report.parse_llama_log("nothing here") == []


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
            "2": {"voice_to_voice_ms": {"n": 2, "p50": 2500.0, "p95": 2900.0}},
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
