"""What every scenario shares: the figures, the server process over its stub model, and
small API and voice-socket helpers."""

from __future__ import annotations

import asyncio
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.server_proc import ServerProcess
from bench.stub_llm import StubModel
from server.voice_client import VoiceClient

REPLY_TIMEOUT_S = 4.0  # the server's VIVA_LLM_REPLY_TIMEOUT_S in this run


@dataclass
class Figures:
    disconnects: int = 0
    answers_sent: int = 0
    answers_resent: int = 0  # dropped before the server had it: sent again, as the room does
    answers_lost: int = 0
    answers_doubled: int = 0
    not_resumable: int = 0
    turns_stalled: int = 0
    reports_not_once: int = 0
    faults_injected: int = 0
    fault_errors_late: int = 0  # no clear error within the reply timeout (+ 2 s)
    fault_answers_lost: int = 0
    fault_retries_failed: int = 0
    fault_error_s: dict[str, float] = field(default_factory=dict)
    fault_status: dict[str, int] = field(default_factory=dict)
    frames_fuzzed: int = 0
    fuzz_closes: dict[str, int] = field(default_factory=dict)
    fuzz_internal_errors: int = 0
    fuzz_interview_damaged: int = 0
    kills: int = 0
    kill_answers_lost: int = 0
    kill_not_resumable: int = 0
    kill_integrity_failures: int = 0
    kill_databases: list[str] = field(default_factory=list)
    instance_databases: list[str] = field(default_factory=list)
    instance_handovers: int = 0
    instance_handover_s: list[float] = field(default_factory=list)
    instance_sockets_both_live: int = 0
    instance_races: int = 0
    instance_refused: dict[str, int] = field(default_factory=lambda: {"state": 0, "database": 0})
    instance_turns_doubled: int = 0
    speech_faults_injected: int = 0
    speech_faults_unclear: int = 0  # no clear error in time, or the wrong one
    speech_answers_lost: int = 0
    speech_questions_lost: int = 0  # not shown as text, or not stored as shown
    speech_not_recovered: int = 0
    speech_error_s: dict[str, float] = field(default_factory=dict)
    load_clients: int = 0
    load_voices: int = 0
    load_seconds: float = 0
    load_requests: int = 0
    load_errors: int = 0
    load_error_kinds: dict[str, int] = field(default_factory=dict)
    load_api_ms: dict[str, float] = field(default_factory=dict)
    load_api_ms_by_route: dict[str, dict[str, float]] = field(default_factory=dict)
    load_voice_turns: int = 0
    load_voice_errors: int = 0
    load_v2v_ms: dict[str, float] = field(default_factory=dict)
    bombs_sent: int = 0
    bombs_not_refused_in_time: int = 0  # not a 4xx, or later than 2 s
    bomb_seconds: dict[str, float] = field(default_factory=dict)  # the slowest, per bomb
    bomb_voice_failures: int = 0
    bomb_v2v_before_ms: list[float] = field(default_factory=list)
    bomb_v2v_during_ms: list[float] = field(default_factory=list)
    bomb_audio_chunks: int = 0
    bomb_audio_late: int = 0
    bomb_audio_worst_late_ms: float = 0
    schema_operations: int = 0
    schema_operations_missed: int = 0
    schema_cases: int = 0
    schema_responses: dict[str, int] = field(default_factory=dict)
    schema_crashes: int = 0
    schema_errors_not_logged: int = 0
    server_5xx: int = 0

    def problems(self) -> list[str]:
        checks = {
            "answers lost": self.answers_lost,
            "answers stored twice": self.answers_doubled,
            "interviews not resumable": self.not_resumable,
            "turns that hung": self.turns_stalled,
            "reports not generated once": self.reports_not_once,
            "model faults without a timely error": self.fault_errors_late,
            "answers lost to a model fault": self.fault_answers_lost,
            "retries that failed": self.fault_retries_failed,
            "internal-error closes under fuzzing": self.fuzz_internal_errors,
            "interviews damaged by fuzzing": self.fuzz_interview_damaged,
            "answers lost to kill -9": self.kill_answers_lost,
            "interviews not resumable after kill -9": self.kill_not_resumable,
            "integrity check failures": self.kill_integrity_failures,
            "sockets left live on two instances": self.instance_sockets_both_live,
            "turns stored twice across instances": self.instance_turns_doubled,
            "speech faults without a clear error in time": self.speech_faults_unclear,
            "answers lost to a speech fault": self.speech_answers_lost,
            "questions lost to a speech fault": self.speech_questions_lost,
            "voices not back after a speech fault": self.speech_not_recovered,
            "API errors under load": self.load_errors,
            "spoken turns that failed under load": self.load_voice_errors,
            "bombs not refused (4xx) within 2 s": self.bombs_not_refused_in_time,
            "spoken turns that failed during bombs": self.bomb_voice_failures,
            "reply audio late during bombs": self.bomb_audio_late,
            "schema run: 5xx": self.schema_responses.get("5xx", 0),
            "schema run: requests not answered": self.schema_crashes,
            "schema run: errors not logged": self.schema_errors_not_logged,
            "schema run: operations not exercised": self.schema_operations_missed,
            "5xx responses (other than model faults)": self.server_5xx,
        }
        return [f"{name}: {n}" for name, n in checks.items() if n]


class Run:
    """One server process over one data directory and database (by default, SQLite in the
    data directory), its model a ``StubModel``. Two ``Run`` on one data directory and
    database are two app instances of one deployment (they share the secret key)."""

    def __init__(
        self,
        stub: StubModel,
        data_dir: Path,
        log_dir: Path,
        *,
        database_url: str = "",
        name: str = "server",
        env: dict[str, str] | None = None,
        module: str = "server",
    ) -> None:
        self.stub = stub
        self.module = module
        self.data_dir = data_dir
        self.log_dir = log_dir
        self.database_url = database_url
        self.name = name
        self.extra_env = env or {}
        self.starts = 0
        self.server: ServerProcess | None = None

    async def start(self) -> ServerProcess:
        self.starts += 1
        self.server = ServerProcess(
            "stub",
            self.data_dir,
            self.log_dir / f"{self.name}-{self.starts}.log",
            env={
                "VIVA_DATABASE_URL": self.database_url,
                "VIVA_LLM_BASE_URL": self.stub.base_url,
                "VIVA_LLM_REPLY_TIMEOUT_S": str(REPLY_TIMEOUT_S),
                "VIVA_LLM_TIMEOUT_S": "5",
                "VIVA_LLM_MAX_RETRIES": "0",
                "VIVA_NOTES_DURING_INTERVIEW": "0",
                "VIVA_STT_SECOND_PASS": "0",
                "VIVA_NEW_SESSIONS_PER_MINUTE": "10000",
                "VIVA_MAX_SESSIONS_PER_OWNER": "10000",
                **self.extra_env,
            },
            module=self.module,
        )
        # The stub answers on this event loop: start the server off it.
        await asyncio.to_thread(self.server.start)
        return self.server

    def kill(self) -> None:
        assert self.server is not None and self.server.proc is not None
        self.server.proc.send_signal(signal.SIGKILL)
        self.server.proc.wait()

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()


def api_client(base_url: str, figures: Figures, *, faults: bool = False) -> httpx.AsyncClient:
    """An API client that counts every 5xx (but the 502 of a model fault, where expected)."""

    async def count(response: httpx.Response) -> None:
        if response.status_code >= 500 and not (faults and response.status_code == 502):
            figures.server_5xx += 1

    return httpx.AsyncClient(base_url=base_url, timeout=60, event_hooks={"response": [count]})


async def messages_of(http: httpx.AsyncClient, sid: str) -> list[dict[str, Any]]:
    response = await http.get(f"/api/sessions/{sid}")
    response.raise_for_status()
    return list(response.json()["messages"])


def stored_count(messages: list[dict[str, Any]], marker: str) -> int:
    return sum(1 for m in messages if m["role"] == "user" and marker in m["content"])


async def open_voice(base_url: str, http: httpx.AsyncClient, sid: str) -> tuple[VoiceClient, str]:
    """A connection, started: returns it and what the interview awaits."""
    client = await VoiceClient.open(base_url, sid, http.cookies.get("viva_owner"))
    await client.until("hello", timeout_s=30)
    # The interviewer at double speed: replies are paced in real time, and nothing here
    # depends on how fast they are said.
    await client.send({"type": "settings", "voice_speed": 2.0})
    await client.send({"type": "start", "protocol_version": 1})
    # The first progress says where the interview stands; a finished one says only that.
    event = await client.until_any("progress", "interview_finished", timeout_s=60)
    return client, "finished" if event["type"] == "interview_finished" else str(event["awaiting"])


async def settle(client: VoiceClient, awaiting: str) -> str:
    """Wait until the interview awaits an answer and its question is being spoken, or is
    over."""
    if awaiting == "question":
        progress = await client.until_progress("answer", "finished", timeout_s=60)
        awaiting = str(progress["awaiting"])
    if awaiting == "answer":
        # The question is asked again on every connection: answer once it is being said (an
        # answer typed while it is still being written is refused as busy; one typed while it
        # is spoken interrupts it, as the room allows).
        await client.until("audio_start", timeout_s=60)
    return awaiting
