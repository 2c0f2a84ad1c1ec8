"""The pure parts of the benchmark: percentiles, the LLM log lines, the floor, the table."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from server.voice.sentences import SentenceSplitter

SCHEMA_VERSION = 1

TARGETS: dict[str, dict[str, float]] = {
    "quality": {"v2v_p50_ms": 1500, "v2v_p95_ms": 2500, "feedback_s": 20, "peak_rss_mb": 3500},
    "fast": {"v2v_p50_ms": 1000},
}
TARGET_STREAMING_SPEEDUP = 3.0
TARGET_CONCURRENCY_2_RATIO = 2.0


def percentile(values: Iterable[float], q: float) -> float | None:
    """Linear-interpolated percentile (q in 0..100), as numpy's default; None when empty."""
    data = sorted(float(v) for v in values)
    if not data:
        return None
    if not 0 <= q <= 100:
        raise ValueError(f"q must be in 0..100, got {q}")
    pos = (len(data) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def summarize(values: Iterable[float | None]) -> dict[str, float | int | None]:
    data = [float(v) for v in values if v is not None]
    return {
        "n": len(data),
        "p50": percentile(data, 50),
        "p95": percentile(data, 95),
        "max": max(data) if data else None,
    }


def median_by_key(rows: Sequence[Mapping[str, float]]) -> dict[str, float | None]:
    """The p50 of every key that appears in any of ``rows`` (e.g. per-turn server timings)."""
    keys: list[str] = []
    for row in rows:
        keys.extend(k for k in row if k not in keys)
    return {k: percentile([r[k] for r in rows if k in r], 50) for k in keys}


_LLM_LINE = re.compile(
    r"llm (?P<kind>[\w-]+): (?:stopped ms=(?P<stopped_ms>\d+)|prompt=(?P<prompt>\d+) "
    r"cached=(?P<cached>\d+) generated=(?P<generated>\d+) ms=(?P<ms>\d+)"
    r"(?: prompt_tps=(?P<prompt_tps>[\d.]+) gen_tps=(?P<gen_tps>[\d.]+))?)"
)


def parse_llm_log(text: str) -> list[dict[str, Any]]:
    """One row per model request, from the lines the app's LLM adapter logs
    (``server.ai.llm``), in order. ``kind``: reply (the interviewer's message), prefill (the
    answer so far, while the candidate speaks), answer_note, score_adjustment. ``read`` is the
    prompt tokens the server had to read (not found in its prompt cache). A reply closed
    before its end (the reply guard stopped it, or the candidate went on) reports no token
    counts: its row has ``stopped`` and ``ms`` only."""
    rows: list[dict[str, Any]] = []
    for m in _LLM_LINE.finditer(text):
        if m["stopped_ms"] is not None:
            rows.append({"kind": m["kind"], "stopped": True, "ms": int(m["stopped_ms"])})
            continue
        prompt, cached = int(m["prompt"]), int(m["cached"])
        row: dict[str, Any] = {
            "kind": m["kind"],
            "prompt_n": prompt,
            "cache_n": cached,
            "read_n": prompt - cached,
            "gen_n": int(m["generated"]),
            "ms": int(m["ms"]),
            "cache_hit": round(cached / prompt, 4) if prompt else 0.0,
        }
        if m["prompt_tps"] is not None:
            row["prompt_tps"] = float(m["prompt_tps"])
            row["gen_tps"] = float(m["gen_tps"])
        rows.append(row)
    return rows


_GUARD_LINE = re.compile(
    r"reply \S+: (?P<reason>[^;\n]+); (?:finished with the planned question|cut short)"
)


def parse_guard_log(text: str) -> list[str]:
    """The reasons of every interviewer reply the reply guard corrected
    (``server.services.reply_guard``), in order."""
    return [m["reason"] for m in _GUARD_LINE.finditer(text)]


def first_unit_tokens(reply: str) -> float:
    """About how many tokens the model generates before the first speakable unit of ``reply``
    is complete (the unit the speech stage synthesizes first; ~4 characters per token)."""
    splitter = SentenceSplitter()
    for word in re.findall(r"\S+\s*", reply):  # as the model streams it
        if units := splitter.push(word):
            return max(1.0, round(len(units[0]) / 4))
    units = splitter.flush()
    return max(1.0, round(len(units[0]) / 4)) if units else 1.0


def first_unit_words(reply: str) -> float:
    """How many words the first spoken unit of ``reply`` has (what the candidate hears first)."""
    splitter = SentenceSplitter()
    for word in re.findall(r"\S+\s*", reply):
        if units := splitter.push(word):
            return float(len(units[0].split()))
    units = splitter.flush()
    return float(len(units[0].split())) if units else 0.0


def critical_path_floor(
    *,
    silence_ms: float,
    stt_tail_ms: float,
    new_prompt_tokens: float,
    prompt_tps: float,
    first_clause_tokens: float,
    gen_tps: float,
    tts_first_chunk_ms: float,
    composed_first_unit: bool = False,
) -> dict[str, float]:
    """The unavoidable compute after the last voiced frame, done one after the other.

    Wait out the silence timeout, transcribe what was not transcribed yet, prefill the new
    turn's tokens (the rest is in the KV cache), generate the first clause (as long as the
    replies' first units were), synthesize it. ``composed_first_unit``: the first unit is
    the acknowledgement composed from the answer, so no model work precedes it.
    """
    model = not composed_first_unit
    parts = {
        "silence_timeout_ms": silence_ms,
        "stt_tail_ms": stt_tail_ms,
        "llm_prefill_ms": 1000 * new_prompt_tokens / prompt_tps if prompt_tps and model else 0.0,
        "llm_first_clause_ms": 1000 * first_clause_tokens / gen_tps if gen_tps and model else 0.0,
        "tts_first_chunk_ms": tts_first_chunk_ms,
    }
    parts = {k: round(v, 1) for k, v in parts.items()}
    parts["total_ms"] = round(sum(parts.values()), 1)
    return parts


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a is not None and b else None


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        text = f"{value:.0f}" if abs(value) >= 100 else f"{value:.2f}".rstrip("0").rstrip(".")
    else:
        text = str(value)
    return f"{text}{unit}"


def _check(value: float | None, limit: float | None, *, at_least: bool = False) -> str:
    if value is None or limit is None:
        return ""
    ok = value >= limit if at_least else value <= limit
    return f"{'✓' if ok else '✗'} {'≥' if at_least else '≤'} {_fmt(float(limit))}"


def table_rows(results: Mapping[str, Any]) -> list[tuple[str, str, str, str]]:
    """(profile, metric, value, target) rows for the stdout / markdown table."""
    rows: list[tuple[str, str, str, str]] = []
    for profile, r in results.get("profiles", {}).items():
        t = TARGETS.get(profile, {})
        v2v = r.get("voice_to_voice_ms", {})
        naive = r.get("naive", {}).get("latency_ms", {})

        def add(
            metric: str, value: Any, target: str = "", unit: str = "", profile: str = profile
        ) -> None:
            rows.append((profile, metric, _fmt(value, unit), target))

        add(
            "voice-to-voice p50", v2v.get("p50"), _check(v2v.get("p50"), t.get("v2v_p50_ms")), " ms"
        )
        add(
            "voice-to-voice p95", v2v.get("p95"), _check(v2v.get("p95"), t.get("v2v_p95_ms")), " ms"
        )
        add("voice-to-voice max", v2v.get("max"), "", " ms")
        if r.get("errors"):
            add("errors (see JSON)", len(r["errors"]))
        add("  turns measured", v2v.get("n"))
        for key, value in (r.get("server_breakdown_p50_ms") or {}).items():
            add(f"  server p50 {key}", value, "", " ms")
        add("naive pipeline p50", naive.get("p50"), "", " ms")
        speedup = r.get("streaming_speedup_p50")
        add(
            "streaming speed-up (p50)",
            speedup,
            _check(speedup, TARGET_STREAMING_SPEEDUP, at_least=True),
            "×",
        )
        floor = r.get("floor", {})
        add("critical-path floor", floor.get("total_ms"), "", " ms")
        add("  p50 / floor", ratio(v2v.get("p50"), floor.get("total_ms")), "", "×")
        first = (r.get("components") or {}).get("llm", {}).get("first_unit_tokens_p50")
        add("  first spoken unit (p50, ~tokens)", first)
        for side, ab in (r.get("ab") or {}).items():
            lat, eot = ab.get("voice_to_voice_ms", {}), ab.get("end_of_turn_ms", {})
            words = ab.get("first_unit_words", {})
            audio = ab.get("first_audio_after_first_text_ms", {})
            add(
                f"A/B {side}: v2v p50 / p95, end of turn p50, first text → audio p50, "
                "first unit words p50",
                f"{_fmt(lat.get('p50'))} / {_fmt(lat.get('p95'))} ms, "
                f"{_fmt(eot.get('p50'))} ms, {_fmt(audio.get('p50'))} ms, "
                f"{_fmt(words.get('p50'))} (n={lat.get('n')})",
            )
        single = v2v.get("p50")
        for level, c in sorted((r.get("concurrency") or {}).items(), key=lambda kv: int(kv[0])):
            lat = c.get("voice_to_voice_ms", {})
            target = ""
            if int(level) == 2:
                limit = TARGET_CONCURRENCY_2_RATIO * single if single else None
                target = _check(lat.get("p50"), limit)
            add(
                f"{level} interviews p50 / p95",
                f"{_fmt(lat.get('p50'))} / {_fmt(lat.get('p95'))} ms (n={lat.get('n')})",
                target,
            )
            later = c.get("later_turns_ms") or {}
            if later.get("n"):
                first_turns = c.get("first_turns_ms") or {}
                add(
                    "  first answers p50 / later turns p50",
                    f"{_fmt(first_turns.get('p50'))} / {_fmt(later.get('p50'))} ms "
                    f"(n={first_turns.get('n')} / {later.get('n')})",
                )
        fb = r.get("feedback", {})
        add(
            f"feedback ({fb.get('questions')} questions)",
            fb.get("feedback_s"),
            _check(fb.get("feedback_s"), t.get("feedback_s")),
            " s",
        )
        add("score (no model)", fb.get("score_ms"), "", " ms")
        start = r.get("startup_s", {})
        add("start-up cold / warm", f"{_fmt(start.get('cold'))} / {_fmt(start.get('warm'))} s")
        add(
            "peak RSS (server)",
            r.get("peak_rss_mb"),
            _check(r.get("peak_rss_mb"), t.get("peak_rss_mb")),
            " MB",
        )
        comp = r.get("components", {})
        stt = comp.get("stt", {})
        add(
            "STT RTF beam 1 (fit) / beam 5 (full)",
            f"{_fmt(stt.get('rtf_beam1_fit'))} / {_fmt(stt.get('rtf_beam5_full'))}",
        )
        tts = comp.get("tts", {})
        add(
            "TTS RTF / first chunk",
            f"{_fmt(tts.get('rtf'))} / {_fmt(tts.get('first_chunk_ms'))} ms",
        )
        llm = comp.get("llm", {})
        add(
            "LLM prompt tok/s (cold / per turn)",
            f"{_fmt(llm.get('prompt_tps_cold'))} / {_fmt(llm.get('prompt_tps_turn_p50'))}",
        )
        add("LLM generation tok/s", llm.get("gen_tps_p50"))
        add(
            "interviewer replies the guard corrected",
            f"{_fmt(llm.get('guarded_replies'))} of {_fmt(llm.get('replies'))}",
        )
        add(
            "prompt-cache hit per turn (p50 / min)",
            f"{_fmt(llm.get('cache_hit_p50'))} / {_fmt(llm.get('cache_hit_min'))}",
        )
        add("prompt tokens left to read at the reply (p50)", llm.get("read_at_reply_tokens_p50"))
        add(
            "prefill requests while speaking (n / p50 read)",
            f"{_fmt(llm.get('prefill_requests'))} / "
            f"{_fmt(llm.get('prefill_read_tokens_p50'))} tokens",
        )
        add(
            "answer notes (n / p50 time / p50 tokens)",
            f"{_fmt(llm.get('answer_notes'))} / {_fmt(llm.get('answer_note_ms_p50'))} ms / "
            f"{_fmt(llm.get('answer_note_tokens_p50'))}",
        )
    return rows


def format_table(results: Mapping[str, Any], *, markdown: bool = False) -> str:
    header = ("profile", "metric", "value", "target")
    rows = table_rows(results)
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(row: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()

    out = [line(header), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in rows]
    return "\n".join(out)


def check_shape(results: Mapping[str, Any]) -> list[str]:
    """What is missing from a results document (empty: the JSON has the documented shape)."""
    problems = []
    for key in ("schema_version", "machine", "started_at", "duration_s", "config", "profiles"):
        if key not in results:
            problems.append(f"missing {key}")
    for profile, r in results.get("profiles", {}).items():
        for key in (
            "voice_to_voice_ms",
            "server_breakdown_p50_ms",
            "turns",
            "naive",
            "streaming_speedup_p50",
            "components",
            "feedback",
            "startup_s",
            "peak_rss_mb",
            "concurrency",
            "floor",
        ):
            if key not in r:
                problems.append(f"{profile}: missing {key}")
    return problems
