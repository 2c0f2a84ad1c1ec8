"""Upload bombs while a spoken interview goes on.

A candidate answers by voice, in real time, and hears the reply; meanwhile another visitor
uploads each bomb (``bench/upload_bombs.py``) as a CV, twice per answer: while the candidate
speaks, and while the reply's audio streams. Each bomb must get a 4xx within 2 s; the spoken
interview must go on as if nothing happened: its reply's audio must reach the client in time
to play without a gap (a chunk is late if it arrives after the moment the room would play it:
the first chunk's arrival plus the room's 50 ms lead, plus the audio before it), and its
voice-to-voice time is compared with the same answers' before the bombs.
"""

from __future__ import annotations

import asyncio
import statistics
import time

import httpx

from bench.answers import load_answers
from bench.resilience.harness import Figures
from bench.server_proc import ROOT
from bench.upload_bombs import BOMBS
from server.voice.audio import Pcm16
from server.voice_client import DATA, VoiceClient, create_sample_session, spoken_turn

BOMB_LIMIT_S = 2.0
PLAYBACK_LEAD_S = 0.05  # web/static/js/voice-playback.js: the room's head start
SPEAKING_S = 2.0  # into the answer, the first bomb lands


async def bombs_under_voice(base_url: str, figures: Figures) -> None:
    bombs = {name: await asyncio.to_thread(make) for name, make in BOMBS.items()}
    answers = [audio for _, audio in load_answers(ROOT / "var" / "bench")]
    async with (
        httpx.AsyncClient(base_url=base_url, timeout=60) as candidate,
        httpx.AsyncClient(base_url=base_url, timeout=60) as attacker,
    ):
        await attacker.get("/api/sessions")
        sid = await create_sample_session(candidate, questions=len(bombs) + 3, difficulty="easy")
        client = await VoiceClient.open(base_url, sid, candidate.cookies.get("viva_owner"))
        try:
            await client.until("hello", timeout_s=30)
            await client.send({"type": "start"})
            await client.until_progress("answer", timeout_s=60)
            for n in range(2):  # before the bombs: the same kind of turns, undisturbed
                result = await spoken_turn(client, answers[n])
                if result.voice_to_voice_ms is not None:
                    figures.bomb_v2v_before_ms.append(round(result.voice_to_voice_ms))
            for n, (name, data) in enumerate(bombs.items()):
                await _turn_under_fire(client, attacker, answers[2 + n % 4], name, data, figures)
        finally:
            await client.close()


async def _turn_under_fire(
    client: VoiceClient,
    attacker: httpx.AsyncClient,
    answer: Pcm16,
    name: str,
    data: bytes,
    figures: Figures,
) -> None:
    frames_before = len(client.audio_frames)
    finals = len(client.of_type("final_transcript"))
    turn = asyncio.create_task(spoken_turn(client, answer))  # it reads the socket
    await asyncio.sleep(SPEAKING_S)
    await _bomb(attacker, name, data, figures)  # while the candidate speaks
    async with asyncio.timeout(60):
        # The turn's task reads the socket (one reader at a time): watch what it records.
        while len(client.of_type("final_transcript")) <= finals:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
    await _bomb(attacker, name, data, figures)  # while the reply is written and spoken
    result = await turn
    if result.voice_to_voice_ms is None:
        figures.bomb_voice_failures += 1
    else:
        figures.bomb_v2v_during_ms.append(round(result.voice_to_voice_ms))
    late, worst = _late_chunks(client, frames_before)
    figures.bomb_audio_chunks += len(client.audio_frames) - frames_before
    figures.bomb_audio_late += late
    figures.bomb_audio_worst_late_ms = max(figures.bomb_audio_worst_late_ms, round(worst))


async def _bomb(attacker: httpx.AsyncClient, name: str, data: bytes, figures: Figures) -> None:
    started = time.perf_counter()
    response = await attacker.post(
        "/api/sessions",
        data={
            "job_title": "Engineer",
            "company_name": "Fernway Health",
            "job_description": (DATA / "sample_job_description.txt").read_text(),
        },
        files={"cv_file": (name, data, "application/octet-stream")},
    )
    elapsed = time.perf_counter() - started
    figures.bombs_sent += 1
    figures.bomb_seconds[name] = max(figures.bomb_seconds.get(name, 0.0), round(elapsed, 2))
    if not (400 <= response.status_code < 500 and elapsed <= BOMB_LIMIT_S):
        figures.bombs_not_refused_in_time += 1


def _late_chunks(client: VoiceClient, frames_before: int) -> tuple[int, float]:
    """Chunks of the reply's audio that arrived after the room would have played them, and
    the latest one's lateness (ms). The reply's audio is every frame after the answer's."""
    frames = client.audio_frames[frames_before:]
    if not frames:
        return 0, 0.0
    rate = next(e["sample_rate_hz"] for e in reversed(client.of_type("audio_start")))  # the reply's
    bytes_per_s = rate * 2
    first_at = frames[0][0]
    play_at = first_at + PLAYBACK_LEAD_S
    late, worst = 0, 0.0
    for arrived, size in frames:
        if arrived > play_at:
            late += 1
            worst = max(worst, (arrived - play_at) * 1000)
            play_at = arrived  # the room plays a late chunk at once
        play_at += size / bytes_per_s
    return late, worst


def summary(figures: Figures) -> str:
    before, during = figures.bomb_v2v_before_ms, figures.bomb_v2v_during_ms
    return (
        f"bombs: slowest answer per bomb (s) {figures.bomb_seconds}; voice-to-voice ms "
        f"before the bombs {before} (median {statistics.median(before) if before else '-'}), "
        f"during {during} (median {statistics.median(during) if during else '-'}); reply audio "
        f"{figures.bomb_audio_chunks} chunks, {figures.bomb_audio_late} late "
        f"(worst {figures.bomb_audio_worst_late_ms} ms)"
    )
