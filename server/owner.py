"""Anonymous owner identity: a random id in a signed, HttpOnly, SameSite cookie.

There is no login yet; whoever holds the cookie owns the sessions made with it. The
signature stops a visitor from claiming another owner's id by editing the cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from http.cookies import SimpleCookie

from litestar.types import ASGIApp, Message, Receive, Scope, Send

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


def owner_from_cookie_header(signer: OwnerSigner, header: str | None) -> str | None:
    if not header:
        return None
    cookie = SimpleCookie()
    try:
        cookie.load(header)
    except Exception:  # a malformed Cookie header means "no identity", not an error page
        return None
    morsel = cookie.get(COOKIE_NAME)
    return signer.verify(morsel.value) if morsel else None


class OwnerMiddleware:
    """Puts ``owner_id`` into ``scope["state"]``; issues a new cookie to newcomers (HTTP only).

    A WebSocket without a valid cookie gets no identity (``owner_id`` is None) and so owns
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
        header = next(
            (v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"cookie"), None
        )
        owner_id = owner_from_cookie_header(self.signer, header)
        new_cookie: str | None = None
        if owner_id is None and str(scope["type"]) == "http":
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
