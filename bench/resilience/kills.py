"""``kill -9`` of the server mid-turn and mid-report, and the restart."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from pathlib import Path

from bench.resilience.harness import Figures, Run, api_client, messages_of, stored_count
from server.voice_client import create_sample_session

# Rows that a consistent database has none of: a place in a conversation taken twice or
# skipped, a message or recording without its interview.
INCONSISTENT = (
    "SELECT session FROM messages GROUP BY session HAVING MAX(position) + 1 <> COUNT(*)",
    "SELECT m.id FROM messages m LEFT JOIN sessions s ON s.id = m.session WHERE s.id IS NULL",
    "SELECT r.id FROM recordings r LEFT JOIN messages m ON m.id = r.message WHERE m.id IS NULL",
)


def _sqlite_consistent(path: Path) -> bool:
    with contextlib.closing(sqlite3.connect(path)) as db:
        if db.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            return False
        return not any(db.execute(query).fetchall() for query in INCONSISTENT)


async def database_consistent(run: Run) -> bool:
    """SQLite's own integrity check, and on either database, no conversation with a place
    taken twice or skipped and no orphaned row."""
    if not run.database_url.startswith("postgres"):
        path = run.database_url.removeprefix("sqlite:///") or run.data_dir / "viva.sqlite3"
        return await asyncio.to_thread(_sqlite_consistent, Path(path))
    import asyncpg

    connection = await asyncpg.connect(run.database_url)
    try:
        return not any([await connection.fetch(query) for query in INCONSISTENT])
    finally:
        await connection.close()


async def kills(run: Run, figures: Figures, *, times: int) -> None:
    """Kill -9 while an answer waits for the (stalled) model, or while the report is written."""
    for n in range(times):
        assert run.server is not None
        base_url = run.server.base_url
        during_report = n % 2 == 1
        async with api_client(base_url, figures) as http:
            sid = await create_sample_session(http, questions=3, difficulty="easy")
            await http.post(f"/api/sessions/{sid}/next")
            marker = f"[kill {n}]"
            answer = f"{marker} I moved our deploys to blue-green and cut the rollbacks to zero."
            if during_report:  # one answer, then the interview ended: the report is next
                await http.post(f"/api/sessions/{sid}/answers", json={"text": answer})
                await http.post(f"/api/sessions/{sid}/end")
            run.stub.mode = "stall"
            path = (
                f"/api/sessions/{sid}/feedback" if during_report else f"/api/sessions/{sid}/answers"
            )
            body = None if during_report else {"text": answer}
            pending = asyncio.create_task(http.post(path, json=body))
            await asyncio.sleep(1.0)  # the answer is stored before the model is asked
            run.kill()
            figures.kills += 1
            with contextlib.suppress(Exception):
                await pending
            cookie = http.cookies.get("viva_owner")
        run.stub.mode = "ok"
        if not await database_consistent(run):
            figures.kill_integrity_failures += 1
        server = await run.start()
        async with api_client(server.base_url, figures) as http:
            http.cookies.set("viva_owner", cookie or "")
            if stored_count(await messages_of(http, sid), marker) != 1:
                figures.kill_answers_lost += 1
            resumed = await http.post(
                f"/api/sessions/{sid}/feedback" if during_report else f"/api/sessions/{sid}/next",
                timeout=120,
            )
            if not resumed.is_success:
                figures.kill_not_resumable += 1
