"""Revised answers: the voice pipeline's second pass replaces the live transcript of an answer
with its reading of the whole recording (``server.voice.revision``).

The text as first stored is kept (``original_content``); a candidate's own correction always
wins over a second pass, and once the report exists the transcript it was written from stays.
"""

from __future__ import annotations

import dataclasses
import logging

from server.feedback.notes import AnswerNotes
from server.repositories.feedback import FeedbackRepository
from server.repositories.records import SessionRecord
from server.repositories.sessions import MessageRepository

logger = logging.getLogger(__name__)


class AnswerRevisions:
    def __init__(
        self,
        messages: MessageRepository,
        feedback: FeedbackRepository,
        notes: AnswerNotes | None = None,
    ) -> None:
        """``notes``: given, the revised answer's note is written again in the background
        (notes are written during the interview)."""
        self.messages = messages
        self.feedback = feedback
        self.notes = notes

    async def second_pass(
        self, session: SessionRecord, answer_id: int, heard: str, text: str, *, max_chars: int
    ) -> bool:
        """Store ``text`` for answer ``answer_id`` if it still reads ``heard``; whether it did."""
        text = text.strip()
        if not text or len(text) > max_chars:
            return False
        history = await self.messages.list_for_session(session.id)
        index = next(
            (i for i, m in enumerate(history) if m.id == answer_id and m.role == "user"), None
        )
        if index is None:
            return False
        answer = history[index]
        if answer.content != heard or answer.revised_by == "candidate":
            logger.info(
                "session %s: answer %d changed since it was heard; second pass not stored",
                session.public_id,
                answer_id,
            )
            return False
        if await self.feedback.get_for_session(session.id) is not None:
            return False  # the report was written from the text as it is
        await self.messages.revise(answer_id, text, revised_by="second_pass")
        logger.info(
            "session %s: answer %d revised by the second pass", session.public_id, answer_id
        )
        if self.notes is not None:
            revised = dataclasses.replace(
                answer, content=text, original_content=answer.content, revised_by="second_pass"
            )
            self.notes.schedule(session, [*history[:index], revised])
        return True
