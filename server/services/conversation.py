"""The interview as the voice pipeline sees it (``server.voice.session.Conversation``).

A thin adapter over the same ``InterviewEngine`` the typed-answer API uses: one interview
engine, two input channels. The session record is re-read on every call because the
interview's status changes underneath (closing line, end, another tab).
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Mapping
from contextlib import aclosing
from typing import Any

from server.repositories.records import SessionRecord
from server.services.interview import InterviewEngine
from server.services.recordings import RecordingService
from server.services.revisions import AnswerRevisions
from server.services.sessions import SessionService
from server.voice.audio import Pcm16
from server.voice.conversation import Progress


class InterviewConversation:
    def __init__(
        self,
        engine: InterviewEngine,
        sessions: SessionService,
        *,
        public_id: str,
        owner_id: str,
        max_answer_chars: int,
        recordings: RecordingService | None = None,
        revisions: AnswerRevisions | None = None,
    ) -> None:
        """``recordings``: where answers' audio is kept (None: it never is)."""
        self.engine = engine
        self.sessions = sessions
        self.public_id = public_id
        self.owner_id = owner_id
        self.max_answer_chars = max_answer_chars
        self.recordings = recordings
        self.revisions = revisions

    async def _session(self) -> SessionRecord:
        return await self.sessions.get(self.public_id, self.owner_id)

    async def progress(self) -> Progress:
        state = await self.engine.state(await self._session())
        return Progress(
            question=state.asked,
            total=state.total,
            awaiting=state.awaiting,
            last_interviewer_text=state.last_interviewer_text,
        )

    async def save_candidate_turn(
        self,
        text: str,
        *,
        audio_duration_ms: int | None,
        timings: Mapping[str, Any],
        continues_previous: bool = False,
        audio: Pcm16 | None = None,
    ) -> Progress:
        """Store the answer's text, then (if recording is on) its ``audio``: with
        ``continues_previous``, appended to the last answer and to its recording. The audio
        never costs the text: a failure to keep it is logged, and the turn goes on."""
        session = await self._session()
        if continues_previous:
            answer = await self.engine.continue_answer(
                session, text, max_chars=self.max_answer_chars
            )
        else:
            answer = await self.engine.submit_answer(
                session,
                text,
                max_chars=self.max_answer_chars,
                audio_duration_ms=audio_duration_ms,
                timings=dict(timings),
            )
        if audio is not None and self.recordings is not None:
            await self.recordings.keep_answer(session, answer, audio, append=continues_previous)
        return dataclasses.replace(await self.progress(), answer_id=answer.id)

    async def revise_answer(self, answer_id: int, heard: str, text: str) -> bool:
        if self.revisions is None:
            return False
        return await self.revisions.second_pass(
            await self._session(), answer_id, heard, text, max_chars=self.max_answer_chars
        )

    async def prefill(self, answer_so_far: str) -> None:
        await self.engine.prefill(await self._session(), answer_so_far)

    async def stream_interviewer_reply(self) -> AsyncIterator[str]:
        session = await self._session()
        # Closed with this stream: the reply stops the model and gives up its turn at once.
        async with aclosing(self.engine.stream_reply(session)) as deltas:
            async for delta in deltas:
                yield delta

    async def save_interviewer_turn(
        self, text: str, *, interrupted: bool, timings: Mapping[str, float]
    ) -> Progress:
        await self.engine.save_reply(
            await self._session(), text.strip(), interrupted=interrupted, timings=dict(timings)
        )
        return await self.progress()

    async def end_interview(self) -> Progress:
        await self.engine.end(await self._session())
        return await self.progress()

    async def skip_question(self) -> Progress:
        skipped = await self.engine.skip_question(await self._session())
        return dataclasses.replace(await self.progress(), answer_id=skipped.id)
