"""Sessions over HTTP: create (paste or upload), list, open, delete, ownership, bad input."""

from __future__ import annotations

import dataclasses
import io

import pytest
from litestar.testing import AsyncTestClient

from server.settings import Settings
from tests.fakes import FakeChatModel
from tests.helpers import Client, create_session, run_interview, substantive_answers

pytestmark = pytest.mark.db


def _docx_bytes(text: str) -> bytes:
    import docx

    document = docx.Document()
    for line in text.splitlines():
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _pdf_bytes(text: str) -> bytes:
    from weasyprint import HTML

    paragraphs = "".join(f"<p>{line}</p>" for line in text.splitlines() if line.strip())
    return HTML(string=f"<html><body>{paragraphs}</body></html>").write_pdf()  # type: ignore[no-any-return]


async def test_create_with_pasted_cv(client: Client, sample_cv: str, sample_jd: str) -> None:
    response = await create_session(client, sample_cv, sample_jd, questions=5)
    assert response.status_code == 201, response.text
    body = response.json()
    assert len(body["id"]) >= 20  # unguessable public id, not the integer key
    assert body["question_count"] == 5
    assert body["status"] == "in_progress"
    assert "PostgreSQL" in body["cv_text"]
    assert body["progress"] == {
        "question": 0,
        "total": 5,
        "awaiting": "question",
        "label": "Question 1 of 5",
    }


async def test_default_question_count_is_eight(
    client: Client, sample_cv: str, sample_jd: str
) -> None:
    response = await client.post(
        "/api/sessions",
        data={
            "job_title": "Engineer",
            "company_name": "Acme",
            "job_description": sample_jd,
            "cv_text": sample_cv,
        },
        files={"_": ("", b"")},
    )
    assert response.status_code == 201, response.text
    assert response.json()["question_count"] == 8


@pytest.mark.parametrize(
    ("filename", "maker"),
    [
        ("cv.txt", lambda t: t.encode()),
        ("cv.docx", _docx_bytes),
        ("cv.pdf", _pdf_bytes),
    ],
)
async def test_create_with_uploaded_cv(
    client: Client, sample_cv: str, sample_jd: str, filename: str, maker: object
) -> None:
    data = maker(sample_cv)  # type: ignore[operator]
    response = await create_session(
        client,
        sample_cv,
        sample_jd,
        files={"cv_file": (filename, data, "application/octet-stream")},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["cv_filename"] == filename
    assert "Parcelly" in body["cv_text"]
    assert "Redis caching" in body["cv_text"]


@pytest.mark.parametrize(
    ("fields", "files", "status", "field", "needle"),
    [
        ({"cv_text": "Too short."}, None, 422, "cv", "at least 50"),
        ({"job_description": "   "}, None, 422, "job_description", "job description"),
        ({"job_title": ""}, None, 422, "job_title", "job title"),
        ({"question_count": "2"}, None, 422, "question_count", "between 3 and 15"),
        ({"question_count": "16"}, None, 422, "question_count", "between 3 and 15"),
        (
            {},
            {"cv_file": ("cv.exe", b"MZ\x90\x00binary", "application/octet-stream")},
            415,
            None,
            "Unsupported",
        ),
        (
            {},
            {"cv_file": ("cv.pdf", b"this is not a pdf at all", "application/pdf")},
            422,
            None,
            "not a readable PDF",
        ),
        (
            {},
            {"cv_file": ("cv.pdf", b"%PDF-1.4 garbage garbage", "application/pdf")},
            422,
            None,
            "could not be read",
        ),
        ({}, {"cv_file": ("scan.txt", b"tiny", "text/plain")}, 422, "cv", "at least 50"),
    ],
)
async def test_bad_session_input_is_rejected_and_nothing_saved(
    client: Client,
    sample_cv: str,
    sample_jd: str,
    fields: dict[str, str],
    files: dict[str, object] | None,
    status: int,
    field: str | None,
    needle: str,
) -> None:
    response = await create_session(client, sample_cv, sample_jd, files=files, **fields)  # type: ignore[arg-type]
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert needle.lower() in error["message"].lower()
    if field:
        assert field in error["details"]["fields"]
    assert (await client.get("/api/sessions")).json() == []


@pytest.mark.parametrize(
    "parts",
    [
        {"job_title": (None, b"\xff\xfe"), "company_name": (None, b"Acme")},  # a field
        {"cv_file": (None, b"\x89PNG\r\n\x1a\n")},  # a binary file part without a filename
        {"unexpected": (None, b"\xc3\x28")},  # a part the form does not have
    ],
)
async def test_form_parts_that_are_not_utf8_are_a_400_not_a_crash(
    client: Client, sample_jd: str, parts: dict[str, tuple[None, bytes]]
) -> None:
    form = {"job_title": (None, b"Engineer"), "company_name": (None, b"Acme")}
    form["job_description"] = (None, sample_jd.encode())
    response = await client.post("/api/sessions", files={**form, **parts})
    assert response.status_code == 400, response.text
    assert "utf-8" in response.json()["error"]["message"].lower()
    assert (await client.get("/api/sessions")).json() == []


async def test_oversize_upload_is_413(client: Client, sample_cv: str, sample_jd: str) -> None:
    big = (sample_cv + "\n") * (5 * 1024 * 1024 // len(sample_cv) + 2)
    response = await create_session(
        client, sample_cv, sample_jd, files={"cv_file": ("cv.txt", big.encode(), "text/plain")}
    )
    assert response.status_code == 413
    assert "limit is 5 MB" in response.json()["error"]["message"]
    assert (await client.get("/api/sessions")).json() == []


async def test_far_oversize_body_is_413_with_the_error_shape(
    client: Client, sample_cv: str, sample_jd: str
) -> None:
    response = await create_session(
        client,
        sample_cv,
        sample_jd,
        files={"cv_file": ("cv.txt", b"a" * (7 * 1024 * 1024), "text/plain")},
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


async def test_list_is_newest_first_with_status_and_score(
    client: Client, sample_cv: str, sample_jd: str
) -> None:
    first = (await create_session(client, sample_cv, sample_jd, job_title="First role")).json()
    second = (await create_session(client, sample_cv, sample_jd, job_title="Second role")).json()
    await run_interview(client, first["id"], substantive_answers(3))
    feedback = await client.post(f"/api/sessions/{first['id']}/feedback")
    assert feedback.status_code == 200

    listed = (await client.get("/api/sessions")).json()
    assert [s["id"] for s in listed] == [second["id"], first["id"]]
    assert listed[0]["status"] == "in_progress" and listed[0]["score"] is None
    assert listed[1]["status"] == "completed"
    assert listed[1]["score"] == feedback.json()["score"]
    assert listed[1]["questions_asked"] == 3


async def test_delete_removes_messages_and_feedback(
    client: Client, sample_cv: str, sample_jd: str
) -> None:
    from models.tables import Feedback, Message

    session = (await create_session(client, sample_cv, sample_jd)).json()
    await run_interview(client, session["id"], substantive_answers(3))
    await client.post(f"/api/sessions/{session['id']}/feedback")
    assert await Message.count() > 0 and await Feedback.count() == 1

    response = await client.delete(f"/api/sessions/{session['id']}")
    assert response.status_code == 204
    assert (await client.get(f"/api/sessions/{session['id']}")).status_code == 404
    assert await Message.count() == 0
    assert await Feedback.count() == 0


async def test_other_owner_sees_nothing(
    client: Client, other_client: Client, sample_cv: str, sample_jd: str
) -> None:
    session = (await create_session(client, sample_cv, sample_jd)).json()
    sid = session["id"]
    await client.post(f"/api/sessions/{sid}/next")

    assert (await other_client.get("/api/sessions")).json() == []
    for method, path, body in [
        ("GET", f"/api/sessions/{sid}", None),
        ("DELETE", f"/api/sessions/{sid}", None),
        ("POST", f"/api/sessions/{sid}/next", None),
        ("POST", f"/api/sessions/{sid}/answers", {"text": "hijack"}),
        ("POST", f"/api/sessions/{sid}/end", None),
        ("POST", f"/api/sessions/{sid}/feedback", None),
        ("GET", f"/api/sessions/{sid}/feedback", None),
    ]:
        response = await other_client.request(method, path, json=body)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["error"]["code"] == "not_found"
    # The owner still has it, untouched.
    mine = (await client.get(f"/api/sessions/{sid}")).json()
    assert [m["role"] for m in mine["messages"]] == ["assistant"]


async def test_forged_cookie_is_a_new_visitor(
    client: Client, sample_cv: str, sample_jd: str
) -> None:
    await create_session(client, sample_cv, sample_jd)
    token = client.cookies["viva_owner"]
    owner, _, _mac = token.rpartition(".")
    client.cookies.clear()
    client.cookies.set("viva_owner", f"{owner}.{'0' * 32}")
    assert (await client.get("/api/sessions")).json() == []


async def test_unknown_session_and_malformed_json(
    client: Client, sample_cv: str, sample_jd: str
) -> None:
    response = await client.get("/api/sessions/does-not-exist")
    assert response.status_code == 404
    assert set(response.json()["error"]) == {"code", "message", "details"}

    sid = (await create_session(client, sample_cv, sample_jd)).json()["id"]
    await client.post(f"/api/sessions/{sid}/next")
    response = await client.post(
        f"/api/sessions/{sid}/answers",
        content=b'{"text": "unterminated',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"
    response = await client.post(f"/api/sessions/{sid}/answers", json={"answer": "wrong key"})
    assert response.status_code == 400
    # Nothing was stored by the bad requests.
    assert len((await client.get(f"/api/sessions/{sid}")).json()["messages"]) == 1


async def test_openapi_schema_documents_the_api(client: Client) -> None:
    schema = (await client.get("/api/schema/openapi.json")).json()
    assert "/api/sessions/{session_id}/answers" in schema["paths"]
    assert "/api/sessions/{session_id}/feedback" in schema["paths"]


async def test_new_interviews_are_capped_per_minute_and_in_all(
    settings: Settings, fake_llm: FakeChatModel, db: None, sample_cv: str, sample_jd: str
) -> None:
    from server.app import create_app

    capped = dataclasses.replace(settings, new_sessions_per_minute=3, max_sessions_per_owner=4)
    async with AsyncTestClient(app=create_app(capped, llm=fake_llm)) as visitor:
        await visitor.get("/api/sessions")
        for _ in range(3):
            assert (await create_session(visitor, sample_cv, sample_jd)).status_code == 201
        refused = await create_session(visitor, sample_cv, sample_jd)
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) > 0
        assert "try again in" in refused.json()["error"]["message"]
        assert len((await visitor.get("/api/sessions")).json()) == 3


async def test_one_visitor_keeps_at_most_the_quota_of_interviews(
    settings: Settings, fake_llm: FakeChatModel, db: None, sample_cv: str, sample_jd: str
) -> None:
    from server.app import create_app

    capped = dataclasses.replace(settings, max_sessions_per_owner=2)
    async with AsyncTestClient(app=create_app(capped, llm=fake_llm)) as visitor:
        await visitor.get("/api/sessions")
        ids = [(await create_session(visitor, sample_cv, sample_jd)).json()["id"] for _ in "ab"]
        refused = await create_session(visitor, sample_cv, sample_jd)
        assert refused.status_code == 429 and "delete some" in refused.json()["error"]["message"]
        assert (await visitor.delete(f"/api/sessions/{ids[0]}")).status_code == 204
        assert (await create_session(visitor, sample_cv, sample_jd)).status_code == 201
