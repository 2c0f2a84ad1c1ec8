"""Speech engine faults: the server runs as ``bench.faulty_speech`` (its real engines behind
switches), and the switches are thrown mid-interview.

- **Speech recognition fails** while a spoken answer is heard: the candidate must get a clear,
  retryable error within seconds of finishing; the recording must be kept, and ``retry`` (the
  engine back) must store the answer, once.
- **Speech synthesis fails** while the next question is being said: the question must still
  reach the candidate as text, in order, with a clear error; it must be stored; and the next
  question must be spoken again once the engine is back.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx

from bench.answers import load_answers
from bench.faulty_speech import STT_SWITCH, TTS_SWITCH
from bench.resilience.harness import Figures, api_client, messages_of, open_voice, settle
from bench.server_proc import ROOT
from server.voice.audio import Pcm16
from server.voice_client import VoiceClient, create_sample_session

ERROR_WITHIN_S = 10.0  # from the last word to the error event


async def speech_faults(base_url: str, data_dir: Path, figures: Figures) -> None:
    _, audio = load_answers(ROOT / "var" / "bench")[0]
    async with api_client(base_url, figures) as http:
        sid = await create_sample_session(http, questions=4, difficulty="easy")
        client, awaiting = await open_voice(base_url, http, sid)
        try:
            await settle(client, awaiting)
            await _listening(client)
            await _recognition_fails(client, http, sid, data_dir / STT_SWITCH, audio, figures)
            await _synthesis_fails(client, http, sid, data_dir / TTS_SWITCH, figures)
        finally:
            _throw(data_dir / STT_SWITCH, on=False)
            _throw(data_dir / TTS_SWITCH, on=False)
            await client.close()


async def _listening(client: VoiceClient) -> None:
    """Until the interview's state is "listening" (the question has been played out)."""
    while not (states := client.of_type("state")) or states[-1]["state"] != "listening":
        await client.after("state", len(states), timeout_s=60)


def _count(client: VoiceClient, event_type: str) -> int:
    return len(client.of_type(event_type))


async def _recognition_fails(
    client: VoiceClient,
    http: httpx.AsyncClient,
    sid: str,
    switch: Path,
    audio: Pcm16,
    figures: Figures,
) -> None:
    answers_before = len(_answers(await messages_of(http, sid)))
    errors = _count(client, "error")
    _throw(switch, on=True)
    figures.speech_faults_injected += 1
    last_word = await client.speak(audio, trailing_silence_ms=1500)
    error = await client.after("error", errors, timeout_s=30)
    waited = error["_at"] - last_word
    figures.speech_error_s["stt"] = round(waited, 2)
    if not (
        error["code"] == "speech_service_error" and error["retryable"] and waited <= ERROR_WITHIN_S
    ):
        figures.speech_faults_unclear += 1
    _throw(switch, on=False)
    progress = _count(client, "progress")
    await client.send({"type": "retry"})
    await client.after(
        "progress", progress, where=lambda e: e["awaiting"] in ("answer", "finished")
    )
    answers = _answers(await messages_of(http, sid))
    if len(answers) != answers_before + 1 or not str(answers[-1]["content"]).strip():
        figures.speech_answers_lost += 1
    elif not answers[-1].get("audio_duration_ms"):
        figures.speech_answers_lost += 1  # stored, but not as the spoken answer it was


async def _synthesis_fails(
    client: VoiceClient, http: httpx.AsyncClient, sid: str, switch: Path, figures: Figures
) -> None:
    await _listening(client)
    _throw(switch, on=True)
    figures.speech_faults_injected += 1
    audio_before = len(client.audio)
    sentences, errors, progress = (
        _count(client, kind) for kind in ("interviewer_sentence", "error", "progress")
    )
    started = time.perf_counter()
    await client.send({"type": "typed_answer", "text": _typed(1)})
    error = await client.after("error", errors, timeout_s=30)
    figures.speech_error_s["tts"] = round(error["_at"] - started, 2)
    await client.after(
        "progress", progress, where=lambda e: e["awaiting"] in ("answer", "finished")
    )
    shown = " ".join(e["text"] for e in client.of_type("interviewer_sentence")[sentences:])
    stored = [m for m in await messages_of(http, sid) if m["role"] == "assistant"][-1]
    if error["code"] != "voice_unavailable" or not shown or len(client.audio) != audio_before:
        figures.speech_faults_unclear += 1
    if shown != stored["content"]:
        figures.speech_questions_lost += 1  # what was shown is not what was stored
    _throw(switch, on=False)
    await _listening(client)
    ends = _count(client, "audio_end")
    await client.send({"type": "typed_answer", "text": _typed(2)})
    await client.after("audio_end", ends)  # spoken again
    if len(client.audio) == audio_before:
        figures.speech_not_recovered += 1


def _throw(switch: Path, *, on: bool) -> None:
    if on:
        switch.touch()
    else:
        switch.unlink(missing_ok=True)


def _answers(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m for m in messages if m["role"] == "user"]


def _typed(n: int) -> str:
    return (
        f"[speech fault {n}] I rebuilt our CI so that a pull request's checks run in under "
        "eight minutes, down from forty, by caching dependencies and splitting the tests."
    )
