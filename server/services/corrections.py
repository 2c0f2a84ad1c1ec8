"""The candidate's corrections to the text of their own answers (the candidate has the last word).

The text as first stored is kept (``original_content``, set once), so a correction can be
shown as one and undone. A stored report that a correction contradicts is not changed or
removed: it is out of date from then on (``feedback.service.is_out_of_date``), says so, and
``POST …/feedback`` writes it again from the corrected transcript.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from server.errors import NotFound, ValidationError
from server.feedback.service import FeedbackService
from server.repositories.records import MessageRecord
from server.repositories.sessions import MessageRepository
from server.services.sessions import SessionService

logger = logging.getLogger(__name__)

ReportState = Literal["none", "current", "out_of_date"]


@dataclass(frozen=True)
class Correction:
    message: MessageRecord
    answer_number: int
    """The answer's place among the candidate's answers, from 1 (as the report counts them)."""
    changed: bool
    """False when the text was already what was sent: nothing was stored."""
    report: ReportState
    """The stored report after the correction: none yet, still current, or out of date."""


class CorrectionService:
    def __init__(
        self,
        sessions: SessionService,
        messages: MessageRepository,
        feedback: FeedbackService,
        *,
        max_answer_chars: int,
    ) -> None:
        self.sessions = sessions
        self.messages = messages
        self.feedback = feedback
        self.max_answer_chars = max_answer_chars

    async def correct_answer(
        self, public_id: str, owner_id: str, message_id: int, text: str
    ) -> Correction:
        """Replace the text of one of the owner's answers with ``text``.

        Only the candidate's own answers can be corrected, never the interviewer's messages.
        Sending the original text back undoes the correction."""
        session = await self.sessions.get(public_id, owner_id)
        history = await self.messages.list_for_session(session.id)
        answers = [m for m in history if m.role == "user"]
        target = next((m for m in history if m.id == message_id), None)
        if target is None:
            raise NotFound("This interview has no such answer.")
        if target.role != "user":
            raise ValidationError(
                "Only your own answers can be corrected, not the interviewer's messages.",
                details={"message_id": message_id, "role": target.role},
            )
        if target.skipped:
            raise ValidationError(
                "That question was skipped: there is no answer to correct.",
                details={"message_id": message_id},
            )
        text = text.strip()
        if not text:
            raise ValidationError(
                "The corrected answer is empty: type what you said.",
                details={"fields": {"text": "Type what you said."}},
            )
        if len(text) > self.max_answer_chars:
            raise ValidationError(
                f"The corrected answer is longer than {self.max_answer_chars} characters.",
                details={"fields": {"text": f"At most {self.max_answer_chars} characters."}},
            )

        number = answers.index(target) + 1
        changed = text != target.content
        if changed and text == target.original_content:
            await self.messages.restore_original(target.id)
            logger.info("session %s: answer %d set back as first stored", public_id, number)
        elif changed:
            await self.messages.revise(target.id, text, revised_by="candidate")
            logger.info("session %s: answer %d corrected by the candidate", public_id, number)

        report = await self.feedback.report_of(session)
        history = await self.messages.list_for_session(session.id)
        message = next(m for m in history if m.id == message_id)
        state: ReportState = (
            "none" if report is None else "out_of_date" if report.out_of_date else "current"
        )
        if changed and state == "out_of_date":
            logger.info("session %s: the stored report is out of date", public_id)
        return Correction(message=message, answer_number=number, changed=changed, report=state)
