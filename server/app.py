"""The Litestar app factory: settings, engines and services in; an ASGI app out.

Tests pass fakes for the engines (``llm=...``); production builds the real ones at start-up.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, Request, Response
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import HTTPException, ValidationException
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from server.ai.llm import ChatModel, OpenAIChatModel
from server.container import Services, build_services
from server.database import migrate
from server.edge import EdgeMiddleware
from server.errors import AppError
from server.feedback.notes import NOTES_CONVERSATION
from server.owner import OwnerMiddleware, OwnerSigner
from server.routes.api import SessionController
from server.routes.my_data import MyDataController
from server.routes.pages import PageController, static_files_router, template_config
from server.routes.voice import VoiceConnections, voice_socket
from server.services.quotas import SocketCaps
from server.settings import Settings
from server.voice.engines import SpeechEngines, load_speech_engines

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


def _unexpected_error(_: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    logger.exception("Unhandled error", exc_info=exc)
    return Response(
        error_body("internal_error", "Something went wrong on our side; nothing was lost."),
        status_code=HTTP_500_INTERNAL_SERVER_ERROR,
    )


@asynccontextmanager
async def _engines(app: Litestar) -> AsyncIterator[None]:
    """Migrate, then start the LLM (embedded unless a base URL is set) and build the services."""
    settings: Settings = app.state.settings
    llm: ChatModel | None = app.state.get("llm")
    embedded = None
    if settings.migrate_on_startup:
        await migrate()
    speech_loading = None
    if app.state.get("speech") is None and settings.load_speech_models:
        # Whisper/Piper/Silero load in worker threads while the LLM starts.
        speech_loading = asyncio.create_task(
            load_speech_engines(
                stt_model_dir=settings.stt_model_dir or None,
                stt_model=settings.stt_model,
                models_dir=settings.models_dir,
                stt_keep_fillers=settings.stt_keep_fillers,
                second_pass_model=settings.stt_second_pass_model
                if settings.stt_second_pass
                else None,
                turn_model=settings.turn_model != "off",
                stt_device=settings.stt_device,
                stt_compute_type=settings.stt_compute_type,
                stt_beam_size=settings.stt_beam_size,
                tts_voice_path=settings.tts_voice_path or None,
                cpu_threads=settings.llm_threads,
            )
        )
    if llm is None:
        if settings.embedded_llm:
            from server.ai.embedded import start_embedded_llm

            embedded = await start_embedded_llm(settings)
            llm = OpenAIChatModel(
                base_url=embedded.base_url,
                api_key="",
                model=settings.llm_profile,
                timeout_s=settings.llm_timeout_s,
                max_retries=settings.llm_max_retries,
                reply_timeout_s=settings.llm_reply_timeout_s,
                prefill=settings.llm_prefill,
                slots=embedded.slots,
                dedicated_slots=(NOTES_CONVERSATION,),
            )
        else:
            llm = OpenAIChatModel(
                base_url=settings.llm_base_url,
                api_key=settings.llm_api_key,
                model=settings.llm_model,
                timeout_s=settings.llm_timeout_s,
                max_retries=settings.llm_max_retries,
                reply_timeout_s=settings.llm_reply_timeout_s,
                prefill=settings.llm_prefill,
            )
    app.state.services = build_services(settings, llm)
    if speech_loading is not None:
        app.state.speech = await speech_loading
    app.state.voice_connections = VoiceConnections(
        SocketCaps(per_owner=settings.max_voice_per_owner, total=settings.max_voice_connections)
    )
    try:
        yield
    finally:
        if isinstance(llm, OpenAIChatModel) and app.state.get("llm") is None:
            await llm.aclose()
        if embedded is not None:
            embedded.stop()


def _provide_services(state: State) -> Services:
    services: Services = state.services
    return services


def _provide_owner(request: Request[Any, Any, Any]) -> str:
    # The API is guarded (``require_owner``). A page loaded by a newcomer from another site
    # gets no identity (``OwnerMiddleware``): it is shown as to a visitor who owns nothing.
    owner_id: str | None = request.state.owner_id
    return owner_id or ""


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
        dependencies={
            "services": Provide(_provide_services, sync_to_thread=False),
            "owner_id": Provide(_provide_owner, sync_to_thread=False),
        },
        middleware=[
            DefineMiddleware(EdgeMiddleware, allowed_hosts=settings.allowed_hosts),
            DefineMiddleware(OwnerMiddleware, signer=signer, secure=settings.secure_cookies),
        ],
        exception_handlers={
            AppError: _app_error,
            HTTPException: _http_error,
            Exception: _unexpected_error,
        },
        lifespan=[_engines],
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
