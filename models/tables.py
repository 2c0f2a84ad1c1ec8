"""Viva's tables: interview sessions, their messages, and one feedback report per session."""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    Boolean,
    Bytea,
    ForeignKey,
    Integer,
    OnDelete,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table


class InterviewSession(Table, tablename="sessions"):
    id: Serial  # Piccolo adds the primary key; declared for type checkers
    public_id = Varchar(length=32, unique=True, index=True)
    owner_id = Varchar(length=64, index=True)
    job_title = Varchar(length=200)
    company_name = Varchar(length=200)
    cv_text = Text()
    cv_filename = Varchar(length=255, null=True, default=None)
    job_description_text = Text()
    status = Varchar(length=20, default="in_progress")  # in_progress | completed
    question_target = Integer(default=8)
    # Keep each spoken answer's audio (for "play my answer" and the second transcription pass).
    record_audio = Boolean(default=True)
    # The kind of interview and how hard it presses (server/services/plans.py).
    interview_mode = Varchar(length=20, default="mixed")
    difficulty = Varchar(length=12, default="realistic")
    created_at = Timestamptz()
    updated_at = Timestamptz()


class Message(Table, tablename="messages"):
    id: Serial
    session = ForeignKey(references=InterviewSession, on_delete=OnDelete.cascade, index=True)
    role = Varchar(length=16)  # assistant | user
    content = Text()
    # For interviewer questions: which question this is (1..N); null for the closing line.
    question_number = Integer(null=True, default=None)
    is_closing = Boolean(default=False)
    # Spoken turns: how long the audio was, and the per-stage timings of the turn.
    audio_duration_ms = Integer(null=True, default=None)
    timings = JSON(null=True, default=None)
    interrupted = Boolean(default=False)
    # Candidate answers whose text changed after it was first stored: the text as first stored
    # (heard live, or typed) and what changed it: "second_pass" (re-transcribed whole from the
    # recording) or "candidate" (corrected by the candidate). Null while unchanged.
    original_content = Text(null=True, default=None)
    revised_by = Varchar(length=16, null=True, default=None)
    # A candidate turn that skipped its question ("skip this question"): stored, shown, never
    # scored as an answer.
    skipped = Boolean(default=False)
    # Its place in the session's conversation (0, 1, ...). Unique per session (an index made
    # by the migration ``models_2026_12_06t07_…``): a message is stored only in the place its
    # writer read as next, so two requests (or two app instances) that both saw the same
    # question unanswered cannot both store an answer to it. Null only for rows older than it.
    position = Integer(null=True, default=None)
    created_at = Timestamptz()


class Recording(Table, tablename="recordings"):
    """The audio of one spoken answer: 16 kHz mono PCM16, personal data like the transcript
    (owner-only, deleted with its session)."""

    id: Serial
    session = ForeignKey(references=InterviewSession, on_delete=OnDelete.cascade, index=True)
    message = ForeignKey(references=Message, on_delete=OnDelete.cascade, unique=True, index=True)
    sample_rate_hz = Integer()
    pcm = Bytea()
    created_at = Timestamptz()


class Feedback(Table, tablename="feedback"):
    id: Serial
    session = ForeignKey(
        references=InterviewSession, on_delete=OnDelete.cascade, unique=True, index=True
    )
    interview_score = Integer()
    # JSON arrays of strings (the reference stores these sections as TEXT).
    strengths = JSON()
    weaknesses = JSON()
    cv_improvements = JSON()
    created_at = Timestamptz()
    # Evidence-grounded scoring (docs/rubric.md): the score follows from measured evidence.
    rubric_score = Integer(null=True, default=None)  # before any model adjustment
    sub_scores = JSON(null=True, default=None)  # relevance, clarity, depth, alignment, reasons
    evidence = JSON(null=True, default=None)  # per-answer measurements and coverage
    citations = JSON(null=True, default=None)  # per strength/weakness: quote and answer index
    score_adjustment = Integer(default=0)  # at most ±1, only from a capable model by URL
    adjustment_reason = Text(null=True, default=None)
    written_by = Varchar(length=20, default="model")  # model | model+evidence | evidence
    # Per answer: a stronger version from the candidate's own sentences (feedback/coaching.py).
    coaching = JSON(null=True, default=None)
    timings = JSON(null=True, default=None)
    # sha256 of the answers (id and text) the report was built on: once an answer is corrected
    # or re-transcribed, the stored report no longer matches the transcript and is out of date.
    answers_sha256 = Varchar(length=64, null=True, default=None)


class VoiceLease(Table, tablename="voice_leases"):
    """One live voice connection to an interview, in any app instance on this database.

    A newer connection to the interview takes over from an older one (which closes, finishes
    what it was storing and deletes its row); every live one renews ``seen_at`` each second,
    so the row of an instance that died is known to be stale (``server/voice/leases.py``)."""

    id: Serial
    session = ForeignKey(references=InterviewSession, on_delete=OnDelete.cascade, index=True)
    opened_at = Timestamptz()
    seen_at = Timestamptz()
