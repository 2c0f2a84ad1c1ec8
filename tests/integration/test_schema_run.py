"""A slice of ``python -m bench.resilience.schema``: schemathesis over the app's OpenAPI schema
against the real server (a process of its own, its model a stub on loopback). Every operation
in the schema is sent schema-valid and schema-invalid requests, part of them naming real
interviews; none may go unanswered or be answered with a 5xx, and every error must be logged.

Nothing is excluded: the schema holds every API operation. What is not in it (the pages, the
static files, the voice WebSocket, which ``make resilience`` fuzzes) is not in this run."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.resilience.harness import Run
from bench.resilience.schema import LOGGED_ERROR, schema_run, table
from bench.stub_llm import StubModel

pytestmark = pytest.mark.slow

EXAMPLES = 10  # Hypothesis cases per operation and mode, after the coverage cases
SEED = 11


async def test_schema_run_finds_no_server_error(tmp_path: Path) -> None:
    async with StubModel() as stub:
        run = Run(stub, tmp_path / "data", tmp_path / "logs", name="schema")
        server = await run.start()
        try:
            figures = await schema_run(
                server.base_url, max_examples=EXAMPLES, seed=SEED, log_path=server.log_path
            )
        finally:
            run.stop()
    print("\n" + table(figures))
    # Every operation the schema names, exercised with its own method and answered.
    assert figures.operations >= 18
    assert figures.uncovered == []
    assert figures.operations_covered == figures.operations
    # Requests reached the handlers: not all refused (cross-site, no identity, 404).
    assert figures.cases_real_ids > 0
    assert figures.responses["2xx"] >= 0.15 * figures.cases_sent
    succeeded = [
        op for op, counts in figures.by_operation.items() if any(s.startswith("2") for s in counts)
    ]
    # Never 2xx here: an answer's audio (recordings come only from the voice socket) and,
    # by chance of the draw, a stored report; the rest answer 2xx at least once.
    assert len(succeeded) >= figures.operations - 4, succeeded
    # The targets: no crash, no 5xx, every error logged.
    failures = "\n".join(figures.failure_kinds(curl_chars=400))
    assert figures.crashes == 0, failures
    assert figures.responses["5xx"] == 0, failures
    assert figures.errors_not_logged == 0, failures


def test_what_counts_as_a_logged_error() -> None:
    """An error record, or a warning from the app's own loggers; not an access-log line that
    says 500, nor a third-party warning."""
    logged = [
        "2026-01-01 10:00:00,000 ERROR server.app: Unhandled error",
        "2026-01-01 10:00:00,000 WARNING server.app: ai_service_error: the model timed out",
        "ERROR:    Exception in ASGI application",
        "Traceback (most recent call last):",
    ]
    not_logged = [
        'INFO:     127.0.0.1:40000 - "POST /api/sessions HTTP/1.1" 500 Internal Server Error',
        "2026-01-01 10:00:00,000 WARNING weasyprint: Ignored `font-weight: 650` at 185:3",
        "2026-01-01 10:00:00,000 INFO server.services.sessions: session created",
    ]
    assert all(LOGGED_ERROR.search(line) for line in logged)
    assert not any(LOGGED_ERROR.search(line) for line in not_logged)
