"""``make resilience``: faults injected into the real server on loopback, with the figures.

The server is ``python -m server`` in a process of its own, with the real speech engines and,
as its model, ``bench.stub_llm`` (an OpenAI-compatible endpoint on loopback that answers at
once or fails on request), so that faults land where they are meant to and a run takes
minutes. Four scenarios:

- **forced disconnects**: interviews answered over the voice socket, the socket dropped at a
  random point of every answer (just sent, stored, mid-reply audio, after the reply) and of the
  report (the request abandoned mid-generation); the client reconnects, resends an answer only
  if it is not stored, and goes on. Counts answers lost (acknowledged by the server, then not
  stored), stored twice, interviews not resumable, reports not generated exactly once.
- **model faults**: the model stalls, trickles, answers junk, errors or cuts its stream mid-way:
  the turn must fail with a clear retryable error within the reply timeout, the answer kept,
  and the retry must work once the model is back.
- **fuzzed frames**: random binary and text frames on the voice socket (oversized, odd
  lengths, malformed, nested, wrongly typed JSON): the server must never close with an internal
  error, must keep answering, and the interview must be intact.
- **kill -9**: the server killed while an answer waits for the model, and while the report is
  written; restarted on the same database: the answer is there once, the database passes its
  integrity check, and the interview resumes.

Prints a table, writes ``var/resilience/results.json``, exits 1 if any figure is off target.
``--disconnects``, ``--frames`` and ``--kills`` size it (CI runs a slice:
``tests/integration/test_resilience.py``). Not covered here (see docs/reliability.md): load,
upload bombs under a live interview (``tests/integration/test_uploads.py`` has them), STT/TTS
failures, and two instances on one PostgreSQL.
"""

from __future__ import annotations

from bench.resilience.harness import Figures
from bench.resilience.main import main, main_async, table

__all__ = ["Figures", "main", "main_async", "table"]
