"""Wires repositories, services and engines together; the app factory builds one of these."""

from __future__ import annotations

from dataclasses import dataclass

from server.ai.llm import ChatModel
from server.feedback.notes import AnswerNotes
from server.feedback.service import FeedbackService
from server.repositories.feedback import FeedbackRepository
from server.repositories.sessions import (
    MessageRepository,
    RecordingRepository,
    SessionRepository,
)
from server.services.activity import InterviewActivity
from server.services.corrections import CorrectionService
from server.services.interview import InterviewEngine
from server.services.recordings import RecordingService
from server.services.revisions import AnswerRevisions
from server.services.sessions import SessionService
from server.settings import Settings


@dataclass(frozen=True)
class Services:
    settings: Settings
    llm: ChatModel
    sessions: SessionService
    interview: InterviewEngine
    feedback: FeedbackService
    corrections: CorrectionService
    notes: AnswerNotes
    recordings: RecordingService
    revisions: AnswerRevisions


def build_services(settings: Settings, llm: ChatModel) -> Services:
    session_repo = SessionRepository()
    message_repo = MessageRepository()
    activity = InterviewActivity()
    notes = AnswerNotes(llm, activity)
    sessions = SessionService(settings, session_repo, message_repo, on_delete=notes.forget)
    feedback = FeedbackService(
        llm,
        sessions,
        session_repo,
        message_repo,
        FeedbackRepository(),
        notes,
        model_may_adjust_score=settings.llm_may_adjust_score,
    )
    return Services(
        settings=settings,
        llm=llm,
        sessions=sessions,
        interview=InterviewEngine(
            llm,
            session_repo,
            message_repo,
            after_reply=notes.schedule if settings.notes_during_interview else None,
            activity=activity,
            first_words_in_turn=settings.llm_first_words_in_turn,
            first_words_wait_s=settings.llm_reply_timeout_s,
            acknowledge_answers=settings.acknowledge_answers,
        ),
        feedback=feedback,
        corrections=CorrectionService(
            sessions, message_repo, feedback, max_answer_chars=settings.max_answer_chars
        ),
        notes=notes,
        recordings=RecordingService(settings, sessions, session_repo, RecordingRepository()),
        revisions=AnswerRevisions(
            message_repo,
            FeedbackRepository(),
            notes if settings.notes_during_interview else None,
        ),
    )
