"""The app's edge: which requests are let in, and the headers every response carries.

One ASGI middleware, outermost, for what must hold before any route runs:

- **Hosts.** Only the configured host names (``VIVA_ALLOWED_HOSTS``): a DNS-rebinding page
  reaches the server under its own name and is refused.
- **Cross-site requests.** A state-changing request (any method but GET/HEAD/OPTIONS) and every
  WebSocket upgrade must come from Viva's own pages: a browser says where a request comes from
  (``Sec-Fetch-Site``, ``Origin``), and anything cross-site is refused with 403. Clients that
  are not browsers send neither header and are let through: they cannot carry a visitor's
  cookie. JSON bodies must say so (``application/json``): a cross-site form can post
  ``text/plain`` without a CORS preflight.
- **Security headers** on every HTTP response: a Content-Security-Policy with no inline script
  and no framing, ``nosniff``, a same-origin referrer, a microphone for this origin only.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from urllib.parse import urlsplit

from litestar.types import ASGIApp, HTTPResponseStartEvent, Message, Receive, Scope, Send

logger = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Bodies the API accepts on a state-changing request: JSON, or the set-up form's upload.
BODY_TYPES = ("application/json", "multipart/form-data", "application/x-www-form-urlencoded")

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "worker-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"microphone=(self), camera=(), geolocation=()"),
)


def header(scope: Scope, name: bytes) -> str | None:
    """A request header, decoded as Latin-1 (what HTTP allows), or None."""
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def host_name(host: str) -> str:
    """``example.org:8000`` → ``example.org``; ``[::1]:8000`` → ``::1``; lower-case."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def cross_site(scope: Scope) -> str | None:
    """Why this request comes from another site, or None when it does not (or says nothing)."""
    fetch_site = header(scope, b"sec-fetch-site")
    if fetch_site is not None and fetch_site.lower() not in ("same-origin", "none"):
        return f"Sec-Fetch-Site: {fetch_site}"
    origin = header(scope, b"origin")
    if origin is None:
        return None
    own = header(scope, b"host") or ""
    parts = urlsplit(origin)
    if origin == "null" or not parts.netloc or parts.netloc.lower() != own.lower():
        return "Origin is not this site"
    return None


class EdgeMiddleware:
    def __init__(self, app: ASGIApp, allowed_hosts: Iterable[str]) -> None:
        self.app = app
        self.allowed_hosts = frozenset(host_name(h) for h in allowed_hosts)
        self.any_host = "*" in self.allowed_hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = str(scope["type"])
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        host = header(scope, b"host")
        if not self.any_host and (host is None or host_name(host) not in self.allowed_hosts):
            logger.warning("refused a request for host %r", host)
            await _refuse(scope, send, 400, "bad_host", "This server does not answer to that host.")
            return
        unsafe = kind == "websocket" or scope.get("method", "GET") not in SAFE_METHODS
        if unsafe and (why := cross_site(scope)) is not None:
            logger.warning("refused a cross-site %s to %s (%s)", kind, scope.get("path"), why)
            await _refuse(
                scope, send, 403, "cross_site", "Requests from other sites are not accepted."
            )
            return
        if unsafe and kind == "http" and not _body_type_ok(scope):
            await _refuse(
                scope,
                send,
                415,
                "unsupported_media_type",
                "Send the request body as application/json (or the set-up form as "
                "multipart/form-data).",
            )
            return
        if kind == "websocket":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {bytes(k).lower() for k, _ in headers}
                headers += [(k, v) for k, v in SECURITY_HEADERS if k not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _body_type_ok(scope: Scope) -> bool:
    """A state-changing request with a body names one of ``BODY_TYPES``."""
    length = header(scope, b"content-length")
    chunked = (header(scope, b"transfer-encoding") or "").lower() == "chunked"
    if not chunked and (length is None or length.strip() in ("", "0")):
        return True
    content_type = (header(scope, b"content-type") or "").split(";", 1)[0].strip().lower()
    return content_type in BODY_TYPES


async def _refuse(scope: Scope, send: Send, status: int, code: str, message: str) -> None:
    if str(scope["type"]) == "websocket":
        # Before the handshake is accepted, a close is an HTTP 403 to the browser.
        await send({"type": "websocket.close", "code": 1008, "reason": message[:120]})
        return
    body = json.dumps({"error": {"code": code, "message": message, "details": {}}}).encode()
    start: HTTPResponseStartEvent = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            *SECURITY_HEADERS,
        ],
    }
    await send(start)
    await send({"type": "http.response.body", "body": body, "more_body": False})
