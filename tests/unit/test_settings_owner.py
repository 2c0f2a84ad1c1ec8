from __future__ import annotations

from pathlib import Path

import pytest

from server.owner import OwnerSigner, owner_from_cookie_header
from server.settings import Settings, SettingsError


def test_defaults(tmp_path: Path) -> None:
    s = Settings.from_env({"VIVA_DATA_DIR": str(tmp_path)})
    assert s.embedded_llm and s.llm_profile == "quality"
    assert s.resolved_database_url == f"sqlite:///{tmp_path / 'viva.sqlite3'}"
    assert s.default_questions == 8 and s.max_upload_bytes == 5 * 1024 * 1024
    assert s.llm_prefill and s.llm_first_words_in_turn  # tuned for a model on local cores


def test_external_llm_and_postgres() -> None:
    s = Settings.from_env(
        {
            "VIVA_LLM_BASE_URL": "http://localhost:11434/v1",
            "VIVA_LLM_MODEL": "qwen2.5:7b",
            "VIVA_DATABASE_URL": "postgresql://u:p@db/viva",
        }
    )
    assert not s.embedded_llm and s.llm_model == "qwen2.5:7b"
    assert not s.llm_prefill and not s.llm_first_words_in_turn  # a server that batches
    assert s.resolved_database_url == "postgresql://u:p@db/viva"


@pytest.mark.parametrize(
    "env",
    [
        {"VIVA_LLM_MODEL": "huge"},
        {"VIVA_QUESTION_COUNT": "20"},
        {"VIVA_PORT": "http"},
        {"VIVA_LOAD_SPEECH_MODELS": "maybe"},
    ],
)
def test_bad_values_are_clear_errors(env: dict[str, str]) -> None:
    with pytest.raises(SettingsError, match=next(iter(env))):
        Settings.from_env(env)


def test_secret_key_is_generated_once(tmp_path: Path) -> None:
    s = Settings.from_env({"VIVA_DATA_DIR": str(tmp_path)})
    key = s.ensure_secret_key()
    assert len(key) > 40 and s.ensure_secret_key() == key
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_owner_cookie_signature() -> None:
    signer = OwnerSigner("k1")
    token = signer.sign("owner-1")
    assert owner_from_cookie_header(signer, f"a=b; viva_owner={token}") == "owner-1"
    assert owner_from_cookie_header(OwnerSigner("k2"), f"viva_owner={token}") is None
    assert owner_from_cookie_header(signer, "viva_owner=owner-2." + token.split(".")[-1]) is None
    assert owner_from_cookie_header(signer, "viva_owner=garbage") is None
    assert owner_from_cookie_header(signer, None) is None
