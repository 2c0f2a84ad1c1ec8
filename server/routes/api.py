"""The JSON API: thin handlers that parse, call one service, and map the result."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, JSONBody

from server.errors import AIServiceError, NotFound
from server.feedback.service import FeedbackService
from server.owner import require_owner
from server.repositories.records import SessionRecord
from server.routes.ranges import ranged_response
from server.routes.schemas import (
    AnswerIn,
    CorrectionIn,
    CorrectionOut,
    CreateSessionForm,
    FeedbackOut,
    MessageOut,
    ProgressOut,
    RecordingIn,
    RecordingOut,
    ScoreOut,
    SessionOut,
    SessionSummaryOut,
    TurnOut,
)
from server.services.corrections import CorrectionService
from server.services.interview import InterviewEngine
from server.services.recordings import RecordingService
from server.services.sessions import NewSession, SessionService
from server.settings import Settings


class SessionController(Controller):
    path = "/api/sessions"
    tags = ["sessions"]  # noqa: RUF012 (Litestar declares it as an instance attribute)
    guards = [require_owner]  # noqa: RUF012

    @post("/", summary="Create an interview session")
    async def create_session(
        self,
        sessions: NamedDependency[SessionService],
        interview: NamedDependency[InterviewEngine],
        owner_id: NamedDependency[str],
        data: Annotated[CreateSessionForm, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> SessionOut:
        cv_file = await data.cv_file.read() if data.cv_file is not None else None
        # Browsers send an empty file part when no file was chosen.
        if data.cv_file is not None and not data.cv_file.filename and not cv_file:
            cv_file = None
        session = await sessions.create(
            owner_id,
            NewSession(
                job_title=data.job_title,
                company_name=data.company_name,
                job_description=data.job_description,
                question_count=data.question_count,
                cv_text=data.cv_text,
                cv_filename=data.cv_file.filename if data.cv_file is not None else None,
                cv_file=cv_file,
                interview_mode=data.interview_mode,
                difficulty=data.difficulty,
            ),
        )
        return SessionOut.of(session, [], await interview.state(session))

    @get("/", summary="List my sessions, newest first")
    async def list_sessions(
        self, sessions: NamedDependency[SessionService], owner_id: NamedDependency[str]
    ) -> list[SessionSummaryOut]:
        return [SessionSummaryOut.of(s) for s in await sessions.list_owned(owner_id)]

    @get("/{session_id:str}", summary="One session with its transcript and progress")
    async def get_session(
        self,
        session: NamedDependency[SessionRecord],
        sessions: NamedDependency[SessionService],
        interview: NamedDependency[InterviewEngine],
        recordings: NamedDependency[RecordingService],
    ) -> SessionOut:
        return SessionOut.of(
            session,
            await sessions.messages_of(session),
            await interview.state(session),
            with_audio=await recordings.recorded_message_ids(session),
        )

    @delete("/{session_id:str}", summary="Delete a session with its messages and feedback")
    async def delete_session(
        self,
        sessions: NamedDependency[SessionService],
        owner_id: NamedDependency[str],
        session_id: FromPath[str],
    ) -> None:
        await sessions.delete(session_id, owner_id)

    @post(
        "/{session_id:str}/next",
        status_code=200,
        summary="The interviewer's next message (first question, or a retry after a model error)",
    )
    async def next_message(
        self, session: NamedDependency[SessionRecord], interview: NamedDependency[InterviewEngine]
    ) -> TurnOut:
        reply = await interview.next_message(session)
        state = await interview.state(session)
        return TurnOut(answer=None, reply=MessageOut.of(reply), progress=ProgressOut.of(state))

    @post("/{session_id:str}/answers", summary="Answer by text; returns the interviewer's reply")
    async def answer(
        self,
        session: NamedDependency[SessionRecord],
        interview: NamedDependency[InterviewEngine],
        sessions: NamedDependency[SessionService],
        settings: NamedDependency[Settings],
        data: JSONBody[AnswerIn],
    ) -> TurnOut:
        answer = await interview.submit_answer(
            session, data.text, max_chars=settings.max_answer_chars
        )
        try:
            reply = await interview.next_message(session)
        except AIServiceError as err:
            retry = f"POST {self.path}/{session.public_id}/next"
            err.details.update(answer_saved=True, retry=retry)
            raise
        state = await interview.state(await sessions.get(session.public_id, session.owner_id))
        return TurnOut(
            answer=MessageOut.of(answer), reply=MessageOut.of(reply), progress=ProgressOut.of(state)
        )

    @post(
        "/{session_id:str}/skip",
        summary="Skip the question asked (never scored); returns the interviewer's next message",
    )
    async def skip(
        self,
        session: NamedDependency[SessionRecord],
        interview: NamedDependency[InterviewEngine],
        sessions: NamedDependency[SessionService],
    ) -> TurnOut:
        skipped = await interview.skip_question(session)
        try:
            reply = await interview.next_message(session)
        except AIServiceError as err:
            retry = f"POST {self.path}/{session.public_id}/next"
            err.details.update(answer_saved=True, retry=retry)
            raise
        state = await interview.state(await sessions.get(session.public_id, session.owner_id))
        return TurnOut(
            answer=MessageOut.of(skipped),
            reply=MessageOut.of(reply),
            progress=ProgressOut.of(state),
        )

    @patch(
        "/{session_id:str}/messages/{message_id:int}",
        summary="Correct the text of one of my answers (the original is kept)",
    )
    async def correct_answer(
        self,
        corrections: NamedDependency[CorrectionService],
        recordings: NamedDependency[RecordingService],
        session: NamedDependency[SessionRecord],
        owner_id: NamedDependency[str],
        message_id: FromPath[int],
        data: JSONBody[CorrectionIn],
    ) -> CorrectionOut:
        correction = await corrections.correct_answer(
            session.public_id, owner_id, message_id, data.text
        )
        recorded = await recordings.recorded_message_ids(session)
        return CorrectionOut.of(correction, has_audio=message_id in recorded)

    @post("/{session_id:str}/end", status_code=200, summary="End the interview now")
    async def end(
        self,
        session: NamedDependency[SessionRecord],
        interview: NamedDependency[InterviewEngine],
        sessions: NamedDependency[SessionService],
    ) -> TurnOut:
        closing = await interview.end(session)
        state = await interview.state(await sessions.get(session.public_id, session.owner_id))
        return TurnOut(
            answer=None,
            reply=MessageOut.of(closing) if closing else None,
            progress=ProgressOut.of(state),
        )

    @post(
        "/{session_id:str}/feedback",
        status_code=200,
        summary="Generate (once; again after an answer was corrected) and return the report",
    )
    async def create_feedback(
        self,
        feedback: NamedDependency[FeedbackService],
        owner_id: NamedDependency[str],
        session_id: FromPath[str],
    ) -> FeedbackOut:
        report = await feedback.generate_report(session_id, owner_id)
        return FeedbackOut.of(session_id, report)

    @get(
        "/{session_id:str}/score",
        summary="The evidence-based score and measurements, at once (no model call)",
    )
    async def get_score(
        self,
        feedback: NamedDependency[FeedbackService],
        owner_id: NamedDependency[str],
        session_id: FromPath[str],
    ) -> ScoreOut:
        return ScoreOut.of(session_id, await feedback.assess(session_id, owner_id))

    @get("/{session_id:str}/feedback", summary="The stored feedback report")
    async def get_feedback(
        self,
        feedback: NamedDependency[FeedbackService],
        owner_id: NamedDependency[str],
        session_id: FromPath[str],
    ) -> FeedbackOut:
        report = await feedback.get_report(session_id, owner_id)
        if report is None:
            raise NotFound("This session has no feedback yet.")
        return FeedbackOut.of(session_id, report)

    @get(
        "/{session_id:str}/messages/{message_id:int}/audio",
        media_type="audio/wav",
        summary="One answer's recorded audio (WAV; byte ranges supported)",
    )
    async def answer_audio(
        self,
        request: Request[Any, Any, Any],
        recordings: NamedDependency[RecordingService],
        owner_id: NamedDependency[str],
        session_id: FromPath[str],
        message_id: FromPath[int],
    ) -> Response[bytes]:
        wav = await recordings.wav_of(session_id, owner_id, message_id)
        return ranged_response(
            wav,
            request.headers.get("range"),
            media_type="audio/wav",
            # The candidate's voice: never in a shared cache, nor kept by the browser.
            headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"},
        )

    @get("/{session_id:str}/recording", summary="Whether this session keeps its answers' audio")
    async def get_recording(
        self,
        recordings: NamedDependency[RecordingService],
        owner_id: NamedDependency[str],
        session_id: FromPath[str],
    ) -> RecordingOut:
        return RecordingOut.of(await recordings.settings_of(session_id, owner_id))

    @put(
        "/{session_id:str}/recording",
        summary="Turn keeping this session's answers' audio on or off (from the next answer)",
    )
    async def set_recording(
        self,
        recordings: NamedDependency[RecordingService],
        owner_id: NamedDependency[str],
        session_id: FromPath[str],
        data: JSONBody[RecordingIn],
    ) -> RecordingOut:
        return RecordingOut.of(
            await recordings.set_record_audio(session_id, owner_id, data.record_audio)
        )

    @delete("/{session_id:str}/recordings", summary="Delete every recording of this session")
    async def delete_recordings(
        self,
        recordings: NamedDependency[RecordingService],
        owner_id: NamedDependency[str],
        session_id: FromPath[str],
    ) -> None:
        await recordings.delete_all(session_id, owner_id)
