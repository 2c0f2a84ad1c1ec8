"""Which interviews are using the model right now, so that background work gives way.

A note (``notes.py``) is a nicety; a reply is what a candidate waits for. On two cores one
interview leaves the model idle long enough for its notes (while the reply is spoken and
the next answer is given), but two interviews at once do not: measured, a note then took
23-37 s and the replies queued behind it (turns of up to 35 s instead of 4-13 s). So a note
is written during the interview only while no *other* interview has used the model lately;
otherwise it is left for the report to write.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager

ACTIVE_WINDOW_S = 45.0
"""An interview counts as in progress while the model works for it and this long after: longer
than a spoken answer plus the question before it, when the model is not asked anything."""


class InterviewActivity:
    def __init__(
        self, window_s: float = ACTIVE_WINDOW_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.window_s = window_s
        self._clock = clock
        self._last: dict[str, float] = {}
        self._working: Counter[str] = Counter()

    @contextmanager
    def using(self, interview: str) -> Iterator[None]:
        """The model works for ``interview`` (a session's public id): a reply or a prefill."""
        self._working[interview] += 1
        try:
            yield
        finally:
            self._working[interview] -= 1
            if not self._working[interview]:
                del self._working[interview]
            self._last[interview] = self._clock()
            self._forget_stale()

    def others(self, interview: str) -> int:
        """How many other interviews the model is working for, or worked for within the window."""
        self._forget_stale()
        return len((self._last.keys() | self._working.keys()) - {interview})

    def _forget_stale(self) -> None:
        horizon = self._clock() - self.window_s
        for stale in [k for k, at in self._last.items() if at < horizon]:
            del self._last[stale]
