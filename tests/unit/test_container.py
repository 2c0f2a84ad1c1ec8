"""The composition root: one place builds every engine and service, and the routes declare
what they use instead of reaching into a bag of services or the app's state."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

from server.ai.llm import OpenAIChatModel
from server.container import open_container
from server.settings import Settings
from tests.fakes import FakeChatModel

ROUTES = Path(__file__).parents[2] / "server" / "routes"


def _settings(**changes: object) -> Settings:
    return dataclasses.replace(
        Settings(), migrate_on_startup=False, load_speech_models=False, **changes
    )


async def test_the_container_builds_the_model_client_from_the_settings_and_closes_it() -> None:
    settings = _settings(llm_base_url="http://llm.test/v1", llm_model="m", llm_reply_timeout_s=7)
    async with open_container(settings) as services:
        llm = services.llm
        assert isinstance(llm, OpenAIChatModel)
        assert llm.reply_timeout_s == 7
        assert services.speech is None  # no speech models: typed answers only
        assert services.voice_connections.caps is not None
        # The conversation a voice session gets is wired to the same services.
        conversation = services.conversation("s1", "o1")
        assert conversation.max_answer_chars == settings.max_answer_chars
    assert llm._client.is_closed()


async def test_an_engine_passed_in_is_used_and_left_open() -> None:
    fake = FakeChatModel()
    async with open_container(_settings(), llm=fake) as services:
        assert services.llm is fake
        assert services.interview.llm is fake
        assert services.feedback is not None


def test_route_handlers_declare_what_they_use() -> None:
    """No handler takes the whole ``Services`` bag or reads the app's state: each names the
    services it uses (``server/routes/dependencies.py`` provides them)."""
    offenders = []
    for path in ROUTES.glob("*.py"):
        if path.name == "dependencies.py":
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id == "Services":
                offenders.append(f"{path.name}:{node.lineno} uses Services")
            if isinstance(node, ast.Attribute) and node.attr == "state":
                base = node.value
                if isinstance(base, ast.Attribute) and base.attr == "app":
                    offenders.append(f"{path.name}:{node.lineno} reads app.state")
    assert not offenders, offenders
