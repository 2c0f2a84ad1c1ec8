"""The feedback report: generated once per finished interview, validated, and stored."""

from __future__ import annotations

import asyncio
import logging
import weakref
from dataclasses import dataclass
from typing import Any

from server.ai.llm import ChatModel
from server.errors import AIServiceError, ValidationError
from server.repositories.feedback import FeedbackRepository
from server.repositories.records import FeedbackRecord
from server.repositories.sessions import MessageRepository, SessionRepository
from server.services.prompts import feedback_messages
from server.services.sessions import SessionService

logger = logging.getLogger(__name__)

REQUIRED_KEYS = ("score", "strengths", "weaknesses", "cv_improvements")
MIN_ITEMS, MAX_ITEMS = 3, 5
MAX_ATTEMPTS = 3  # the first try plus two retries
FEEDBACK_MAX_TOKENS = 700

_ITEMS = {
    "type": "array",
    "items": {"type": "string"},
    "minItems": MIN_ITEMS,
    "maxItems": MAX_ITEMS,
}
FEEDBACK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "score": {"type": "integer", "minimum": 1, "maximum": 10},
        "strengths": _ITEMS,
        "weaknesses": _ITEMS,
        "cv_improvements": _ITEMS,
    },
    "required": list(REQUIRED_KEYS),
    "additionalProperties": False,
}


@dataclass(frozen=True)
class ValidFeedback:
    score: int
    strengths: list[str]
    weaknesses: list[str]
    cv_improvements: list[str]


def _items(data: dict[str, Any], key: str, label: str) -> list[str]:
    value = data[key]
    if isinstance(value, str):
        # The reference stored sections as text; accept a bulleted string too.
        value = [line.strip(" -•*\t") for line in value.splitlines()]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise AIServiceError(f"Feedback {key} must be a list of strings.")
    items = [" ".join(v.split()) for v in value if v.strip()]
    if not MIN_ITEMS <= len(items) <= MAX_ITEMS:
        raise AIServiceError(f"Feedback needs {MIN_ITEMS}–{MAX_ITEMS} {label}, got {len(items)}.")
    return items


def validate_feedback(data: Any) -> ValidFeedback:
    """The reference's contract: every key present, an int score in 1..10, 3–5 items a section."""
    if not isinstance(data, dict):
        raise AIServiceError(f"Feedback must be a JSON object, got {type(data).__name__}.")
    missing = set(REQUIRED_KEYS) - data.keys()
    if missing:
        raise AIServiceError(f"Feedback missing keys: {sorted(missing)}")
    score = data["score"]
    # bool is a subclass of int: True must not pass as a score of 1.
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 10:
        raise AIServiceError(f"Invalid score: {score!r}")
    return ValidFeedback(
        score=score,
        strengths=_items(data, "strengths", "strengths"),
        weaknesses=_items(data, "weaknesses", "areas to improve"),
        cv_improvements=_items(data, "cv_improvements", "CV suggestions"),
    )


class FeedbackService:
    def __init__(
        self,
        llm: ChatModel,
        sessions: SessionService,
        session_repo: SessionRepository,
        message_repo: MessageRepository,
        feedback_repo: FeedbackRepository,
    ) -> None:
        self.llm = llm
        self.sessions = sessions
        self.session_repo = session_repo
        self.message_repo = message_repo
        self.feedback_repo = feedback_repo
        # One generation per session at a time: a double click must not cost two model runs.
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()

    async def get_feedback(self, public_id: str, owner_id: str) -> FeedbackRecord | None:
        session = await self.sessions.get(public_id, owner_id)
        return await self.feedback_repo.get_for_session(session.id)

    async def generate_feedback(self, public_id: str, owner_id: str) -> FeedbackRecord:
        """The stored report, generating it first if there is none. Ends the interview."""
        session = await self.sessions.get(public_id, owner_id)
        lock = self._locks.setdefault(session.id, asyncio.Lock())
        async with lock:
            existing = await self.feedback_repo.get_for_session(session.id)
            if existing:
                return existing
            history = await self.message_repo.list_for_session(session.id)
            if not any(m.role == "user" for m in history):
                raise ValidationError("Cannot generate feedback for an empty interview.")
            if session.status != "completed":
                await self.session_repo.set_status(session.id, "completed")

            prompt = feedback_messages(session, history)
            last_error: AIServiceError | None = None
            for attempt in range(1, MAX_ATTEMPTS + 1):
                try:
                    raw = await self.llm.complete_json(
                        prompt,
                        schema_name="interview_feedback",
                        schema=FEEDBACK_SCHEMA,
                        max_tokens=FEEDBACK_MAX_TOKENS,
                    )
                    valid = validate_feedback(raw)
                    break
                except AIServiceError as err:
                    last_error = err
                    logger.warning(
                        "session %s: feedback attempt %d failed: %s",
                        public_id,
                        attempt,
                        err.message,
                    )
            else:
                raise AIServiceError(
                    f"Could not generate valid feedback after {MAX_ATTEMPTS} attempts "
                    f"({last_error.message if last_error else 'unknown error'}). "
                    "The interview is saved; try again."
                )
            record = await self.feedback_repo.create(
                session.id,
                interview_score=valid.score,
                strengths=valid.strengths,
                weaknesses=valid.weaknesses,
                cv_improvements=valid.cv_improvements,
            )
            logger.info("session %s: feedback stored (score %d)", public_id, valid.score)
            return record
