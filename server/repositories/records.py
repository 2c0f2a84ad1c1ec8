"""Plain records handed out by repositories, so nothing above them sees Piccolo rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

MessageRole = Literal["assistant", "user"]
SessionStatus = Literal["in_progress", "completed"]
RevisedBy = Literal["second_pass", "candidate"]
InterviewMode = Literal["mixed", "behavioural", "technical", "system_design"]
Difficulty = Literal["easy", "realistic", "tough"]


@dataclass(frozen=True)
class SessionRecord:
    id: int
    public_id: str
    owner_id: str
    job_title: str
    company_name: str
    cv_text: str
    cv_filename: str | None
    job_description_text: str
    status: SessionStatus
    question_target: int
    created_at: datetime
    updated_at: datetime
    record_audio: bool = True
    interview_mode: InterviewMode = "mixed"
    difficulty: Difficulty = "realistic"


@dataclass(frozen=True)
class SessionSummary:
    public_id: str
    job_title: str
    company_name: str
    status: SessionStatus
    question_target: int
    questions_asked: int
    score: int | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class MessageRecord:
    id: int
    role: MessageRole
    content: str
    question_number: int | None
    is_closing: bool
    audio_duration_ms: int | None
    timings: dict[str, Any] | None
    interrupted: bool
    created_at: datetime
    original_content: str | None = None
    """The text as first stored, when it has been revised since (else None)."""
    revised_by: RevisedBy | None = None
    skipped: bool = False
    """A candidate turn that skipped its question: shown, never scored as an answer."""


@dataclass(frozen=True)
class RecordingRecord:
    message_id: int
    sample_rate_hz: int
    pcm: bytes


@dataclass(frozen=True)
class FeedbackRecord:
    id: int
    session_id: int
    interview_score: int
    strengths: list[str]
    weaknesses: list[str]
    cv_improvements: list[str]
    created_at: datetime
    rubric_score: int | None = None
    sub_scores: dict[str, Any] | None = None
    evidence: dict[str, Any] | None = None
    citations: dict[str, Any] | None = None
    score_adjustment: int = 0
    adjustment_reason: str | None = None
    written_by: str = "model"
    timings: dict[str, Any] | None = None
    coaching: list[dict[str, Any]] | None = None
    answers_sha256: str | None = None
    """What the report was built on (``feedback.service.answers_sha256``); None before it was
    recorded."""
