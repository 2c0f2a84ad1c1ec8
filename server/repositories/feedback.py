"""Stored feedback reports: one per session."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from models.tables import Feedback
from server.repositories.records import FeedbackRecord


def _record(row: Mapping[str, Any]) -> FeedbackRecord:
    def as_list(value: Any) -> list[str]:
        return list(json.loads(value) if isinstance(value, str) else value)

    return FeedbackRecord(
        id=row["id"],
        session_id=row["session"],
        interview_score=row["interview_score"],
        strengths=as_list(row["strengths"]),
        weaknesses=as_list(row["weaknesses"]),
        cv_improvements=as_list(row["cv_improvements"]),
        created_at=row["created_at"],
    )


class FeedbackRepository:
    async def get_for_session(self, session_id: int) -> FeedbackRecord | None:
        row = await Feedback.select().where(Feedback.session == session_id).first()
        return _record(row) if row else None

    async def create(
        self,
        session_id: int,
        *,
        interview_score: int,
        strengths: list[str],
        weaknesses: list[str],
        cv_improvements: list[str],
    ) -> FeedbackRecord:
        row = Feedback(
            session=session_id,
            interview_score=interview_score,
            strengths=json.dumps(strengths),
            weaknesses=json.dumps(weaknesses),
            cv_improvements=json.dumps(cv_improvements),
            created_at=datetime.now(tz=UTC),
        )
        await row.save()
        data = row.to_dict()
        data["session"] = session_id
        return _record(data)
