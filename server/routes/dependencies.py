"""What route handlers declare, by name (Litestar's dependency injection): the services of the
composition root (``server.container``) each on its own, the caller's owner id, and
``session``, the caller's own interview named by the path's ``session_id`` (a 404 for a
missing one and for someone else's alike)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath

from server.container import Services
from server.feedback.service import FeedbackService
from server.repositories.records import SessionRecord
from server.services.conversation import InterviewConversation
from server.services.corrections import CorrectionService
from server.services.interview import InterviewEngine
from server.services.recordings import RecordingService
from server.services.reports import ReportView
from server.services.sessions import SessionService
from server.settings import Settings
from server.voice.connections import VoiceConnections
from server.voice.engines import SpeechEngines


def _services(state: State) -> Services:
    services: Services = state.services
    return services


def provide_settings(state: State) -> Settings:
    return _services(state).settings


def provide_sessions(state: State) -> SessionService:
    return _services(state).sessions


def provide_interview(state: State) -> InterviewEngine:
    return _services(state).interview


def provide_feedback(state: State) -> FeedbackService:
    return _services(state).feedback


def provide_corrections(state: State) -> CorrectionService:
    return _services(state).corrections


def provide_recordings(state: State) -> RecordingService:
    return _services(state).recordings


def provide_speech(state: State) -> SpeechEngines | None:
    return _services(state).speech


def provide_voice_connections(state: State) -> VoiceConnections:
    return _services(state).voice_connections


def provide_conversations(state: State) -> Callable[[str, str], InterviewConversation]:
    """Interview (public id, owner id) as a voice session sees it (``Services.conversation``)."""
    return _services(state).conversation


def provide_owner(request: Request[Any, Any, Any]) -> str:
    # The API is guarded (``require_owner``). A page loaded by a newcomer from another site
    # gets no identity (``OwnerMiddleware``): it is shown as to a visitor who owns nothing.
    owner_id: str | None = request.state.owner_id
    return owner_id or ""


async def provide_session(
    sessions: NamedDependency[SessionService],
    owner_id: NamedDependency[str],
    session_id: FromPath[str],
) -> SessionRecord:
    return await sessions.get(session_id, owner_id)


def provide_report_view(
    session: NamedDependency[SessionRecord],
    sessions: NamedDependency[SessionService],
    feedback: NamedDependency[FeedbackService],
    recordings: NamedDependency[RecordingService],
    settings: NamedDependency[Settings],
) -> ReportView:
    return ReportView(session, sessions, feedback, recordings, settings)


def _sync(fn: Any) -> Provide:
    return Provide(fn, sync_to_thread=False)


DEPENDENCIES: dict[str, Provide] = {
    "settings": _sync(provide_settings),
    "sessions": _sync(provide_sessions),
    "interview": _sync(provide_interview),
    "feedback": _sync(provide_feedback),
    "corrections": _sync(provide_corrections),
    "recordings": _sync(provide_recordings),
    "speech": _sync(provide_speech),
    "voice_connections": _sync(provide_voice_connections),
    "conversations": _sync(provide_conversations),
    "owner_id": _sync(provide_owner),
    "session": Provide(provide_session),
    "report_view": _sync(provide_report_view),
}
