"""The app's edge (server/edge.py, server/owner.py): who gets an identity, which requests are
let in, and the headers every response carries. Each test fails without its fix."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from server.settings import Settings
from tests.fakes import FakeChatModel
from tests.helpers import Client, create_session

pytestmark = pytest.mark.db

EVIL = "https://evil.example"


async def _sessions(client: Client) -> list[dict[str, Any]]:
    response = await client.get("/api/sessions")
    assert response.status_code == 200, response.text
    return list(response.json())


async def test_a_page_load_issues_an_identity_and_a_post_never_does(app: Litestar) -> None:
    async with AsyncTestClient(app=app) as newcomer:
        response = await newcomer.post("/api/sessions", data={"job_title": "x"})
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "forbidden"
        assert "set-cookie" not in response.headers  # no identity minted by a POST

        page = await newcomer.get("/")
        cookie = page.headers["set-cookie"].lower()
        assert "viva_owner=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
        assert "secure" not in cookie


async def test_a_newcomer_from_another_site_sees_the_page_without_an_identity(
    app: Litestar,
) -> None:
    """A link from elsewhere shows the page; the identity comes with the page's own requests."""
    async with AsyncTestClient(app=app) as newcomer:
        landing = await newcomer.get("/", headers={"sec-fetch-site": "cross-site"})
        assert landing.status_code == 200 and "set-cookie" not in landing.headers
        own = await newcomer.get("/api/sessions", headers={"sec-fetch-site": "same-origin"})
        assert own.status_code == 200 and "viva_owner=" in own.headers["set-cookie"]


async def test_the_secure_cookie_setting(
    settings: Settings, fake_llm: FakeChatModel, db: None
) -> None:
    from server.app import create_app

    app = create_app(dataclasses.replace(settings, secure_cookies=True), llm=fake_llm)
    async with AsyncTestClient(app=app) as visitor:
        assert "; secure" in (await visitor.get("/")).headers["set-cookie"].lower()


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": EVIL},
        {"origin": "null"},
        {"sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "same-site", "origin": "https://other.testserver.local"},
    ],
    ids=["origin", "null-origin", "sec-fetch-site", "same-site"],
)
async def test_a_cross_site_request_changes_nothing_and_keeps_the_identity(
    client: Client, sample_cv: str, sample_jd: str, headers: dict[str, str]
) -> None:
    sid = (await create_session(client, sample_cv, sample_jd)).json()["id"]
    owner = client.cookies["viva_owner"]
    for method, path in [
        ("POST", "/api/sessions"),
        ("POST", f"/api/sessions/{sid}/next"),
        ("DELETE", f"/api/sessions/{sid}"),
        ("PUT", f"/api/sessions/{sid}/recording"),
    ]:
        response = await client.request(method, path, headers=headers, json={})
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["error"]["code"] == "cross_site"
        assert "set-cookie" not in response.headers
    assert client.cookies["viva_owner"] == owner
    assert [s["id"] for s in await _sessions(client)] == [sid]  # nothing deleted, nothing new
    session = (await client.get(f"/api/sessions/{sid}")).json()
    assert session["messages"] == []  # the interview was not started either


async def test_a_same_origin_browser_request_is_accepted(client: Client) -> None:
    response = await client.post(
        "/api/sessions",
        headers={"origin": "http://testserver.local", "sec-fetch-site": "same-origin"},
        data={"job_title": ""},
        files={"cv_file": ("", b"")},
    )
    assert response.status_code == 400  # past the edge, into the form's validation
    assert response.json()["error"]["code"] == "bad_request"


async def test_json_sent_as_text_plain_is_refused(
    client: Client, sample_cv: str, sample_jd: str
) -> None:
    sid = (await create_session(client, sample_cv, sample_jd)).json()["id"]
    await client.post(f"/api/sessions/{sid}/next")
    response = await client.post(
        f"/api/sessions/{sid}/answers",
        content=b'{"text": "an answer a cross-site form posted"}',
        headers={"content-type": "text/plain"},
    )
    assert response.status_code == 415
    session = (await client.get(f"/api/sessions/{sid}")).json()
    assert [m["role"] for m in session["messages"]] == ["assistant"]


@pytest.mark.parametrize(
    "other",
    [b'prefs={"theme":"dark"}', 'name="caf\u00e9"'.encode(), b"broken", b"a=b=c; ; =x"],
    ids=["json", "non-ascii", "no-value", "odd"],
)
async def test_other_cookies_never_cost_the_identity(
    client: Client, sample_cv: str, sample_jd: str, other: bytes
) -> None:
    sid = (await create_session(client, sample_cv, sample_jd)).json()["id"]
    owner = client.cookies["viva_owner"].encode()
    for first in (True, False):
        cookie = (
            other + b"; viva_owner=" + owner if first else b"viva_owner=" + owner + b"; " + other
        )
        for path in ["/", "/new", f"/sessions/{sid}", "/api/sessions", f"/api/sessions/{sid}"]:
            response = await client.get(path, headers=[(b"cookie", cookie)])
            assert response.status_code == 200, (path, response.text)
            assert "set-cookie" not in response.headers, path  # the identity was read, kept


async def test_only_allowed_hosts_are_answered(app: Litestar) -> None:
    async with AsyncTestClient(app=app, base_url="http://rebind.evil.example") as rebinding:
        response = await rebinding.get("/api/sessions")
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "bad_host"
    async with AsyncTestClient(app=app, base_url="http://localhost:8000") as local:
        assert (await local.get("/api/sessions")).status_code == 200


def test_allowed_hosts_come_from_the_environment() -> None:
    settings = Settings.from_env({"VIVA_ALLOWED_HOSTS": "viva.example.org, 10.0.0.5"})
    assert {"localhost", "127.0.0.1", "viva.example.org", "10.0.0.5"} <= set(settings.allowed_hosts)
    assert "0.0.0.0" not in Settings.from_env({"VIVA_HOST": "0.0.0.0"}).allowed_hosts


@pytest.mark.parametrize("path", ["/", "/new", "/api/sessions", "/static/css/app.css"])
async def test_every_response_carries_the_security_headers(client: Client, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert "microphone=(self)" in response.headers["permissions-policy"]
