"""Wires repositories, services and engines together; the app factory builds one of these."""

from __future__ import annotations

from dataclasses import dataclass

from server.ai.llm import ChatModel
from server.repositories.feedback import FeedbackRepository
from server.repositories.sessions import MessageRepository, SessionRepository
from server.services.activity import InterviewActivity
from server.services.feedback import FeedbackService
from server.services.interview import InterviewEngine
from server.services.notes import AnswerNotes
from server.services.sessions import SessionService
from server.settings import Settings


@dataclass(frozen=True)
class Services:
    settings: Settings
    llm: ChatModel
    sessions: SessionService
    interview: InterviewEngine
    feedback: FeedbackService
    notes: AnswerNotes


def build_services(settings: Settings, llm: ChatModel) -> Services:
    session_repo = SessionRepository()
    message_repo = MessageRepository()
    activity = InterviewActivity()
    notes = AnswerNotes(llm, activity)
    sessions = SessionService(settings, session_repo, message_repo, on_delete=notes.forget)
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
        ),
        feedback=FeedbackService(
            llm,
            sessions,
            session_repo,
            message_repo,
            FeedbackRepository(),
            notes,
            model_may_adjust_score=settings.llm_may_adjust_score,
        ),
        notes=notes,
    )
