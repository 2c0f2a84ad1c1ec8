"""VoiceSession: one connected interview's voice loop, wired from small stages.

- ``turns.TurnDetector`` (pure): VAD, pre-roll, echo gate; where a turn starts, where to cut
  it for transcription, when it ends.
- ``transcriber.TurnTranscriber``: commit and partial jobs, live captions, the final text;
  ``transcriber.Prefiller`` lets the model read the answer while it is spoken.
- ``speaker.ReplySpeaker``: the LLM stream → sentences → Piper → paced audio, what was heard.
- ``guard.InputGuard`` (pure): the flood, protocol-error and replay budgets.
- ``controls.Controls``: what each control message does (start, settings, a typed answer,
  push-to-talk, a command, ending), on this session's state.

The session owns the conversation flows (answer → store → reply → store), barge-in and
resumption, and one explicit lifecycle ``Stage``. It consumes client frames and emits
events through an injected ``send``; it knows nothing of HTTP, WebSockets or the database
(see docs/protocol.md).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Literal

from server.voice.asking import asks_something
from server.voice.audio import INPUT_SAMPLE_RATE_HZ, Pcm16
from server.voice.commands import spoken_command
from server.voice.config import VoiceConfig, samples
from server.voice.controls import PATIENT_SILENCE_MS, Controls
from server.voice.conversation import (
    INTERNAL_ERROR,
    Conversation,
    ConversationWriter,
    ErrorMapper,
    Progress,
    default_error_mapper,
)
from server.voice.endpoint import EndOfTurnJudge, TurnCompletion
from server.voice.guard import InputGuard
from server.voice.protocol import (
    CLOSE_INTERNAL_ERROR,
    CLOSE_UNUSABLE,
    AnswerRevised,
    AudioFormat,
    ClientMessage,
    EndInterview,
    ErrorEvent,
    FinalTranscript,
    FlushPlayback,
    Hello,
    InterviewFinished,
    Limits,
    Mode,
    Mute,
    PartialTranscript,
    ProtocolError,
    PttDown,
    PttUp,
    RepeatQuestion,
    Retry,
    Settings,
    SettingsChanged,
    SettingsState,
    SkipQuestion,
    Start,
    State,
    TurnDiscarded,
    TurnTimings,
    TypedAnswer,
    Unmute,
    VoiceState,
    Wait,
    decode_audio_frame,
    decode_client_message,
)
from server.voice.replies import (
    OVER,
    Reply,
    SessionLog,
    SpeechServiceError,
    Stage,
    UnheardAnswer,
)
from server.voice.revision import SecondPass
from server.voice.speaker import Outbound, ReplySpeaker, one_text
from server.voice.stt import SpeechToText
from server.voice.transcriber import Prefiller, TurnTranscriber
from server.voice.tts import TextToSpeech
from server.voice.turns import (
    Cut,
    Judge,
    Turn,
    TurnDetector,
    TurnEnd,
    TurnPhase,
    pauses_ms,
    went_on_after,
)
from server.voice.vad import VadModel, VadWindow
from server.voice.vocabulary import Vocabulary

__all__ = ["Stage", "VoiceSession"]

logger = logging.getLogger(__name__)

Send = Callable[[Outbound], Awaitable[None]]
Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

UNHEARD_MESSAGE = (
    "Your answer could not be transcribed. Its recording is kept: retry to transcribe it "
    "again, or say or type your answer."
)
VOICE_FAILED_MESSAGE = (
    "The interviewer's voice is not working right now; its words are shown as text."
)


# --------------------------------------------------------------------------- the session


class VoiceSession:
    """One per connected interview. Use as ``async with VoiceSession(...) as session:``.

    Feed it with ``receive_audio(bytes)`` and ``receive_text(str)`` (or ``handle(message)``)
    in arrival order; events and audio leave through ``send``. Background work (STT,
    the reply) runs in tasks the session owns and cancels on exit. After each call, check
    ``close_code``: when set, the route should close the socket with it.

    With a ``vocabulary`` (the interview's terms), every transcription of an answer is biased
    towards it, the terms of the question being answered first. ``second_pass_stt`` re-reads
    whole answers (``revision.py``; default: ``stt``); while ``others_busy()`` (other
    interviews in progress on this machine), those passes wait for the end of the interview,
    so they never take the cores another candidate's reply is being written on.
    """

    def __init__(
        self,
        *,
        session_id: str,
        conversation: Conversation,
        stt: SpeechToText,
        tts: TextToSpeech,
        vad_model: VadModel,
        send: Send,
        vocabulary: Vocabulary | None = None,
        second_pass_stt: SpeechToText | None = None,
        turn_model: TurnCompletion | None = None,
        others_busy: Callable[[], bool] | None = None,
        config: VoiceConfig | None = None,
        error_mapper: ErrorMapper = default_error_mapper,
        clock: Clock = time.perf_counter,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.session_id = session_id
        self._conversation = conversation
        self._stt = stt
        self._vocabulary = vocabulary
        self._tts = tts
        self._send = send
        config = config or VoiceConfig()
        self._config = config.resolved(semantic=turn_model is not None and config.semantic_endpoint)
        self._settings = self._config
        self._error_mapper = error_mapper
        self._clock = clock
        self._sleep = sleep
        self._log = SessionLog(logger, {"session_id": session_id})

        cfg = self._config
        self._detector = TurnDetector(vad_model, cfg)
        self._guard = InputGuard(cfg)
        self._speaker = ReplySpeaker(
            tts,
            self._emit,
            clock=clock,
            first_clause_min_words=cfg.first_clause_min_words,
            audio_chunk_ms=cfg.audio_chunk_ms,
        )
        self._prefiller = Prefiller(conversation.prefill, spawn=self._spawn, log=self._log)
        self._others_busy = others_busy or (lambda: False)
        self._endpoint = (
            EndOfTurnJudge(
                turn_model,
                self._detector,
                threshold=cfg.endpoint_threshold,
                unsure_threshold=cfg.endpoint_unsure_threshold,
                unsure_wait_ms=cfg.endpoint_unsure_wait_ms,
                clock=clock,
                log=self._log,
            )
            if turn_model is not None and cfg.semantic_endpoint
            else None
        )
        self._second_pass = (
            SecondPass(
                second_pass_stt or stt,
                conversation.revise_answer,
                spawn=self._spawn,
                log=self._log,
                on_revised=self._on_revised,
            )
            if cfg.second_pass
            else None
        )

        self._stage = Stage.WAITING
        self._stage_before_end = Stage.WAITING
        self._state: VoiceState = "listening"
        self._muted = False
        self._ptt_held = False
        self._hearing: TurnTranscriber | None = None
        """The turn being heard (or ended and not yet taken), with its transcriber."""
        self._reply: Reply | None = None
        self._turn_counter = 0
        self._message_counter = 0
        self._writer = ConversationWriter(
            conversation, emit=self._emit, error_mapper=error_mapper, log=self._log
        )
        self._last_interviewer_text: str | None = None
        self._unheard: UnheardAnswer | None = None
        """A spoken answer whose transcription failed: transcribed again on ``retry``."""
        self._patient_next = False  # "give me a moment": the next turn may pause longer
        self._patient_turn: int | None = None

        self._tasks: set[asyncio.Task[Any]] = set()
        self._send_lock = asyncio.Lock()
        self._transport_failed = False
        self.close_code: int | None = None
        self.close_reason = ""
        self.closed = asyncio.Event()
        self._controls = Controls(self)

    @property
    def _turn(self) -> Turn | None:
        return self._hearing.turn if self._hearing is not None else None

    @property
    def _silence_ms(self) -> int:
        assert self._settings.silence_ms is not None  # filled in by VoiceConfig.resolved
        return self._settings.silence_ms

    @property
    def _over(self) -> bool:
        return self._stage in OVER

    @property
    def stage(self) -> Stage:
        return self._stage

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> VoiceSession:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def open(self) -> None:
        """Send ``hello``; the client answers with ``start``."""
        await self._emit(
            Hello(
                session_id=self.session_id,
                tts_sample_rate_hz=self._tts.sample_rate_hz,
                input_audio=AudioFormat(sample_rate_hz=INPUT_SAMPLE_RATE_HZ),
                output_audio=AudioFormat(sample_rate_hz=self._tts.sample_rate_hz),
                limits=Limits(max_answer_chars=self._config.max_answer_chars),
                settings=self._settings_state(),
            )
        )

    async def aclose(self, *, write_grace_s: float = 5.0) -> None:
        """Cancel all background work (STT jobs, LLM stream, TTS) and wait for it to stop.

        Conversation writes already under way (an answer being stored) get ``write_grace_s``
        to finish: a candidate who hangs up right after answering keeps the answer.
        """
        self._stage = Stage.CLOSED
        self._writer.closing = True
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        await self._writer.drain(write_grace_s)
        if not self.closed.is_set():
            self.closed.set()

    @property
    def state(self) -> VoiceState:
        return self._state

    # ------------------------------------------------------------------ input

    async def receive_audio(self, data: bytes) -> None:
        now = self._clock()
        try:
            frame = decode_audio_frame(data)
        except ProtocolError as err:
            await self._protocol_error(err, now)
            return
        if not self._guard.admit_audio(frame.duration_s, now):
            await self._flooded(now)
            return
        if self._stage is not Stage.LIVE or self._muted:
            return
        await self._process_audio(frame, now)

    async def receive_text(self, text: str) -> None:
        now = self._clock()
        try:
            message = decode_client_message(text)
        except ProtocolError as err:
            await self._protocol_error(err, now)
            return
        await self.handle(message)

    async def handle(self, message: ClientMessage) -> None:
        now = self._clock()
        self._log.debug("control %s", type(message).__name__)
        if isinstance(message, Start | Retry):
            await self._controls.start(now)
        elif isinstance(message, Settings):
            await self._controls.settings(message)
        elif isinstance(message, Mute | Unmute):
            self._muted = isinstance(message, Mute)
            await self._emit(SettingsChanged(settings=self._settings_state()))
        elif isinstance(message, TypedAnswer):
            await self._controls.typed_answer(message.text.strip(), now)
        elif isinstance(message, PttDown):
            await self._controls.ptt_down(now)
        elif isinstance(message, PttUp):
            await self._controls.ptt_up(now)
        elif isinstance(message, EndInterview):
            await self._controls.end_interview(now)
        elif isinstance(message, RepeatQuestion):
            await self._controls.command("repeat", now)
        elif isinstance(message, Wait):
            await self._controls.command("wait", now)
        elif isinstance(message, SkipQuestion):
            await self._controls.command("skip", now)

    # ------------------------------------------------------------------ control messages

    async def _process_audio(self, frame: Pcm16, now: float) -> None:
        for window in self._detector.push(frame, self._turn):
            await self._on_window(window, now)
            if self._stage is not Stage.LIVE:
                return

    async def _on_window(self, window: VadWindow, now: float) -> None:
        hearing = self._hearing
        self._detector.observe(window, now, hearing.turn if hearing is not None else None)
        if hearing is not None and not hearing.turn.ended:
            await self._advance_turn(hearing, window, now)
            return

        if self._settings.mode == "ptt" or self._ptt_held:
            return  # push-to-talk: only the key starts or interrupts a turn
        reply = self._reply
        onset = self._detector.onset(now, playing=reply is not None and reply.playing)
        if onset is None:
            return
        if reply is None:
            if hearing is None and self._writer.can_answer():
                await self._begin_turn(onset.start_sample, now, mode="vad")
        elif reply.phase == "finalizing":
            if reply.turn is not None and reply.turn.mode == "vad":
                # The candidate goes on after a long pause: same turn, nothing was stored yet.
                went_on = went_on_after(reply.turn, onset)
                await self._resume_turn(reply, mode="vad")
                reply.turn.went_on = went_on
            # (after ptt_up the key decides: speech alone does not reopen the turn)
        elif reply.phase == "generating" and not reply.audio_started:
            if self._writer.answer_open:  # nothing heard yet: drop the draft reply, hear them out
                went_on = went_on_after(reply.turn, onset)
                await self._interrupt_for_candidate(reply, now)
                await self._begin_turn(onset.start_sample, now, mode="vad", went_on=went_on)
            # else: the first question (or a repeat) is coming; there is no answer to continue
        elif reply.phase != "done":  # saving, speaking (strong evidence only), saving_reply
            went_on = went_on_after(reply.turn, onset)
            if not await self._interrupt_for_candidate(reply, now, spoke_at=onset.spoke_at):
                went_on = None  # they heard a question: this is an answer to it
            await self._begin_turn(onset.start_sample, now, mode="vad", went_on=went_on)

    def _learn_pause(self, turn: Turn) -> None:
        """Its words kept, a turn that went on after an early end teaches the detector this
        candidate's pause (``TurnDetector.learn_from``)."""
        limit = samples(self._turn_silence_ms(turn))
        if self._detector.learn_from(turn, limit) and turn.went_on is not None:
            self._log.info(
                "turn %d: the candidate went on after a %d ms pause; early ends now wait %d ms",
                turn.number,
                turn.went_on[0] * 1000 // INPUT_SAMPLE_RATE_HZ,
                self._detector.patience * 1000 // INPUT_SAMPLE_RATE_HZ,
            )

    def _turn_silence_ms(self, turn: Turn) -> int:
        """The pause that ends this turn: the candidate's limit, or longer after "give me a
        moment"."""
        if turn.number == self._patient_turn:
            return max(PATIENT_SILENCE_MS, self._silence_ms)
        return self._silence_ms

    async def _advance_turn(self, hearing: TurnTranscriber, window: VadWindow, now: float) -> None:
        turn = hearing.turn
        for decision in self._detector.advance(
            turn,
            window,
            silence_ms=self._turn_silence_ms(turn),
            transcriber_idle=hearing.idle,
            semantic=self._endpoint is not None,
        ):
            if isinstance(decision, Cut):
                if decision.kind == "commit":
                    hearing.commit(decision.start, decision.end)
                else:
                    hearing.partial(decision.start, decision.end)
            elif isinstance(decision, Judge):
                self._spawn(self._judge(hearing, decision), f"judge-{turn.number}")
            elif isinstance(decision, TurnEnd):
                if decision.reason == "limit":
                    self._log.info(
                        "turn %d reached the %d ms limit", turn.number, self._config.max_turn_ms
                    )
                await self._end_turn(hearing, now, early=decision.reason == "settled")

    async def _judge(self, hearing: TurnTranscriber, judge: Judge) -> None:
        assert self._endpoint is not None
        writer = self._writer
        finished = await self._endpoint.finished(
            hearing,
            judge,
            question=self._last_interviewer_text,
            said_before=writer.open_answer_words if writer.answer_open else 0,
        )
        if finished and self._hearing is hearing and self._stage is Stage.LIVE:
            await self._end_turn(hearing, self._clock(), early=True)

    async def _begin_turn(
        self,
        start_sample: int,
        now: float,
        *,
        mode: Mode,
        went_on: tuple[int, int] | None = None,
    ) -> None:
        self._turn_counter += 1
        turn = self._detector.start_turn(self._turn_counter, start_sample, now, mode=mode)
        turn.went_on = went_on
        if self._patient_next:
            self._patient_next, self._patient_turn = False, turn.number
        self._hearing = TurnTranscriber(
            turn,
            stt=self._stt,
            spawn=self._spawn,
            on_caption=self._on_caption,
            log=self._log,
            hotwords=(
                self._vocabulary.hotwords(self._last_interviewer_text)
                if self._vocabulary is not None
                else None
            ),
            context=self._last_interviewer_text if self._config.question_as_context else None,
            prompt_chars=self._config.prompt_chars,
            silence_threshold=self._config.silence_threshold,
        )
        self._log.debug("turn %d begins (%s)", turn.number, mode)
        await self._set_state("hearing")

    async def _resume_turn(self, reply: Reply, *, mode: Mode) -> None:
        hearing = reply.transcriber
        assert hearing is not None
        await self._cancel_reply(reply)
        hearing.turn.phase = TurnPhase.HEARING
        hearing.turn.mode = mode
        hearing.turn.early_end = None
        self._hearing = hearing
        self._log.info(
            "turn %d resumes: the candidate went on before the reply", hearing.turn.number
        )
        await self._set_state("hearing")

    def _discard_turn(self, hearing: TurnTranscriber) -> None:
        hearing.turn.phase = TurnPhase.CLOSED
        if self._hearing is hearing:
            self._hearing = None

    async def _end_turn(self, hearing: TurnTranscriber, now: float, *, early: bool = False) -> None:
        """The candidate's turn is over: transcribe the rest and reply. ``early``: it ended at
        a pause judged over (or settled), before the candidate's own pause limit."""
        turn = hearing.turn
        turn.phase = TurnPhase.ENDED
        turn.early_end = turn.last_voice_end_sample if early else None
        reply = Reply(
            kind="voice",
            turn_number=turn.number,
            reference="speech_end",
            marks={"speech_end": turn.last_voice_wall, "end_of_turn": now},
            phase="finalizing",
            transcriber=hearing,
        )
        await self._set_state("thinking")
        self._start_reply(reply, self._voice_answer_flow(reply))

    async def _on_revised(self, turns: list[int], text: str) -> None:
        await self._emit(AnswerRevised(turns=turns, text=text))

    async def _on_caption(self, hearing: TurnTranscriber) -> None:
        turn = hearing.turn
        await self._emit(PartialTranscript(turn=turn.number, text=hearing.caption))
        if turn.ended or self._writer.answer_open or self._over:
            return  # the reply is due now (or this continues a stored answer): don't prefill
        text = hearing.caption
        text = f"{self._writer.unsaved_answer} {text}" if self._writer.unsaved_answer else text
        self._prefiller.offer(turn, text)

    # ------------------------------------------------------------------ reply flows

    def _start_reply(self, reply: Reply, flow: Awaitable[None]) -> None:
        self._reply = reply
        reply.task = self._spawn(
            self._guarded(reply, flow), f"reply-{reply.kind}-{reply.turn_number}"
        )

    async def _guarded(self, reply: Reply, flow: Awaitable[None]) -> None:
        try:
            await flow
        except Exception as err:
            await self._flow_failed(reply, err)
        finally:
            reply.phase = "done"
            if self._reply is reply:
                self._reply = None

    async def _voice_answer_flow(self, reply: Reply) -> None:
        hearing = reply.transcriber
        assert hearing is not None
        turn = hearing.turn
        try:
            text = await hearing.final_text()
        except Exception as err:
            self._log.exception("turn %d: transcription failed; its audio is kept", turn.number)
            self._unheard = UnheardAnswer(
                turn.number,
                turn.pcm(turn.start_sample, turn.end_sample),
                turn.spoken_ms,
                hearing.hotwords,
            )
            raise SpeechServiceError(UNHEARD_MESSAGE) from err
        # From here the turn is over: speech now is a continuation, not a resumption
        # (set before any await, so no frame can resume a turn whose text is taken).
        reply.phase = "saving"
        reply.marks["final_transcript"] = self._clock()
        turn.phase = TurnPhase.CLOSED
        if self._hearing is hearing:
            self._hearing = None
        voiced_ms = turn.voiced_ms(self._config.speech_threshold)
        if not text or voiced_ms < self._config.min_answer_voiced_ms:
            self._log.info(
                "turn %d discarded: no speech (%.0f ms voiced, %d characters)",
                turn.number,
                voiced_ms,
                len(text),
            )
            await self._emit(TurnDiscarded(turn=turn.number, reason="no_speech"))
            if self._reply is reply and self._hearing is None:
                await self._set_state("listening")
            return
        command = spoken_command(text)
        if command is not None and not self._writer.answer_open:
            # The whole utterance was "repeat the question" (or another command): not an answer.
            self._log.info("turn %d was the spoken command %r", turn.number, command)
            await self._emit(TurnDiscarded(turn=turn.number, reason="command"))
            if self._reply is reply:
                self._reply = None  # so the command finds the session free
                await self._set_state("listening")
            await self._controls.command(command, self._clock(), heard=text)
            return
        self._learn_pause(turn)
        await self._submit_answer(
            reply,
            text,
            source="voice",
            audio_ms=turn.spoken_ms,
            audio=turn.pcm(turn.start_sample, turn.end_sample),
            pauses=[c.end_sample - turn.start_sample for c in hearing.commits],
        )

    async def _submit_answer(
        self,
        reply: Reply,
        text: str,
        *,
        source: Literal["voice", "typed"],
        audio_ms: int | None,
        audio: Pcm16 | None = None,
        pauses: list[int] | None = None,
    ) -> None:
        continues = self._writer.answer_open and not self._writer.unsaved_answer
        await self._emit(
            FinalTranscript(turn=reply.turn_number, text=text, source=source, continues=continues)
        )
        reply.phase = "saving"
        if self._reply is reply and self._hearing is None:
            await self._set_state("thinking")
        prefixed = bool(self._writer.unsaved_answer)
        if prefixed:
            text = f"{self._writer.unsaved_answer} {text}"
        progress = await self._save_candidate(reply, text, audio_ms, audio)
        if progress is not None:
            self._unheard = None  # answered anew: the answer that was not heard is replaced
        if progress is not None and self._second_pass is not None:
            self._second_pass.add(
                progress.answer_id,
                text,
                audio,
                hotwords=reply.transcriber.hotwords if reply.transcriber is not None else None,
                question=self._last_interviewer_text,
                turn=reply.turn_number,
                pauses=pauses,
                revisable=not prefixed,  # the audio of the earlier attempt is gone
            )
        if progress is None or reply.abandon:
            return  # error already reported / the candidate went on: the continuation follows
        await self._continue_interview(reply, progress)

    async def _resume_flow(self, reply: Reply) -> None:
        await self._set_state("thinking")
        if (unheard := self._unheard) is not None:
            try:
                heard = await self._stt.transcribe(unheard.audio, hotwords=unheard.hotwords)
            except Exception as err:
                self._log.exception("the kept answer could not be transcribed again")
                raise SpeechServiceError(UNHEARD_MESSAGE) from err
            self._unheard = None
            reply.turn_number = unheard.turn_number
            if heard.text:
                await self._submit_answer(
                    reply, heard.text, source="voice", audio_ms=unheard.audio_ms,
                    audio=unheard.audio,
                )  # fmt: skip
                return
        if self._writer.unsaved_answer:
            progress = await self._save_candidate(reply, self._writer.unsaved_answer, None, None)
            if progress is None:
                return
        else:
            progress = await self._writer.call(
                self._conversation.progress(), self._failure_hook(reply)
            )
            if progress is None:
                return
            self._writer.answer_open = progress.awaiting == "question" and progress.question > 0
            await self._writer.note(progress)
        await self._continue_interview(reply, progress)

    async def _continue_interview(self, reply: Reply, progress: Progress) -> None:
        if progress.awaiting == "finished":
            await self._finish(progress)
        elif progress.awaiting == "question":
            await self._interviewer_flow(
                reply, self._conversation.stream_interviewer_reply(), persist=True
            )
        elif progress.last_interviewer_text:
            # Reconnected while an answer is due: say the question again, it is already stored.
            await self._interviewer_flow(
                reply, one_text(progress.last_interviewer_text), persist=False
            )
        elif self._reply is reply:
            await self._set_state("listening")

    async def _skip_flow(self, reply: Reply) -> None:
        """The question is skipped: stored as such (never scored), then the next question."""
        await self._set_state("thinking")
        async with self._writer.lock:
            progress = await self._writer.call(
                self._conversation.skip_question(), self._failure_hook(reply)
            )
        if progress is None:
            return
        await self._writer.note(progress)
        await self._continue_interview(reply, progress)

    async def _end_flow(self, reply: Reply) -> None:
        await self._set_state("thinking")
        async with self._writer.lock:
            progress = await self._writer.call(
                self._conversation.end_interview(), self._failure_hook(reply)
            )
        if progress is None:
            self._controls.ending_failed()
            await self._set_state("listening")
            return
        await self._writer.note(progress)
        closing = progress.last_interviewer_text
        if closing and closing != self._last_interviewer_text:
            try:
                await self._interviewer_flow(reply, one_text(closing), persist=False)
            except Exception:
                # The interview has ended either way; the closing line is a courtesy.
                self._log.exception("could not speak the closing line")
        await self._finish(progress)

    async def _interviewer_flow(
        self, reply: Reply, deltas: AsyncIterator[str], *, persist: bool, remember: bool = True
    ) -> None:
        """Speak ``deltas``; ``persist``: store it as the interviewer's message; ``remember``:
        it is what the candidate answers next (Whisper's context, what "repeat" says)."""
        reply.phase = "generating"
        reply.persist = persist
        self._message_counter += 1
        reply.message = self._message_counter
        if self._reply is reply:
            await self._set_state("thinking")

        async def audio_started() -> None:
            reply.phase = "speaking"
            if self._reply is reply:
                await self._set_state("speaking")

        async def first_audio() -> None:
            await self._send_timings(reply)

        text = await self._speaker.speak(
            reply,
            deltas,
            speed=self._settings.voice_speed,
            on_audio_start=audio_started,
            on_first_audio=first_audio,
        )
        if reply.voice_failed:
            await self._error("voice_unavailable", VOICE_FAILED_MESSAGE)
        if self._second_pass is not None and not self._others_busy():
            # The reply is synthesised and the candidate is listening: the model and the
            # speech engine are idle, so the stored answer can be heard again, whole.
            self._second_pass.run()
        if reply.audio_started:
            # Stay "speaking" (and barge-in-able) until the client has played it all.
            try:
                await self._sleep(max(0.0, reply.play_cursor - self._clock()))
            except asyncio.CancelledError:
                # The connection went away mid-playback. All of the audio was delivered, so
                # store the whole message (shielded, so closing cannot cut the write); on
                # resume it is spoken again in full. (A barge-in also cancels this task, but
                # it saves the truncated reply itself, and the session is not over then.)
                if persist and text and self._over and not reply.flushed:
                    await asyncio.shield(self._save_interviewer(reply, text, interrupted=False))
                raise
            self._detector.echo_until = reply.play_cursor + self._config.echo_tail_ms / 1000
        reply.phase = "saving_reply"
        if persist:
            if not text:
                await self._error(
                    "empty_reply", "the interviewer had nothing to say; retry", retryable=True
                )
            else:
                progress = await self._save_interviewer(reply, text, interrupted=False)
                if progress is None:
                    return
                if progress.awaiting == "finished":
                    await self._finish(progress)
                    return
        if text and remember:
            self._last_interviewer_text = text
        if self._reply is reply and self._hearing is None and not self._over:
            await self._set_state("listening")

    async def _interrupt_for_candidate(
        self, reply: Reply, now: float, *, spoke_at: float | None = None
    ) -> bool:
        """The candidate takes the floor: stop the reply and keep only what they heard.
        Returns whether their words go on with the answer being replied to (nothing that
        asked them anything was heard)."""
        if reply.phase == "finalizing":
            await self._cancel_reply(reply)
            if reply.transcriber is not None:
                self._discard_turn(reply.transcriber)
            return False
        if reply.phase in ("saving", "saving_reply"):
            # Storing is never interrupted: it finishes in the background, in order.
            reply.abandon = True
            if self._reply is reply:
                self._reply = None
            return reply.phase == "saving"
        heard = reply.heard(now if spoke_at is None else spoke_at)
        await self._cancel_reply(reply)
        # Heard only an acknowledgement ("That's great!") of the answer just stored: the
        # candidate is going on with it, so nothing of the message is stored and their words
        # continue that answer. (With no answer open, e.g. the opening, there is none to
        # continue: what was heard is the question.)
        kept = not reply.persist or not self._writer.answer_open or asks_something(heard)
        if kept:
            self._writer.open_answer_words = 0  # what they say now answers what they heard
        if reply.playing:
            reply.flushed = True
            await self._emit(FlushPlayback(message=reply.message, kept=kept))
        self._log.info(
            "barge-in on message %d: %d of %d sentence(s) heard%s",
            reply.message,
            len(heard),
            len(reply.units),
            "" if kept else "; no question in them: the answer goes on",
        )
        if reply.persist and heard and kept:
            self._spawn(
                self._save_interrupted(reply, " ".join(heard)), f"save-interrupted-{reply.message}"
            )
        return not kept

    async def _save_interrupted(self, reply: Reply, text: str) -> None:
        progress = await self._save_interviewer(reply, text, interrupted=True)
        if progress is not None:
            self._last_interviewer_text = text
            if progress.awaiting == "finished":
                await self._finish(progress)

    async def _cancel_reply(self, reply: Reply) -> None:
        if self._reply is reply:
            self._reply = None
        task = reply.task
        if task is not None and not task.done() and task is not asyncio.current_task():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _flow_failed(self, reply: Reply, err: Exception) -> None:
        info = self._error_mapper(err)
        if info is None:
            self._log.exception("reply flow %s failed", reply.kind, exc_info=err)
            info = INTERNAL_ERROR
        else:
            self._log.warning("reply flow %s failed: %s: %s", reply.kind, info.code, info.message)
        if reply.playing:
            reply.flushed = True
            await self._emit(FlushPlayback(message=reply.message))
        await self._error(info.code, info.message, retryable=info.retryable)
        if reply.transcriber is not None:
            self._discard_turn(reply.transcriber)
        if reply.kind == "closing":
            self._controls.ending_failed()
        if self._reply is reply and self._hearing is None:
            await self._set_state("listening")

    async def _finish(self, progress: Progress) -> None:
        if self._stage is not Stage.CLOSED:
            self._stage = Stage.FINISHED
        if self._hearing is not None:
            self._discard_turn(self._hearing)
        if self._second_pass is not None:
            # The report is asked for on interview_finished: let it read the better text.
            await self._second_pass.wait(self._config.second_pass_wait_s)
        # No fifth state for "over": the last state is listening (playback done), and
        # interview_finished tells the client that audio is ignored from now on.
        await self._set_state("listening")
        await self._emit(InterviewFinished(question=progress.question, total=progress.total))
        self._log.info("interview finished at question %d of %d", progress.question, progress.total)

    # ------------------------------------------------------------------ conversation calls

    def _failure_hook(self, reply: Reply) -> Callable[[], Awaitable[None]]:
        async def failed() -> None:
            if self._reply is reply and self._hearing is None:
                await self._set_state("listening")

        return failed

    async def _save_candidate(
        self, reply: Reply, text: str, audio_ms: int | None, audio: Pcm16 | None
    ) -> Progress | None:
        reply.phase = "saving"
        turn = reply.turn
        progress = await self._writer.save_answer(
            text,
            audio_ms=audio_ms,
            timings={
                **reply.timings(),
                # Delivery evidence for the feedback report (speaking rate, pauses).
                "pauses_ms": pauses_ms(turn.windows, self._config.silence_threshold)
                if turn is not None
                else [],
            },
            audio=audio,
            on_failure=self._failure_hook(reply),
        )
        if progress is None:
            return None
        reply.marks["candidate_saved"] = self._clock()
        await self._writer.note(progress)
        return progress

    async def _save_interviewer(
        self, reply: Reply, text: str, *, interrupted: bool
    ) -> Progress | None:
        progress = await self._writer.save_reply(
            text,
            interrupted=interrupted,
            timings=reply.timings(),
            on_failure=self._failure_hook(reply),
        )
        if progress is None:
            return None
        await self._writer.note(progress)
        return progress

    # ------------------------------------------------------------------ timings

    async def _send_timings(self, reply: Reply) -> None:
        timings = reply.timings()
        self._log.info(
            "turn %d timings (ms after %s): %s", reply.turn_number, reply.reference, timings
        )
        await self._emit(
            TurnTimings(turn=reply.turn_number, reference=reply.reference, timings_ms=timings)
        )

    # ------------------------------------------------------------------ abuse

    async def _protocol_error(self, err: ProtocolError, now: float) -> None:
        self._log.info("protocol error %s: %s", err.code, err.message)
        over_budget = self._guard.protocol_error(now)
        await self._error(err.code, err.message)
        if over_budget:
            self._close(CLOSE_UNUSABLE, "too many malformed frames")

    async def _flooded(self, now: float) -> None:
        if self._guard.flood_report_due(now):
            self._log.warning("audio arrives faster than real time: frames dropped")
            await self._error(
                "audio_flood", "audio is arriving faster than real time; frames dropped"
            )
        if self._guard.flooding:
            self._close(CLOSE_UNUSABLE, "audio flood")

    def _close(self, code: int, reason: str) -> None:
        if self.close_code is None:
            self._log.warning("closing the connection: %d %s", code, reason)
            self.close_code = code
            self.close_reason = reason
            self.closed.set()

    # ------------------------------------------------------------------ plumbing

    def _spawn(self, coro: Awaitable[Any], name: str) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        task.set_name(f"voice-{self.session_id}-{name}")
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        err = task.exception()
        if err is not None:
            # Flows report their own errors; reaching here is a bug: make the socket go away.
            self._log.error("background task %s crashed", task.get_name(), exc_info=err)
            self._close(CLOSE_INTERNAL_ERROR, "internal error")

    async def _error(self, code: str, message: str, *, retryable: bool = False) -> None:
        await self._emit(ErrorEvent(code=code, message=message, retryable=retryable))

    async def _set_state(self, state: VoiceState) -> None:
        if state != self._state:
            self._state = state
            await self._emit(State(state=state))

    async def _emit(self, item: Outbound) -> None:
        if self._transport_failed:
            return
        async with self._send_lock:
            try:
                await self._send(item)
            except Exception:
                # The socket is gone: the route will see the disconnect and close us.
                self._transport_failed = True
                self._log.warning("send failed; dropping further output", exc_info=True)

    def _settings_state(self) -> SettingsState:
        return SettingsState(
            mode=self._settings.mode,
            silence_ms=self._silence_ms,
            voice_speed=self._settings.voice_speed,
            muted=self._muted,
        )
