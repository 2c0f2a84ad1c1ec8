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


async def migrate() -> None:
    """Apply every pending migration of the ``models`` app."""
    from piccolo.apps.migrations.commands.forwards import run_forwards

    result = await run_forwards("models")
    if not result.success:
        raise RuntimeError(f"Database migration failed: {result.message}")
