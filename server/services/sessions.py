"""Creating, finding and deleting interview sessions, always on behalf of their owner."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from server.errors import NotFound, TooManyRequests, ValidationError
from server.repositories.records import (
    Difficulty,
    InterviewMode,
    MessageRecord,
    SessionRecord,
    SessionSummary,
)
from server.repositories.sessions import MessageRepository, SessionRepository
from server.services.documents import ParseLimits, normalize_text, read_cv
from server.services.plans import DEFAULT_DIFFICULTY, DEFAULT_MODE, DIFFICULTIES, MODES
from server.services.quotas import RateWindow
from server.settings import Settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class NewSession:
    job_title: str
    company_name: str
    job_description: str
    question_count: int | None = None
    cv_text: str | None = None
    cv_filename: str | None = None
    cv_file: bytes | None = None
    interview_mode: str | None = None  # one of plans.MODES (default: mixed)
    difficulty: str | None = None  # one of plans.DIFFICULTIES (default: realistic)


class SessionService:
    def __init__(
        self,
        settings: Settings,
        sessions: SessionRepository,
        messages: MessageRepository,
        *,
        on_delete: Callable[[int], None] | None = None,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.messages = messages
        self.on_delete = on_delete
        """Called with the session's id once it is deleted (to drop what is held in memory)."""
        self._new_sessions = RateWindow(settings.new_sessions_per_minute, 60.0)

    async def create(self, owner_id: str, new: NewSession) -> SessionRecord:
        """Validate everything first, then store once: nothing is ever half-saved."""
        s = self.settings
        # Before the CV is read: reading one is the costly part.
        self._new_sessions.check(owner_id, "new interviews")
        if await self.sessions.count_owned(owner_id) >= s.max_sessions_per_owner:
            raise TooManyRequests(
                f"You have {s.max_sessions_per_owner} interviews, the most one visitor can keep; "
                "delete some to start another."
            )
        errors: dict[str, str] = {}
        job_title = " ".join(new.job_title.split())
        company = " ".join(new.company_name.split())
        if not job_title:
            errors["job_title"] = "Enter the job title."
        elif len(job_title) > 200:
            errors["job_title"] = "The job title is longer than 200 characters."
        if not company:
            errors["company_name"] = "Enter the company name."
        elif len(company) > 200:
            errors["company_name"] = "The company name is longer than 200 characters."
        count = new.question_count if new.question_count is not None else s.default_questions
        if not s.min_questions <= count <= s.max_questions:
            errors["question_count"] = (
                f"The number of questions must be between {s.min_questions} and {s.max_questions}."
            )
        mode = new.interview_mode or DEFAULT_MODE
        if mode not in MODES:
            errors["interview_mode"] = f"Choose the kind of interview: {', '.join(MODES)}."
        difficulty = new.difficulty or DEFAULT_DIFFICULTY
        if difficulty not in DIFFICULTIES:
            errors["difficulty"] = f"Choose how hard it is: {', '.join(DIFFICULTIES)}."
        job_description = normalize_text(new.job_description or "")
        if not job_description:
            errors["job_description"] = "Paste the job description."
        elif len(job_description) > s.max_text_chars:
            errors["job_description"] = (
                f"The job description is longer than {s.max_text_chars} characters."
            )

        if new.cv_file is not None and new.cv_text and new.cv_text.strip():
            errors["cv"] = "Upload a CV file or paste its text, not both."
            cv_text = ""
        elif new.cv_file is not None:
            # Unsupported/unreadable/over-size files raise their own 4xx errors here.
            cv_text = await read_cv(
                new.cv_filename or "cv",
                new.cv_file,
                max_bytes=s.max_upload_bytes,
                limits=ParseLimits(max_text_chars=s.max_text_chars + 1),
            )
        else:
            cv_text = normalize_text(new.cv_text or "")
        if "cv" not in errors:
            if not cv_text:
                errors["cv"] = "Upload your CV (PDF, DOCX or TXT) or paste its text."
            elif len(cv_text) < s.min_cv_chars:
                errors["cv"] = (
                    f"The CV text is only {len(cv_text)} characters; at least "
                    f"{s.min_cv_chars} are needed (a scanned PDF has no text to read)."
                )
            elif len(cv_text) > s.max_text_chars:
                errors["cv"] = f"The CV text is longer than {s.max_text_chars} characters."
        if errors:
            raise ValidationError(next(iter(errors.values())), details={"fields": errors})

        record = await self.sessions.create(
            public_id=secrets.token_urlsafe(16),
            owner_id=owner_id,
            job_title=job_title,
            company_name=company,
            cv_text=cv_text,
            cv_filename=new.cv_filename if new.cv_file is not None else None,
            job_description_text=job_description,
            question_target=count,
            interview_mode=cast(InterviewMode, mode),
            difficulty=cast(Difficulty, difficulty),
        )
        logger.info("session %s: created (%d questions)", record.public_id, count)
        return record

    async def get(self, public_id: str, owner_id: str) -> SessionRecord:
        """The owner's session; anyone else's answers exactly like a missing one."""
        record = await self.sessions.get_owned(public_id, owner_id)
        if record is None:
            raise NotFound("No such interview session.")
        return record

    async def list_owned(self, owner_id: str) -> list[SessionSummary]:
        return await self.sessions.list_owned(owner_id)

    async def messages_of(self, session: SessionRecord) -> list[MessageRecord]:
        return await self.messages.list_for_session(session.id)

    async def delete(self, public_id: str, owner_id: str) -> None:
        record = await self.get(public_id, owner_id)
        await self.sessions.delete(record.id)
        if self.on_delete is not None:
            self.on_delete(record.id)
        logger.info("session %s: deleted", public_id)
