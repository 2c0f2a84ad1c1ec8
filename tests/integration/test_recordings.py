"""Answer recordings: kept by the voice path, played back over HTTP with byte ranges,
owner-only, switched off per session or per server, deleted on request and with the session."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import numpy as np
import pytest
from litestar import Litestar

import server.routes.pages as pages_module
from models.tables import InterviewSession, Recording
from server.repositories.sessions import RecordingRepository, SessionRepository
from server.services.conversation import InterviewConversation
from server.services.recordings import WAV_HEADER_BYTES, RecordingService, wav_header
from server.settings import Settings
from server.voice.audio import Pcm16
from tests.helpers import Client, create_session, run_interview

pytestmark = pytest.mark.db

RATE_HZ = 16_000
ANSWER = "I moved the ledger service to PostgreSQL and halved the p99 latency."


def tone(duration_s: float, frequency_hz: float) -> Pcm16:
    t = np.arange(int(duration_s * RATE_HZ), dtype=np.float32) / RATE_HZ
    return Pcm16.from_float32(0.3 * np.sin(2 * np.pi * frequency_hz * t), RATE_HZ)


async def _row(public_id: str) -> dict[str, Any]:
    row = (
        await InterviewSession.select(InterviewSession.id, InterviewSession.owner_id)
        .where(InterviewSession.public_id == public_id)
        .first()
    )
    assert row is not None
    return row


async def _asked(client: Client, cv: str, jd: str) -> str:
    """A session whose first question has been asked (it awaits an answer)."""
    response = await create_session(client, cv, jd)
    assert response.status_code == 201, response.text
    session_id: str = response.json()["id"]
    assert (await client.post(f"/api/sessions/{session_id}/next")).status_code == 200
    return session_id


async def _conversation(
    app: Litestar, session_id: str, *, recordings: RecordingService | None = None
) -> InterviewConversation:
    """The interview as the voice session drives it (``server/routes/voice.py``)."""
    services = app.state.services
    return InterviewConversation(
        services.interview,
        services.sessions,
        public_id=session_id,
        owner_id=(await _row(session_id))["owner_id"],
        max_answer_chars=services.settings.max_answer_chars,
        recordings=recordings or services.recordings,
    )


async def _speak(
    conversation: InterviewConversation,
    text: str,
    audio: Pcm16 | None,
    *,
    continues: bool = False,
) -> Any:
    return await conversation.save_candidate_turn(
        text,
        audio_duration_ms=int(audio.duration_ms) if audio else None,
        timings={},
        continues_previous=continues,
        audio=audio,
    )


async def _answers(client: Client, session_id: str) -> list[dict[str, Any]]:
    session = (await client.get(f"/api/sessions/{session_id}")).json()
    return [m for m in session["messages"] if m["role"] == "user"]


def _audio_url(session_id: str, message_id: int) -> str:
    return f"/api/sessions/{session_id}/messages/{message_id}/audio"


async def _recorded(
    client: Client, app: Litestar, cv: str, jd: str, audio: Pcm16
) -> tuple[str, int]:
    """A session with one spoken answer whose audio was kept."""
    session_id = await _asked(client, cv, jd)
    await _speak(await _conversation(app, session_id), ANSWER, audio)
    (answer,) = await _answers(client, session_id)
    assert answer["has_audio"] is True
    return session_id, answer["id"]


async def test_a_spoken_answer_keeps_its_audio_and_a_continuation_extends_it(
    client: Client, app: Litestar, sample_cv: str, sample_jd: str, caplog: pytest.LogCaptureFixture
) -> None:
    session_id = await _asked(client, sample_cv, sample_jd)
    conversation = await _conversation(app, session_id)
    first, more = tone(0.5, 220), tone(0.25, 440)
    with caplog.at_level(logging.INFO):  # the level the server logs at
        progress = await _speak(conversation, ANSWER, first)
        assert progress.awaiting == "question"
        (answer,) = await _answers(client, session_id)
        assert answer["has_audio"] is True and answer["content"] == ANSWER
        wav = await client.get(_audio_url(session_id, answer["id"]))
        assert wav.status_code == 200
        assert wav.headers["content-type"] == "audio/wav"
        assert wav.content == wav_header(len(first.data), RATE_HZ) + first.data

        # The candidate went on with the same answer: text and audio are both extended.
        await _speak(conversation, "Then I added a read replica.", more, continues=True)
    (answer,) = await _answers(client, session_id)
    assert answer["content"] == f"{ANSWER} Then I added a read replica."
    wav = await client.get(_audio_url(session_id, answer["id"]))
    assert wav.content[WAV_HEADER_BYTES:] == first.data + more.data
    # Neither the audio nor the words reach the logs.
    logged = caplog.text
    assert "ledger" not in logged and "replica" not in logged
    assert "kept answer" in logged


async def test_typed_answers_and_silent_audio_keep_nothing(
    client: Client, app: Litestar, sample_cv: str, sample_jd: str
) -> None:
    session_id = await _asked(client, sample_cv, sample_jd)
    await _speak(await _conversation(app, session_id), ANSWER, None)
    (answer,) = await _answers(client, session_id)
    assert answer["has_audio"] is False
    assert (await client.get(_audio_url(session_id, answer["id"]))).status_code == 404


async def test_range_requests(
    client: Client, app: Litestar, sample_cv: str, sample_jd: str
) -> None:
    session_id, message_id = await _recorded(client, app, sample_cv, sample_jd, tone(0.5, 330))
    url = _audio_url(session_id, message_id)
    whole = await client.get(url)
    body = whole.content
    size = len(body)
    assert size == WAV_HEADER_BYTES + 16_000  # 0.5 s of 16 kHz PCM16
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["cache-control"] == "private, no-store"
    assert whole.headers["content-length"] == str(size)

    for header, start, end in (
        ("bytes=0-", 0, size - 1),  # what Chromium asks first
        ("bytes=100-199", 100, 199),
        ("bytes=-500", size - 500, size - 1),
        (f"bytes={size - 10}-", size - 10, size - 1),
        (f"bytes=0-{size * 2}", 0, size - 1),
    ):
        part = await client.get(url, headers={"Range": header})
        assert part.status_code == 206, header
        assert part.content == body[start : end + 1], header
        assert part.headers["content-range"] == f"bytes {start}-{end}/{size}", header
        assert part.headers["content-length"] == str(end - start + 1), header
        assert part.headers["content-type"] == "audio/wav", header
        assert part.headers["cache-control"] == "private, no-store", header

    for header in (f"bytes={size}-", "bytes=-0"):
        refused = await client.get(url, headers={"Range": header})
        assert refused.status_code == 416, header
        assert refused.headers["content-range"] == f"bytes */{size}"
        assert refused.json()["error"]["code"] == "range_not_satisfiable"

    # Several ranges, or a malformed header: the whole file.
    for header in ("bytes=0-9,20-29", "bytes=nonsense"):
        again = await client.get(url, headers={"Range": header})
        assert again.status_code == 200 and again.content == body, header


async def test_audio_and_recording_controls_are_owner_only(
    client: Client,
    other_client: Client,
    app: Litestar,
    sample_cv: str,
    sample_jd: str,
) -> None:
    session_id, message_id = await _recorded(client, app, sample_cv, sample_jd, tone(0.3, 300))
    base = f"/api/sessions/{session_id}"
    assert (await other_client.get(_audio_url(session_id, message_id))).status_code == 404
    assert (
        await other_client.get(_audio_url(session_id, message_id), headers={"Range": "bytes=0-"})
    ).status_code == 404
    assert (await other_client.get(f"{base}/recording")).status_code == 404
    response = await other_client.put(f"{base}/recording", json={"record_audio": False})
    assert response.status_code == 404
    assert (await other_client.delete(f"{base}/recordings")).status_code == 404
    # Nothing changed for the owner.
    assert (await client.get(f"{base}/recording")).json() == {
        "record_audio": True,
        "server_records": True,
        "keeps_audio": True,
        "recorded_message_ids": [message_id],
    }
    assert (await client.get(_audio_url(session_id, message_id))).status_code == 200
    # The owner's own other session cannot reach this answer either: the message must be
    # in the session named.
    other_session = await _asked(client, sample_cv, sample_jd)
    assert (await client.get(_audio_url(other_session, message_id))).status_code == 404
    assert (await client.get(_audio_url(session_id, message_id + 1000))).status_code == 404
    for beyond_any_row in (2**63, -(2**63) - 1, 0):  # not a database error: missing
        assert (await client.get(_audio_url(session_id, beyond_any_row))).status_code == 404


async def test_turning_recording_off_keeps_no_new_audio(
    client: Client, app: Litestar, sample_cv: str, sample_jd: str
) -> None:
    session_id = await _asked(client, sample_cv, sample_jd)
    base = f"/api/sessions/{session_id}"
    assert (await client.get(base)).json()["record_audio"] is True
    response = await client.put(f"{base}/recording", json={"record_audio": False})
    assert response.status_code == 200, response.text
    assert response.json()["record_audio"] is False and response.json()["keeps_audio"] is False
    assert (await client.get(base)).json()["record_audio"] is False
    room = (await client.get(f"/sessions/{session_id}")).text
    assert '<input type="checkbox" id="record-audio"' in room
    assert "checked" not in room.split('id="record-audio"')[1].split(">")[0]

    conversation = await _conversation(app, session_id)
    await _speak(conversation, ANSWER, tone(0.3, 300))
    (answer,) = await _answers(client, session_id)
    assert answer["content"] == ANSWER and answer["has_audio"] is False
    assert await RecordingRepository().message_ids((await _row(session_id))["id"]) == set()

    # Unknown or mistyped fields are refused, not ignored.
    for body in ({"record_audio": "no"}, {"record": False}, {}):
        assert (await client.put(f"{base}/recording", json=body)).status_code == 400, body

    # On again: the next answer is kept.
    assert (await client.put(f"{base}/recording", json={"record_audio": True})).status_code == 200
    assert (await client.post(f"{base}/next")).status_code == 200
    await _speak(conversation, "Second answer, spoken.", tone(0.3, 300))
    answers = await _answers(client, session_id)
    assert [a["has_audio"] for a in answers] == [False, True]


async def test_delete_recordings(
    client: Client, app: Litestar, sample_cv: str, sample_jd: str
) -> None:
    session_id, message_id = await _recorded(client, app, sample_cv, sample_jd, tone(0.3, 300))
    response = await client.delete(f"/api/sessions/{session_id}/recordings")
    assert response.status_code == 204
    assert (await client.get(_audio_url(session_id, message_id))).status_code == 404
    (answer,) = await _answers(client, session_id)
    assert answer["content"] == ANSWER and answer["has_audio"] is False
    assert (await client.get(f"/api/sessions/{session_id}/recording")).json()[
        "recorded_message_ids"
    ] == []
    assert await Recording.count().where(Recording.message == message_id) == 0


async def test_deleting_the_session_deletes_its_recordings(
    client: Client, app: Litestar, sample_cv: str, sample_jd: str
) -> None:
    session_id, message_id = await _recorded(client, app, sample_cv, sample_jd, tone(0.3, 300))
    kept_id, _ = await _recorded(client, app, sample_cv, sample_jd, tone(0.3, 300))
    row_id = (await _row(session_id))["id"]
    assert await Recording.count().where(Recording.session == row_id) == 1
    assert (await client.delete(f"/api/sessions/{session_id}")).status_code == 204
    assert await Recording.count().where(Recording.session == row_id) == 0
    assert await Recording.count().where(Recording.message == message_id) == 0
    assert (await client.get(_audio_url(session_id, message_id))).status_code == 404
    # Another session's recording is untouched.
    assert await Recording.count().where(Recording.session == (await _row(kept_id))["id"]) == 1


class _BrokenRecordings(RecordingRepository):
    async def save(
        self, session_id: int, message_id: int, *, sample_rate_hz: int, pcm: bytes
    ) -> None:
        raise RuntimeError(f"disk full while writing {pcm[:8]!r}")


async def test_an_audio_storage_failure_keeps_the_answer_text(
    client: Client,
    app: Litestar,
    settings: Settings,
    sample_cv: str,
    sample_jd: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    session_id = await _asked(client, sample_cv, sample_jd)
    services = app.state.services
    broken = RecordingService(settings, services.sessions, SessionRepository(), _BrokenRecordings())
    conversation = await _conversation(app, session_id, recordings=broken)
    with caplog.at_level(logging.INFO):
        progress = await _speak(conversation, ANSWER, tone(0.3, 300))
    assert progress.awaiting == "question"  # the turn goes on: the interviewer replies next
    (answer,) = await _answers(client, session_id)
    assert answer["content"] == ANSWER and answer["has_audio"] is False
    assert "audio not kept (RuntimeError)" in caplog.text
    assert "disk full" not in caplog.text and "ledger" not in caplog.text


async def test_the_server_setting_turns_recording_off(
    settings: Settings, fake_llm: Any, db: None, sample_cv: str, sample_jd: str
) -> None:
    from litestar.testing import AsyncTestClient

    from server.app import create_app

    app = create_app(dataclasses.replace(settings, record_answers=False), llm=fake_llm)
    async with AsyncTestClient(app=app) as client:
        await client.get("/api/sessions")  # a page load: the visitor identity
        session_id = await _asked(client, sample_cv, sample_jd)
        await _speak(await _conversation(app, session_id), ANSWER, tone(0.3, 300))
        (answer,) = await _answers(client, session_id)
        assert answer["has_audio"] is False
        recording = (await client.get(f"/api/sessions/{session_id}/recording")).json()
        assert recording["server_records"] is False and recording["keeps_audio"] is False
        room = (await client.get(f"/sessions/{session_id}")).text
        assert "Recording answers is disabled on this server" in room
        assert 'id="record-audio"' not in room


def test_the_setting_reads_from_the_environment() -> None:
    assert Settings.from_env({}).record_answers is True
    assert Settings.from_env({"VIVA_RECORD_ANSWERS": "0"}).record_answers is False


async def test_room_offers_the_choice(client: Client, sample_cv: str, sample_jd: str) -> None:
    session_id = await _asked(client, sample_cv, sample_jd)
    room = (await client.get(f"/sessions/{session_id}")).text
    control = room.split('<input type="checkbox" id="record-audio"')[1].split(">")[0]
    assert " checked" in control and 'aria-describedby="record-audio-hint"' in control
    assert '<label for="record-audio">Keep my answers’ audio for playback</label>' in room
    assert "stored privately" in room and "delete it" in room
    assert "/static/js/recordings.js" in room


async def test_report_plays_each_recorded_answer_and_the_pdf_keeps_the_text(
    client: Client,
    app: Litestar,
    sample_cv: str,
    sample_jd: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    response = await create_session(client, sample_cv, sample_jd)
    session_id = response.json()["id"]
    await run_interview(client, session_id, ["I built the billing API.", "With PostgreSQL."])
    assert (await client.post(f"/api/sessions/{session_id}/end")).status_code == 200
    assert (await client.post(f"/api/sessions/{session_id}/feedback")).status_code == 200
    first, second = await _answers(client, session_id)
    audio = tone(0.4, 250)
    await RecordingRepository().save(
        (await _row(session_id))["id"], second["id"], sample_rate_hz=RATE_HZ, pcm=audio.data
    )

    html = (await client.get(f"/sessions/{session_id}/report")).text
    assert html.count("<audio ") == 1  # only the answer with a recording
    player = html.split('<div class="answer-audio" data-answer-audio>')[1].split("</div>")[0]
    assert (
        f'<span class="answer-audio-label" id="audio-label-{second["id"]}">Play answer 2</span>'
        in player
    )
    assert (
        f'<audio controls preload="none" src="{_audio_url(session_id, second["id"])}" '
        f'aria-labelledby="audio-label-{second["id"]}">'
    ) in player
    # The player sits in that answer's transcript entry.
    entry = html.split(f'id="msg-{second["id"]}"')[1].split("</li>")[0]
    assert "With PostgreSQL." in entry and "<audio " in entry
    assert "<audio " not in html.split(f'id="msg-{first["id"]}"')[1].split("</li>")[0]
    assert (
        '<button type="button" class="button button-secondary button-small" id="delete-recordings"'
        in html
    )
    assert "/static/js/recordings.js" in html

    printed: list[str] = []
    real = pages_module.render_report_pdf

    def capture(page_html: str, base_url: str) -> bytes:
        printed.append(page_html)
        return real(page_html, base_url)

    monkeypatch.setattr(pages_module, "render_report_pdf", capture)
    pdf = await client.get(f"/sessions/{session_id}/report.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    (pdf_html,) = printed
    assert "With PostgreSQL." in pdf_html  # the text stays
    for screen_only in ("<audio", "Play answer", "Delete recordings", "recordings.js"):
        assert screen_only not in pdf_html, screen_only


async def test_report_without_recordings_has_no_players(
    client: Client, sample_cv: str, sample_jd: str
) -> None:
    response = await create_session(client, sample_cv, sample_jd)
    session_id = response.json()["id"]
    await run_interview(client, session_id, ["I built the billing API."])
    html = (await client.get(f"/sessions/{session_id}/report")).text
    assert "<audio" not in html and "Delete recordings" not in html
