"""The turn lock and the one-live-socket rule are held by the database (not by one process's
memory), so that they hold across app instances: a message is stored only in the place of the
conversation its writer read as next, and each live voice connection is a row that a newer
connection to the interview takes over from. Run on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import importlib
import time
from datetime import UTC, datetime, timedelta

import pytest

from models.tables import Message, VoiceLease
from server.errors import Conflict
from server.repositories.leases import VoiceLeaseRepository
from server.repositories.records import SessionRecord
from server.repositories.sessions import MessageRepository, SessionRepository
from server.services.interview import InterviewEngine
from server.services.quotas import SocketCaps
from server.voice import connections as connections_module
from server.voice.connections import VoiceConnections
from server.voice.protocol import CLOSE_REPLACED
from tests.fakes import FakeChatModel

pytestmark = pytest.mark.db

ANSWER = "I moved our deploys to blue-green and rollbacks fell to zero within a quarter."


async def _session(public_id: str = "lock-1") -> int:
    record = await SessionRepository().create(
        public_id=public_id,
        owner_id="owner-1",
        job_title="Backend Engineer",
        company_name="Fernway",
        cv_text="Python, PostgreSQL.",
        cv_filename=None,
        job_description_text="A Python backend engineer.",
        question_target=3,
    )
    return record.id


async def _answered() -> tuple[int, SessionRecord, SessionRepository, MessageRepository]:
    """A session whose first question is answered: the interviewer's reply is due."""
    session_id = await _session()
    sessions = SessionRepository()
    session = await sessions.get_owned("lock-1", "owner-1")
    assert session is not None
    messages = MessageRepository()
    await messages.add(session_id, position=0, role="assistant", content="Why us?")
    await messages.add(session_id, position=1, role="user", content=ANSWER)
    return session_id, session, sessions, messages


class ReadTogether(MessageRepository):
    """The first ``readers`` reads of the conversation wait for each other: the interleaving
    in which two requests (or two instances) both see the same turn as next."""

    def __init__(self, readers: int) -> None:
        self._barrier = asyncio.Barrier(readers)
        self._waiting = readers

    async def list_for_session(self, session_id: int):  # type: ignore[no-untyped-def]
        history = await super().list_for_session(session_id)
        if self._waiting > 0:
            self._waiting -= 1
            await asyncio.wait_for(self._barrier.wait(), 5)
        return history


async def test_a_place_in_the_conversation_is_taken_once(db: None) -> None:
    session_id = await _session()
    messages = MessageRepository()
    await messages.add(session_id, position=0, role="assistant", content="Tell me about you?")
    results = await asyncio.gather(
        messages.add(session_id, position=1, role="user", content="first"),
        messages.add(session_id, position=1, role="user", content="second"),
        return_exceptions=True,
    )
    assert sum(isinstance(r, Conflict) for r in results) == 1, results
    stored = await messages.list_for_session(session_id)
    assert [m.role for m in stored] == ["assistant", "user"]


async def test_two_answers_read_together_store_one(db: None) -> None:
    session_id = await _session()
    sessions = SessionRepository()
    session = await sessions.get_owned("lock-1", "owner-1")
    assert session is not None
    await MessageRepository().add(session_id, position=0, role="assistant", content="Why us?")
    engine = InterviewEngine(FakeChatModel(), sessions, ReadTogether(readers=2))
    results = await asyncio.gather(
        engine.submit_answer(session, f"{ANSWER} (one)", max_chars=8000),
        engine.submit_answer(session, f"{ANSWER} (two)", max_chars=8000),
        return_exceptions=True,
    )
    assert sum(isinstance(r, Conflict) for r in results) == 1, results
    stored = await MessageRepository().list_for_session(session_id)
    assert [m.role for m in stored] == ["assistant", "user"]


async def test_two_next_questions_read_together_store_one_and_both_return_it(db: None) -> None:
    session_id, session, sessions, messages = await _answered()
    engine = InterviewEngine(FakeChatModel(), sessions, ReadTogether(readers=2))
    first, second = await asyncio.gather(engine.next_message(session), engine.next_message(session))
    assert first.id == second.id
    stored = await messages.list_for_session(session_id)
    assert [m.role for m in stored] == ["assistant", "user", "assistant"]


async def test_a_reply_stored_after_another_one_was_is_refused(db: None) -> None:
    """Two instances wrote the next question; the later one saves after the first was stored
    (so the place it reads as next is free): it must not store a second question in a row."""
    session_id, session, sessions, messages = await _answered()
    engine = InterviewEngine(FakeChatModel(), sessions, messages)
    await engine.save_reply(session, "What did you measure?")
    with pytest.raises(Conflict):
        await engine.save_reply(session, "How did you measure it?")
    stored = await messages.list_for_session(session_id)
    assert [m.role for m in stored] == ["assistant", "user", "assistant"]


async def test_the_migration_numbers_messages_stored_before_it(db: None) -> None:
    migration = importlib.import_module(
        "models.piccolo_migrations.models_2026_12_06t07_22_00_000000"
    )
    one, two = await _session("lock-1"), await _session("lock-2")
    for session_id in (one, two, one, one, two):
        await Message(
            session=session_id, role="user", content="x", created_at=datetime.now(UTC)
        ).save()
    await Message.raw(migration.BACKFILL)
    rows = await Message.select(Message.session, Message.position).order_by(Message.id)
    assert [(r["session"], r["position"]) for r in rows] == [
        (one, 0), (two, 0), (one, 1), (one, 2), (two, 1)
    ]  # fmt: skip


class Socket:
    def __init__(self) -> None:
        self.closed = asyncio.Event()
        self.code: int | None = None

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        self.code = code
        self.closed.set()


@pytest.fixture
def quick_heartbeat(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(connections_module, "HEARTBEAT_S", 0.1)


def _instance() -> VoiceConnections:
    """The voice connections of one app instance (each has its own; the database is shared)."""
    return VoiceConnections(SocketCaps(per_owner=5, total=50), VoiceLeaseRepository())


async def test_a_connection_on_another_instance_replaces_the_open_one_after_it_closes(
    db: None, quick_heartbeat: None
) -> None:
    session_id = await _session()
    first, second = _instance(), _instance()
    old_socket, new_socket = Socket(), Socket()
    old = await first.claim("lock-1", session_id, old_socket)
    released_at: list[float] = []

    async def old_route() -> None:  # as the voice route does once its socket is closed
        await old_socket.closed.wait()
        await asyncio.sleep(0.3)  # finishing what it was storing
        released_at.append(time.monotonic())
        await first.release(old)

    closing = asyncio.create_task(old_route())
    new = await asyncio.wait_for(second.claim("lock-1", session_id, new_socket), 5)
    claimed_at = time.monotonic()
    await closing
    assert old_socket.code == CLOSE_REPLACED
    assert released_at and released_at[0] <= claimed_at  # the old one finished first
    await asyncio.sleep(0.3)  # a few heartbeats: the new one is not replaced
    assert new_socket.code is None
    await second.release(new)
    assert await VoiceLease.count() == 0


async def test_the_row_of_an_instance_that_died_does_not_hold_up_a_new_connection(
    db: None, quick_heartbeat: None
) -> None:
    session_id = await _session()
    long_ago = datetime.now(UTC) - timedelta(seconds=60)
    await VoiceLease(session=session_id, opened_at=long_ago, seen_at=long_ago).save()
    connections = _instance()
    started = time.monotonic()
    claim = await connections.claim("lock-1", session_id, Socket())
    assert time.monotonic() - started < 1.0
    assert await VoiceLease.count() == 1  # the stale row is gone, the new one is there
    await connections.release(claim)


async def test_deleting_the_interview_closes_its_live_connection(
    db: None, quick_heartbeat: None
) -> None:
    session_id = await _session()
    connections = _instance()
    socket = Socket()
    claim = await connections.claim("lock-1", session_id, socket)
    await SessionRepository().delete(session_id)
    await asyncio.wait_for(socket.closed.wait(), 2)
    await connections.release(claim)
