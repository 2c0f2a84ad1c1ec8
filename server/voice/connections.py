"""The live voice connection of each interview: one per interview, in every app instance on
the database (``voice_leases``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import Protocol

from server.repositories.leases import VoiceLeaseRepository
from server.services.quotas import SocketCaps
from server.voice.protocol import CLOSE_REPLACED

logger = logging.getLogger(__name__)

CLOSE_WAIT_S = 15.0  # > the session's 5 s grace for writes under way
HEARTBEAT_S = 1.0
STALE_S = 6.0
"""A connection whose row was not renewed for this long belongs to an instance that died."""
HANDOVER_POLL_S = 0.1
REPLACED_REASON = "This interview was opened in another window or tab, so voice stopped here."
"""Shown to the candidate as it is (the room shows a close's reason)."""


class Closable(Protocol):
    async def close(self, code: int = 1000, reason: str | None = None) -> None: ...


@dataclass
class Claim:
    """One connection's hold on its interview, from ``claim`` to ``release``."""

    session_id: str
    socket: Closable
    lease_id: int
    watch: asyncio.Task[None] | None = field(default=None, repr=False)


class VoiceConnections:
    """The live socket of each interview: a newer one replaces the older, in this process or
    in another app instance on the same database.

    Each connection has a row (``VoiceLeaseRepository``) that it renews every second while it
    is open, and it closes itself (``CLOSE_REPLACED``) once a newer row for its interview
    appears; in this process the older socket is closed at once. The newer connection waits
    until the older has finished closing (its row deleted, or not renewed for ``STALE_S``), so
    whatever the older was still storing (the answer, what was heard of a reply) lands first
    and the newer resumes from it. ``caps`` bounds how many are open in this process, per
    visitor and in all.
    """

    def __init__(self, caps: SocketCaps, leases: VoiceLeaseRepository) -> None:
        self.caps = caps
        self._leases = leases
        self._live: dict[str, Claim] = {}

    async def claim(self, session_id: str, session_pk: int, socket: Closable) -> Claim:
        lease_id = await self._leases.open(session_pk)
        claim = Claim(session_id, socket, lease_id)
        previous = self._live.get(session_id)
        self._live[session_id] = claim
        if previous is not None:
            logger.info("session %s: a newer connection replaces the open one", session_id)
            await _close_replaced(previous.socket)
        deadline = time.monotonic() + CLOSE_WAIT_S
        while await self._leases.older_alive(session_pk, lease_id, stale_s=STALE_S):
            if time.monotonic() > deadline:
                logger.warning("session %s: the previous connection did not close", session_id)
                break
            await asyncio.sleep(HANDOVER_POLL_S)
        claim.watch = asyncio.create_task(self._watch(claim, session_pk))
        return claim

    async def release(self, claim: Claim) -> None:
        if claim.watch is not None:
            claim.watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await claim.watch
        if self._live.get(claim.session_id) is claim:
            del self._live[claim.session_id]
        await asyncio.shield(self._leases.close(claim.lease_id))

    async def _watch(self, claim: Claim, session_pk: int) -> None:
        """Renew the row every second; close the socket once a newer connection opened."""
        while True:
            await asyncio.sleep(HEARTBEAT_S)
            try:
                alive = await self._leases.renew(claim.lease_id)
                replaced = not alive or await self._leases.newer_exists(session_pk, claim.lease_id)
            except Exception:  # the database briefly away: try again next beat
                logger.warning("session %s: could not renew the voice lease", claim.session_id)
                continue
            if replaced:
                logger.info("session %s: replaced by a newer connection", claim.session_id)
                await _close_replaced(claim.socket)
                return


async def _close_replaced(socket: Closable) -> None:
    with contextlib.suppress(Exception):  # it may be closed already
        await socket.close(code=CLOSE_REPLACED, reason=REPLACED_REASON)
