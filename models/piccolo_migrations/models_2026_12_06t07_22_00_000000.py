"""Number the messages already stored (their place in their session's conversation), then
make a message's place unique per session: the database refuses a second answer to one
question, whichever request or app instance stores it (``MessageRepository.add``)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-06T07:22:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique message positions per session"

BACKFILL = """
UPDATE messages SET position = (
    SELECT COUNT(*) FROM messages AS earlier
    WHERE earlier.session = messages.session AND earlier.id < messages.id
)
WHERE position IS NULL
"""
CREATE_INDEX = (
    "CREATE UNIQUE INDEX IF NOT EXISTS messages_session_position ON messages (session, position)"
)
DROP_INDEX = "DROP INDEX IF EXISTS messages_session_position"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="models", description=DESCRIPTION)

    async def number_and_index():
        engine = engine_finder()
        assert engine is not None
        await engine.run_ddl(BACKFILL)
        await engine.run_ddl(CREATE_INDEX)

    async def drop_index():
        engine = engine_finder()
        assert engine is not None
        await engine.run_ddl(DROP_INDEX)

    manager.add_raw(number_and_index)
    manager.add_raw_backwards(drop_index)
    return manager
