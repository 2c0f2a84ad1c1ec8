"""Stored feedback reports: one per session."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from models.tables import Feedback
from server.repositories.records import FeedbackRecord


def _load(value: Any) -> Any:
    # Piccolo's JSON column returns a str on SQLite and PostgreSQL alike.
    return json.loads(value) if isinstance(value, str) else value


def _record(row: Mapping[str, Any]) -> FeedbackRecord:
    return FeedbackRecord(
        id=row["id"],
        session_id=row["session"],
        interview_score=row["interview_score"],
        strengths=list(_load(row["strengths"])),
        weaknesses=list(_load(row["weaknesses"])),
        cv_improvements=list(_load(row["cv_improvements"])),
        created_at=row["created_at"],
        rubric_score=row["rubric_score"],
        sub_scores=_load(row["sub_scores"]),
        evidence=_load(row["evidence"]),
        citations=_load(row["citations"]),
        score_adjustment=row["score_adjustment"] or 0,
        adjustment_reason=row["adjustment_reason"],
        written_by=row["written_by"],
        timings=_load(row["timings"]),
        coaching=_load(row["coaching"]),
        answers_sha256=row["answers_sha256"],
    )


def _dump(value: Any) -> str | None:
    return None if value is None else json.dumps(value)


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
        rubric_score: int | None = None,
        sub_scores: dict[str, Any] | None = None,
        evidence: dict[str, Any] | None = None,
        citations: dict[str, Any] | None = None,
        score_adjustment: int = 0,
        adjustment_reason: str | None = None,
        written_by: str = "model",
        timings: dict[str, Any] | None = None,
        coaching: list[dict[str, Any]] | None = None,
        answers_sha256: str | None = None,
        replace: bool = False,
    ) -> FeedbackRecord:
        """Store the session's report; ``replace``: in place of the one stored (in one
        transaction, so the old report stays readable until the new one is there)."""
        row = Feedback(
            session=session_id,
            interview_score=interview_score,
            strengths=json.dumps(strengths),
            weaknesses=json.dumps(weaknesses),
            cv_improvements=json.dumps(cv_improvements),
            created_at=datetime.now(tz=UTC),
            rubric_score=rubric_score,
            sub_scores=_dump(sub_scores),
            evidence=_dump(evidence),
            citations=_dump(citations),
            score_adjustment=score_adjustment,
            adjustment_reason=adjustment_reason,
            written_by=written_by,
            timings=_dump(timings),
            coaching=_dump(coaching),
            answers_sha256=answers_sha256,
        )
        async with Feedback._meta.db.transaction():
            if replace:
                await Feedback.delete().where(Feedback.session == session_id)
            await row.save()
        stored = await self.get_for_session(session_id)
        assert stored is not None
        return stored
