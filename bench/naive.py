"""The naive pipeline (no streaming, no prompt cache) and the component measurements.

Runs in the bench process after the app server was stopped, with the same models: per turn,
wait the silence timeout, transcribe the whole answer (beam 5, 30 s window), ask the LLM for
the whole reply with ``cache_prompt: false`` (every turn re-reads the whole prompt), synthesize
the whole reply, then "send". Latency = timeout + the three, one after the other.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import httpx

from server.ai.embedded import EmbeddedLlamaServer
from server.ai.model_files import BUILDS, assemble
from server.repositories.records import MessageRecord, SessionRecord
from server.services.interview import QUESTION_MAX_TOKENS, clean_reply
from server.services.prompts import interview_messages
from server.voice.audio import Pcm16
from server.voice.protocol import SILENCE_MS_DEFAULT
from server.voice.stt import WhisperSTT
from server.voice.tts import PiperTTS
from server.voice_client import DATA, voiced_duration_ms

FIRST_CLAUSE = "Thanks, that is a really good example."


def _session(questions: int) -> SessionRecord:
    now = datetime.now(UTC)
    return SessionRecord(
        id=1,
        public_id="bench",
        owner_id="bench",
        job_title="Senior Python Backend Engineer",
        company_name="Fernway Health",
        cv_text=(DATA / "sample_cv.txt").read_text(),
        cv_filename="sample_cv.txt",
        job_description_text=(DATA / "sample_job_description.txt").read_text(),
        status="in_progress",
        question_target=questions,
        created_at=now,
        updated_at=now,
    )


def _message(
    i: int, role: Literal["assistant", "user"], content: str, question: int | None
) -> MessageRecord:
    return MessageRecord(
        id=i,
        role=role,
        content=content,
        question_number=question,
        is_closing=False,
        audio_duration_ms=None,
        timings=None,
        interrupted=False,
        created_at=datetime.now(UTC),
    )


def synthesize_all(tts: PiperTTS, text: str) -> tuple[Pcm16, float, float]:
    """The whole reply as audio; (audio, total ms, first-chunk ms), in this thread."""
    started = time.perf_counter()
    first = None
    chunks = []
    for chunk in tts._voice.synthesize(text, tts._config(1.0)):
        if first is None:
            first = (time.perf_counter() - started) * 1000
        chunks.append(chunk)
    total = (time.perf_counter() - started) * 1000
    audio = Pcm16(b"".join(c.audio_int16_bytes for c in chunks), tts.sample_rate_hz)
    return audio, total, first or total


@contextlib.contextmanager
def stderr_to(path: Path) -> Iterator[None]:
    """Send fd 2 (llama.cpp's C++ log) to ``path`` for a while, so the table stays readable."""
    sys.stderr.flush()
    saved = os.dup(2)
    with path.open("ab") as log:
        os.dup2(log.fileno(), 2)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def run(
    profile: str,
    models_dir: Path,
    answers: list[tuple[str, Pcm16]],
    *,
    turns: int,
    questions: int,
    first_question: str,
    threads: int = 2,
) -> dict[str, Any]:
    stt_naive = WhisperSTT(beam_size=5, final_window="full", cpu_threads=threads)
    stt_server = WhisperSTT(beam_size=1, cpu_threads=threads)  # the app's final pass
    tts = PiperTTS.load()
    llm = EmbeddedLlamaServer(assemble(BUILDS[profile], models_dir), threads=threads)  # type: ignore[index]
    llm.start()
    session = _session(questions)
    history = [_message(0, "assistant", first_question, 1)]
    rows: list[dict[str, Any]] = []
    try:
        with httpx.Client(base_url=llm.base_url, timeout=600) as http:
            for i in range(turns):
                _text, audio = answers[i % len(answers)]
                voiced_s = voiced_duration_ms(audio) / 1000
                stt = stt_naive.transcribe_sync(audio)
                history.append(_message(len(history), "user", stt.text, None))
                messages = [
                    {"role": m.role, "content": m.content}
                    for m in interview_messages(session, history)
                ]
                started = time.perf_counter()
                response = http.post(
                    "/chat/completions",
                    json={
                        "model": profile,
                        "messages": messages,
                        "max_tokens": QUESTION_MAX_TOKENS,
                        "temperature": 0.7,
                        "cache_prompt": False,
                    },
                )
                response.raise_for_status()
                llm_ms = (time.perf_counter() - started) * 1000
                body = response.json()
                reply = clean_reply(body["choices"][0]["message"]["content"] or "")
                history.append(_message(len(history), "assistant", reply, 2 + i))
                speech, tts_ms, first_chunk_ms = synthesize_all(tts, reply)
                server_stt = stt_server.transcribe_sync(audio)
                timings = body.get("timings", {})
                rows.append(
                    {
                        "answer_s": round(voiced_s, 2),
                        "silence_ms": SILENCE_MS_DEFAULT,
                        "stt_ms": round(stt.processing_ms, 1),
                        "llm_ms": round(llm_ms, 1),
                        "tts_ms": round(tts_ms, 1),
                        "latency_ms": round(
                            SILENCE_MS_DEFAULT + stt.processing_ms + llm_ms + tts_ms, 1
                        ),
                        "reply_audio_s": round(speech.duration_s, 2),
                        "tts_first_chunk_ms": round(first_chunk_ms, 1),
                        "stt_rtf_beam5_full": round(stt.processing_ms / 1000 / voiced_s, 3),
                        "stt_rtf_beam1_fit": round(server_stt.processing_ms / 1000 / voiced_s, 3),
                        "tts_rtf": round(tts_ms / 1000 / speech.duration_s, 3)
                        if speech.duration_s
                        else None,
                        "prompt_n": timings.get("prompt_n"),
                        "cache_n": timings.get("cache_n"),
                        "prompt_tps": timings.get("prompt_per_second"),
                        "gen_n": timings.get("predicted_n"),
                        "gen_tps": timings.get("predicted_per_second"),
                        "transcript": stt.text,
                        "reply": reply,
                    }
                )
        _audio, _clause_ms, clause_first_ms = synthesize_all(tts, FIRST_CLAUSE)
    finally:
        llm.stop()
    return {"turns": rows, "tts_first_clause_ms": round(clause_first_ms, 1)}
