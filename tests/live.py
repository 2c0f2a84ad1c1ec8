"""Run an app for real (uvicorn on a loopback port, in a thread) for end-to-end tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from litestar import Litestar

from server.voice.protocol import MAX_FRAME_BYTES


@contextmanager
def serve(app: Litestar, *, start_timeout_s: float = 300) -> Iterator[str]:
    """Yield the base URL of ``app`` served by uvicorn; stop it afterwards."""
    import uvicorn

    # Bind first and hand uvicorn the socket: no window for another process to take the port.
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    # As ``python -m server`` runs it: frames beyond the protocol's size close the socket.
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", ws_max_size=MAX_FRAME_BYTES))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="viva-live-server", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + start_timeout_s
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the app did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
