"""The session's lifecycle ``Stage`` and a ``Reply``: one pass from an answer (or a start)
to the end of the interviewer's spoken reply, with its phase and timing marks."""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any, Literal

from server.voice.audio import Pcm16
from server.voice.speaker import Utterance
from server.voice.transcriber import TurnTranscriber
from server.voice.turns import Turn


class Stage(enum.Enum):
    """Where the session is in its life; exactly one at a time."""

    WAITING = "waiting"
    """``hello`` sent; the client has not sent ``start`` yet: nothing is heard."""
    LIVE = "live"
    """The interview runs: audio is heard, answers are taken."""
    ENDING = "ending"
    """The candidate asked to end: audio is ignored; back where it was if ending fails."""
    FINISHED = "finished"
    """The interview is over (closing line stored): audio is ignored."""
    CLOSED = "closed"
    """The connection is closing: background work is cancelled."""


OVER = frozenset({Stage.ENDING, Stage.FINISHED, Stage.CLOSED})

Phase = Literal["finalizing", "saving", "generating", "speaking", "saving_reply", "done"]


class SessionLog(logging.LoggerAdapter[logging.Logger]):
    def process(
        self, msg: Any, kwargs: MutableMapping[str, Any]
    ) -> tuple[Any, MutableMapping[str, Any]]:
        return f"[session {self.extra['session_id'] if self.extra else '?'}] {msg}", kwargs


@dataclass(eq=False)
class Reply(Utterance):
    """One pass from an answer (or a start) to the end of the interviewer's spoken reply."""

    kind: Literal["voice", "typed", "resume", "closing", "repeat", "wait", "skip"] = "voice"
    turn_number: int = 0
    reference: Literal["speech_end", "answer_received", "request"] = "request"
    phase: Phase = "generating"
    transcriber: TurnTranscriber | None = None
    """A spoken answer: its turn and text (None for typed answers and interviewer-only passes)."""
    persist: bool = True
    abandon: bool = False
    task: asyncio.Task[None] | None = None

    @property
    def turn(self) -> Turn | None:
        return self.transcriber.turn if self.transcriber is not None else None

    def timings(self) -> dict[str, float]:
        """Each mark in ms after the reference mark, and the spans that matter (STT tail,
        LLM time to first token, TTS time to first audio)."""
        marks = self.marks
        base = marks.get(self.reference)
        if base is None:
            return {}
        timings = {
            f"{name}_ms": round((t - base) * 1000, 1)
            for name, t in marks.items()
            if name != self.reference
        }

        def span(a: str, b: str) -> None:
            if a in marks and b in marks:
                timings[f"{b}_after_{a}_ms"] = round((marks[b] - marks[a]) * 1000, 1)

        span("end_of_turn", "final_transcript")  # the STT tail
        span("candidate_saved", "first_token")  # LLM time to first token
        span("first_sentence", "first_audio")  # TTS time to first audio
        return timings


@dataclass(eq=False)
class UnheardAnswer:
    """A spoken answer whose transcription failed: its audio, kept until it is transcribed
    (``retry``) or replaced by a new answer."""

    turn_number: int
    audio: Pcm16
    audio_ms: int
    hotwords: str | None


class SpeechServiceError(Exception):
    """A speech engine failed on what the candidate said (reported as a retryable ``error``
    event by the session's error mapper: it reads ``code``, ``message``, ``status_code``)."""

    code = "speech_service_error"
    status_code = 503

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
