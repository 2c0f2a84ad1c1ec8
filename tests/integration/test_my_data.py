"""Your data is yours: download everything as one archive, or delete it all (``/api/me``),
and never anyone else's."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from models.tables import InterviewSession
from server.repositories.sessions import RecordingRepository
from tests.helpers import Client, create_session, run_interview
from tests.integration.test_recordings import RATE_HZ, tone

pytestmark = pytest.mark.db


async def _finished_interview(client: Client, cv: str, jd: str, answers: list[str]) -> str:
    sid = str((await create_session(client, cv, jd)).json()["id"])
    await run_interview(client, sid, answers)
    assert (await client.post(f"/api/sessions/{sid}/end")).status_code == 200
    assert (await client.post(f"/api/sessions/{sid}/feedback")).status_code == 200
    return sid


async def _record(client: Client, sid: str, answer_index: int) -> bytes:
    messages = (await client.get(f"/api/sessions/{sid}")).json()["messages"]
    answer = [m for m in messages if m["role"] == "user"][answer_index]
    row = (
        await InterviewSession.select(InterviewSession.id)
        .where(InterviewSession.public_id == sid)
        .first()
    )
    assert row is not None
    audio = tone(0.3, 220)
    await RecordingRepository().save(
        row["id"], answer["id"], sample_rate_hz=RATE_HZ, pcm=audio.data
    )
    return audio.data


async def test_download_all_my_data_holds_everything_of_mine_and_nothing_else(
    client: Client, other_client: Client, sample_cv: str, sample_jd: str
) -> None:
    mine = await _finished_interview(
        client, sample_cv, sample_jd, ["I built the billing API.", "With PostgreSQL."]
    )
    pcm = await _record(client, mine, 1)
    open_one = str((await create_session(client, sample_cv, sample_jd)).json()["id"])
    theirs = await _finished_interview(
        other_client, sample_cv + "\nSecret: Aubergine.", sample_jd, ["Someone else's answer."]
    )

    response = await client.get("/api/me/export")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert "attachment" in response.headers["content-disposition"]
    assert "no-store" in response.headers["cache-control"]
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = archive.namelist()
    assert names[0] == "README.txt"
    folders = sorted({n.split("/")[0] for n in names if "/" in n})
    assert len(folders) == 2 and folders[0].endswith(mine) and folders[1].endswith(open_one)
    first = folders[0]
    session = json.loads(archive.read(f"{first}/session.json"))
    assert session["id"] == mine and "Parcelly" in session["cv_text"]
    assert [m["content"] for m in session["messages"] if m["role"] == "user"] == [
        "I built the billing API.",
        "With PostgreSQL.",
    ]
    feedback = json.loads(archive.read(f"{first}/feedback.json"))
    assert 1 <= feedback["score"] <= 10 and feedback["strengths"]
    assert archive.read(f"{first}/report.pdf").startswith(b"%PDF-")
    wav = archive.read(f"{first}/answer-2.wav")
    assert wav.startswith(b"RIFF") and wav.endswith(pcm)
    assert f"{first}/answer-1.wav" not in names  # answer 1 had no recording
    assert not any(n.startswith(folders[1]) and n.endswith(".pdf") for n in names)  # no report yet
    everything = b"".join(archive.read(n) for n in names)
    assert theirs.encode() not in everything and b"Aubergine" not in everything


async def test_delete_all_my_data_deletes_everything_of_mine_and_forgets_me(
    client: Client, other_client: Client, sample_cv: str, sample_jd: str
) -> None:
    mine = [
        await _finished_interview(client, sample_cv, sample_jd, ["My answer."]),
        str((await create_session(client, sample_cv, sample_jd)).json()["id"]),
    ]
    await _record(client, mine[0], 0)
    theirs = await _finished_interview(other_client, sample_cv, sample_jd, ["Their answer."])

    response = await client.delete("/api/me")
    assert response.status_code == 200 and response.json() == {"deleted_sessions": 2}
    assert "viva_owner=;" in response.headers["set-cookie"]
    assert "max-age=0" in response.headers["set-cookie"].lower()
    remaining = await InterviewSession.select(InterviewSession.public_id)
    assert [r["public_id"] for r in remaining] == [theirs]
    # The other visitor's interview is untouched, report and all.
    assert (await other_client.get(f"/api/sessions/{theirs}/feedback")).status_code == 200
    # The next page load is a new visitor with nothing.
    assert (await client.get("/api/sessions")).json() == []


async def test_someone_else_cannot_export_or_delete_without_an_identity(
    client: Client, sample_cv: str, sample_jd: str, app: object
) -> None:
    from litestar.testing import AsyncTestClient

    await create_session(client, sample_cv, sample_jd)
    async with AsyncTestClient(app=app) as stranger:  # type: ignore[arg-type]
        assert (await stranger.delete("/api/me")).status_code == 403
        assert (
            await stranger.delete("/api/me", headers={"origin": "https://evil.example"})
        ).status_code == 403
    assert len((await client.get("/api/sessions")).json()) == 1
