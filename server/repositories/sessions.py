"""Interview sessions and their messages: the only code that touches those Piccolo tables."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from models.tables import Feedback, InterviewSession, Message, Recording, VoiceLease
from server.errors import Conflict
from server.repositories.records import (
    Difficulty,
    InterviewMode,
    MessageRecord,
    RecordingRecord,
    RevisedBy,
    SessionRecord,
    SessionSummary,
)


def _now() -> datetime:
    return datetime.now(tz=UTC)


def _json(value: Any) -> Any:
    # Piccolo's JSON column returns a str on SQLite and PostgreSQL alike.
    return json.loads(value) if isinstance(value, str) else value


def _session(row: Mapping[str, Any]) -> SessionRecord:
    return SessionRecord(
        id=row["id"],
        public_id=row["public_id"],
        owner_id=row["owner_id"],
        job_title=row["job_title"],
        company_name=row["company_name"],
        cv_text=row["cv_text"],
        cv_filename=row["cv_filename"],
        job_description_text=row["job_description_text"],
        status=row["status"],
        question_target=row["question_target"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        record_audio=bool(row["record_audio"]),
        interview_mode=row.get("interview_mode") or "mixed",
        difficulty=row.get("difficulty") or "realistic",
    )


def _message(row: Mapping[str, Any]) -> MessageRecord:
    return MessageRecord(
        id=row["id"],
        role=row["role"],
        content=row["content"],
        question_number=row["question_number"],
        is_closing=bool(row["is_closing"]),
        audio_duration_ms=row["audio_duration_ms"],
        timings=_json(row["timings"]),
        interrupted=bool(row["interrupted"]),
        created_at=row["created_at"],
        original_content=row["original_content"],
        revised_by=row["revised_by"],
        skipped=bool(row.get("skipped", False)),
    )


class SessionRepository:
    async def create(
        self,
        *,
        public_id: str,
        owner_id: str,
        job_title: str,
        company_name: str,
        cv_text: str,
        cv_filename: str | None,
        job_description_text: str,
        question_target: int,
        interview_mode: InterviewMode = "mixed",
        difficulty: Difficulty = "realistic",
    ) -> SessionRecord:
        now = _now()
        row = InterviewSession(
            public_id=public_id,
            owner_id=owner_id,
            job_title=job_title,
            company_name=company_name,
            cv_text=cv_text,
            cv_filename=cv_filename,
            job_description_text=job_description_text,
            status="in_progress",
            question_target=question_target,
            interview_mode=interview_mode,
            difficulty=difficulty,
            created_at=now,
            updated_at=now,
        )
        await row.save()
        return _session(row.to_dict())

    async def get_owned(self, public_id: str, owner_id: str) -> SessionRecord | None:
        row = (
            await InterviewSession.select()
            .where(
                (InterviewSession.public_id == public_id) & (InterviewSession.owner_id == owner_id)
            )
            .first()
        )
        return _session(row) if row else None

    async def count_owned(self, owner_id: str) -> int:
        return int(await InterviewSession.count().where(InterviewSession.owner_id == owner_id))

    async def list_owned(self, owner_id: str) -> list[SessionSummary]:
        rows = (
            await InterviewSession.select(
                InterviewSession.id,
                InterviewSession.public_id,
                InterviewSession.job_title,
                InterviewSession.company_name,
                InterviewSession.status,
                InterviewSession.question_target,
                InterviewSession.created_at,
                InterviewSession.updated_at,
            )
            .where(InterviewSession.owner_id == owner_id)
            .order_by(InterviewSession.created_at, ascending=False)
            .order_by(InterviewSession.id, ascending=False)
        )
        if not rows:
            return []
        ids = [r["id"] for r in rows]
        scores = {
            r["session"]: r["interview_score"]
            for r in await Feedback.select(Feedback.session, Feedback.interview_score).where(
                Feedback.session.is_in(ids)
            )
        }
        asked: dict[int, int] = {}
        for r in await Message.select(Message.session, Message.question_number).where(
            Message.session.is_in(ids) & Message.question_number.is_not_null()
        ):
            asked[r["session"]] = max(asked.get(r["session"], 0), r["question_number"])
        return [
            SessionSummary(
                public_id=r["public_id"],
                job_title=r["job_title"],
                company_name=r["company_name"],
                status=r["status"],
                question_target=r["question_target"],
                questions_asked=asked.get(r["id"], 0),
                score=scores.get(r["id"]),
                created_at=r["created_at"],
                updated_at=r["updated_at"],
            )
            for r in rows
        ]

    async def set_record_audio(self, session_id: int, record_audio: bool) -> None:
        await InterviewSession.update(
            {InterviewSession.record_audio: record_audio, InterviewSession.updated_at: _now()}
        ).where(InterviewSession.id == session_id)

    async def set_status(self, session_id: int, status: str) -> None:
        await InterviewSession.update(
            {InterviewSession.status: status, InterviewSession.updated_at: _now()}
        ).where(InterviewSession.id == session_id)

    async def delete(self, session_id: int) -> None:
        # Explicit child deletes so SQLite without foreign-key enforcement loses nothing either.
        async with InterviewSession._meta.db.transaction():
            await Feedback.delete().where(Feedback.session == session_id)
            await Recording.delete().where(Recording.session == session_id)
            await Message.delete().where(Message.session == session_id)
            await VoiceLease.delete().where(VoiceLease.session == session_id)
            await InterviewSession.delete().where(InterviewSession.id == session_id)


def _is_unique_violation(error: Exception) -> bool:
    # sqlite3.IntegrityError, asyncpg's UniqueViolationError: by name, so that neither driver
    # has to be importable.
    return type(error).__name__ in {"IntegrityError", "UniqueViolationError"}


class MessageRepository:
    async def add(
        self,
        session_id: int,
        *,
        position: int,
        role: str,
        content: str,
        question_number: int | None = None,
        is_closing: bool = False,
        audio_duration_ms: int | None = None,
        timings: Mapping[str, Any] | None = None,
        interrupted: bool = False,
        skipped: bool = False,
    ) -> MessageRecord:
        """Store a message at ``position`` in the session's conversation: the number of
        messages its writer read. Raises ``Conflict`` if another writer (a request, or another
        app instance) has stored one there first: the writer's view of the interview is out
        of date, and nothing is stored twice."""
        row = Message(
            session=session_id,
            position=position,
            role=role,
            content=content,
            question_number=question_number,
            is_closing=is_closing,
            audio_duration_ms=audio_duration_ms,
            timings=json.dumps(dict(timings)) if timings is not None else None,
            interrupted=interrupted,
            skipped=skipped,
            created_at=_now(),
        )
        try:
            await row.save()
        except Exception as error:
            if not _is_unique_violation(error):
                raise
            raise Conflict(
                "The interview moved on in another window or request; reload it to go on."
            ) from None
        await InterviewSession.update({InterviewSession.updated_at: _now()}).where(
            InterviewSession.id == session_id
        )
        data = row.to_dict()
        data["session"] = session_id
        return _message(data)

    async def append_content(self, message_id: int, text: str) -> None:
        row = await Message.select(Message.content).where(Message.id == message_id).first()
        if row is not None:
            await Message.update({Message.content: f"{row['content']} {text}"}).where(
                Message.id == message_id
            )

    async def list_for_session(self, session_id: int) -> list[MessageRecord]:
        rows = await Message.select().where(Message.session == session_id).order_by(Message.id)
        return [_message(r) for r in rows]

    async def revise(self, message_id: int, text: str, *, revised_by: RevisedBy) -> None:
        """Replace an answer's text, keeping the text as first stored in ``original_content``."""
        row = (
            await Message.select(Message.content, Message.original_content)
            .where(Message.id == message_id)
            .first()
        )
        if row is None:
            return
        original = (
            row["original_content"] if row["original_content"] is not None else row["content"]
        )
        await Message.update(
            {
                Message.content: text,
                Message.original_content: original,
                Message.revised_by: revised_by,
            }
        ).where(Message.id == message_id)

    async def restore_original(self, message_id: int) -> None:
        """Put an answer back as first stored (its text set back to ``original_content``)."""
        row = await Message.select(Message.original_content).where(Message.id == message_id).first()
        if row is None or row["original_content"] is None:
            return
        await Message.update(
            {
                Message.content: row["original_content"],
                Message.original_content: None,
                Message.revised_by: None,
            }
        ).where(Message.id == message_id)


class RecordingRepository:
    """Answer audio. Callers check ownership through the session first."""

    async def save(
        self, session_id: int, message_id: int, *, sample_rate_hz: int, pcm: bytes
    ) -> None:
        """Store (or, for an answer the candidate went on with, replace) one answer's audio."""
        async with Recording._meta.db.transaction():
            await Recording.delete().where(Recording.message == message_id)
            await Recording(
                session=session_id,
                message=message_id,
                sample_rate_hz=sample_rate_hz,
                pcm=pcm,
                created_at=_now(),
            ).save()

    async def get(self, session_id: int, message_id: int) -> RecordingRecord | None:
        row = (
            await Recording.select(Recording.message, Recording.sample_rate_hz, Recording.pcm)
            .where((Recording.session == session_id) & (Recording.message == message_id))
            .first()
        )
        if row is None:
            return None
        return RecordingRecord(
            message_id=row["message"], sample_rate_hz=row["sample_rate_hz"], pcm=bytes(row["pcm"])
        )

    async def message_ids(self, session_id: int) -> set[int]:
        rows = await Recording.select(Recording.message).where(Recording.session == session_id)
        return {r["message"] for r in rows}

    async def delete_for_session(self, session_id: int) -> None:
        await Recording.delete().where(Recording.session == session_id)
