"""``python -m server.voice_client answer.wav``: one real spoken turn against a running server.

Creates an interview with the sample CV and job description (or joins ``--session`` with
``--cookie``), waits for the first question, streams the WAV in 20 ms frames at real time
over the voice WebSocket (protocol v1, docs/protocol.md), and prints the transcript, the
interviewer's reply and the turn's timings. The same client drives the tests and benchmarks.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from websockets.asyncio.client import ClientConnection, connect

from server.voice.audio import INPUT_SAMPLE_RATE_HZ, Pcm16, resample

FRAME_BYTES = 640  # 20 ms of PCM16 mono at 16 kHz
DATA = Path(__file__).resolve().parent.parent / "tests" / "data"


def read_wav(path: Path) -> Pcm16:
    """A 16-bit PCM WAV of any rate, as 16 kHz mono."""
    with wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() != 2:
            raise ValueError(f"{path}: need 16-bit PCM, got {8 * wav.getsampwidth()}-bit")
        channels, rate = wav.getnchannels(), wav.getframerate()
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1).astype("<i2")
    return resample(Pcm16(samples.tobytes(), rate), INPUT_SAMPLE_RATE_HZ)


def voiced_duration_ms(audio: Pcm16, threshold: float = 0.01) -> float:
    """Where the last voiced 20 ms block ends (trailing silence excluded)."""
    samples = audio.to_float32()
    block = audio.sample_rate_hz // 50
    last = 0
    for start in range(0, len(samples), block):
        chunk = samples[start : start + block]
        if len(chunk) and float(np.sqrt(np.mean(chunk**2))) > threshold:
            last = start + len(chunk)
    return 1000 * last / audio.sample_rate_hz


class VoiceClient:
    """Protocol-v1 client: events are kept in order; audio from the server is collected."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.events: list[dict[str, Any]] = []
        self.audio = bytearray()
        self.audio_frames: list[tuple[float, int]] = []  # (perf_counter, bytes) per frame
        self._taken: dict[str, int] = {}  # events of each type already returned by until()

    @classmethod
    async def open(cls, base_url: str, session_id: str, cookie: str | None) -> VoiceClient:
        url = base_url.replace("http", "ws", 1) + f"/ws/sessions/{session_id}"
        headers = {"Cookie": f"viva_owner={cookie}"} if cookie else {}
        return cls(await connect(url, additional_headers=headers, max_size=1 << 22))

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))

    def of_type(self, event_type: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == event_type]

    async def until(self, event_type: str, timeout_s: float = 120) -> dict[str, Any]:
        """The next not-yet-returned event of ``event_type``, reading frames until it comes."""
        wanted = self._taken.get(event_type, 0)
        async with asyncio.timeout(timeout_s):
            while len(seen := self.of_type(event_type)) <= wanted:
                self._keep(await self.ws.recv())
        self._taken[event_type] = wanted + 1
        return seen[wanted]

    async def until_any(self, *event_types: str, timeout_s: float = 120) -> dict[str, Any]:
        """The next not-yet-returned event of any of ``event_types`` (the others stay unread)."""
        async with asyncio.timeout(timeout_s):
            while True:
                for event_type in event_types:
                    wanted = self._taken.get(event_type, 0)
                    if len(seen := self.of_type(event_type)) > wanted:
                        self._taken[event_type] = wanted + 1
                        return seen[wanted]
                self._keep(await self.ws.recv())

    async def after(
        self,
        event_type: str,
        seen: int,
        *,
        where: Callable[[dict[str, Any]], bool] = lambda event: True,
        timeout_s: float = 60,
    ) -> dict[str, Any]:
        """The first event of ``event_type`` past the first ``seen`` of them (a count taken
        before acting) for which ``where`` holds, reading frames until it comes."""
        async with asyncio.timeout(timeout_s):
            while True:
                for event in self.of_type(event_type)[seen:]:
                    if where(event):
                        return event
                self._keep(await self.ws.recv())

    async def until_progress(self, *awaiting: str, timeout_s: float = 180) -> dict[str, Any]:
        """The next progress event whose ``awaiting`` is one of ``awaiting``."""
        async with asyncio.timeout(timeout_s):
            while True:
                progress = await self.until("progress", timeout_s=timeout_s)
                if progress["awaiting"] in awaiting:
                    return progress

    async def speak(self, pcm16_16k: Pcm16, *, trailing_silence_ms: int = 1500) -> float:
        """Stream audio then silence in 20 ms frames at real time (the server bounds how far
        ahead a client may run). Returns when the last voiced frame was sent (perf_counter)."""
        data = pcm16_16k.data + bytes(int(trailing_silence_ms * INPUT_SAMPLE_RATE_HZ / 500))
        last_voiced_frame = int(voiced_duration_ms(pcm16_16k) / 20)
        loop = asyncio.get_running_loop()
        started = loop.time()
        voiced_sent_at = time.perf_counter()
        # Read server frames concurrently so captions are timestamped as they arrive.
        reader = asyncio.create_task(self._drain())
        try:
            for i, offset in enumerate(range(0, len(data), FRAME_BYTES)):
                await self.ws.send(data[offset : offset + FRAME_BYTES])
                if i == last_voiced_frame:
                    voiced_sent_at = time.perf_counter()
                delay = started + (i + 1) * 0.02 - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
        finally:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
        return voiced_sent_at

    async def silence_until(
        self, event_type: str, timeout_s: float = 60, *, unread: bool = False
    ) -> dict[str, Any]:
        """Stream silence at real time (a microphone in a quiet room: the server decides
        when the turn is over from what it hears) until an event of ``event_type`` arrives
        after this call; return it. ``unread``: the next one ``until`` has not returned yet,
        even if it came before this call (it is then marked returned)."""
        wanted = self._taken.get(event_type, 0) if unread else len(self.of_type(event_type))
        loop = asyncio.get_running_loop()
        started = loop.time()
        reader = asyncio.create_task(self._drain())
        try:
            async with asyncio.timeout(timeout_s):
                frame = bytes(FRAME_BYTES)
                i = 0
                while len(self.of_type(event_type)) <= wanted:
                    await self.ws.send(frame)
                    i += 1
                    delay = started + i * 0.02 - loop.time()
                    if delay > 0:
                        await asyncio.sleep(delay)
        finally:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
        if unread:
            self._taken[event_type] = wanted + 1
        return self.of_type(event_type)[wanted]

    async def _drain(self) -> None:
        while True:
            self._keep(await self.ws.recv())

    def _keep(self, frame: str | bytes) -> None:
        """Record a server frame with its arrival time: audio bytes, or a JSON event."""
        if isinstance(frame, bytes):
            self.audio.extend(frame)
            self.audio_frames.append((time.perf_counter(), len(frame)))
        else:
            event = json.loads(frame)
            event["_at"] = time.perf_counter()
            self.events.append(event)

    async def close(self) -> None:
        await self.ws.close()


@dataclass
class TurnResult:
    transcript: str
    partials_before_final: int
    partials_before_speech_end: int
    reply: str
    reply_audio_bytes: int
    voice_to_voice_ms: float | None  # last voiced frame sent → first reply audio byte received
    server_timings_ms: dict[str, float] = field(default_factory=dict)


async def spoken_turn(client: VoiceClient, answer: Pcm16) -> TurnResult:
    """Answer the pending question by voice and wait until the reply was spoken and stored."""
    events_before = len(client.events)
    frames_before = len(client.audio_frames)
    audio_before = len(client.audio)
    speech_end = await client.speak(answer, trailing_silence_ms=0)
    # Silence streams on until the server ends the turn (at a judged pause, or its limit).
    final = await client.silence_until("final_transcript", timeout_s=120, unread=True)
    await client.until_progress("question")  # the answer is stored before the model is asked
    await client.until_progress("answer", "finished")  # the reply was spoken and stored
    new_events = client.events[events_before:]
    final_at = final["_at"]
    partials = [e for e in new_events if e["type"] == "partial_transcript"]
    reply_frames = [t for t, _ in client.audio_frames[frames_before:] if t > speech_end]
    timings = [e for e in new_events if e["type"] == "turn_timings"]
    return TurnResult(
        transcript=final["text"],
        partials_before_final=sum(1 for e in partials if e["_at"] < final_at),
        partials_before_speech_end=sum(1 for e in partials if e["_at"] < speech_end),
        reply=" ".join(e["text"] for e in new_events if e["type"] == "interviewer_sentence"),
        reply_audio_bytes=len(client.audio) - audio_before,
        voice_to_voice_ms=(reply_frames[0] - speech_end) * 1000 if reply_frames else None,
        server_timings_ms=timings[-1]["timings_ms"] if timings else {},
    )


async def create_sample_session(
    http: httpx.AsyncClient, questions: int = 3, *, difficulty: str = "realistic"
) -> str:
    if not http.cookies:
        # As a browser does: the visitor identity comes from a page load, not from a POST.
        (await http.get("/api/sessions")).raise_for_status()
    response = await http.post(
        "/api/sessions",
        data={
            "job_title": "Senior Python Backend Engineer",
            "company_name": "Fernway Health",
            "job_description": (DATA / "sample_job_description.txt").read_text(),
            "question_count": str(questions),
            "difficulty": difficulty,
        },
        files={"cv_file": ("sample_cv.txt", (DATA / "sample_cv.txt").read_bytes(), "text/plain")},
    )
    response.raise_for_status()
    return str(response.json()["id"])


async def run(wav: Path, base_url: str, session_id: str | None, cookie: str | None) -> int:
    answer = read_wav(wav)
    async with httpx.AsyncClient(base_url=base_url, timeout=600) as http:
        if session_id is None:
            session_id = await create_sample_session(http)
            cookie = http.cookies["viva_owner"]
        client = await VoiceClient.open(base_url, session_id, cookie)
        try:
            await client.until("hello")
            await client.send({"type": "start"})
            await client.until_progress("answer")
            question = " ".join(e["text"] for e in client.of_type("interviewer_sentence"))
            print(f"Session {session_id}\nInterviewer: {question}")
            result = await spoken_turn(client, answer)
        finally:
            await client.close()
    print(f"\nYou said: {result.transcript}")
    print(f"Interviewer: {result.reply}")
    print(f"\nLive captions before the final transcript: {result.partials_before_final}")
    v2v = f"{result.voice_to_voice_ms:.0f} ms" if result.voice_to_voice_ms else "n/a"
    print(f"Voice to voice (last voiced frame sent → first reply audio): {v2v}")
    for name, ms in result.server_timings_ms.items():
        print(f"  server {name}: {ms:.0f} ms")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("wav", type=Path, help="16-bit PCM WAV of the spoken answer")
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--session", help="an existing interview id (needs --cookie)")
    parser.add_argument("--cookie", help="the viva_owner cookie value that owns --session")
    args = parser.parse_args(argv)
    if args.session and not args.cookie:
        parser.error("--session needs --cookie (sessions are visible only to their owner)")
    try:
        return asyncio.run(run(args.wav, args.base_url, args.session, args.cookie))
    except (httpx.HTTPError, OSError, TimeoutError) as err:
        sys.stderr.write(f"error: {err}\n")
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
