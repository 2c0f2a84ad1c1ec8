"""How much one visitor, and everyone together, may use at once: in-memory, per app instance.

Caps are not security against a determined attacker with many identities (that is the proxy's
job in front of a public deployment), but they keep one careless or looping client from taking
the machine that everyone's interviews run on.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict, deque
from collections.abc import Callable

from server.errors import TooManyRequests


class RateWindow:
    """At most ``limit`` events per key in any ``period_s`` (a sliding window)."""

    def __init__(
        self, limit: int, period_s: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.period_s = period_s
        self._clock = clock
        self._events: defaultdict[str, deque[float]] = defaultdict(deque)

    def take(self, key: str) -> float | None:
        """Count one event for ``key``: None if it fits, else the seconds until one would."""
        now = self._clock()
        events = self._events[key]
        while events and events[0] <= now - self.period_s:
            events.popleft()
        if len(events) >= self.limit:
            return events[0] + self.period_s - now
        events.append(now)
        return None

    def check(self, key: str, what: str) -> None:
        """``take``, raising ``TooManyRequests`` (with ``Retry-After``) when over the limit."""
        wait_s = self.take(key)
        if wait_s is not None:
            seconds = max(1, math.ceil(wait_s))
            raise TooManyRequests(
                f"Too many {what} in a short time; try again in {seconds} s.",
                headers={"Retry-After": str(seconds)},
            )


class SocketCaps:
    """Live voice connections: at most ``per_owner`` for one visitor and ``total`` in all."""

    def __init__(self, *, per_owner: int, total: int) -> None:
        self.per_owner = per_owner
        self.total = total
        self._open: defaultdict[str, int] = defaultdict(int)

    def open(self, owner_id: str) -> str | None:
        """Count a new connection: None if it may stay, else why it may not."""
        if sum(self._open.values()) >= self.total:
            return "The server has as many voice interviews as it can take; try again soon."
        if self._open[owner_id] >= self.per_owner:
            return f"At most {self.per_owner} voice interviews can be open at once."
        self._open[owner_id] += 1
        return None

    def close(self, owner_id: str) -> None:
        self._open[owner_id] -= 1
        if self._open[owner_id] <= 0:
            del self._open[owner_id]
