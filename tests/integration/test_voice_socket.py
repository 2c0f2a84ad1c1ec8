"""The voice WebSocket through the real app on a real socket, with fake STT/TTS/VAD/LLM.

The real engines are exercised in test_voice_models.py and test_voice_real.py.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractContextManager
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from server.settings import Settings
from server.voice.engines import SpeechEngines
from server.voice.protocol import MAX_FRAME_BYTES
from server.voice_client import VoiceClient
from tests.fakes import OPENING, FakeChatModel
from tests.live import serve
from tests.unit.voice.conftest import EnergyVad, FakeTTS, ToneSTT, speech

pytestmark = pytest.mark.db


def _serve(settings: Settings, llm: FakeChatModel, stt: ToneSTT) -> AbstractContextManager[str]:
    from server.app import create_app

    engines = SpeechEngines(stt=stt, tts=FakeTTS(), vad=EnergyVad())
    return serve(create_app(settings, llm=llm, speech=engines))


@pytest.fixture
def tone_stt() -> ToneSTT:
    return ToneSTT()


@pytest.fixture
def live_url(
    settings: Settings, fake_llm: FakeChatModel, db: None, tone_stt: ToneSTT
) -> Iterator[str]:
    with _serve(settings, fake_llm, tone_stt) as url:
        yield url


@pytest.fixture
async def http(live_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live_url, timeout=30) as client:
        yield client


async def _session(http: httpx.AsyncClient, sample_cv: str, sample_jd: str) -> str:
    if not http.cookies:
        await http.get("/api/sessions")  # a page load: the visitor identity
    response = await http.post(
        "/api/sessions",
        data={
            "job_title": "Backend Engineer",
            "company_name": "Fernway Health",
            "job_description": sample_jd,
            "cv_text": sample_cv,
            "question_count": "3",
            # The socket is under test, not the interviewer: the tone language's short answers
            # would each get a follow-up on a realistic interview.
            "difficulty": "easy",
        },
        files={"cv_file": ("", b"")},  # multipart, as browsers send it
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _open(live_url: str, http: httpx.AsyncClient, sid: str) -> VoiceClient:
    client = await VoiceClient.open(live_url, sid, http.cookies.get("viva_owner"))
    hello = await client.until("hello")
    assert hello["protocol_version"] == 1
    assert hello["tts_sample_rate_hz"] == 22_050
    # Every constant the browser needs comes from here (web/static/js repeats none of them).
    assert hello["input_audio"]["sample_rate_hz"] == 16_000
    assert hello["limits"] == {
        "silence_ms_min": 300,
        "silence_ms_max": 10_000,
        "voice_speed_min": 0.5,
        "voice_speed_max": 2.0,
        "max_answer_chars": 8_000,
    }
    assert hello["no_reconnect_close_codes"] == [4400, 4403, 4404, 4409]
    return client


async def _messages(
    http: httpx.AsyncClient, sid: str, *, at_least: int = 0
) -> list[dict[str, Any]]:
    """The stored messages; waits (briefly) for ``at_least`` of them, as the server may still
    be storing what was said when the client hung up."""
    for _ in range(100):
        messages = list((await http.get(f"/api/sessions/{sid}")).json()["messages"])
        if len(messages) >= at_least:
            break
        await asyncio.sleep(0.05)
    return messages


async def test_a_spoken_turn(
    live_url: str, http: httpx.AsyncClient, sample_cv: str, sample_jd: str
) -> None:
    sid = await _session(http, sample_cv, sample_jd)
    client = await _open(live_url, http, sid)
    await client.send({"type": "start"})
    await client.until("audio_end")
    first_question = client.of_type("interviewer_sentence")
    assert first_question and len(client.audio) > 0
    assert (await client.until("progress"))["awaiting"] == "question"  # on start
    progress = await client.until("progress")  # once the question was spoken and stored
    assert (progress["question"], progress["total"], progress["awaiting"]) == (1, 3, "answer")

    await client.speak(speech("alpha bravo charlie delta echo"))
    final = await client.until("final_transcript")
    assert final["text"] == "alpha bravo charlie delta echo"
    assert final["source"] == "voice"
    await client.until("audio_end")
    await client.until("turn_timings")  # the first question's
    timings = (await client.until("turn_timings"))["timings_ms"]  # this turn's
    assert {"first_token_ms", "first_audio_ms"} <= set(timings)
    saved = await client.until("progress")  # the answer was stored before the model ran
    assert (saved["question"], saved["awaiting"]) == (1, "question")
    progress = await client.until("progress")  # the reply was spoken and stored
    assert (progress["question"], progress["awaiting"]) == (2, "answer")
    await client.close()

    messages = await _messages(http, sid)
    assert [m["role"] for m in messages] == ["assistant", "user", "assistant"]
    assert messages[1]["content"] == "alpha bravo charlie delta echo"
    assert messages[1]["audio_duration_ms"] > 1000
    assert messages[2]["question_number"] == 2
    assert isinstance(messages[1]["timings"]["pauses_ms"], list)
    # A spoken answer carries delivery evidence into the score.
    speech_evidence = (await http.get(f"/api/sessions/{sid}/score")).json()["evidence"]
    delivery = speech_evidence["answers"][0]["speech"]
    assert delivery["duration_ms"] > 1000 and delivery["words_per_minute"] > 0
    # What was spoken is what was stored, labels and all cleaned off.
    assert not messages[0]["content"].startswith("Interviewer")


async def _answer_once(live_url: str, http: httpx.AsyncClient, sid: str) -> None:
    client = await _open(live_url, http, sid)
    await client.send({"type": "start"})
    await client.until("audio_end")
    await client.speak(speech("alpha bravo charlie delta echo"))
    await client.until("final_transcript")
    await client.close()


async def test_answers_are_heard_with_the_interviews_vocabulary(
    live_url: str, http: httpx.AsyncClient, tone_stt: ToneSTT, sample_cv: str, sample_jd: str
) -> None:
    await _answer_once(live_url, http, await _session(http, sample_cv, sample_jd))
    hotwords = {call.hotwords for call in tone_stt.calls}
    assert None not in hotwords  # every pass of the answer is biased
    for terms in hotwords:
        # Skills and names from this session's CV and job description (a short first phrase
        # is cued with the spoken commands first, within the same budget).
        assert {"PostgreSQL", "Kubernetes"} <= set(terms.split(", ")), terms


async def test_vocabulary_bias_can_be_turned_off(
    settings: Settings, fake_llm: FakeChatModel, db: None, sample_cv: str, sample_jd: str
) -> None:
    stt = ToneSTT()
    with _serve(dataclasses.replace(settings, stt_bias=False), fake_llm, stt) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            await _answer_once(url, http, await _session(http, sample_cv, sample_jd))
    assert stt.calls and {call.hotwords for call in stt.calls} == {None}


async def test_ownership_close_codes(
    live_url: str, http: httpx.AsyncClient, sample_cv: str, sample_jd: str
) -> None:
    sid = await _session(http, sample_cv, sample_jd)
    for cookie, code in [(None, 4403), ("forged.0000", 4403)]:
        client = await VoiceClient.open(live_url, sid, cookie)
        with pytest.raises(ConnectionClosed) as closed:
            await client.until("hello", timeout_s=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == code

    async with httpx.AsyncClient(base_url=live_url) as stranger:
        await stranger.get("/api/sessions")  # gets its own owner cookie
        for target in (sid, "no-such-session"):
            client = await VoiceClient.open(live_url, target, stranger.cookies["viva_owner"])
            with pytest.raises(ConnectionClosed) as closed:
                await client.until("hello", timeout_s=10)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4404


async def test_a_socket_from_another_site_is_refused(
    live_url: str, http: httpx.AsyncClient, sample_cv: str, sample_jd: str
) -> None:
    """A page on another site cannot open the candidate's interview with their cookie."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidStatus

    sid = await _session(http, sample_cv, sample_jd)
    url = live_url.replace("http", "ws", 1) + f"/ws/sessions/{sid}"
    cookie = {"Cookie": f"viva_owner={http.cookies['viva_owner']}"}
    with pytest.raises(InvalidStatus) as refused:
        await connect(url, origin="https://evil.example", additional_headers=cookie)  # type: ignore[arg-type]
    assert refused.value.response.status_code == 403
    own_origin = live_url  # the room's own page: accepted
    async with connect(url, origin=own_origin, additional_headers=cookie) as ws:  # type: ignore[arg-type]
        assert json.loads(await ws.recv())["type"] == "hello"


async def test_bad_input_gets_errors_and_the_session_survives(
    live_url: str, http: httpx.AsyncClient, sample_cv: str, sample_jd: str
) -> None:
    sid = await _session(http, sample_cv, sample_jd)
    client = await _open(live_url, http, sid)
    await client.send({"type": "start"})
    await client.until("audio_end")

    await client.ws.send(b"\x01\x02\x03")
    assert (await client.until("error"))["code"] == "bad_audio_frame"
    for bad_text in [
        "{not json",
        "[" * 60_000,  # nested past the decoder's depth: was a 4500 close
        '{"type": "fly"}',
        '{"type": "settings", "silence_ms": 5}',
        json.dumps({"type": "typed_answer", "text": "x" * 8_001}),  # over the one limit
    ]:
        await client.ws.send(bad_text)
        error = await client.until("error")
        assert error["message"]

    await client.send({"type": "typed_answer", "text": "I led the FastAPI migration."})
    final = await client.until("final_transcript")
    assert final["source"] == "typed"
    await client.until("audio_end")
    await client.close()
    messages = await _messages(http, sid, at_least=3)
    assert [m["role"] for m in messages] == ["assistant", "user", "assistant"]
    # The typed answer arrived while the question was still playing: it cut it short.
    assert messages[0]["interrupted"] and messages[0]["question_number"] == 1
    # Stored alone: nothing refused earlier rides along with it.
    assert messages[1]["content"] == "I led the FastAPI migration."


async def test_a_frame_over_the_protocols_size_closes_the_socket_and_loses_nothing(
    live_url: str, http: httpx.AsyncClient, sample_cv: str, sample_jd: str
) -> None:
    sid = await _session(http, sample_cv, sample_jd)
    client = await _open(live_url, http, sid)
    await client.send({"type": "start"})
    await client.until("audio_end")
    await client.ws.send(bytes(MAX_FRAME_BYTES + 2))
    with pytest.raises(ConnectionClosed) as closed:
        await client.until("error", timeout_s=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009  # message too big
    again = await _open(live_url, http, sid)  # the interview goes on
    await again.send({"type": "start"})
    await again.until("audio_end")
    await again.close()
    assert [m["role"] for m in await _messages(http, sid)] == ["assistant"]


async def test_a_drop_during_playback_keeps_the_whole_question(
    live_url: str, http: httpx.AsyncClient, sample_cv: str, sample_jd: str
) -> None:
    sid = await _session(http, sample_cv, sample_jd)
    client = await _open(live_url, http, sid)
    await client.send({"type": "start"})
    await client.until("audio_end")  # all audio sent; the client is still playing it
    await client.close()
    messages = await _messages(http, sid, at_least=1)
    assert [m["role"] for m in messages] == ["assistant"]
    # All of its audio was delivered: stored whole, and spoken again whole on resume.
    assert messages[0]["content"].startswith(OPENING)
    assert not messages[0]["interrupted"]


async def test_reconnect_resumes_the_same_interview(
    live_url: str, http: httpx.AsyncClient, sample_cv: str, sample_jd: str
) -> None:
    sid = await _session(http, sample_cv, sample_jd)
    client = await _open(live_url, http, sid)
    await client.send({"type": "start"})
    await client.until("audio_end")
    question = " ".join(e["text"] for e in client.of_type("interviewer_sentence"))
    await client.close()  # a dropped connection

    again = await _open(live_url, http, sid)
    await again.send({"type": "start"})
    await again.until("audio_end")
    repeated = " ".join(e["text"] for e in again.of_type("interviewer_sentence"))
    assert repeated == question
    await again.close()
    assert len(await _messages(http, sid)) == 1  # nothing asked twice


async def test_a_second_connection_replaces_the_first(
    live_url: str, http: httpx.AsyncClient, sample_cv: str, sample_jd: str
) -> None:
    sid = await _session(http, sample_cv, sample_jd)
    first = await _open(live_url, http, sid)
    second = await _open(live_url, http, sid)
    with pytest.raises(ConnectionClosed) as closed:
        await first.until("never", timeout_s=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4409
    # The room shows the reason as it is: it must say what happened, in words.
    assert "opened in another window" in closed.value.rcvd.reason
    await second.send({"type": "start"})
    await second.until("audio_end")
    await second.close()
    await asyncio.sleep(0)


async def test_voice_connections_are_capped_per_visitor(
    settings: Settings, fake_llm: FakeChatModel, db: None, sample_cv: str, sample_jd: str
) -> None:
    capped = dataclasses.replace(settings, max_voice_per_owner=1)
    with _serve(capped, fake_llm, ToneSTT()) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            first, second = [await _session(http, sample_cv, sample_jd) for _ in "ab"]
            client = await _open(url, http, first)
            refused = await VoiceClient.open(url, second, http.cookies.get("viva_owner"))
            with pytest.raises(ConnectionClosed) as closed:
                await refused.until("hello", timeout_s=10)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4429
            await client.close()
            await asyncio.sleep(0.2)  # the first has gone: the second may open now
            again = await _open(url, http, second)
            await again.close()
