"""A protocol-v1 test client over a real WebSocket (the ``websockets`` library)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from server.voice.audio import Pcm16

FRAME_BYTES = 640  # 20 ms of PCM16 mono at 16 kHz


class VoiceTestClient:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.events: list[dict[str, Any]] = []
        self.audio = bytearray()
        self._taken: dict[str, int] = {}  # events of each type already returned by until()

    @classmethod
    async def open(cls, base_url: str, session_id: str, cookie: str | None) -> VoiceTestClient:
        url = base_url.replace("http", "ws", 1) + f"/ws/sessions/{session_id}"
        headers = {"Cookie": f"viva_owner={cookie}"} if cookie else {}
        return cls(await connect(url, additional_headers=headers, max_size=1 << 22))

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))

    async def until(self, event_type: str, timeout_s: float = 60) -> dict[str, Any]:
        """The next not-yet-returned event of ``event_type``, reading frames (and collecting
        audio) until it arrives. Events of other types are kept, in order, in ``events``."""
        wanted = self._taken.get(event_type, 0)
        async with asyncio.timeout(timeout_s):
            while len(seen := self.of_type(event_type)) <= wanted:
                frame = await self.ws.recv()
                if isinstance(frame, bytes):
                    self.audio.extend(frame)
                else:
                    self.events.append(json.loads(frame))
        self._taken[event_type] = wanted + 1
        return seen[wanted]

    def of_type(self, event_type: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == event_type]

    async def speak(self, pcm16_16k: Pcm16, *, trailing_silence_ms: int = 1200) -> float:
        """Stream audio in 20 ms frames at real time, then silence; returns when speech ended
        (event-loop time), for latency measurements."""
        data = pcm16_16k.data + bytes(int(trailing_silence_ms * 32))
        loop = asyncio.get_running_loop()
        started = loop.time()
        speech_end = started + pcm16_16k.duration_ms / 1000
        for i, offset in enumerate(range(0, len(data), FRAME_BYTES)):
            await self.ws.send(data[offset : offset + FRAME_BYTES])
            # Pace to real time (the server bounds how far ahead of real time a client may be).
            delay = started + (i + 1) * 0.02 - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
        return speech_end

    async def close(self) -> None:
        await self.ws.close()
