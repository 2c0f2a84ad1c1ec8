from __future__ import annotations

import os
import stat
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
    assert s.stt_bias  # the interview's vocabulary biases recognition unless turned off
    assert s.stt_model == "tiny.en" and s.stt_keep_fillers and not s.stt_model_dir


def test_stt_bias_can_be_turned_off() -> None:
    assert not Settings.from_env({"VIVA_STT_BIAS": "0"}).stt_bias
    assert Settings.from_env({"VIVA_STT_BIAS": "on"}).stt_bias


def test_stt_models_by_name() -> None:
    s = Settings.from_env({"VIVA_STT_MODEL": "base", "VIVA_STT_SECOND_PASS_MODEL": "tiny.en"})
    assert s.stt_model == "base" and s.stt_second_pass_model == "tiny.en"
    assert not Settings.from_env({"VIVA_STT_KEEP_FILLERS": "off"}).stt_keep_fillers
    # A custom directory is used as it is; the name then only says what the files are.
    custom = Settings.from_env({"VIVA_STT_MODEL_DIR": "/srv/whisper-small"})
    assert custom.stt_model_dir == "/srv/whisper-small"


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
        {"VIVA_STT_BIAS": "sometimes"},
        {"VIVA_STT_MODEL": "large-v3"},
        {"VIVA_STT_SECOND_PASS_MODEL": "small"},
        {"VIVA_STT_KEEP_FILLERS": "most"},
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


def test_the_turn_model_is_smart_turn_unless_turned_off() -> None:
    assert Settings.from_env({}).turn_model == "smart-turn"
    assert Settings.from_env({"VIVA_TURN_MODEL": "off"}).turn_model == "off"
    with pytest.raises(SettingsError, match="VIVA_TURN_MODEL"):
        Settings.from_env({"VIVA_TURN_MODEL": "pipecat"})


def test_llm_draft() -> None:
    assert Settings.from_env({}).llm_draft == "off"
    assert Settings.from_env({"VIVA_LLM_DRAFT": "fast"}).llm_draft == "fast"
    assert Settings.from_env({"VIVA_LLM_DRAFT": " Off "}).llm_draft == "off"
    assert Settings.from_env({"VIVA_LLM_DRAFT": ""}).llm_draft == "off"


@pytest.mark.parametrize(
    "env",
    [
        {"VIVA_LLM_DRAFT": "on"},
        {"VIVA_LLM_DRAFT": "fast", "VIVA_LLM_MODEL": "fast"},
        {"VIVA_LLM_DRAFT": "fast", "VIVA_LLM_BASE_URL": "http://localhost:11434/v1"},
    ],
)
def test_llm_draft_only_for_the_embedded_quality_model(env: dict[str, str]) -> None:
    with pytest.raises(SettingsError, match="VIVA_LLM_DRAFT"):
        Settings.from_env(env)


def test_the_data_directory_the_key_and_the_database_are_private_from_creation(
    tmp_path: Path,
) -> None:
    from server.database import engine_for_url

    shared = tmp_path / "var"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)  # as `make models` leaves it under a common umask
    settings = Settings(data_dir=shared)
    old_umask = os.umask(0o022)  # whatever the process's umask, the files are private
    try:
        settings.ensure_secret_key()
        engine_for_url(f"sqlite:///{shared / 'viva.sqlite3'}")
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(shared.stat().st_mode) == 0o700
    assert stat.S_IMODE((shared / "secret_key").stat().st_mode) == 0o600
    assert stat.S_IMODE((shared / "viva.sqlite3").stat().st_mode) == 0o600
