"""``python -m bench.speculative``: the quality (1.5B) model alone vs drafted by the fast
(0.5B) one (llama.cpp's speculative decoding, same tokenizer), side by side on this machine.

Each round starts the embedded server once per configuration, in the app's set-up (threads,
slots, 8-bit KV cache), alternating which goes first, so that machine noise hits both. A
server reads the interview's system prompt first (the app's read-ahead of the opening), then
for every turn of one interview (the CV and job description of tests/data, the answers of
bench/answers.py, each after the plain question before it) it is sent the answer but its last
words (the app's prefill while the candidate speaks), then the turn as a streamed chat
request, once per temperature. Measured per request, client side: time to the first token,
generation tokens/s after it, time to the first sentence end ('.', '?' or '!' then a space, or
the end) and to the app's first spoken unit (``SentenceSplitter``: a leading clause counts);
server side: llama.cpp's timings, with the draft's acceptance where it drafted.

A table of medians per configuration on stdout, the ratios drafted/plain, and every request
in JSON (``--out``, default var/bench/speculative.json); llama.cpp's log next to it.
~20 min with the defaults on 2 cores. Results and the decision: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import statistics
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.answers import ANSWERS
from server.ai.embedded import EmbeddedLlamaServer
from server.ai.llm import ChatMessage
from server.ai.model_files import BUILDS, assemble
from server.repositories.records import MessageRecord, SessionRecord
from server.services.prompts import interview_messages, plain_question
from server.settings import Settings
from server.voice.sentences import SentenceSplitter
from server.voice_client import DATA

ROOT = Path(__file__).resolve().parent.parent
MAX_TOKENS = 80
TAIL_WORDS = 4  # the answer's last words, read only at the reply (the app prefills the rest)
APP_TEMPERATURE = 0.7  # what the app streams replies at (``ChatModel.stream_chat``)
SEED = 1234
CONFIGS = ("plain", "drafted")
_SENTENCE_END = re.compile(r"[.!?][\"')\]]*(\s|$)")


@dataclass(frozen=True)
class Turn:
    number: int  # the answer's number in the interview (1-based)
    messages: list[ChatMessage]  # the whole chat for the reply to it
    prefill: list[ChatMessage]  # the same, with the answer's last words not spoken yet


def _session() -> SessionRecord:
    now = datetime.now(UTC)
    return SessionRecord(
        id=1,
        public_id="bench-speculative",
        owner_id="bench",
        job_title="Senior Python Backend Engineer",
        company_name="Fernway Health",
        cv_text=(DATA / "sample_cv.txt").read_text(),
        cv_filename="sample_cv.txt",
        job_description_text=(DATA / "sample_job_description.txt").read_text(),
        status="in_progress",
        question_target=8,
        created_at=now,
        updated_at=now,
    )


def _message(i: int, role: str, content: str, question: int | None) -> MessageRecord:
    return MessageRecord(
        id=i,
        role=role,  # type: ignore[arg-type]
        content=content,
        question_number=question,
        is_closing=False,
        audio_duration_ms=None,
        timings=None,
        interrupted=False,
        created_at=datetime.now(UTC),
    )


def interview_turns(count: int) -> tuple[list[ChatMessage], list[Turn]]:
    """The read-ahead chat (system prompt and the opening) and ``count`` turns of one
    interview; each assistant turn is the plain question on its topic."""
    session = _session()
    history = [_message(0, "assistant", plain_question(session, 1), 1)]
    opening = interview_messages(session, history)
    turns = []
    for number, answer in enumerate(ANSWERS[:count], 1):
        spoken = " ".join(answer.split()[:-TAIL_WORDS])
        turns.append(
            Turn(
                number=number,
                messages=interview_messages(
                    session, [*history, _message(len(history), "user", answer, None)]
                ),
                prefill=interview_messages(session, history, pending_answer=spoken),
            )
        )
        question = plain_question(session, number + 1)
        history = [
            *history,
            _message(len(history), "user", answer, None),
            _message(len(history) + 1, "assistant", question, number + 1),
        ]
    return opening, turns


def _wire(messages: list[ChatMessage]) -> list[dict[str, str]]:
    return [{"role": m.role, "content": m.content} for m in messages]


def first_sentence_end(text: str, *, final: bool) -> bool:
    """Whether ``text`` holds a whole first sentence: a terminator then a space (or the end
    of the stream)."""
    stripped = text.lstrip()
    match = _SENTENCE_END.search(stripped)
    if match is None:
        return False
    return bool(match.group(1)) or final


def stream_reply(
    http: httpx.Client, messages: list[ChatMessage], *, temperature: float
) -> dict[str, Any]:
    """One streamed reply in slot 0, timed as it arrives."""
    body = {
        "messages": _wire(messages),
        "max_tokens": MAX_TOKENS,
        "temperature": temperature,
        "seed": SEED,
        "stream": True,
        "stream_options": {"include_usage": True},
        "cache_prompt": True,
        "id_slot": 0,
    }
    text = ""
    splitter = SentenceSplitter()
    first_token = first_sentence = first_unit = last_token = None
    chunks = 0
    final: dict[str, Any] = {}
    started = time.perf_counter()
    with http.stream("POST", "/chat/completions", json=body) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            data = json.loads(line[len("data: ") :])
            now = time.perf_counter() - started
            if data.get("timings"):
                final = data
            choices = data.get("choices") or []
            delta = (choices[0].get("delta") or {}).get("content") if choices else None
            if not delta:
                continue
            chunks += 1
            last_token = now
            if first_token is None:
                first_token = now
            text += delta
            if first_sentence is None and first_sentence_end(text, final=False):
                first_sentence = now
            if first_unit is None and splitter.push(delta):
                first_unit = now
    ended = time.perf_counter() - started
    if first_sentence is None and first_sentence_end(text, final=True):
        first_sentence = ended
    if first_unit is None and splitter.flush():
        first_unit = ended
    timings = final.get("timings") or {}
    usage = final.get("usage") or {}
    generated = int(usage.get("completion_tokens") or timings.get("predicted_n") or chunks)
    gen_tps = None
    if first_token is not None and last_token is not None and last_token > first_token:
        gen_tps = (generated - 1) / (last_token - first_token)

    def ms(seconds: float | None) -> float | None:
        return None if seconds is None else round(seconds * 1000, 1)

    draft_n = timings.get("draft_n")
    accepted = timings.get("draft_n_accepted")
    return {
        "ttft_ms": ms(first_token),
        "first_sentence_ms": ms(first_sentence),
        "first_unit_ms": ms(first_unit),
        "total_ms": ms(ended),
        "generated": generated,
        "chunks": chunks,
        "gen_tps": None if gen_tps is None else round(gen_tps, 2),
        "server_gen_tps": timings.get("predicted_per_second"),
        "prompt_n": timings.get("prompt_n"),
        "cache_n": timings.get("cache_n"),
        "prompt_ms": timings.get("prompt_ms"),
        "draft_n": draft_n,
        "draft_n_accepted": accepted,
        "acceptance": round(accepted / draft_n, 3) if draft_n else None,
        "text": text,
    }


def _complete(http: httpx.Client, messages: list[ChatMessage]) -> float:
    """A one-token request (the app's prefill); its wall time in ms."""
    started = time.perf_counter()
    response = http.post(
        "/chat/completions",
        json={
            "messages": _wire(messages),
            "max_tokens": 1,
            "temperature": 0.0,
            "cache_prompt": True,
            "id_slot": 0,
        },
    )
    response.raise_for_status()
    return round((time.perf_counter() - started) * 1000, 1)


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@contextlib.contextmanager
def stderr_to(path: Path) -> Iterator[None]:
    """Send fd 2 (llama.cpp's C++ log) to ``path`` for a while, so the table stays readable."""
    sys.stderr.flush()
    saved = os.dup(2)
    with path.open("ab") as log:
        os.dup2(log.fileno(), 2)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def run_config(
    config: str,
    round_no: int,
    *,
    target: Path,
    draft: Path,
    draft_max: int | None,
    threads: int,
    slots: int,
    temperatures: list[float],
    opening: list[ChatMessage],
    turns: list[Turn],
) -> list[dict[str, Any]]:
    server = EmbeddedLlamaServer(
        target,
        threads=threads,
        slots=slots,
        draft_model_path=draft if config == "drafted" else None,
        draft_max=draft_max,
    )
    rss_before = _rss_mb()
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    server.start()
    start_ms = round((time.perf_counter() - started) * 1000, 1)
    rows = []
    try:
        # A new connection per request: llama.cpp may close one after a stream ends.
        no_keepalive = httpx.Limits(max_keepalive_connections=0)
        with httpx.Client(base_url=server.base_url, timeout=600, limits=no_keepalive) as http:
            read_ahead_ms = _complete(http, opening)
            rss_after = _rss_mb()
            print(
                f"  round {round_no + 1} {config}: started in {start_ms / 1000:.1f} s, read the "
                f"system prompt in {read_ahead_ms / 1000:.1f} s, load {load_before:.2f}",
                flush=True,
            )
            for turn in turns:
                for temperature in temperatures:
                    prefill_ms = _complete(http, turn.prefill)
                    row = stream_reply(http, turn.messages, temperature=temperature)
                    row.update(
                        config=config,
                        round=round_no,
                        turn=turn.number,
                        temperature=temperature,
                        prefill_ms=prefill_ms,
                        load1=round(os.getloadavg()[0], 2),
                    )
                    rows.append(row)
                    acc = "" if row["acceptance"] is None else f" acc {row['acceptance']:.2f}"
                    print(
                        f"    turn {turn.number} t={temperature}: ttft {row['ttft_ms']:.0f} ms, "
                        f"first sentence {row['first_sentence_ms'] or float('nan'):.0f} ms, "
                        f"{row['gen_tps'] or float('nan'):.1f} tok/s{acc}",
                        flush=True,
                    )
    finally:
        server.stop()
    for row in rows:
        row.update(start_ms=start_ms, read_ahead_ms=read_ahead_ms, rss_delta_mb=None)
    if rows:
        rows[0]["rss_delta_mb"] = round(rss_after - rss_before, 1)
    return rows


def _median(rows: list[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in rows if r.get(key) is not None]
    return statistics.median(values) if values else None


METRICS = (
    ("ttft_ms", "time to first token (ms)"),
    ("first_sentence_ms", "first sentence end (ms)"),
    ("first_unit_ms", "first spoken unit, app's splitter (ms)"),
    ("gen_tps", "generation tok/s after the first token"),
    ("server_gen_tps", "generation tok/s, llama.cpp's own"),
    ("total_ms", "whole reply (ms)"),
    ("prefill_ms", "prefill of the answer so far (ms)"),
    ("acceptance", "draft acceptance"),
)


def summary(rows: list[dict[str, Any]], temperatures: list[float]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for temperature in temperatures:
        block: dict[str, Any] = {}
        for config in CONFIGS:
            mine = [r for r in rows if r["config"] == config and r["temperature"] == temperature]
            block[config] = {key: _median(mine, key) for key, _ in METRICS}
            block[config]["n"] = len(mine)
            drafted = sum(r["draft_n"] or 0 for r in mine)
            accepted = sum(r["draft_n_accepted"] or 0 for r in mine)
            block[config]["acceptance_pooled"] = accepted / drafted if drafted else None
        # Paired: the same turn and round, drafted over plain (the machine's drift cancels).
        ratios: dict[str, float | None] = {}
        for key, _ in METRICS[:7]:
            pairs = []
            for r in rows:
                if r["config"] != "drafted" or r["temperature"] != temperature:
                    continue
                twin = next(
                    (
                        p
                        for p in rows
                        if p["config"] == "plain"
                        and p["temperature"] == temperature
                        and p["round"] == r["round"]
                        and p["turn"] == r["turn"]
                    ),
                    None,
                )
                if twin and r.get(key) and twin.get(key):
                    pairs.append(r[key] / twin[key])
            ratios[key] = statistics.median(pairs) if pairs else None
        block["ratio_drafted_over_plain"] = ratios
        same = [
            r["text"] == p["text"]
            for r in rows
            for p in rows
            if r["config"] == "drafted"
            and p["config"] == "plain"
            and r["temperature"] == p["temperature"] == temperature
            and r["round"] == p["round"]
            and r["turn"] == p["turn"]
        ]
        block["identical_text"] = f"{sum(same)}/{len(same)}"
        out[str(temperature)] = block
    return out


def _fmt(value: float | None, key: str) -> str:
    if value is None:
        return "-"
    if key == "acceptance":
        return f"{value:.2f}"
    if key.endswith("tps"):
        return f"{value:.2f}"
    return f"{value:.0f}"


def print_table(result: dict[str, Any]) -> None:
    for temperature, block in result["summary"].items():
        print(f"\ntemperature {temperature} (medians; ratio: paired drafted/plain)")
        print(f"{'metric':42} {'plain':>9} {'drafted':>9} {'ratio':>7}")
        for key, label in METRICS:
            ratio = block["ratio_drafted_over_plain"].get(key)
            print(
                f"{label:42} {_fmt(block['plain'][key], key):>9} "
                f"{_fmt(block['drafted'][key], key):>9} "
                f"{'-' if ratio is None else f'{ratio:.2f}':>7}"
            )
        pooled = block["drafted"]["acceptance_pooled"]
        print(
            f"{'draft acceptance, pooled':42} {'-':>9} "
            f"{'-' if pooled is None else f'{pooled:.2f}':>9}"
        )
        print(f"identical replies (same turn and round): {block['identical_text']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.speculative", description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--turns", type=int, default=5, help=f"1..{len(ANSWERS)}")
    parser.add_argument(
        "--temperatures",
        default=f"0,{APP_TEMPERATURE}",
        help=f"comma-separated; the app streams replies at {APP_TEMPERATURE}",
    )
    parser.add_argument(
        "--draft-max", type=int, default=None, help="tokens per draft (llama.cpp's default)"
    )
    parser.add_argument("--models-dir", type=Path, default=None, help="default: the app's")
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench" / "speculative.json")
    args = parser.parse_args(argv)

    settings = Settings.from_env()
    models_dir = args.models_dir or settings.models_dir
    target = assemble(BUILDS["quality"], models_dir)
    draft = assemble(BUILDS["fast"], models_dir)
    temperatures = [float(t) for t in args.temperatures.split(",") if t]
    opening, turns = interview_turns(args.turns)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    log = args.out.with_suffix(".llama.log")
    log.write_text("")
    print(
        f"{args.rounds} rounds x {len(turns)} turns x temperatures {temperatures}; "
        f"threads {settings.llm_threads}, slots {settings.llm_slots + 1}; "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
        flush=True,
    )
    rows: list[dict[str, Any]] = []
    began = time.perf_counter()
    for round_no in range(args.rounds):
        order = CONFIGS if round_no % 2 == 0 else tuple(reversed(CONFIGS))
        for config in order:
            with stderr_to(log):
                rows += run_config(
                    config,
                    round_no,
                    target=target,
                    draft=draft,
                    draft_max=args.draft_max,
                    threads=settings.llm_threads,
                    slots=settings.llm_slots + 1,
                    temperatures=temperatures,
                    opening=opening,
                    turns=turns,
                )
    wall_s = round(time.perf_counter() - began, 1)
    load = {
        "min": min(r["load1"] for r in rows),
        "median": statistics.median(r["load1"] for r in rows),
        "max": max(r["load1"] for r in rows),
    }
    result = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "load_avg_end": os.getloadavg(),
        },
        "settings": {
            "target": target.name,
            "draft": draft.name,
            "draft_max": args.draft_max,
            "threads": settings.llm_threads,
            "slots": settings.llm_slots + 1,
            "max_tokens": MAX_TOKENS,
            "tail_words": TAIL_WORDS,
            "rounds": args.rounds,
            "turns": len(turns),
            "temperatures": temperatures,
        },
        "wall_s": wall_s,
        "load1_during": load,
        "summary": summary(rows, temperatures),
        "requests": rows,
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print_table(result)
    print(
        f"\nload average (1 min) during the requests: min {load['min']}, median "
        f"{load['median']}, max {load['max']}; {wall_s / 60:.1f} min; {args.out}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
