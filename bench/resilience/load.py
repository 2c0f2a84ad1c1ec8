"""Load: many API visitors and two spoken interviews at once, for a fixed time.

Each API visitor (an identity of its own) goes through interviews as the room does, typed:
creates one (a CV upload), asks for the first question, answers each question, ends it,
gets the report and its page, lists its interviews, with a short think time between
requests. Two voice interviews run alongside, answered with real speech in real time. Counted:
every API request and its latency, every response that is not a success (an error: nothing
here should be refused), and each spoken turn's voice-to-voice time (the last word sent →
the first byte of the reply's audio back). The model is the stub (it answers at once), so
these times are the server's own under load, not the model's.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time

import httpx

from bench.answers import load_answers
from bench.resilience.harness import Figures
from bench.server_proc import ROOT
from server.voice.audio import Pcm16
from server.voice_client import VoiceClient, create_sample_session, spoken_turn

THINK_S = (0.2, 1.0)
QUESTIONS = 3
ANSWER = (
    "At my last company I owned the billing service: I moved it to PostgreSQL with idempotency "
    "keys, and failed payments fell by forty percent in a quarter."
)


async def load(
    base_url: str, figures: Figures, *, clients: int, voices: int, seconds: float, seed: int
) -> None:
    deadline = time.perf_counter() + seconds
    answers = [audio for _, audio in load_answers(ROOT / "var" / "bench")]
    latencies: dict[str, list[float]] = {}
    v2v: list[float] = []
    tasks = [
        *(
            _visitor(base_url, figures, latencies, deadline, random.Random(seed + n))
            for n in range(clients)
        ),
        *(
            _speaker(base_url, figures, answers[n:] + answers[:n], v2v, deadline)
            for n in range(voices)
        ),
    ]
    await asyncio.gather(*tasks)
    figures.load_clients, figures.load_voices, figures.load_seconds = clients, voices, seconds
    every = [ms for route in latencies.values() for ms in route]
    figures.load_requests = len(every)
    figures.load_api_ms = _percentiles(every)
    figures.load_api_ms_by_route = {
        route: {**_percentiles(ms), "n": len(ms)} for route, ms in sorted(latencies.items())
    }
    figures.load_voice_turns = len(v2v)
    figures.load_v2v_ms = _percentiles(v2v)


def _route(request: httpx.Request) -> str:
    """``POST /api/sessions/{id}/answers``: the route, its ids left out."""
    parts = ["{id}" if len(part) >= 16 else part for part in request.url.path.split("/")]
    return f"{request.method} {'/'.join(parts)}"


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return {"p50": round(statistics.median(ordered), 1), "p95": round(p95, 1)}


async def _visitor(
    base_url: str,
    figures: Figures,
    latencies: dict[str, list[float]],
    deadline: float,
    rng: random.Random,
) -> None:
    async def started(request: httpx.Request) -> None:
        request.extensions["started"] = time.perf_counter()

    async def timed(response: httpx.Response) -> None:
        await response.aread()  # the whole response, not only its headers
        elapsed_ms = (time.perf_counter() - response.request.extensions["started"]) * 1000
        latencies.setdefault(_route(response.request), []).append(elapsed_ms)
        if not response.is_success:
            figures.load_errors += 1
            key = f"{response.request.method} {response.status_code}"
            figures.load_error_kinds[key] = figures.load_error_kinds.get(key, 0) + 1

    async with httpx.AsyncClient(
        base_url=base_url, timeout=60, event_hooks={"request": [started], "response": [timed]}
    ) as http:
        while time.perf_counter() < deadline:
            try:
                await _one_interview(http, rng, deadline)
            except httpx.HTTPError as error:  # a timeout or a dropped connection
                figures.load_errors += 1
                kind = type(error).__name__
                figures.load_error_kinds[kind] = figures.load_error_kinds.get(kind, 0) + 1


async def _one_interview(http: httpx.AsyncClient, rng: random.Random, deadline: float) -> None:
    async def think() -> None:
        await asyncio.sleep(rng.uniform(*THINK_S))

    sid = await create_sample_session(http, questions=QUESTIONS, difficulty="easy")
    await think()
    await http.post(f"/api/sessions/{sid}/next")
    for n in range(QUESTIONS):
        if time.perf_counter() > deadline:
            return
        await think()
        await http.post(f"/api/sessions/{sid}/answers", json={"text": f"{ANSWER} ({n})"})
    await think()
    await http.post(f"/api/sessions/{sid}/feedback")
    await think()
    await http.get(f"/sessions/{sid}/report")
    await think()
    await http.get("/api/sessions")
    await think()
    await http.get("/")


async def _speaker(
    base_url: str, figures: Figures, answers: list[Pcm16], v2v: list[float], deadline: float
) -> None:
    """Spoken interviews, one after another, as ``make bench`` answers them."""
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        turn = 0
        while time.perf_counter() < deadline:
            sid = await create_sample_session(http, questions=QUESTIONS, difficulty="easy")
            client = await VoiceClient.open(base_url, sid, http.cookies.get("viva_owner"))
            try:
                await client.until("hello", timeout_s=30)
                await client.send({"type": "start"})
                await client.until_progress("answer", timeout_s=60)
                for _ in range(QUESTIONS):
                    if time.perf_counter() > deadline:
                        break
                    result = await spoken_turn(client, answers[turn % len(answers)])
                    turn += 1
                    if result.voice_to_voice_ms is None:
                        figures.load_voice_errors += 1
                    else:
                        v2v.append(result.voice_to_voice_ms)
            except (TimeoutError, OSError):
                figures.load_voice_errors += 1
            finally:
                await client.close()
