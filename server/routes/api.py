"""The JSON API: thin handlers that parse, call one service, and map the result."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, JSONBody

from server.container import Services
from server.errors import AIServiceError, NotFound
from server.owner import require_owner
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
from server.services.sessions import NewSession


class SessionController(Controller):
    path = "/api/sessions"
    tags = ["sessions"]  # noqa: RUF012 (Litestar declares it as an instance attribute)
    guards = [require_owner]  # noqa: RUF012

    @post("/", summary="Create an interview session")
    async def create_session(
        self,
        services: NamedDependency[Services],
        owner_id: NamedDependency[str],
        data: Annotated[CreateSessionForm, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> SessionOut:
        cv_file = await data.cv_file.read() if data.cv_file is not None else None
        # Browsers send an empty file part when no file was chosen.
        if data.cv_file is not None and not data.cv_file.filename and not cv_file:
            cv_file = None
        session = await services.sessions.create(
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
        state = await services.interview.state(session)
        return SessionOut.of(session, [], state)

    @get("/", summary="List my sessions, newest first")
    async def list_sessions(
        self, services: NamedDependency[Services], owner_id: NamedDependency[str]
    ) -> list[SessionSummaryOut]:
        return [SessionSummaryOut.of(s) for s in await services.sessions.list_owned(owner_id)]

    @get("/{session_id:str}", summary="One session with its transcript and progress")
    async def get_session(
        self,
        services: NamedDependency[Services],
        owner_id: NamedDependency[str],
        session_id: FromPath[str],
    ) -> SessionOut:
        session = await services.sessions.get(session_id, owner_id)
        messages = await services.sessions.messages_of(session)
        return SessionOut.of(
            session,
            messages,
            await services.interview.state(session),
            with_audio=await services.recordings.recorded_message_ids(session),
        )

    @delete("/{session_id:str}", summary="Delete a session with its messages and feedback")
    async def delete_session(
        self,
        services: NamedDependency[Services],
        owner_id: NamedDependency[str],
        session_id: FromPath[str],
    ) -> None:
        await services.sessions.delete(session_id, owner_id)

    @post(
        "/{session_id:str}/next",
        status_code=200,
        summary="The interviewer's next message (first question, or a retry after a model error)",
    )
    async def next_message(
        self,
        services: NamedDependency[Services],
        owner_id: NamedDependency[str],
        session_id: FromPath[str],
    ) -> TurnOut:
        session = await services.sessions.get(session_id, owner_id)
        reply = await services.interview.next_message(session)
        state = await services.interview.state(session)
        return TurnOut(answer=None, reply=MessageOut.of(reply), progress=ProgressOut.of(state))

    @post("/{session_id:str}/answers", summary="Answer by text; returns the interviewer's reply")
    async def answer(
        self,
        services: NamedDependency[Services],
        owner_id: NamedDependency[str],
        session_id: FromPath[str],
        data: JSONBody[AnswerIn],
    ) -> TurnOut:
        session = await services.sessions.get(session_id, owner_id)
        answer = await services.interview.submit_answer(
            session, data.text, max_chars=services.settings.max_answer_chars
        )
        try:
            reply = await services.interview.next_message(session)
        except AIServiceError as err:
            err.details.update(answer_saved=True, retry=f"POST {self.path}/{session_id}/next")
            raise
        state = await services.interview.state(await services.sessions.get(session_id, owner_id))
        return TurnOut(
            answer=MessageOut.of(answer), reply=MessageOut.of(reply), progress=ProgressOut.of(state)
        )

    @post(
        "/{session_id:str}/skip",
        summary="Skip the question asked (never scored); returns the interviewer's next message",
    )
    async def skip(
        self,
        services: NamedDependency[Services],
        owner_id: NamedDependency[str],
        session_id: FromPath[str],
    ) -> TurnOut:
        session = await services.sessions.get(session_id, owner_id)
        skipped = await services.interview.skip_question(session)
        try:
            reply = await services.interview.next_message(session)
        except AIServiceError as err:
            err.details.update(answer_saved=True, retry=f"POST {self.path}/{session_id}/next")
            raise
        state = await services.interview.state(await services.sessions.get(session_id, owner_id))
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
        services: NamedDependency[Services],
        owner_id: NamedDependency[str],
        session_id: FromPath[str],
        message_id: FromPath[int],
        data: JSONBody[CorrectionIn],
    ) -> CorrectionOut:
        correction = await services.corrections.correct_answer(
            session_id, owner_id, message_id, data.text
        )
        recorded = await services.recordings.recorded_message_ids(
            await services.sessions.get(session_id, owner_id)
        )
        return CorrectionOut.of(correction, has_audio=message_id in recorded)

    @post("/{session_id:str}/end", status_code=200, summary="End the interview now")
    async def end(
        self,
        services: NamedDependency[Services],
        owner_id: NamedDependency[str],
        session_id: FromPath[str],
    ) -> TurnOut:
        session = await services.sessions.get(session_id, owner_id)
        closing = await services.interview.end(session)
        state = await services.interview.state(await services.sessions.get(session_id, owner_id))
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
        services: NamedDependency[Services],
        owner_id: NamedDependency[str],
        session_id: FromPath[str],
    ) -> FeedbackOut:
        report = await services.feedback.generate_report(session_id, owner_id)
        return FeedbackOut.of(session_id, report)

    @get(
        "/{session_id:str}/score",
        summary="The evidence-based score and measurements, at once (no model call)",
    )
    async def get_score(
        self,
        services: NamedDependency[Services],
        owner_id: NamedDependency[str],
        session_id: FromPath[str],
    ) -> ScoreOut:
        return ScoreOut.of(session_id, await services.feedback.assess(session_id, owner_id))

    @get("/{session_id:str}/feedback", summary="The stored feedback report")
    async def get_feedback(
        self,
        services: NamedDependency[Services],
        owner_id: NamedDependency[str],
        session_id: FromPath[str],
    ) -> FeedbackOut:
        report = await services.feedback.get_report(session_id, owner_id)
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
        services: NamedDependency[Services],
        owner_id: NamedDependency[str],
        session_id: FromPath[str],
        message_id: FromPath[int],
    ) -> Response[bytes]:
        wav = await services.recordings.wav_of(session_id, owner_id, message_id)
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
        services: NamedDependency[Services],
        owner_id: NamedDependency[str],
        session_id: FromPath[str],
    ) -> RecordingOut:
        return RecordingOut.of(await services.recordings.settings_of(session_id, owner_id))

    @put(
        "/{session_id:str}/recording",
        summary="Turn keeping this session's answers' audio on or off (from the next answer)",
    )
    async def set_recording(
        self,
        services: NamedDependency[Services],
        owner_id: NamedDependency[str],
        session_id: FromPath[str],
        data: JSONBody[RecordingIn],
    ) -> RecordingOut:
        return RecordingOut.of(
            await services.recordings.set_record_audio(session_id, owner_id, data.record_audio)
        )

    @delete("/{session_id:str}/recordings", summary="Delete every recording of this session")
    async def delete_recordings(
        self,
        services: NamedDependency[Services],
        owner_id: NamedDependency[str],
        session_id: FromPath[str],
    ) -> None:
        await services.recordings.delete_all(session_id, owner_id)
