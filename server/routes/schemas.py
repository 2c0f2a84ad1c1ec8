"""Request and response shapes of the JSON API."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar.datastructures import UploadFile

from server.feedback.compose import Assessment
from server.feedback.service import Report
from server.repositories.records import (
    MessageRecord,
    SessionRecord,
    SessionSummary,
)
from server.services.corrections import Correction, ReportState
from server.services.interview import InterviewState
from server.services.recordings import RecordingSettings


class CreateSessionForm(msgspec.Struct):
    """multipart/form-data: the CV comes as ``cv_file`` (PDF, DOCX, TXT) or ``cv_text``."""

    job_title: str
    company_name: str
    job_description: str
    question_count: int | None = None
    cv_text: str | None = None
    cv_file: UploadFile | None = None
    interview_mode: str | None = None  # mixed | behavioural | technical | system_design
    difficulty: str | None = None  # easy | realistic | tough


class AnswerIn(msgspec.Struct, forbid_unknown_fields=True):
    text: Annotated[str, msgspec.Meta(min_length=1, description="The candidate's typed answer")]


class CorrectionIn(msgspec.Struct, forbid_unknown_fields=True):
    text: Annotated[
        str, msgspec.Meta(description="What the candidate said, in place of the stored text")
    ]


class ProgressOut(msgspec.Struct):
    question: int
    total: int
    awaiting: str
    label: str

    @classmethod
    def of(cls, state: InterviewState) -> ProgressOut:
        shown = max(state.asked, 1) if state.awaiting != "finished" else state.asked
        return cls(
            question=state.asked,
            total=state.total,
            awaiting=state.awaiting,
            label=f"Question {shown} of {state.total}",
        )


class MessageOut(msgspec.Struct):
    id: int
    role: str
    content: str
    question_number: int | None
    is_closing: bool
    interrupted: bool
    audio_duration_ms: int | None
    timings: dict[str, Any] | None
    created_at: datetime
    # A revised answer: the text as first stored, and what revised it ("second_pass": heard
    # again from the recording; "candidate": corrected by the candidate). Null while unchanged.
    original_content: str | None
    revised_by: str | None
    # Its recorded audio can be played: GET /api/sessions/{id}/messages/{message_id}/audio.
    has_audio: bool = False
    # A candidate turn that skipped its question (never scored as an answer).
    skipped: bool = False

    @classmethod
    def of(cls, m: MessageRecord, *, has_audio: bool = False) -> MessageOut:
        return cls(
            id=m.id,
            role=m.role,
            content=m.content,
            question_number=m.question_number,
            is_closing=m.is_closing,
            interrupted=m.interrupted,
            audio_duration_ms=m.audio_duration_ms,
            timings=m.timings,
            created_at=m.created_at,
            original_content=m.original_content,
            revised_by=m.revised_by,
            has_audio=has_audio,
            skipped=m.skipped,
        )


class CorrectionOut(msgspec.Struct):
    """A corrected answer, and what the correction means for the stored report."""

    message: MessageOut
    answer_number: int
    changed: bool
    # "none": no report yet; "current": the report still matches the transcript;
    # "out_of_date": it was written before this correction (POST …/feedback writes it again).
    report: ReportState

    @classmethod
    def of(cls, c: Correction, *, has_audio: bool = False) -> CorrectionOut:
        return cls(
            message=MessageOut.of(c.message, has_audio=has_audio),
            answer_number=c.answer_number,
            changed=c.changed,
            report=c.report,
        )


class SessionSummaryOut(msgspec.Struct):
    id: str
    job_title: str
    company_name: str
    status: str
    questions_asked: int
    question_count: int
    score: int | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, s: SessionSummary) -> SessionSummaryOut:
        return cls(
            id=s.public_id,
            job_title=s.job_title,
            company_name=s.company_name,
            status=s.status,
            questions_asked=s.questions_asked,
            question_count=s.question_target,
            score=s.score,
            created_at=s.created_at,
            updated_at=s.updated_at,
        )


class SessionOut(msgspec.Struct):
    id: str
    job_title: str
    company_name: str
    status: str
    question_count: int
    cv_text: str
    cv_filename: str | None
    job_description: str
    created_at: datetime
    updated_at: datetime
    progress: ProgressOut
    messages: list[MessageOut]
    # Spoken answers' audio is kept for this session (PUT …/recording), if the server keeps any.
    record_audio: bool
    interview_mode: str = "mixed"
    difficulty: str = "realistic"

    @classmethod
    def of(
        cls,
        s: SessionRecord,
        messages: list[MessageRecord],
        state: InterviewState,
        *,
        with_audio: Collection[int] = (),
    ) -> SessionOut:
        return cls(
            id=s.public_id,
            job_title=s.job_title,
            company_name=s.company_name,
            status=s.status,
            question_count=s.question_target,
            cv_text=s.cv_text,
            cv_filename=s.cv_filename,
            job_description=s.job_description_text,
            created_at=s.created_at,
            updated_at=s.updated_at,
            progress=ProgressOut.of(state),
            messages=[MessageOut.of(m, has_audio=m.id in with_audio) for m in messages],
            record_audio=s.record_audio,
            interview_mode=s.interview_mode,
            difficulty=s.difficulty,
        )


class RecordingIn(msgspec.Struct, forbid_unknown_fields=True):
    record_audio: Annotated[
        bool, msgspec.Meta(description="Keep this session's spoken answers' audio from now on")
    ]


class RecordingOut(msgspec.Struct):
    """A session's recording choice, the server's, and which answers have audio."""

    record_audio: bool
    server_records: bool
    keeps_audio: bool
    recorded_message_ids: list[int]

    @classmethod
    def of(cls, r: RecordingSettings) -> RecordingOut:
        return cls(
            record_audio=r.record_audio,
            server_records=r.server_records,
            keeps_audio=r.keeps_audio,
            recorded_message_ids=sorted(r.recorded_message_ids),
        )


class TurnOut(msgspec.Struct):
    """The result of a typed answer: what was stored, and the interviewer's reply."""

    answer: MessageOut | None
    reply: MessageOut | None
    progress: ProgressOut


class FeedbackOut(msgspec.Struct):
    """The reference's four keys, plus the evidence they rest on."""

    session_id: str
    score: int
    strengths: list[str]
    weaknesses: list[str]
    cv_improvements: list[str]
    created_at: datetime
    rubric_score: int | None
    sub_scores: dict[str, Any] | None
    citations: dict[str, Any] | None
    evidence: dict[str, Any] | None
    score_adjustment: int
    adjustment_reason: str | None
    written_by: str
    timings: dict[str, Any] | None
    # Per answer: a stronger version (its own sentences, and marked gaps) and, for the two
    # weakest, the one thing to add. Suggestions, not a model answer.
    coaching: list[dict[str, Any]] | None
    # An answer was corrected (or re-transcribed) after the report was written: the report
    # no longer matches the transcript. POST …/feedback writes it again.
    out_of_date: bool

    @classmethod
    def of(cls, public_id: str, report: Report) -> FeedbackOut:
        f = report.feedback
        return cls(
            session_id=public_id,
            out_of_date=report.out_of_date,
            score=f.interview_score,
            strengths=f.strengths,
            weaknesses=f.weaknesses,
            cv_improvements=f.cv_improvements,
            created_at=f.created_at,
            rubric_score=f.rubric_score,
            sub_scores=f.sub_scores,
            citations=f.citations,
            evidence=f.evidence,
            score_adjustment=f.score_adjustment,
            adjustment_reason=f.adjustment_reason,
            written_by=f.written_by,
            timings=f.timings,
            coaching=f.coaching,
        )


class ScoreOut(msgspec.Struct):
    """The evidence-based score, available at once (no model call)."""

    session_id: str
    score: int
    band: str
    relevance: float
    clarity: float
    technical_depth: float
    alignment: float
    reasons: list[str]
    evidence: dict[str, Any]
    elapsed_ms: float

    @classmethod
    def of(cls, public_id: str, a: Assessment) -> ScoreOut:
        r = a.rubric
        return cls(
            session_id=public_id,
            score=r.score,
            band=r.band,
            relevance=r.relevance,
            clarity=r.clarity,
            technical_depth=r.technical_depth,
            alignment=r.alignment,
            reasons=r.reasons,
            evidence=dataclasses.asdict(a.evidence),
            elapsed_ms=round(a.elapsed_ms, 1),
        )
