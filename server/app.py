"""The Litestar app factory: settings, engines and services in; an ASGI app out.

Tests pass fakes for the engines (``llm=...``); production builds the real ones at start-up.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, Request, Response
from litestar.datastructures import State
from litestar.exceptions import HTTPException, ValidationException
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.status_codes import HTTP_400_BAD_REQUEST, HTTP_500_INTERNAL_SERVER_ERROR

from server.ai.llm import ChatModel
from server.container import open_container
from server.edge import EdgeMiddleware
from server.errors import AppError
from server.owner import OwnerMiddleware, OwnerSigner
from server.routes.api import SessionController
from server.routes.dependencies import DEPENDENCIES
from server.routes.my_data import MyDataController
from server.routes.pages import PageController, static_files_router, template_config
from server.routes.voice import voice_socket
from server.settings import Settings
from server.voice.engines import SpeechEngines

logger = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    416: "range_not_satisfiable",
    422: "validation_error",
    429: "too_many_requests",
}


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    """The one JSON error shape of the API."""
    return {"error": {"code": code, "message": message, "details": details or {}}}


def _app_error(_: Request[Any, Any, Any], exc: AppError) -> Response[Any]:
    if exc.status_code >= 500:
        logger.warning("%s: %s", exc.code, exc.message)
    return Response(
        error_body(exc.code, exc.message, exc.details),
        status_code=exc.status_code,
        headers=exc.headers or None,
    )


def _http_error(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    details: Any = None
    if isinstance(exc, ValidationException) and exc.extra:
        details = {"fields": exc.extra}
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    return Response(
        error_body(code, exc.detail, details), status_code=exc.status_code, headers=exc.headers
    )


def _undecodable(_: Request[Any, Any, Any], exc: UnicodeDecodeError) -> Response[Any]:
    # Litestar decodes a multipart form's fields as UTF-8 before any handler runs.
    logger.info("request refused: text that is not UTF-8 (%s)", exc.reason)
    return Response(
        error_body("bad_request", "A form field is not valid text (UTF-8); nothing was stored."),
        status_code=HTTP_400_BAD_REQUEST,
    )


def _unexpected_error(_: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    logger.exception("Unhandled error", exc_info=exc)
    return Response(
        error_body("internal_error", "Something went wrong on our side; nothing was lost."),
        status_code=HTTP_500_INTERNAL_SERVER_ERROR,
    )


@asynccontextmanager
async def _container(app: Litestar) -> AsyncIterator[None]:
    """The composition root (``server.container``), open while the app serves."""
    async with open_container(
        app.state.settings, llm=app.state.get("llm"), speech=app.state.get("speech")
    ) as services:
        app.state.services = services
        yield


def create_app(
    settings: Settings | None = None,
    *,
    llm: ChatModel | None = None,
    speech: SpeechEngines | None = None,
) -> Litestar:
    """The app. ``llm`` and ``speech`` replace the real engines (tests pass fakes)."""
    settings = settings or Settings.from_env()
    signer = OwnerSigner(settings.ensure_secret_key())
    return Litestar(
        route_handlers=[
            SessionController,
            MyDataController,
            PageController,
            voice_socket,
            static_files_router(),
        ],
        template_config=template_config(),
        dependencies=DEPENDENCIES,
        middleware=[
            DefineMiddleware(EdgeMiddleware, allowed_hosts=settings.allowed_hosts),
            DefineMiddleware(OwnerMiddleware, signer=signer, secure=settings.secure_cookies),
        ],
        exception_handlers={
            AppError: _app_error,
            HTTPException: _http_error,
            UnicodeDecodeError: _undecodable,
            Exception: _unexpected_error,
        },
        lifespan=[_container],
        state=State({"settings": settings, "llm": llm, "speech": speech}),
        request_max_body_size=settings.max_upload_bytes + 1024 * 1024,
        openapi_config=OpenAPIConfig(
            title="Viva",
            version="1.0.0",
            description="Voice-first interview rehearsal: sessions, interviewer, feedback.",
            path="/api/schema",
        ),
        # Logging is configured once by the entry point (``python -m server``), not per app.
        logging_config=None,
        debug=False,
    )
