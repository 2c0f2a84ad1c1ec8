"""The live voice connection of each interview in this process (one per interview)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Protocol

from server.services.quotas import SocketCaps
from server.voice.protocol import CLOSE_REPLACED

logger = logging.getLogger(__name__)

CLOSE_WAIT_S = 15.0  # > the session's 5 s grace for writes under way
REPLACED_REASON = "This interview was opened in another window or tab, so voice stopped here."
"""Shown to the candidate as it is (the room shows a close's reason)."""


class Closable(Protocol):
    async def close(self, code: int = 1000, reason: str | None = None) -> None: ...


class VoiceConnections:
    """The live socket of each interview in this process: a newer one replaces the older.

    The newer connection waits until the older one has finished closing, so whatever the
    older one was still storing (the answer, what was heard of a reply) lands first and
    the newer one resumes from it. ``caps`` bounds how many are open, per visitor and in all.
    """

    def __init__(self, caps: SocketCaps) -> None:
        self._live: dict[str, tuple[Closable, asyncio.Event]] = {}
        self.caps = caps

    async def claim(self, session_id: str, socket: Closable) -> asyncio.Event:
        previous = self._live.get(session_id)
        done = asyncio.Event()
        self._live[session_id] = (socket, done)
        if previous is not None:
            old_socket, old_done = previous
            logger.info("session %s: a newer connection replaces the open one", session_id)
            with contextlib.suppress(Exception):  # it may be closed already
                await old_socket.close(code=CLOSE_REPLACED, reason=REPLACED_REASON)
            try:
                await asyncio.wait_for(old_done.wait(), timeout=CLOSE_WAIT_S)
            except TimeoutError:
                logger.warning("session %s: the previous connection did not close", session_id)
        return done

    def release(self, session_id: str, socket: Closable, done: asyncio.Event) -> None:
        done.set()
        if (current := self._live.get(session_id)) is not None and current[0] is socket:
            del self._live[session_id]
