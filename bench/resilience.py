"""``make resilience``: faults injected into the real server on loopback, with the figures.

The server is ``python -m server`` in a process of its own, with the real speech engines and,
as its model, ``bench.stub_llm`` (an OpenAI-compatible endpoint on loopback that answers at
once or fails on request), so that faults land where they are meant to and a run takes
minutes. Four scenarios:

- **forced disconnects**: interviews answered over the voice socket, the socket dropped at a
  random point of every answer (just sent, stored, mid-reply audio, after the reply) and of the
  report (the request abandoned mid-generation); the client reconnects, resends an answer only
  if it is not stored, and goes on. Counts answers lost (acknowledged by the server, then not
  stored), stored twice, interviews not resumable, reports not generated exactly once.
- **model faults**: the model stalls, trickles, answers junk, errors or cuts its stream mid-way:
  the turn must fail with a clear retryable error within the reply timeout, the answer kept,
  and the retry must work once the model is back.
- **fuzzed frames**: random binary and text frames on the voice socket (oversized, odd
  lengths, malformed, nested, wrongly typed JSON): the server must never close with an internal
  error, must keep answering, and the interview must be intact.
- **kill -9**: the server killed while an answer waits for the model, and while the report is
  written; restarted on the same database: the answer is there once, the database passes its
  integrity check, and the interview resumes.

Prints a table, writes ``var/resilience/results.json``, exits 1 if any figure is off target.
``--disconnects``, ``--frames`` and ``--kills`` size it (CI runs a slice:
``tests/integration/test_resilience.py``). Not covered here (see docs/reliability.md): load,
upload bombs under a live interview (``tests/integration/test_uploads.py`` has them), STT/TTS
failures, and two instances on one PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import sqlite3
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.server_proc import ROOT, ServerProcess
from bench.stub_llm import StubModel
from server.voice_client import VoiceClient, create_sample_session

DISCONNECT_POINTS = ("just_sent", "stored", "mid_reply_audio", "after_reply")
REPLY_TIMEOUT_S = 4.0  # the server's VIVA_LLM_REPLY_TIMEOUT_S in this run
INTERNAL_CLOSES = {1011, 4500}


@dataclass
class Figures:
    disconnects: int = 0
    answers_sent: int = 0
    answers_resent: int = 0  # dropped before the server had it: sent again, as the room does
    answers_lost: int = 0
    answers_doubled: int = 0
    not_resumable: int = 0
    turns_stalled: int = 0
    reports_not_once: int = 0
    faults_injected: int = 0
    fault_errors_late: int = 0  # no clear error within the reply timeout (+ 2 s)
    fault_answers_lost: int = 0
    fault_retries_failed: int = 0
    fault_error_s: dict[str, float] = field(default_factory=dict)
    fault_status: dict[str, int] = field(default_factory=dict)
    frames_fuzzed: int = 0
    fuzz_closes: dict[str, int] = field(default_factory=dict)
    fuzz_internal_errors: int = 0
    fuzz_interview_damaged: int = 0
    kills: int = 0
    kill_answers_lost: int = 0
    kill_not_resumable: int = 0
    kill_integrity_failures: int = 0
    server_5xx: int = 0

    def problems(self) -> list[str]:
        checks = {
            "answers lost": self.answers_lost,
            "answers stored twice": self.answers_doubled,
            "interviews not resumable": self.not_resumable,
            "turns that hung": self.turns_stalled,
            "reports not generated once": self.reports_not_once,
            "model faults without a timely error": self.fault_errors_late,
            "answers lost to a model fault": self.fault_answers_lost,
            "retries that failed": self.fault_retries_failed,
            "internal-error closes under fuzzing": self.fuzz_internal_errors,
            "interviews damaged by fuzzing": self.fuzz_interview_damaged,
            "answers lost to kill -9": self.kill_answers_lost,
            "interviews not resumable after kill -9": self.kill_not_resumable,
            "integrity check failures": self.kill_integrity_failures,
            "5xx responses (other than model faults)": self.server_5xx,
        }
        return [f"{name}: {n}" for name, n in checks.items() if n]


class Run:
    """One server process over one data directory, its model a ``StubModel``."""

    def __init__(self, stub: StubModel, data_dir: Path, log_dir: Path) -> None:
        self.stub = stub
        self.data_dir = data_dir
        self.log_dir = log_dir
        self.starts = 0
        self.server: ServerProcess | None = None

    async def start(self) -> ServerProcess:
        self.starts += 1
        self.server = ServerProcess(
            "stub",
            self.data_dir,
            self.log_dir / f"server-{self.starts}.log",
            env={
                "VIVA_LLM_BASE_URL": self.stub.base_url,
                "VIVA_LLM_REPLY_TIMEOUT_S": str(REPLY_TIMEOUT_S),
                "VIVA_LLM_TIMEOUT_S": "5",
                "VIVA_LLM_MAX_RETRIES": "0",
                "VIVA_NOTES_DURING_INTERVIEW": "0",
                "VIVA_STT_SECOND_PASS": "0",
                "VIVA_NEW_SESSIONS_PER_MINUTE": "10000",
                "VIVA_MAX_SESSIONS_PER_OWNER": "10000",
            },
        )
        # The stub answers on this event loop: start the server off it.
        await asyncio.to_thread(self.server.start)
        return self.server

    def kill(self) -> None:
        assert self.server is not None and self.server.proc is not None
        self.server.proc.send_signal(signal.SIGKILL)
        self.server.proc.wait()

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()


def _client(base_url: str, figures: Figures, *, faults: bool = False) -> httpx.AsyncClient:
    """An API client that counts every 5xx (but the 502 of a model fault, where expected)."""

    async def count(response: httpx.Response) -> None:
        if response.status_code >= 500 and not (faults and response.status_code == 502):
            figures.server_5xx += 1

    return httpx.AsyncClient(base_url=base_url, timeout=60, event_hooks={"response": [count]})


async def _messages(http: httpx.AsyncClient, sid: str) -> list[dict[str, Any]]:
    response = await http.get(f"/api/sessions/{sid}")
    response.raise_for_status()
    return list(response.json()["messages"])


def _stored(messages: list[dict[str, Any]], marker: str) -> int:
    return sum(1 for m in messages if m["role"] == "user" and marker in m["content"])


async def _open(base_url: str, http: httpx.AsyncClient, sid: str) -> tuple[VoiceClient, str]:
    """A connection, started: returns it and what the interview awaits."""
    client = await VoiceClient.open(base_url, sid, http.cookies.get("viva_owner"))
    await client.until("hello", timeout_s=30)
    # The interviewer at double speed: replies are paced in real time, and nothing here
    # depends on how fast they are said.
    await client.send({"type": "settings", "voice_speed": 2.0})
    await client.send({"type": "start", "protocol_version": 1})
    # The first progress says where the interview stands; a finished one says only that.
    event = await client.until_any("progress", "interview_finished", timeout_s=60)
    return client, "finished" if event["type"] == "interview_finished" else str(event["awaiting"])


async def _settle(client: VoiceClient, awaiting: str) -> str:
    """Wait until the interview awaits an answer and its question is being spoken, or is
    over."""
    if awaiting == "question":
        progress = await client.until_progress("answer", "finished", timeout_s=60)
        awaiting = str(progress["awaiting"])
    if awaiting == "answer":
        # The question is asked again on every connection: answer once it is being said (an
        # answer typed while it is still being written is refused as busy; one typed while it
        # is spoken interrupts it, as the room allows).
        await client.until("audio_start", timeout_s=60)
    return awaiting


async def disconnects(
    base_url: str, figures: Figures, *, interviews: int, rng: random.Random
) -> None:
    async with _client(base_url, figures) as http:
        for i in range(interviews):
            sid = await create_sample_session(http, questions=3, difficulty="easy")
            for k in range(1, 4):
                marker = f"[interview {i} answer {k}]"
                text = (
                    f"{marker} I led the billing migration to PostgreSQL, added idempotency "
                    "keys, and failed payments fell by forty percent in a quarter."
                )
                client, awaiting = await _open(base_url, http, sid)
                awaiting = await _settle(client, awaiting)
                if awaiting != "answer":
                    figures.not_resumable += 1
                    await client.close()
                    break
                point = rng.choice(DISCONNECT_POINTS)
                await client.send({"type": "typed_answer", "text": text})
                figures.answers_sent += 1
                acknowledged = False
                try:
                    if point != "just_sent":
                        await client.until("final_transcript", timeout_s=30)
                        acknowledged = True
                    if point == "mid_reply_audio":
                        await client.until("audio_start", timeout_s=30)
                    if point == "after_reply":
                        await client.until_progress("answer", "finished", timeout_s=60)
                except TimeoutError:
                    figures.turns_stalled += 1  # no transcript or no reply: the turn hung
                await client.close()
                figures.disconnects += 1
                # Reconnect: the interview resumes where it stands.
                client, awaiting = await _open(base_url, http, sid)
                stored = _stored(await _messages(http, sid), marker)
                if stored == 0:
                    if acknowledged:
                        figures.answers_lost += 1
                    # Never arrived: the room keeps the text and sends it again.
                    figures.answers_resent += 1
                    awaiting = await _settle(client, awaiting)
                    await client.send({"type": "typed_answer", "text": text})
                    await client.until("final_transcript", timeout_s=30)
                    awaiting = "question"
                awaiting = await _settle(client, awaiting)
                await client.close()
                stored = _stored(await _messages(http, sid), marker)
                figures.answers_doubled += max(0, stored - 1)
                if stored == 0:
                    figures.answers_lost += 1
            # The report, its request abandoned part-way, then asked again.
            with contextlib.suppress(httpx.TimeoutException):
                await http.post(f"/api/sessions/{sid}/feedback", timeout=rng.uniform(0.05, 1.5))
            figures.disconnects += 1
            first = await http.post(f"/api/sessions/{sid}/feedback", timeout=120)
            again = await http.get(f"/api/sessions/{sid}/feedback")
            if not (first.is_success and again.is_success) or first.json() != again.json():
                figures.reports_not_once += 1


async def model_faults(base_url: str, stub: StubModel, figures: Figures) -> None:
    async with _client(base_url, figures, faults=True) as http:
        for mode in ("stall", "trickle", "junk", "error", "cut"):
            sid = await create_sample_session(http, questions=3, difficulty="easy")
            marker = f"[fault {mode}]"
            await http.post(f"/api/sessions/{sid}/next")  # the opening question (no model)
            stub.mode = mode
            started = time.perf_counter()
            response = await http.post(
                f"/api/sessions/{sid}/answers",
                json={"text": f"{marker} I rebuilt the reporting pipeline in dbt and Airflow."},
            )
            elapsed = time.perf_counter() - started
            stub.mode = "ok"
            figures.faults_injected += 1
            figures.fault_error_s[mode] = round(elapsed, 2)
            figures.fault_status[mode] = response.status_code
            error = response.json().get("error", {}) if response.status_code >= 400 else {}
            clear = response.status_code == 502 and error.get("details", {}).get("answer_saved")
            if not clear or elapsed > REPLY_TIMEOUT_S + 2:
                figures.fault_errors_late += 1
            if _stored(await _messages(http, sid), marker) != 1:
                figures.fault_answers_lost += 1
            retried = await http.post(f"/api/sessions/{sid}/next")
            if not retried.is_success:
                figures.fault_retries_failed += 1


def _fuzz_frame(rng: random.Random) -> tuple[str, str | bytes]:
    """A frame a broken or hostile client might send, and what kind it is."""
    kind = rng.randrange(10)
    if kind == 0:
        return "odd-length audio", rng.randbytes(rng.choice([1, 3, 641, 1999]))
    if kind == 1:
        return "oversized audio", rng.randbytes(70_000)  # over the protocol's 64 KiB
    if kind == 2:
        return "silence", bytes(rng.choice([640, 6400]))
    if kind == 3:
        return "text, not JSON", rng.randbytes(rng.randrange(1, 200)).decode("latin-1")
    if kind == 4:
        return "nested JSON", "[" * 5000 + "]" * 5000
    if kind == 5:
        message = {
            "type": rng.choice(["settings", "typed_answer", "start", "ptt_up"]),
            "silence_ms": rng.choice(["700", -5, 10**9, None]),
            "text": rng.choice([None, 5, "", "x" * 9000]),
        }
        return "wrong types", json.dumps(message)
    if kind == 6:
        return "unknown type", json.dumps({"type": "".join(rng.choices("abcxyz_", k=8))})
    if kind == 7:
        return "unknown field", json.dumps({"type": "settings", "unknown_field": True})
    if kind == 8:
        return "oversized text", "x" * 70_000
    return "not an object", json.dumps([1, 2, {"type": "mute"}])


async def fuzz(base_url: str, figures: Figures, *, frames: int, rng: random.Random) -> None:
    async with _client(base_url, figures) as http:
        sid = await create_sample_session(http, questions=3, difficulty="easy")
        client, awaiting = await _open(base_url, http, sid)
        await _settle(client, awaiting)
        before = await _messages(http, sid)
        sent = 0
        last_kind = ""
        while sent < frames:
            kind, frame = _fuzz_frame(rng)
            try:
                await client.ws.send(frame)
                last_kind = kind
                sent += 1
                if sent % 25 == 0:  # read what came back, so the socket's buffers drain
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(client.ws.recv(), 0.05)
            except Exception:
                code = client.ws.close_code
                key = f"{code} after {last_kind}"
                figures.fuzz_closes[key] = figures.fuzz_closes.get(key, 0) + 1
                if code in INTERNAL_CLOSES:
                    figures.fuzz_internal_errors += 1
                with contextlib.suppress(Exception):
                    await client.close()
                client, awaiting = await _open(base_url, http, sid)
        await client.close()
        figures.frames_fuzzed += sent
        if (await http.get("/api/sessions")).status_code != 200:
            figures.fuzz_internal_errors += 1
        after = await _messages(http, sid)
        if [m["content"] for m in after] != [m["content"] for m in before]:
            figures.fuzz_interview_damaged += 1


def _integrity_ok(data_dir: Path) -> bool:
    with contextlib.closing(sqlite3.connect(data_dir / "viva.sqlite3")) as db:
        return bool(db.execute("PRAGMA integrity_check").fetchone()[0] == "ok")


async def kills(run: Run, figures: Figures, *, times: int) -> None:
    """Kill -9 while an answer waits for the (stalled) model, or while the report is written."""
    for n in range(times):
        assert run.server is not None
        base_url = run.server.base_url
        during_report = n % 2 == 1
        async with _client(base_url, figures) as http:
            sid = await create_sample_session(http, questions=3, difficulty="easy")
            await http.post(f"/api/sessions/{sid}/next")
            marker = f"[kill {n}]"
            answer = f"{marker} I moved our deploys to blue-green and cut the rollbacks to zero."
            if during_report:  # one answer, then the interview ended: the report is next
                await http.post(f"/api/sessions/{sid}/answers", json={"text": answer})
                await http.post(f"/api/sessions/{sid}/end")
            run.stub.mode = "stall"
            path = (
                f"/api/sessions/{sid}/feedback" if during_report else f"/api/sessions/{sid}/answers"
            )
            body = None if during_report else {"text": answer}
            pending = asyncio.create_task(http.post(path, json=body))
            await asyncio.sleep(1.0)  # the answer is stored before the model is asked
            run.kill()
            figures.kills += 1
            with contextlib.suppress(Exception):
                await pending
            cookie = http.cookies.get("viva_owner")
        run.stub.mode = "ok"
        if not await asyncio.to_thread(_integrity_ok, run.data_dir):
            figures.kill_integrity_failures += 1
        server = await run.start()
        async with _client(server.base_url, figures) as http:
            http.cookies.set("viva_owner", cookie or "")
            if _stored(await _messages(http, sid), marker) != 1:
                figures.kill_answers_lost += 1
            resumed = await http.post(
                f"/api/sessions/{sid}/feedback" if during_report else f"/api/sessions/{sid}/next",
                timeout=120,
            )
            if not resumed.is_success:
                figures.kill_not_resumable += 1


async def main_async(args: argparse.Namespace) -> Figures:
    figures = Figures()
    rng = random.Random(args.seed)
    out = ROOT / "var" / "resilience"
    with tempfile.TemporaryDirectory(prefix="viva-resilience-") as tmp:
        async with StubModel() as stub:
            run = Run(stub, Path(tmp) / "data", out)
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
                print(f"[resilience] kill -9 ({args.kills})", flush=True)
                await kills(run, figures, times=args.kills)
            finally:
                run.stop()
    return figures


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
        ("5xx responses (other than a model fault's 502)", f.server_5xx),
    ]
    lines = ["| figure | n |", "|---|---:|", *(f"| {name} | {n} |" for name, n in rows)]
    lines.append(f"\nseconds to the error, per model fault: {f.fault_error_s}")
    lines.append(f"HTTP status, per model fault: {f.fault_status}")
    lines.append(f"fuzzing: closes by code: {f.fuzz_closes}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.resilience", description=__doc__)
    parser.add_argument("--disconnects", type=int, default=100)
    parser.add_argument("--frames", type=int, default=1000)
    parser.add_argument("--kills", type=int, default=4)
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


if __name__ == "__main__":
    sys.exit(main())
