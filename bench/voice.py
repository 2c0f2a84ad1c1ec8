"""Spoken interviews through the real WebSocket, with the protocol client the tests use."""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict
from typing import Any

import httpx

from server.voice.audio import Pcm16
from server.voice_client import VoiceClient, create_sample_session, spoken_turn

TYPED_ANSWER = (
    "I would pair with the team on the on-call rotation first, read the incident history, and "
    "agree on two or three reliability goals with clear numbers before changing anything."
)


async def interview(
    base_url: str,
    answers: list[Pcm16],
    *,
    turns: int,
    questions: int,
    feedback: bool = False,
    start_delay_s: float = 0.0,
    first: int = 0,
    settings: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Create an interview, hear the first question, answer ``turns`` questions by voice.

    With ``feedback``, the remaining questions are answered by text over HTTP, then the
    feedback report is generated and timed (the interview has ended when it is requested).
    ``settings``: a settings message sent first (e.g. ``{"silence_ms": 700}``).
    """
    await asyncio.sleep(start_delay_s)
    out: dict[str, Any] = {"turns": [], "errors": []}
    async with httpx.AsyncClient(base_url=base_url, timeout=900) as http:
        sid = await create_sample_session(http, questions)
        out["session_id"] = sid
        client = await VoiceClient.open(base_url, sid, http.cookies["viva_owner"])
        try:
            await client.until("hello")
            if settings:
                await client.send({"type": "settings", **settings})
            started = time.perf_counter()
            await client.send({"type": "start"})
            await client.until_progress("answer", timeout_s=900)
            out["opening_s"] = round(time.perf_counter() - started, 2)
            out["first_question"] = " ".join(
                e["text"] for e in client.of_type("interviewer_sentence")
            )
            for i in range(turns):
                result = await spoken_turn(client, answers[(first + i) % len(answers)])
                row = asdict(result)
                row["server_timings_ms"] = dict(result.server_timings_ms)
                out["turns"].append(row)
        except Exception as err:  # the turns measured so far are still a result
            out["errors"].append(f"spoken: {type(err).__name__}: {err}")
        finally:
            await client.close()
        if feedback and not out["errors"]:
            try:
                await _typed_answers_and_feedback(http, sid, questions - turns, out)
            except Exception as err:  # the spoken turns above are still a result
                out["errors"].append(f"feedback: {type(err).__name__}: {err}")
    return out


async def _typed_answers_and_feedback(
    http: httpx.AsyncClient, sid: str, typed: int, out: dict[str, Any]
) -> None:
    for _ in range(typed):
        response = await http.post(f"/api/sessions/{sid}/answers", json={"text": TYPED_ANSWER})
        response.raise_for_status()
    started = time.perf_counter()
    response = await http.post(f"/api/sessions/{sid}/feedback")
    out["feedback_s"] = round(time.perf_counter() - started, 2)
    out["feedback_status"] = response.status_code
    started = time.perf_counter()
    response = await http.get(f"/api/sessions/{sid}/score")
    out["score_ms"] = round((time.perf_counter() - started) * 1000, 1)
    out["score"] = response.json().get("score") if response.status_code == 200 else None


async def concurrent(
    base_url: str, answers: list[Pcm16], *, clients: int, turns: int, timeout_s: float
) -> dict[str, Any]:
    """``clients`` interviews at once against one server (starts staggered by 1 s)."""

    async def one(i: int) -> dict[str, Any]:
        try:
            return await asyncio.wait_for(
                interview(
                    base_url,
                    answers,
                    turns=turns,
                    questions=max(3, turns + 1),
                    start_delay_s=float(i),
                    first=i,
                ),
                timeout_s,
            )
        except Exception as err:  # a slow or failed client is a result, not a crash
            return {"turns": [], "errors": [f"{type(err).__name__}: {err}"]}

    started = time.perf_counter()
    runs = await asyncio.gather(*(one(i) for i in range(clients)))
    return {"wall_s": round(time.perf_counter() - started, 1), "clients": runs}
