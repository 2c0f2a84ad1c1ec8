"""Two app instances on one database: the one-live-socket rule and the turn lock across them.

Both instances serve the same visitor's interview (as a load balancer without sticky sessions
would send them). Socket handovers: a connection is open on one instance, a second opens on
the other; the first must be closed as replaced, and the second must start only after it.
Races: the same interview's answer (and then its next question) is sent to both instances at
once; no turn may be stored twice (the conversation must alternate question and answer), and
the refusals are counted by who refused: the interview's state as read, or the database when
both had read the same turn as next (``MessageRepository.add``).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

import httpx

from bench.resilience.harness import Figures, api_client, messages_of, open_voice
from server.voice.protocol import CLOSE_REPLACED
from server.voice_client import VoiceClient, create_sample_session

REFUSED_BY_DATABASE = "moved on in another window or request"  # MessageRepository.add's 409


RACES_PER_INTERVIEW = 12  # questions per interview are at most 15


async def two_instances(
    first_url: str, second_url: str, figures: Figures, *, handovers: int, races: int
) -> None:
    async with api_client(first_url, figures) as one, api_client(second_url, figures) as two:
        sid = await create_sample_session(one, questions=3, difficulty="easy")
        two.cookies.set("viva_owner", one.cookies.get("viva_owner") or "")
        for n in range(handovers):
            old_url, new_url = (first_url, second_url) if n % 2 == 0 else (second_url, first_url)
            await _handover(old_url, new_url, one, sid, figures)
        for start in range(0, races, RACES_PER_INTERVIEW):
            count = min(RACES_PER_INTERVIEW, races - start)
            sid = await create_sample_session(one, questions=count + 1, difficulty="easy")
            for _ in range(count):
                await _race(one, two, sid, figures)
            figures.instance_turns_doubled += _doubled(await messages_of(one, sid))


async def _handover(
    old_url: str, new_url: str, http: httpx.AsyncClient, sid: str, figures: Figures
) -> None:
    old, _ = await open_voice(old_url, http, sid)
    started = time.perf_counter()
    new = await VoiceClient.open(new_url, sid, http.cookies.get("viva_owner"))
    try:
        await new.until("hello", timeout_s=30)  # sent once the older connection has closed
        figures.instance_handovers += 1
        figures.instance_handover_s.append(round(time.perf_counter() - started, 2))
        closed = await _closed(old, timeout_s=1.0)  # it must be closed already
        if closed != CLOSE_REPLACED:
            figures.instance_sockets_both_live += 1
    finally:
        await old.close()
        await new.close()


async def _closed(client: VoiceClient, *, timeout_s: float) -> int | None:
    """The close code once the socket is closed (reading whatever came before), or None."""
    try:
        async with asyncio.timeout(timeout_s):
            while True:
                await client.ws.recv()
    except TimeoutError:
        return None
    except Exception:
        return client.ws.close_code


async def _race(one: httpx.AsyncClient, two: httpx.AsyncClient, sid: str, figures: Figures) -> None:
    """The next question asked of both instances at once, then an answer sent to both."""
    for path, body in ((f"/api/sessions/{sid}/next", None), (f"/api/sessions/{sid}/answers", 0)):
        responses = await asyncio.gather(
            *(
                http.post(path, json=None if body is None else {"text": _answer(n)})
                for n, http in enumerate((one, two))
            )
        )
        figures.instance_races += 1
        for response in responses:
            if response.status_code == 409:
                figures.instance_refused[_who_refused(response)] += 1


def _answer(n: int) -> str:
    return (
        f"[instance {n}] I led the move to PostgreSQL and the nightly reports fell from an "
        "hour to six minutes."
    )


def _who_refused(response: httpx.Response) -> str:
    message = str(response.json().get("error", {}).get("message", ""))
    return "database" if REFUSED_BY_DATABASE in message else "state"


def _doubled(messages: list[dict[str, Any]]) -> int:
    """Turns stored twice: two answers (or two questions) in a row."""
    roles = [m["role"] for m in messages]
    return sum(1 for a, b in itertools.pairwise(roles) if a == b)
