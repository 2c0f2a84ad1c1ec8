"""One real spoken turn, end to end: Piper speaks the candidate's answer, the test streams
it in 20 ms frames at real time through a real WebSocket into the real app (Silero VAD,
faster-whisper, the embedded LLM, Piper), and checks what comes back and what is stored.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator

import httpx
import numpy as np
import pytest

from server.ai.embedded import EmbeddedLlamaServer
from server.container import load_speech
from server.settings import Settings
from server.voice.audio import INPUT_SAMPLE_RATE_HZ, Pcm16, resample
from server.voice.engines import SpeechEngines
from server.voice_client import VoiceClient, create_sample_session, spoken_turn
from tests.integration.test_voice_models import word_error_rate
from tests.live import serve

pytestmark = [pytest.mark.slow, pytest.mark.db]

# Numbers as digits: Whisper writes them so, and the word error rate compares words.
ANSWER = (
    "At my last job I led the migration of our order tracking service to Python. "
    "I rewrote the slowest database queries and added caching, and the response time "
    "dropped from 900 to 180 milliseconds."
)


@pytest.fixture(scope="module")
def engines() -> SpeechEngines:
    return asyncio.run(
        load_speech(
            dataclasses.replace(
                Settings(), stt_beam_size=5, turn_model="off", stt_second_pass=False
            )
        )
    )


@pytest.fixture
def live_url(
    engines: SpeechEngines, embedded_llm: EmbeddedLlamaServer, settings: Settings, db: None
) -> Iterator[str]:
    from server.app import create_app

    real = dataclasses.replace(
        settings, llm_base_url=embedded_llm.base_url, llm_model="local", llm_may_adjust_score=False
    )
    with serve(create_app(real, speech=engines)) as url:
        yield url


async def _synthesize(engines: SpeechEngines, text: str) -> Pcm16:
    chunks = [chunk async for chunk in engines.tts.synthesize(text)]
    voice = Pcm16(b"".join(c.data for c in chunks), chunks[0].sample_rate_hz)
    lead_in = bytes(int(0.4 * INPUT_SAMPLE_RATE_HZ) * 2)
    return Pcm16(lead_in + resample(voice, INPUT_SAMPLE_RATE_HZ).data, INPUT_SAMPLE_RATE_HZ)


def _rms(pcm16: bytes) -> float:
    samples = np.frombuffer(pcm16[: len(pcm16) // 2 * 2], dtype="<i2").astype(np.float32) / 32768
    return float(np.sqrt(np.mean(samples**2))) if len(samples) else 0.0


async def test_a_real_spoken_turn(live_url: str, engines: SpeechEngines) -> None:
    answer = await _synthesize(engines, ANSWER)
    async with httpx.AsyncClient(base_url=live_url, timeout=600) as http:
        sid = await create_sample_session(http)
        client = await VoiceClient.open(live_url, sid, http.cookies["viva_owner"])
        try:
            await client.until("hello")
            await client.send({"type": "start"})
            await client.until_progress("answer", timeout_s=600)
            question_audio = len(client.audio)
            assert question_audio > 0 and _rms(bytes(client.audio)) > 0.01

            result = await spoken_turn(client, answer)
        finally:
            await client.close()
        print(f"\nreal turn: {result}")

        assert word_error_rate(ANSWER, result.transcript) < 0.15, result.transcript
        assert result.partials_before_final >= 1  # live captions during the answer
        assert result.reply and result.reply_audio_bytes > 0
        reply_audio = bytes(client.audio[question_audio:])
        assert _rms(reply_audio) > 0.01  # the reply is speech, not silence
        assert {"first_token_ms", "first_audio_ms"} <= set(result.server_timings_ms)

        messages = (await http.get(f"/api/sessions/{sid}")).json()["messages"]
        assert [m["role"] for m in messages] == ["assistant", "user", "assistant"]
        stored = messages[1]
        if stored["revised_by"] == "second_pass":
            # Heard again, whole, while the reply played: the live text is kept as the original.
            assert stored["original_content"] == result.transcript
            assert word_error_rate(ANSWER, stored["content"]) < 0.15, stored["content"]
        else:
            assert stored["content"] == result.transcript
            assert stored["original_content"] is None
        assert messages[1]["audio_duration_ms"] > 5000
        assert messages[2]["question_number"] == 2
