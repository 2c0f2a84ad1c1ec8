"""Anonymous owner identity: a random id in a signed, HttpOnly, SameSite cookie.

There is no login yet; whoever holds the cookie owns the sessions made with it. The
signature stops a visitor from claiming another owner's id by editing the cookie.

An identity is issued only by a page load (a GET or HEAD that is not cross-site) to a visitor
without one, and never replaces a valid one: a cross-site request or a request that changes
something cannot mint a new identity and so orphan the visitor's interviews.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from server.edge import SAFE_METHODS, cross_site, header
from server.errors import Forbidden

COOKIE_NAME = "viva_owner"
COOKIE_MAX_AGE_S = 400 * 24 * 3600  # browsers cap cookie lifetimes at 400 days


class OwnerSigner:
    def __init__(self, secret_key: str) -> None:
        self._key = secret_key.encode()

    def sign(self, owner_id: str) -> str:
        mac = hmac.new(self._key, owner_id.encode(), hashlib.sha256).hexdigest()[:32]
        return f"{owner_id}.{mac}"

    def verify(self, token: str) -> str | None:
        owner_id, _, _mac = token.rpartition(".")
        if not owner_id or not hmac.compare_digest(self.sign(owner_id), token):
            return None
        return owner_id

    @staticmethod
    def new_owner_id() -> str:
        return secrets.token_urlsafe(24)


def cookie_value(cookie_header: str | None, name: str) -> str | None:
    """The first value of cookie ``name`` in a ``Cookie`` header, whatever else it holds.

    Other cookies on the same host are not ours to judge: a JSON value, quotes, spaces or
    non-ASCII bytes in them must not hide ours (the standard library's parser stops at the
    first cookie it cannot read)."""
    if not cookie_header:
        return None
    for pair in cookie_header.split(";"):
        key, sep, value = pair.partition("=")
        if sep and key.strip() == name:
            return value.strip().strip('"')
    return None


def owner_from_cookie_header(signer: OwnerSigner, cookie_header: str | None) -> str | None:
    token = cookie_value(cookie_header, COOKIE_NAME)
    return signer.verify(token) if token else None


class OwnerMiddleware:
    """Puts ``owner_id`` into ``scope["state"]`` (None for a visitor without a valid cookie);
    a same-site page load without one gets a new cookie.

    A WebSocket or a state-changing request without a valid cookie gets no identity and so owns
    nothing: its handler refuses it.
    """

    def __init__(self, app: ASGIApp, signer: OwnerSigner, secure: bool = False) -> None:
        self.app = app
        self.signer = signer
        self.secure = secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        owner_id = owner_from_cookie_header(self.signer, header(scope, b"cookie"))
        new_cookie: str | None = None
        if (
            owner_id is None
            and str(scope["type"]) == "http"
            and scope.get("method") in SAFE_METHODS
            and cross_site(scope) is None
        ):
            owner_id = self.signer.new_owner_id()
            new_cookie = (
                f"{COOKIE_NAME}={self.signer.sign(owner_id)}; Path=/; Max-Age={COOKIE_MAX_AGE_S}; "
                f"HttpOnly; SameSite=Lax{'; Secure' if self.secure else ''}"
            )
        scope.setdefault("state", {})["owner_id"] = owner_id

        async def send_with_cookie(message: Message) -> None:
            if new_cookie and message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"set-cookie", new_cookie.encode("latin-1")))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def require_owner(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """A route guard: the request carries a visitor identity. Runs before the body is read."""
    if connection.scope.get("state", {}).get("owner_id") is None:
        # Identities come from page loads, never from a request that changes something: a
        # browser has one from the page it is on.
        raise Forbidden(
            "No visitor identity: open the app in your browser first (it sets a cookie), "
            "or send the cookie a GET request gave you."
        )
