"""The client's control messages (docs/protocol.md): what ``start``, ``settings``, a typed
answer, push-to-talk, a command (``repeat_question``, ``wait``, or one said aloud) and
``end_interview`` do to a voice session.

``Controls`` holds no state of its own: it reads and changes its session's (``s``), and starts
the session's reply flows. It is apart from ``session.py`` so that each module stays small.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from server.voice.commands import Command
from server.voice.protocol import (
    CommandHeard,
    InterviewFinished,
    Settings,
    SettingsChanged,
)
from server.voice.replies import Reply, Stage
from server.voice.speaker import one_text

if TYPE_CHECKING:
    from server.voice.session import VoiceSession

TAKE_YOUR_TIME = "Take your time. I'm listening."
"""What the interviewer says to "give me a moment" (spoken, not stored). There is no timeout
before the candidate speaks again; the answer that follows may pause ``PATIENT_SILENCE_MS``
(or the candidate's own longer limit) before it ends."""
PATIENT_SILENCE_MS = 3000


class Controls:
    def __init__(self, session: VoiceSession) -> None:
        self.s = session

    async def start(self, now: float) -> None:
        if self.s._hearing is not None or self.s._reply is not None:
            await self.s._error("busy", "the interview is already in progress")
            return
        if not await self.may_speak_again(now):
            return
        if self.s._over:
            progress = await self.s._writer.call(self.s._conversation.progress())
            if progress is not None:
                await self.s._emit(
                    InterviewFinished(question=progress.question, total=progress.total)
                )
            return
        self.s._stage = Stage.LIVE
        reply = Reply(
            kind="resume",
            turn_number=self.s._turn_counter,
            reference="request",
            marks={"request": now},
        )
        self.s._start_reply(reply, self.s._resume_flow(reply))

    async def settings(self, message: Settings) -> None:
        self.s._settings = self.s._settings.with_settings(message)
        # A turn keeps the mode it began with; the new one applies from the next turn.
        await self.s._emit(SettingsChanged(settings=self.s._settings_state()))

    async def typed_answer(self, text: str, now: float) -> None:
        if not await self.can_answer():
            return
        reply = self.s._reply
        if reply is not None:
            if (
                reply.phase == "generating"
                and not reply.audio_started
                and not self.s._writer.answer_open
            ):
                await self.s._error("busy", "wait for the interviewer's question")
                return
            await self.s._interrupt_for_candidate(reply, now)
        elif self.s._hearing is None and not self.s._writer.can_answer():
            await self.no_question()
            return
        if self.s._hearing is not None:
            self.s._discard_turn(self.s._hearing)
        self.s._turn_counter += 1
        typed = Reply(
            kind="typed",
            turn_number=self.s._turn_counter,
            reference="answer_received",
            marks={"answer_received": now},
            phase="saving",
        )
        self.s._start_reply(
            typed, self.s._submit_answer(typed, text, source="typed", audio_ms=None)
        )

    async def ptt_down(self, now: float) -> None:
        if not await self.can_answer():
            return
        if self.s._ptt_held:
            return
        self.s._ptt_held = True
        turn = self.s._turn
        if turn is not None and not turn.ended:
            turn.mode = "ptt"  # already hearing: the key now decides when the turn ends
            return
        start = self.s._detector.key_onset()
        reply = self.s._reply
        if reply is not None:
            if reply.phase == "finalizing" and reply.transcriber is not None:
                await self.s._resume_turn(reply, mode="ptt")
                return
            if (
                reply.phase == "generating"
                and not reply.audio_started
                and not self.s._writer.answer_open
            ):
                self.s._ptt_held = False
                await self.s._error("busy", "wait for the interviewer's question")
                return
            await self.s._interrupt_for_candidate(reply, now)
        elif not self.s._writer.can_answer():
            self.s._ptt_held = False
            await self.no_question()
            return
        await self.s._begin_turn(start, now, mode="ptt")

    async def no_question(self) -> None:
        await self.s._error(
            "no_question",
            'there is no question to answer yet; send "retry" to get one',
            retryable=True,
        )

    async def ptt_up(self, now: float) -> None:
        if not self.s._ptt_held:
            return
        self.s._ptt_held = False
        hearing = self.s._hearing
        if hearing is not None and not hearing.turn.ended and hearing.turn.mode == "ptt":
            await self.s._end_turn(hearing, now)

    async def command(self, command: Command, now: float, *, heard: str | None = None) -> None:
        """A command, from a control message (a button, a shortcut) or spoken as a whole
        utterance (``heard``)."""
        if command == "end":
            if not self.s._over:
                await self.s._emit(CommandHeard(name="end", spoken=heard is not None, text=heard))
            await self.end_interview(now)
            return
        if not await self.can_answer():
            return
        if self.s._reply is not None or (self.s._hearing is not None and heard is None):
            await self.s._error("busy", "wait until the interviewer has finished")
            return
        text = self.s._last_interviewer_text
        if text is None:
            progress = await self.s._writer.call(self.s._conversation.progress())
            text = progress.last_interviewer_text if progress is not None else None
        if command == "repeat" and not text:
            await self.no_question()
            return
        # Speaking again (repeat, wait) has a budget; skipping moves on, bounded by the plan.
        if command != "skip" and not await self.may_speak_again(now):
            return
        await self.s._emit(CommandHeard(name=command, spoken=heard is not None, text=heard))
        reply = Reply(
            kind=command,
            turn_number=self.s._turn_counter,
            reference="request",
            marks={"request": now},
        )
        if command == "skip":
            flow = self.s._skip_flow(reply)
        elif command == "wait":
            self.s._patient_next = True
            # Not what the candidate answers next: "repeat" still says the question.
            flow = self.s._interviewer_flow(
                reply, one_text(TAKE_YOUR_TIME), persist=False, remember=False
            )
        else:
            flow = self.s._interviewer_flow(reply, one_text(text or ""), persist=False)
        self.s._start_reply(reply, flow)

    async def end_interview(self, now: float) -> None:
        if self.s._over:
            return
        reply = self.s._reply
        if reply is not None:
            await self.s._interrupt_for_candidate(reply, now)
        if self.s._hearing is not None:
            self.s._discard_turn(self.s._hearing)
        self.s._stage_before_end = self.s._stage
        self.s._stage = Stage.ENDING  # from here on, audio is ignored
        closing = Reply(
            kind="closing",
            turn_number=self.s._turn_counter,
            reference="request",
            marks={"request": now},
        )
        self.s._start_reply(closing, self.s._end_flow(closing))

    def ending_failed(self) -> None:
        """Nothing ended: the candidate may carry on, or try again."""
        if self.s._stage is Stage.ENDING:
            self.s._stage = self.s._stage_before_end

    async def can_answer(self) -> bool:
        if self.s._stage is Stage.WAITING:
            await self.s._error("not_started", 'send "start" first')
            return False
        if self.s._over:
            await self.s._error("interview_finished", "the interview has finished")
            return False
        return True

    # ------------------------------------------------------------------ audio path

    async def may_speak_again(self, now: float) -> bool:
        """``start``, ``retry`` or a command that speaks again: within its budget (else said)."""
        if self.s._guard.replay(now):
            return True
        await self.s._error(
            "too_many_requests",
            "the question was just spoken; wait a few seconds and retry",
            retryable=True,
        )
        return False
