"""CVs, job descriptions and answers are personal data: they never reach the logs at INFO (or
anywhere), whatever path they take (typed, spoken, a correction, an error, the report)."""

from __future__ import annotations

import logging

import pytest

from tests.helpers import Client, create_session

pytestmark = pytest.mark.db

CV_SECRET = "Zanzibar-Quokka-CV"
JD_SECRET = "Marzipan-Heron-JD"
ANSWER_SECRET = "Tangerine-Walrus-Answer"


async def test_no_personal_text_reaches_the_logs(
    client: Client, sample_cv: str, sample_jd: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sid = (
        await create_session(
            client, f"{sample_cv}\nVolunteer: {CV_SECRET}.", f"{sample_jd}\nPerk: {JD_SECRET}."
        )
    ).json()["id"]
    await client.post(f"/api/sessions/{sid}/next")
    answer = f"At {ANSWER_SECRET} I moved the ledger to PostgreSQL and cut p99 to 80 ms."
    response = await client.post(f"/api/sessions/{sid}/answers", json={"text": answer})
    assert response.status_code == 201
    too_long = await client.post(
        f"/api/sessions/{sid}/answers", json={"text": ANSWER_SECRET + " x" * 5000}
    )
    assert too_long.status_code in (409, 422)
    message_id = (await client.get(f"/api/sessions/{sid}")).json()["messages"][1]["id"]
    corrected = await client.patch(
        f"/api/sessions/{sid}/messages/{message_id}", json={"text": answer + " Really."}
    )
    assert corrected.status_code == 200
    await client.post(f"/api/sessions/{sid}/end")
    assert (await client.post(f"/api/sessions/{sid}/feedback")).status_code == 200
    assert (await client.get(f"/sessions/{sid}/report")).status_code == 200
    # Everything at INFO and above, and every level of Viva's own loggers. (Libraries log SQL
    # parameters and HTTP bodies at DEBUG; the server runs at INFO.)
    logged = "\n".join(
        record.getMessage()
        for record in caplog.records
        if record.levelno >= logging.INFO or record.name.startswith("server")
    )
    assert "session" in logged  # the logs were captured at all
    for secret in (CV_SECRET, JD_SECRET, ANSWER_SECRET):
        assert secret not in logged, secret
