"""Threads of their own for the speech engines.

Whisper, Piper and Smart Turn each run their blocking work on a small executor that belongs to
the engine, not on the event loop's default one: a spoken interview queues many of these jobs,
and on the default executor (a handful of threads) they would hold up everything else that
uses it (name lookups, report PDFs, the data export), and the whole server with them.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


class EngineThreads:
    """``run`` calls a blocking function on at most ``workers`` threads of their own."""

    def __init__(self, name: str, workers: int = 1) -> None:
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)

    async def run(self, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))
