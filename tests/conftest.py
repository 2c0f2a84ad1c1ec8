"""Shared fixtures. The database is chosen before Piccolo is imported:

- default: a fresh SQLite file in a temporary directory;
- ``VIVA_TEST_DATABASE_URL=postgresql://…``: that (empty) PostgreSQL database.

``make test`` runs the whole suite on SQLite, then the ``db``-marked tests on PostgreSQL.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

_TMP = Path(tempfile.mkdtemp(prefix="viva-tests-"))
atexit.register(shutil.rmtree, _TMP, ignore_errors=True)
os.environ["VIVA_DATA_DIR"] = str(_TMP)
os.environ["VIVA_DATABASE_URL"] = os.environ.get("VIVA_TEST_DATABASE_URL") or (
    f"sqlite:///{_TMP / 'test.sqlite3'}"
)
os.environ.setdefault("VIVA_SECRET_KEY", "test-secret")

import pytest  # noqa: E402
from litestar import Litestar  # noqa: E402
from litestar.testing import AsyncTestClient  # noqa: E402

from server.settings import Settings  # noqa: E402
from tests.fakes import FakeChatModel  # noqa: E402

if TYPE_CHECKING:
    from server.ai.embedded import EmbeddedLlamaServer
    from server.voice.tts import PiperTTS

DATA = Path(__file__).parent / "data"
# The embedded model files where `make setup` assembled them (var/models), not in the
# per-run data dir: assembling 1.1 GB again for every run is slow and fills /tmp.
MODELS_DIR = Settings().models_dir


def pytest_report_header() -> str:
    return f"viva database: {os.environ['VIVA_DATABASE_URL'].split('@')[-1]}"


@pytest.fixture(scope="session")
async def migrated() -> None:
    from server.database import migrate

    await migrate()


@pytest.fixture
async def db(migrated: None) -> None:
    """An empty, migrated database for one test."""
    from models.tables import Feedback, InterviewSession, Message, Recording, VoiceLease

    for table in (Feedback, Recording, Message, VoiceLease, InterviewSession):
        await table.delete(force=True)


@pytest.fixture(scope="session")
def embedded_llm() -> Iterator[EmbeddedLlamaServer]:
    """The real embedded LLM (quality profile), started once for all real-model tests."""
    from server.ai.embedded import EmbeddedLlamaServer
    from server.ai.model_files import BUILDS, assemble

    settings = Settings.from_env()
    server = EmbeddedLlamaServer(
        assemble(BUILDS["quality"], MODELS_DIR), threads=settings.llm_threads
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture
def settings() -> Settings:
    # Migrations are applied once per run by the ``migrated`` fixture, not per app start-up.
    import dataclasses

    # Speech models are loaded by the voice tests that need them, not by every app.
    base = Settings.from_env()
    return dataclasses.replace(
        base,
        migrate_on_startup=False,
        load_speech_models=False,
        allowed_hosts=(*base.allowed_hosts, "testserver.local"),  # the test client's host
    )


@pytest.fixture
def fake_llm() -> FakeChatModel:
    return FakeChatModel()


@pytest.fixture
def app(settings: Settings, fake_llm: FakeChatModel, db: None) -> Litestar:
    from server.app import create_app

    return create_app(settings, llm=fake_llm)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """A visitor who has loaded a page, and so holds an owner cookie (server/owner.py)."""
    async with AsyncTestClient(app=app) as c:
        await c.get("/api/sessions")
        yield c


@pytest.fixture
async def other_client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """A second visitor with their own owner cookie."""
    async with AsyncTestClient(app=app) as c:
        await c.get("/api/sessions")
        yield c


@pytest.fixture
def sample_cv() -> str:
    return (DATA / "sample_cv.txt").read_text()


@pytest.fixture
def sample_jd() -> str:
    return (DATA / "sample_job_description.txt").read_text()


@pytest.fixture(scope="session")
def candidate_voice() -> PiperTTS:
    """The candidate's voice in the real-speech tests: Piper without its random variation, so
    that each run says the same audio (the variety across voices is the benchmarks' job: the
    pause set for the end of turn, ``make bench-stt`` for what is heard)."""
    from server.voice.tts import PiperTTS

    return PiperTTS.load(varied=False)
