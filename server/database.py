"""Database engines and migrations: SQLite by default, PostgreSQL by URL."""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import unquote, urlparse

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine

from server.settings import private_file

logger = logging.getLogger(__name__)


def engine_for_url(url: str) -> Engine:  # type: ignore[type-arg]
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        # sqlite:///relative/path or sqlite:////absolute/path (SQLAlchemy-style).
        # Created private (CVs, transcripts and recordings live in it); SQLite gives its
        # journal files the database's permissions.
        path = private_file(Path(unquote(url.removeprefix("sqlite:///"))))
        # A busy timeout keeps concurrent writers (HTTP + WebSocket) from failing at once.
        return SQLiteEngine(path=str(path), timeout=30)
    if parsed.scheme in ("postgres", "postgresql"):
        return PostgresEngine(
            config={
                "host": parsed.hostname or "localhost",
                "port": parsed.port or 5432,
                "user": unquote(parsed.username or ""),
                "password": unquote(parsed.password or ""),
                "database": parsed.path.lstrip("/"),
            }
        )
    raise ValueError(f"Unsupported database URL {url!r}: use sqlite:///path or postgresql://…")


MIGRATION_LOCK = 0x56495641  # "VIVA": the advisory lock app instances migrate under


async def migrate() -> None:
    """Apply every pending migration of the ``models`` app. On PostgreSQL, under an advisory
    lock: app instances started together on one database migrate it one at a time (the
    later ones find nothing left to do)."""
    from piccolo.engine import engine_finder

    engine = engine_finder()
    if isinstance(engine, SQLiteEngine):
        # Write-ahead logging: readers no longer wait for a writer (nor it for them), which
        # under many visitors at once was most of the server's time. Kept by the file.
        await engine.run_ddl("PRAGMA journal_mode=WAL")
    if not isinstance(engine, PostgresEngine):
        return await _forwards()
    import asyncpg

    connection = await asyncpg.connect(**engine.config)
    try:
        await connection.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
        await _forwards()
    finally:
        await connection.close()  # which releases the lock


async def _forwards() -> None:
    from piccolo.apps.migrations.commands.forwards import run_forwards

    result = await run_forwards("models")
    if not result.success:
        raise RuntimeError(f"Database migration failed: {result.message}")
