"""Forced disconnects, model faults and fuzzed frames."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time

import httpx

from bench.resilience.harness import (
    REPLY_TIMEOUT_S,
    Figures,
    api_client,
    messages_of,
    open_voice,
    settle,
    stored_count,
)
from bench.stub_llm import StubModel
from server.voice_client import create_sample_session

DISCONNECT_POINTS = ("just_sent", "stored", "mid_reply_audio", "after_reply")
INTERNAL_CLOSES = {1011, 4500}


async def disconnects(
    base_url: str, figures: Figures, *, interviews: int, rng: random.Random
) -> None:
    async with api_client(base_url, figures) as http:
        for i in range(interviews):
            sid = await create_sample_session(http, questions=3, difficulty="easy")
            for k in range(1, 4):
                marker = f"[interview {i} answer {k}]"
                text = (
                    f"{marker} I led the billing migration to PostgreSQL, added idempotency "
                    "keys, and failed payments fell by forty percent in a quarter."
                )
                client, awaiting = await open_voice(base_url, http, sid)
                awaiting = await settle(client, awaiting)
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
                client, awaiting = await open_voice(base_url, http, sid)
                stored = stored_count(await messages_of(http, sid), marker)
                if stored == 0:
                    if acknowledged:
                        figures.answers_lost += 1
                    # Never arrived: the room keeps the text and sends it again.
                    figures.answers_resent += 1
                    awaiting = await settle(client, awaiting)
                    await client.send({"type": "typed_answer", "text": text})
                    await client.until("final_transcript", timeout_s=30)
                    awaiting = "question"
                awaiting = await settle(client, awaiting)
                await client.close()
                stored = stored_count(await messages_of(http, sid), marker)
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
    async with api_client(base_url, figures, faults=True) as http:
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
            if stored_count(await messages_of(http, sid), marker) != 1:
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
    async with api_client(base_url, figures) as http:
        sid = await create_sample_session(http, questions=3, difficulty="easy")
        client, awaiting = await open_voice(base_url, http, sid)
        await settle(client, awaiting)
        before = await messages_of(http, sid)
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
                client, awaiting = await open_voice(base_url, http, sid)
        await client.close()
        figures.frames_fuzzed += sent
        if (await http.get("/api/sessions")).status_code != 200:
            figures.fuzz_internal_errors += 1
        after = await messages_of(http, sid)
        if [m["content"] for m in after] != [m["content"] for m in before]:
            figures.fuzz_interview_damaged += 1
