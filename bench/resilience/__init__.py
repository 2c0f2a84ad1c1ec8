"""``make resilience``: faults injected into the real server on loopback, with the figures.

The server is ``python -m server`` in a process of its own (run as ``bench.faulty_speech``:
the real speech engines behind fault switches) and, as its model, ``bench.stub_llm`` (an
OpenAI-compatible endpoint on loopback that answers at once or fails on request), so that
faults land where they are meant to and a run takes minutes. The scenarios, one module each:

- ``faults``: **forced disconnects** at a random point of every answer and of the report;
  **model faults** (stall, trickle, junk, HTTP 500, a stream cut mid-way); **fuzzed frames**
  on the voice socket.
- ``load``: **50 API visitors and two spoken interviews** at once, for two minutes.
- ``uploads``: **upload bombs while a spoken interview goes on**.
- ``speech``: **speech recognition and synthesis failing** mid-interview.
- ``schema``: a **property-based run over the OpenAPI schema** (schemathesis).
- ``instances``: **two app instances on one database**: the one-live-socket rule and the turn
  lock across them.
- ``kills``: **kill -9** mid-answer and mid-report, and the restart.

The two-instance and kill -9 scenarios run on SQLite, and again on PostgreSQL when
``--postgres`` (or ``VIVA_RESILIENCE_DATABASE_URL``) names one (``make resilience`` does).
Prints a table, writes ``var/resilience/results.json``, exits 1 if any figure is off target
(``Figures.problems``). The options size it; CI runs slices (``tests/integration/
test_resilience.py``, ``test_instances.py`` on both databases, ``test_schema_run.py``).
"""

from __future__ import annotations

from bench.resilience.harness import Figures
from bench.resilience.main import main, main_async, table

__all__ = ["Figures", "main", "main_async", "table"]
