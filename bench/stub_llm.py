"""An OpenAI-compatible model on loopback that misbehaves on request: just enough of
``/v1/chat/completions`` (streamed) to answer the interviewer, or to fail it the ways a real
endpoint does. Used by the model-fault tests and ``make resilience``."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Literal

Mode = Literal["ok", "stall", "trickle", "junk", "error", "cut"]
MODES: tuple[Mode, ...] = ("ok", "stall", "trickle", "junk", "error", "cut")
REPLY = ["Which ", "project ", "are ", "you ", "proudest ", "of?"]


def _chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


class StubModel:
    """``mode``: "ok" (a streamed question; ``{}`` to a JSON request), "stall" (headers never
    come), "trickle" (one token, then nothing), "junk" (not HTTP), "error" (HTTP 500) or "cut"
    (the connection closes mid-stream). Use as ``async with StubModel() as model``."""

    def __init__(self) -> None:
        self.mode: Mode = "ok"
        self.requests = 0
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> StubModel:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in self._handlers:  # stalled replies: nobody waits for them any more
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)

    @property
    def base_url(self) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/v1"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
            task.add_done_callback(self._handlers.discard)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length")
            )
            body = json.loads(await reader.readexactly(length) or b"{}")
        except (asyncio.IncompleteReadError, ConnectionError, StopIteration, ValueError):
            writer.close()
            return
        self.requests += 1
        mode = self.mode
        try:
            if mode == "stall":
                await asyncio.sleep(3600)
            if mode == "junk":
                writer.write(b"\x00\xffnot http at all\r\n\r\n")
                return
            if mode == "error":
                body = b'{"error": {"message": "the model crashed", "type": "server_error"}}'
                writer.write(
                    b"HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\n"
                    + f"content-length: {len(body)}\r\nconnection: close\r\n\r\n".encode()
                    + body
                )
                return
            if not body.get("stream"):
                # A JSON request (notes, the report): a well-formed reply the app's schema
                # refuses, so its own evidence writes the report.
                completion = {
                    "id": "stub",
                    "object": "chat.completion",
                    "created": 0,
                    "model": "stub",
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": "{}"},
                            "finish_reason": "stop",
                        }
                    ],
                }
                data = json.dumps(completion).encode()
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                    + f"content-length: {len(data)}\r\nconnection: close\r\n\r\n".encode()
                    + data
                )
                return
            writer.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                b"transfer-encoding: chunked\r\nconnection: close\r\n\r\n"
            )
            # Chunked, as llama.cpp and vLLM send it: a stream cut short is then visibly
            # incomplete, not just short.
            for i, word in enumerate(REPLY):
                chunk = {"choices": [{"index": 0, "delta": {"content": word}}]}
                writer.write(_chunk(f"data: {json.dumps(chunk)}\n\n".encode()))
                await writer.drain()
                if mode == "trickle" and i == 0:
                    await asyncio.sleep(3600)
                if mode == "cut" and i == 1:
                    writer.transport.abort()
                    return
            writer.write(_chunk(b"data: [DONE]\n\n") + b"0\r\n\r\n")
        except ConnectionError:
            pass  # the app hung up first: nothing to answer
        except asyncio.CancelledError:
            # The stub is closing (a stalled reply): end quietly; Python 3.11's streams log a
            # cancelled connection callback as an error.
            writer.transport.abort()
        finally:
            if not writer.transport.is_closing():
                with contextlib.suppress(ConnectionError):
                    await writer.drain()
                writer.close()
