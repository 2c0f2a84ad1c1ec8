"""VoiceSession: turn-taking, live transcription, the streamed spoken reply and barge-in for one
connected interview. It consumes client frames and emits events through an injected ``send``;
it knows nothing of HTTP, WebSockets or the database (see docs/protocol.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Coroutine,
    Mapping,
    MutableMapping,
    Sequence,
)
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol, TypeVar

from server.voice.audio import INPUT_SAMPLE_RATE_HZ, PCM16_SAMPLE_WIDTH_BYTES, Pcm16
from server.voice.protocol import (
    CLOSE_INTERNAL_ERROR,
    CLOSE_UNUSABLE,
    SILENCE_MS_DEFAULT,
    AudioEnd,
    AudioFormat,
    AudioStart,
    Awaiting,
    ClientMessage,
    EndInterview,
    ErrorEvent,
    FinalTranscript,
    FlushPlayback,
    Hello,
    InterviewerSentence,
    InterviewFinished,
    Mode,
    Mute,
    PartialTranscript,
    ProgressEvent,
    ProtocolError,
    PttDown,
    PttUp,
    Retry,
    ServerEvent,
    Settings,
    SettingsChanged,
    SettingsState,
    Start,
    State,
    TurnDiscarded,
    TurnTimings,
    TypedAnswer,
    Unmute,
    VoiceState,
    decode_audio_frame,
    decode_client_message,
)
from server.voice.sentences import SentenceSplitter
from server.voice.stt import SpeechToText
from server.voice.tts import TextToSpeech
from server.voice.vad import SpeechTracker, StreamingVad, VadModel, VadWindow

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

# --------------------------------------------------------------------------- the interview side


@dataclass(frozen=True)
class Progress:
    question: int
    """Questions asked so far (k in "Question k of N")."""
    total: int
    """N."""
    awaiting: Awaiting
    """What the interview needs next."""
    last_interviewer_text: str | None


class Conversation(Protocol):
    """The interview as the voice session sees it; implemented over the engine and the DB."""

    async def progress(self) -> Progress: ...

    async def save_candidate_turn(
        self,
        text: str,
        *,
        audio_duration_ms: int | None,
        timings: Mapping[str, Any],
        continues_previous: bool,
    ) -> Progress:
        """Store an answer BEFORE the interviewer is asked for a reply.

        ``continues_previous``: the candidate went on speaking after the end-of-turn
        decision and before hearing anything from the interviewer, so the last stored
        message is theirs: append ``text`` to it (the interview is awaiting "question").
        """
        ...

    async def prefill(self, answer_so_far: str) -> None:
        """The candidate is still speaking: prepare the model for this answer (a hint)."""
        ...

    def stream_interviewer_reply(self) -> AsyncIterator[str]:
        """Text deltas of the next interviewer message (a question or the closing line).

        Stores nothing: the session saves what was actually spoken."""
        ...

    async def save_interviewer_turn(
        self, text: str, *, interrupted: bool, timings: Mapping[str, float]
    ) -> Progress:
        """Store what the interviewer said: if ``interrupted``, only what the candidate heard."""
        ...

    async def end_interview(self) -> Progress: ...


@dataclass(frozen=True)
class ErrorInfo:
    code: str
    message: str
    retryable: bool = True


ErrorMapper = Callable[[Exception], ErrorInfo | None]


def default_error_mapper(err: Exception) -> ErrorInfo | None:
    """App errors (``server.errors.AppError``) carry ``code`` and ``message``: pass them on."""
    code = getattr(err, "code", None)
    message = getattr(err, "message", None)
    if isinstance(code, str) and isinstance(message, str):
        return ErrorInfo(code, message, retryable=True)
    return None


# --------------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class VoiceConfig:
    mode: Mode = "vad"
    silence_ms: int = SILENCE_MS_DEFAULT
    voice_speed: float = 1.0
    # VAD (Silero probabilities per 32 ms window)
    speech_threshold: float = 0.5
    silence_threshold: float = 0.35
    min_speech_start_ms: float = 96.0
    pre_roll_ms: float = 300.0
    """Audio kept from before the detected start, so the first syllable is not lost."""
    min_answer_voiced_ms: float = 150.0
    """A turn with less voiced audio than this is noise, not an answer."""
    # Barge-in and echo protection: while the interviewer's audio plays (and echo_tail_ms
    # after), the mic may hear it despite echoCancellation, so speech must be louder/clearer
    # (higher threshold) and sustained to count.
    barge_in_threshold: float = 0.85
    barge_in_silence_threshold: float = 0.6
    barge_in_min_speech_ms: float = 300.0
    echo_tail_ms: float = 300.0
    # Incremental transcription
    partial_every_ms: float = 1000.0
    """Voiced audio between two live captions."""
    commit_pause_ms: float = 450.0
    """A pause this long closes a phrase: it is transcribed for good while the candidate goes on.
    Short phrases (comma pauses) give Whisper too little context, so commits wait for a
    sentence-length pause and at least ``min_commit_ms`` of audio."""
    min_commit_ms: float = 3000.0
    max_uncommitted_ms: float = 6000.0
    """Speech without a sentence pause is committed at its quietest moment after this long,
    so the end of a long answer leaves only a few seconds to transcribe."""
    max_turn_ms: float = 300_000.0
    prompt_chars: int = 200
    """Preceding text of the same answer passed to Whisper as context."""
    # Reply
    first_clause_min_words: int = 5
    audio_chunk_ms: float = 100.0
    # Abuse
    flood_max_ahead_ms: float = 2000.0
    """Audio may run this far ahead of real time (network bursts) before frames are dropped."""
    flood_close_after_ms: float = 10_000.0
    """Net dropped audio (it decays at 10 % of real time) after which the connection is closed."""
    max_error_burst: int = 20
    """Protocol errors (decaying one per second) after which the connection is closed."""


def pauses_ms(windows: Sequence[VadWindow], silence_threshold: float) -> list[int]:
    """Silent stretches between the first and the last voiced window of a turn, in ms."""
    pauses: list[int] = []
    voiced = [w for w in windows if w.speech_prob >= silence_threshold]
    if not voiced:
        return pauses
    gap_start: int | None = None
    for window in windows:
        if (
            window.start_sample < voiced[0].start_sample
            or window.start_sample > voiced[-1].start_sample
        ):
            continue
        if window.speech_prob < silence_threshold:
            gap_start = window.start_sample if gap_start is None else gap_start
        elif gap_start is not None:
            pauses.append(round(1000 * (window.start_sample - gap_start) / INPUT_SAMPLE_RATE_HZ))
            gap_start = None
    return pauses


Outbound = ServerEvent | Pcm16
"""What ``send`` receives: a JSON event (text frame) or interviewer audio (binary frame)."""
Send = Callable[[Outbound], Awaitable[None]]
Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

_MAX_SAVE_ATTEMPTS = 3
"""Saving one answer fails this often: it is dropped with an error instead of blocking."""

_RECENT_BYTES = 2 * INPUT_SAMPLE_RATE_HZ * PCM16_SAMPLE_WIDTH_BYTES
"""Pre-roll buffer: 2 s of input (the barge-in evidence plus pre_roll_ms fit easily)."""

Phase = Literal["finalizing", "saving", "generating", "speaking", "saving_reply", "done"]


class _SessionLog(logging.LoggerAdapter[logging.Logger]):
    def process(
        self, msg: Any, kwargs: MutableMapping[str, Any]
    ) -> tuple[Any, MutableMapping[str, Any]]:
        return f"[session {self.extra['session_id'] if self.extra else '?'}] {msg}", kwargs


@dataclass(eq=False)
class _Commit:
    start_sample: int
    end_sample: int
    task: asyncio.Task[str | None]
    text: str | None = None


@dataclass(eq=False)
class _Turn:
    number: int
    mode: Mode
    start_sample: int
    audio: bytearray
    windows: list[VadWindow]
    last_voice_end_sample: int
    last_voice_wall: float
    committed_until: int
    commits: list[_Commit] = field(default_factory=list)
    stt_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    jobs_pending: int = 0
    voiced_since_partial: int = 0
    pause_handled_at: int = -1
    draft_text: str = ""
    draft_start_sample: int = -1
    caption: str = ""
    ended: bool = False
    """End of turn decided; audio is still captured in case the candidate goes on."""
    closed: bool = False
    """Final text taken (or turn discarded): no more captions."""

    @property
    def end_sample(self) -> int:
        return self.start_sample + len(self.audio) // PCM16_SAMPLE_WIDTH_BYTES

    def pcm(self, start_sample: int, end_sample: int) -> Pcm16:
        a = max(0, start_sample - self.start_sample) * PCM16_SAMPLE_WIDTH_BYTES
        b = max(0, end_sample - self.start_sample) * PCM16_SAMPLE_WIDTH_BYTES
        return Pcm16(bytes(self.audio[a:b]), INPUT_SAMPLE_RATE_HZ)

    def voiced_samples(self, start_sample: int, end_sample: int, threshold: float) -> int:
        return sum(
            w.end_sample - w.start_sample
            for w in self.windows
            if w.speech_prob >= threshold
            and w.end_sample > start_sample
            and w.start_sample < end_sample
        )

    def committed_text(self) -> str:
        return " ".join(c.text for c in self.commits if c.text)


@dataclass(eq=False)
class _Unit:
    index: int
    text: str
    playback_start: float
    """Estimated wall-clock time the client starts playing it."""


@dataclass(eq=False)
class _Reply:
    """One pass from an answer (or a start) to the end of the interviewer's spoken reply."""

    kind: Literal["voice", "typed", "resume", "closing"]
    turn_number: int
    reference: Literal["speech_end", "answer_received", "request"]
    marks: dict[str, float]
    phase: Phase = "generating"
    turn: _Turn | None = None
    persist: bool = True
    abandon: bool = False
    message: int = 0
    units: list[_Unit] = field(default_factory=list)
    audio_started: bool = False
    audio_ms: float = 0.0
    play_cursor: float = 0.0
    """Estimated wall-clock time at which the client's playback queue runs dry."""
    flushed: bool = False
    timings_sent: bool = False
    task: asyncio.Task[None] | None = None

    def heard(self, spoke_at: float) -> list[str]:
        """Units whose playback began before the candidate started talking over them.

        At least the first: once the interviewer has started speaking, the message exists
        (and the interview engine needs a question before the next answer).
        """
        heard = [u.text for u in self.units if u.playback_start <= spoke_at]
        return heard or [u.text for u in self.units[:1]]


class _Failed:
    def __init__(self, error: Exception) -> None:
        self.error = error


_END_OF_UNITS = object()


class _FloodGuard:
    """Leaky bucket over audio duration: drains at real time, so no credit builds while idle."""

    def __init__(self, max_ahead_s: float, close_after_s: float) -> None:
        self.max_ahead_s = max_ahead_s
        self.close_after_s = close_after_s
        self.level_s = 0.0
        self.dropped_s = 0.0
        self._last: float | None = None

    def admit(self, duration_s: float, now: float) -> bool:
        if self._last is not None:
            elapsed = max(0.0, now - self._last)
            self.level_s = max(0.0, self.level_s - elapsed)
            self.dropped_s = max(0.0, self.dropped_s - 0.1 * elapsed)
        self._last = now
        if self.level_s + duration_s > self.max_ahead_s:
            self.dropped_s += duration_s
            return False
        self.level_s += duration_s
        return True

    @property
    def abusive(self) -> bool:
        return self.dropped_s > self.close_after_s


@contextlib.asynccontextmanager
async def _closing(stream: AsyncIterator[_T]) -> AsyncIterator[AsyncIterator[_T]]:
    """Close an async iterator (the LLM's HTTP stream, Piper's worker) however we leave it."""
    try:
        yield stream
    finally:
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            await aclose()


async def _one_text(text: str) -> AsyncIterator[str]:
    yield text


# --------------------------------------------------------------------------- the session


class VoiceSession:
    """One per connected interview. Use as ``async with VoiceSession(...) as session:``.

    Feed it with ``receive_audio(bytes)`` and ``receive_text(str)`` (or ``handle(message)``)
    in arrival order; events and audio leave through ``send``. Background work (STT,
    the reply) runs in tasks the session owns and cancels on exit. After each call, check
    ``close_code``: when set, the route should close the socket with it.
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
        config: VoiceConfig | None = None,
        error_mapper: ErrorMapper = default_error_mapper,
        clock: Clock = time.perf_counter,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.session_id = session_id
        self._conversation = conversation
        self._stt = stt
        self._tts = tts
        self._send = send
        self._config = config or VoiceConfig()
        self._settings = self._config
        self._error_mapper = error_mapper
        self._clock = clock
        self._sleep = sleep
        self._log = _SessionLog(logger, {"session_id": session_id})

        cfg = self._config
        self._vad = StreamingVad(vad_model)
        self._normal = SpeechTracker(
            threshold=cfg.speech_threshold,
            neg_threshold=cfg.silence_threshold,
            min_speech_ms=cfg.min_speech_start_ms,
        )
        self._strong = SpeechTracker(
            threshold=cfg.barge_in_threshold,
            neg_threshold=cfg.barge_in_silence_threshold,
            min_speech_ms=cfg.barge_in_min_speech_ms,
        )
        self._flood = _FloodGuard(cfg.flood_max_ahead_ms / 1000, cfg.flood_close_after_ms / 1000)
        self._error_level = 0.0
        self._error_level_at: float | None = None
        self._last_flood_error_at = float("-inf")

        # Pre-roll: the last ~2 s of input audio and VAD windows, so a turn can start before
        # the moment speech was confirmed.
        self._recent = bytearray()
        self._recent_start = 0
        self._recent_windows: deque[VadWindow] = deque(maxlen=64)

        self._state: VoiceState = "listening"
        self._started = False
        self._finished = False
        self._muted = False
        self._ptt_held = False
        self._turn: _Turn | None = None
        self._reply: _Reply | None = None
        self._turn_counter = 0
        self._message_counter = 0
        self._answer_open = False
        self._unsaved_answer: str | None = None
        self._unsaved_attempts = 0
        self._awaiting: Awaiting | None = None
        self._last_interviewer_text: str | None = None
        self._echo_guard_until = float("-inf")
        self._prefill_next: tuple[_Turn, str] | None = None
        self._prefill_task: asyncio.Task[None] | None = None

        self._tasks: set[asyncio.Task[Any]] = set()
        self._writes: set[asyncio.Task[Progress]] = set()
        self._send_lock = asyncio.Lock()
        self._conversation_lock = asyncio.Lock()
        self._transport_failed = False
        self.close_code: int | None = None
        self.close_reason = ""
        self.closed = asyncio.Event()

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
                settings=self._settings_state(),
            )
        )

    async def aclose(self, *, write_grace_s: float = 5.0) -> None:
        """Cancel all background work (STT jobs, LLM stream, TTS) and wait for it to stop.

        Conversation writes already under way (an answer being stored) get ``write_grace_s``
        to finish: a candidate who hangs up right after answering keeps the answer.
        """
        self._finished = True
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._writes:
            _done, pending = await asyncio.wait(list(self._writes), timeout=write_grace_s)
            for task in pending:
                self._log.warning("a conversation write did not finish in time; cancelling it")
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
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
        if not self._flood.admit(frame.duration_s, now):
            await self._flooded(now)
            return
        if not self._started or self._finished or self._muted:
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
            await self._on_start(now)
        elif isinstance(message, Settings):
            await self._on_settings(message)
        elif isinstance(message, Mute | Unmute):
            self._muted = isinstance(message, Mute)
            await self._emit(SettingsChanged(settings=self._settings_state()))
        elif isinstance(message, TypedAnswer):
            await self._on_typed_answer(message.text.strip(), now)
        elif isinstance(message, PttDown):
            await self._on_ptt_down(now)
        elif isinstance(message, PttUp):
            await self._on_ptt_up(now)
        elif isinstance(message, EndInterview):
            await self._on_end_interview(now)

    # ------------------------------------------------------------------ control messages

    async def _on_start(self, now: float) -> None:
        if self._turn is not None or self._reply is not None:
            await self._emit(
                ErrorEvent(code="busy", message="the interview is already in progress")
            )
            return
        if self._finished:
            progress = await self._call_conversation(self._conversation.progress())
            if progress is not None:
                await self._emit(
                    InterviewFinished(question=progress.question, total=progress.total)
                )
            return
        self._started = True
        reply = _Reply(
            kind="resume",
            turn_number=self._turn_counter,
            reference="request",
            marks={"request": now},
        )
        self._start_reply(reply, self._resume_flow(reply))

    async def _on_settings(self, message: Settings) -> None:
        changes: dict[str, Any] = {}
        if message.mode is not None:
            changes["mode"] = message.mode
        if message.silence_ms is not None:
            changes["silence_ms"] = message.silence_ms
        if message.voice_speed is not None:
            changes["voice_speed"] = message.voice_speed
        self._settings = replace(self._settings, **changes)
        # A turn keeps the mode it began with; the new one applies from the next turn.
        await self._emit(SettingsChanged(settings=self._settings_state()))

    async def _on_typed_answer(self, text: str, now: float) -> None:
        if not await self._check_can_answer():
            return
        reply = self._reply
        if reply is not None:
            if reply.phase == "generating" and not reply.audio_started and not self._answer_open:
                await self._emit(
                    ErrorEvent(code="busy", message="wait for the interviewer's question")
                )
                return
            await self._interrupt_for_candidate(reply, now)
        elif self._turn is None and not self._can_answer():
            await self._no_question()
            return
        if self._turn is not None:
            self._discard_turn(self._turn)
        self._turn_counter += 1
        typed = _Reply(
            kind="typed",
            turn_number=self._turn_counter,
            reference="answer_received",
            marks={"answer_received": now},
            phase="saving",
        )
        self._start_reply(typed, self._submit_answer(typed, text, source="typed", audio_ms=None))

    async def _on_ptt_down(self, now: float) -> None:
        if not await self._check_can_answer():
            return
        if self._ptt_held:
            return
        self._ptt_held = True
        if self._turn is not None and not self._turn.ended:
            self._turn.mode = "ptt"  # already hearing: the key now decides when the turn ends
            return
        start = self._vad.samples_seen - self._samples(self._config.pre_roll_ms)
        reply = self._reply
        if reply is not None:
            if reply.phase == "finalizing" and reply.turn is not None:
                await self._resume_turn(reply, mode="ptt")
                return
            if reply.phase == "generating" and not reply.audio_started and not self._answer_open:
                self._ptt_held = False
                await self._emit(
                    ErrorEvent(code="busy", message="wait for the interviewer's question")
                )
                return
            await self._interrupt_for_candidate(reply, now)
        elif not self._can_answer():
            self._ptt_held = False
            await self._no_question()
            return
        await self._begin_turn(start, now, mode="ptt")

    async def _no_question(self) -> None:
        await self._emit(
            ErrorEvent(
                code="no_question",
                message='there is no question to answer yet; send "retry" to get one',
                retryable=True,
            )
        )

    async def _on_ptt_up(self, now: float) -> None:
        if not self._ptt_held:
            return
        self._ptt_held = False
        turn = self._turn
        if turn is not None and not turn.ended and turn.mode == "ptt":
            await self._end_turn(turn, now)

    async def _on_end_interview(self, now: float) -> None:
        if self._finished:
            return
        reply = self._reply
        if reply is not None:
            await self._interrupt_for_candidate(reply, now)
        if self._turn is not None:
            self._discard_turn(self._turn)
        self._finished = True  # from here on, audio is ignored
        closing = _Reply(
            kind="closing",
            turn_number=self._turn_counter,
            reference="request",
            marks={"request": now},
        )
        self._start_reply(closing, self._end_flow(closing))

    async def _check_can_answer(self) -> bool:
        if not self._started:
            await self._emit(ErrorEvent(code="not_started", message='send "start" first'))
            return False
        if self._finished:
            await self._emit(
                ErrorEvent(code="interview_finished", message="the interview has finished")
            )
            return False
        return True

    # ------------------------------------------------------------------ audio path

    async def _process_audio(self, frame: Pcm16, now: float) -> None:
        self._recent += frame.data
        excess = len(self._recent) - _RECENT_BYTES
        if excess > 0:
            del self._recent[:excess]
            self._recent_start += excess // PCM16_SAMPLE_WIDTH_BYTES
        if self._turn is not None:
            self._turn.audio += frame.data
        for window in self._vad.process(frame):
            await self._on_window(window, now)
            if self._finished:
                return

    async def _on_window(self, window: VadWindow, now: float) -> None:
        cfg = self._config
        self._normal.push(window)
        self._strong.push(window)
        self._recent_windows.append(window)
        turn = self._turn
        if turn is not None:
            turn.windows.append(window)
            if window.speech_prob >= cfg.silence_threshold:
                turn.last_voice_end_sample = window.end_sample
                turn.last_voice_wall = now
            if window.speech_prob >= cfg.speech_threshold:
                turn.voiced_since_partial += window.end_sample - window.start_sample
            if not turn.ended:
                await self._advance_turn(turn, window, now)
                return

        if self._settings.mode == "ptt" or self._ptt_held:
            return  # push-to-talk: only the key starts or interrupts a turn
        # Echo protection: while interviewer audio may be playing, only strong, sustained speech
        # counts, and the turn starts where that strong run began (not in the echo before it).
        echo = self._echo_active(now)
        tracker = self._strong if echo else self._normal
        if not tracker.in_speech:
            return
        start = tracker.speech_start_sample - self._samples(cfg.pre_roll_ms)
        spoke_at = (
            now - (self._vad.samples_seen - tracker.speech_start_sample) / INPUT_SAMPLE_RATE_HZ
        )
        reply = self._reply
        if reply is None:
            if turn is None and self._can_answer():
                await self._begin_turn(start, now, mode="vad")
        elif reply.phase == "finalizing":
            if reply.turn is not None and reply.turn.mode == "vad":
                # The candidate goes on after a long pause: same turn, nothing was stored yet.
                await self._resume_turn(reply, mode="vad")
            # (after ptt_up the key decides: speech alone does not reopen the turn)
        elif reply.phase == "generating" and not reply.audio_started:
            if self._answer_open:  # nothing heard yet: drop the draft reply, hear them out
                await self._interrupt_for_candidate(reply, now)
                await self._begin_turn(start, now, mode="vad")
            # else: the first question (or a repeat) is coming; there is no answer to continue
        elif reply.phase != "done":  # saving, speaking (strong evidence only), saving_reply
            await self._interrupt_for_candidate(reply, now, spoke_at=spoke_at)
            await self._begin_turn(start, now, mode="vad")

    async def _advance_turn(self, turn: _Turn, window: VadWindow, now: float) -> None:
        cfg = self._config
        silence = window.end_sample - turn.last_voice_end_sample
        uncommitted = window.end_sample - turn.committed_until
        if (
            silence >= self._samples(cfg.commit_pause_ms)
            and turn.pause_handled_at != turn.last_voice_end_sample
        ):
            turn.pause_handled_at = turn.last_voice_end_sample
            cut = turn.last_voice_end_sample + self._samples(cfg.commit_pause_ms) // 2
            if not turn.voiced_samples(turn.committed_until, cut, cfg.silence_threshold):
                turn.committed_until = max(
                    turn.committed_until, cut
                )  # silence is never transcribed
            elif cut - turn.committed_until >= self._samples(cfg.min_commit_ms):
                self._schedule_commit(turn, cut)
        elif uncommitted >= self._samples(cfg.max_uncommitted_ms):
            cut = self._quietest_cut(turn, window.end_sample)
            if not turn.voiced_samples(turn.committed_until, cut, cfg.silence_threshold):
                turn.committed_until = cut
            else:
                self._schedule_commit(turn, cut)
        elif (
            self._normal.in_speech
            and turn.voiced_since_partial >= self._samples(cfg.partial_every_ms)
            and turn.jobs_pending == 0
        ):
            turn.voiced_since_partial = 0
            self._schedule_partial(turn, window.end_sample)

        if turn.mode == "vad" and silence >= self._samples(self._settings.silence_ms):
            await self._end_turn(turn, now)
        elif window.end_sample - turn.start_sample >= self._samples(cfg.max_turn_ms):
            self._log.info("turn %d reached the %d ms limit", turn.number, cfg.max_turn_ms)
            await self._end_turn(turn, now)

    def _quietest_cut(self, turn: _Turn, end_sample: int) -> int:
        """Where to split a long stretch without pauses: the least speech-like window."""
        lo = turn.committed_until + self._samples(self._config.max_uncommitted_ms) // 2
        hi = end_sample - self._samples(500)
        candidates = [w for w in turn.windows if lo <= w.start_sample and w.end_sample <= hi]
        if not candidates:
            return max(hi, turn.committed_until + 1)
        quietest = min(candidates, key=lambda w: w.speech_prob)
        return (quietest.start_sample + quietest.end_sample) // 2

    def _echo_active(self, now: float) -> bool:
        reply = self._reply
        if reply is not None and reply.audio_started and not reply.flushed:
            return True
        return now < self._echo_guard_until

    async def _begin_turn(self, start_sample: int, now: float, *, mode: Mode) -> None:
        start_sample = max(start_sample, self._recent_start)
        offset = (start_sample - self._recent_start) * PCM16_SAMPLE_WIDTH_BYTES
        self._turn_counter += 1
        turn = _Turn(
            number=self._turn_counter,
            mode=mode,
            start_sample=start_sample,
            audio=bytearray(self._recent[offset:]),
            windows=[w for w in self._recent_windows if w.end_sample > start_sample],
            last_voice_end_sample=self._vad.samples_seen,
            last_voice_wall=now,
            committed_until=start_sample,
        )
        self._turn = turn
        self._log.debug("turn %d begins (%s)", turn.number, mode)
        await self._set_state("hearing")

    async def _resume_turn(self, reply: _Reply, *, mode: Mode) -> None:
        turn = reply.turn
        assert turn is not None
        await self._cancel_reply(reply)
        turn.ended = False
        turn.mode = mode
        self._turn = turn
        self._log.info("turn %d resumes: the candidate went on before the reply", turn.number)
        await self._set_state("hearing")

    def _discard_turn(self, turn: _Turn) -> None:
        turn.closed = True
        turn.ended = True
        if self._turn is turn:
            self._turn = None

    async def _end_turn(self, turn: _Turn, now: float) -> None:
        turn.ended = True
        reply = _Reply(
            kind="voice",
            turn_number=turn.number,
            reference="speech_end",
            marks={"speech_end": turn.last_voice_wall, "end_of_turn": now},
            phase="finalizing",
            turn=turn,
        )
        await self._set_state("thinking")
        self._start_reply(reply, self._voice_answer_flow(reply))

    # ------------------------------------------------------------------ incremental STT

    def _prompt(self, text: str) -> str | None:
        return text[-self._config.prompt_chars :] or None

    def _schedule_commit(self, turn: _Turn, cut: int) -> None:
        start = turn.committed_until
        turn.committed_until = cut
        turn.jobs_pending += 1
        index = len(turn.commits)
        task = self._spawn(
            self._commit_job(turn, index, start, cut), f"commit-{turn.number}-{index}"
        )
        turn.commits.append(_Commit(start, cut, task))

    async def _commit_job(self, turn: _Turn, index: int, start: int, end: int) -> str | None:
        try:
            async with turn.stt_lock:  # jobs of one turn run in order: each prompts the next
                prompt = self._prompt(" ".join(c.text for c in turn.commits[:index] if c.text))
                transcript = await self._stt.transcribe(turn.pcm(start, end), prompt=prompt)
        except Exception:
            # The final pass re-transcribes this stretch; the answer is not lost.
            self._log.exception("turn %d: commit %d failed", turn.number, index)
            return None
        finally:
            turn.jobs_pending -= 1
        turn.commits[index].text = transcript.text
        self._log.debug(
            "turn %d: committed %.1f s in %.0f ms: %r",
            turn.number,
            (end - start) / INPUT_SAMPLE_RATE_HZ,
            transcript.processing_ms,
            transcript.text,
        )
        await self._update_caption(turn)
        self._schedule_prefill(turn)
        return transcript.text

    def _schedule_prefill(self, turn: _Turn) -> None:
        """While the candidate goes on, let the model read the answer so far (the live caption:
        committed phrases and the latest draft; one request at a time, only the newest text),
        so that when the answer ends only its last words are left to read. A draft's last
        words may still change; the server's cache then matches up to where they differ."""
        if turn.ended or turn.closed or self._answer_open or self._finished:
            return  # the reply is due now (or this continues a stored answer): don't queue
        text = turn.caption
        if not text:
            return
        text = f"{self._unsaved_answer} {text}" if self._unsaved_answer else text
        self._prefill_next = (turn, text)
        if self._prefill_task is None or self._prefill_task.done():
            self._prefill_task = self._spawn(self._prefill_loop(), f"prefill-{turn.number}")

    async def _prefill_loop(self) -> None:
        while self._prefill_next is not None:
            (turn, text), self._prefill_next = self._prefill_next, None
            if turn.ended or turn.closed:
                continue
            try:
                await self._conversation.prefill(text)
            except Exception:  # a hint: the reply works without it
                self._log.warning("prefill failed", exc_info=True)

    def _schedule_partial(self, turn: _Turn, end: int) -> None:
        turn.jobs_pending += 1
        self._spawn(self._partial_job(turn, turn.committed_until, end), f"partial-{turn.number}")

    async def _partial_job(self, turn: _Turn, start: int, end: int) -> None:
        try:
            async with turn.stt_lock:
                if turn.ended or turn.closed:
                    return  # the final pass is due: don't make it wait
                transcript = await self._stt.transcribe(
                    turn.pcm(start, end), prompt=self._prompt(turn.committed_text()), draft=True
                )
        except Exception:
            self._log.exception("turn %d: live caption failed", turn.number)
            return  # captions are best effort; the final pass does not depend on them
        finally:
            turn.jobs_pending -= 1
        if transcript.skipped:
            return  # the caption so far stays up
        turn.draft_text = transcript.text
        turn.draft_start_sample = start
        await self._update_caption(turn)
        self._schedule_prefill(turn)

    async def _update_caption(self, turn: _Turn) -> None:
        if turn.closed:
            return
        parts = [turn.committed_text()]
        if turn.draft_text and turn.draft_start_sample >= (
            turn.commits[-1].end_sample if turn.commits else -1
        ):
            parts.append(turn.draft_text)
        caption = " ".join(p for p in parts if p)
        if caption and caption != turn.caption:
            turn.caption = caption
            await self._emit(PartialTranscript(turn=turn.number, text=caption))

    async def _final_text(self, turn: _Turn) -> str:
        end = turn.end_sample
        parts: list[str] = []
        for commit in list(turn.commits):
            # shield: if this pass is cancelled (the candidate went on), the commits live on.
            text = await asyncio.shield(commit.task)
            if text is None:
                async with turn.stt_lock:
                    retry = await self._stt.transcribe(
                        turn.pcm(commit.start_sample, commit.end_sample),
                        prompt=self._prompt(" ".join(parts)),
                    )
                text = commit.text = retry.text
            if text:
                parts.append(text)
        tail_start = turn.committed_until
        # The lower (silence) threshold: a quiet last word must survive.
        if (
            end > tail_start
            and turn.voiced_samples(tail_start, end, self._config.silence_threshold) > 0
        ):
            async with turn.stt_lock:
                tail = await self._stt.transcribe(
                    turn.pcm(tail_start, end), prompt=self._prompt(" ".join(parts))
                )
            if tail.text:
                parts.append(tail.text)
        return " ".join(parts).strip()

    # ------------------------------------------------------------------ reply flows

    def _start_reply(self, reply: _Reply, flow: Awaitable[None]) -> None:
        self._reply = reply
        reply.task = self._spawn(
            self._guarded(reply, flow), f"reply-{reply.kind}-{reply.turn_number}"
        )

    async def _guarded(self, reply: _Reply, flow: Awaitable[None]) -> None:
        try:
            await flow
        except Exception as err:
            await self._flow_failed(reply, err)
        finally:
            reply.phase = "done"
            if self._reply is reply:
                self._reply = None

    async def _voice_answer_flow(self, reply: _Reply) -> None:
        turn = reply.turn
        assert turn is not None
        text = await self._final_text(turn)
        # From here the turn is over: speech now is a continuation, not a resumption
        # (set before any await, so no frame can resume a turn whose text is taken).
        reply.phase = "saving"
        reply.marks["final_transcript"] = self._clock()
        turn.closed = True
        if self._turn is turn:
            self._turn = None
        voiced_ms = (
            turn.voiced_samples(turn.start_sample, turn.end_sample, self._config.speech_threshold)
            * 1000
            / INPUT_SAMPLE_RATE_HZ
        )
        if not text or voiced_ms < self._config.min_answer_voiced_ms:
            self._log.info(
                "turn %d discarded: no speech (%.0f ms voiced, text %r)",
                turn.number,
                voiced_ms,
                text,
            )
            await self._emit(TurnDiscarded(turn=turn.number, reason="no_speech"))
            if self._reply is reply and self._turn is None:
                await self._set_state("listening")
            return
        audio_ms = int(
            (turn.last_voice_end_sample - turn.start_sample) * 1000 / INPUT_SAMPLE_RATE_HZ
        )
        await self._submit_answer(reply, text, source="voice", audio_ms=audio_ms)

    async def _submit_answer(
        self, reply: _Reply, text: str, *, source: Literal["voice", "typed"], audio_ms: int | None
    ) -> None:
        await self._emit(FinalTranscript(turn=reply.turn_number, text=text, source=source))
        reply.phase = "saving"
        if self._reply is reply and self._turn is None:
            await self._set_state("thinking")
        if self._unsaved_answer:
            text = f"{self._unsaved_answer} {text}"
        progress = await self._save_candidate(reply, text, audio_ms)
        if progress is None or reply.abandon:
            return  # error already reported / the candidate went on: the continuation follows
        await self._continue_interview(reply, progress)

    async def _resume_flow(self, reply: _Reply) -> None:
        await self._set_state("thinking")
        if self._unsaved_answer:
            progress = await self._save_candidate(reply, self._unsaved_answer, None)
            if progress is None:
                return
        else:
            progress = await self._call_conversation(self._conversation.progress(), reply)
            if progress is None:
                return
            self._answer_open = progress.awaiting == "question" and progress.question > 0
            await self._note_progress(progress)
        await self._continue_interview(reply, progress)

    async def _continue_interview(self, reply: _Reply, progress: Progress) -> None:
        if progress.awaiting == "finished":
            await self._finish(progress)
        elif progress.awaiting == "question":
            await self._interviewer_flow(
                reply, self._conversation.stream_interviewer_reply(), persist=True
            )
        elif progress.last_interviewer_text:
            # Reconnected while an answer is due: say the question again, it is already stored.
            await self._interviewer_flow(
                reply, _one_text(progress.last_interviewer_text), persist=False
            )
        elif self._reply is reply:
            await self._set_state("listening")

    async def _end_flow(self, reply: _Reply) -> None:
        await self._set_state("thinking")
        async with self._conversation_lock:
            progress = await self._call_conversation(self._conversation.end_interview(), reply)
        if progress is None:
            self._finished = False  # nothing ended: the candidate may carry on or try again
            await self._set_state("listening")
            return
        await self._note_progress(progress)
        closing = progress.last_interviewer_text
        if closing and closing != self._last_interviewer_text:
            try:
                await self._interviewer_flow(reply, _one_text(closing), persist=False)
            except Exception:
                # The interview has ended either way; the closing line is a courtesy.
                self._log.exception("could not speak the closing line")
        await self._finish(progress)

    async def _interviewer_flow(
        self, reply: _Reply, deltas: AsyncIterator[str], *, persist: bool
    ) -> None:
        reply.phase = "generating"
        reply.persist = persist
        self._message_counter += 1
        reply.message = self._message_counter
        if self._reply is reply:
            await self._set_state("thinking")
        text = await self._speak(reply, deltas)
        if reply.audio_started:
            # Stay "speaking" (and barge-in-able) until the client has played it all.
            try:
                await self._sleep(max(0.0, reply.play_cursor - self._clock()))
            except asyncio.CancelledError:
                # The connection went away mid-playback. All of the audio was delivered, so
                # store the whole message (shielded, so closing cannot cut the write); on
                # resume it is spoken again in full. (A barge-in also cancels this task, but
                # it saves the truncated reply itself, and ``_finished`` is not set then.)
                if persist and text and self._finished and not reply.flushed:
                    await asyncio.shield(self._save_interviewer(reply, text, interrupted=False))
                raise
            self._echo_guard_until = reply.play_cursor + self._config.echo_tail_ms / 1000
        reply.phase = "saving_reply"
        if persist:
            if not text:
                await self._emit(
                    ErrorEvent(
                        code="empty_reply",
                        message="the interviewer had nothing to say; retry",
                        retryable=True,
                    )
                )
            else:
                progress = await self._save_interviewer(reply, text, interrupted=False)
                if progress is None:
                    return
                if progress.awaiting == "finished":
                    await self._finish(progress)
                    return
        if text:
            self._last_interviewer_text = text
        if self._reply is reply and self._turn is None and not self._finished:
            await self._set_state("listening")

    async def _speak(self, reply: _Reply, deltas: AsyncIterator[str]) -> str:
        """LLM deltas → units → TTS → audio frames, with the LLM running ahead in a child task."""
        units: asyncio.Queue[str | _Failed | object] = asyncio.Queue()
        producer = asyncio.create_task(
            self._produce_units(reply, deltas, units), name=f"llm-{reply.message}"
        )
        spoken: list[str] = []
        try:
            while True:
                item = await units.get()
                if item is _END_OF_UNITS:
                    break
                if isinstance(item, _Failed):
                    raise item.error
                assert isinstance(item, str)
                spoken.append(item)
                await self._speak_unit(reply, len(spoken) - 1, item)
        finally:
            if not producer.done():
                producer.cancel()
            await asyncio.gather(producer, return_exceptions=True)
        if reply.audio_started:
            await self._emit(AudioEnd(message=reply.message, duration_ms=int(reply.audio_ms)))
        return " ".join(spoken)

    async def _produce_units(
        self,
        reply: _Reply,
        deltas: AsyncIterator[str],
        units: asyncio.Queue[str | _Failed | object],
    ) -> None:
        splitter = SentenceSplitter(first_clause_min_words=self._config.first_clause_min_words)
        try:
            async with _closing(deltas) as stream:
                async for delta in stream:
                    reply.marks.setdefault("first_token", self._clock())
                    for unit in splitter.push(delta):
                        reply.marks.setdefault("first_sentence", self._clock())
                        units.put_nowait(unit)
            for unit in splitter.flush():
                reply.marks.setdefault("first_sentence", self._clock())
                units.put_nowait(unit)
            units.put_nowait(_END_OF_UNITS)
        except Exception as err:
            units.put_nowait(_Failed(err))  # raised by the consumer, in the reply task

    async def _speak_unit(self, reply: _Reply, index: int, text: str) -> None:
        unit: _Unit | None = None
        async with _closing(self._tts.synthesize(text, speed=self._settings.voice_speed)) as chunks:
            async for chunk in chunks:
                for piece in chunk.split(self._config.audio_chunk_ms):
                    now = self._clock()
                    if not reply.audio_started:
                        reply.audio_started = True
                        reply.phase = "speaking"
                        reply.play_cursor = now
                        await self._emit(
                            AudioStart(message=reply.message, sample_rate_hz=piece.sample_rate_hz)
                        )
                        if self._reply is reply:
                            await self._set_state("speaking")
                    if unit is None:
                        unit = _Unit(index, text, max(reply.play_cursor, now))
                        reply.units.append(unit)
                        await self._emit(
                            InterviewerSentence(
                                message=reply.message,
                                index=index,
                                text=text,
                                audio_offset_ms=int(reply.audio_ms),
                            )
                        )
                    reply.play_cursor = max(reply.play_cursor, now) + piece.duration_s
                    reply.audio_ms += piece.duration_ms
                    await self._emit(piece)
                    if not reply.timings_sent:
                        reply.timings_sent = True
                        reply.marks["first_audio"] = self._clock()
                        await self._send_timings(reply)

    async def _interrupt_for_candidate(
        self, reply: _Reply, now: float, *, spoke_at: float | None = None
    ) -> None:
        """The candidate takes the floor: stop the reply and keep only what they heard."""
        if reply.phase == "finalizing":
            await self._cancel_reply(reply)
            if reply.turn is not None:
                self._discard_turn(reply.turn)
            return
        if reply.phase in ("saving", "saving_reply"):
            # Storing is never interrupted: it finishes in the background, in order.
            reply.abandon = True
            if self._reply is reply:
                self._reply = None
            return
        heard = reply.heard(now if spoke_at is None else spoke_at)
        await self._cancel_reply(reply)
        if reply.audio_started and not reply.flushed:
            reply.flushed = True
            await self._emit(FlushPlayback(message=reply.message))
        self._log.info(
            "barge-in on message %d: %d of %d sentence(s) heard",
            reply.message,
            len(heard),
            len(reply.units),
        )
        if reply.persist and heard:
            self._spawn(
                self._save_interrupted(reply, " ".join(heard)), f"save-interrupted-{reply.message}"
            )

    async def _save_interrupted(self, reply: _Reply, text: str) -> None:
        progress = await self._save_interviewer(reply, text, interrupted=True)
        if progress is not None:
            self._last_interviewer_text = text
            if progress.awaiting == "finished":
                await self._finish(progress)

    async def _cancel_reply(self, reply: _Reply) -> None:
        if self._reply is reply:
            self._reply = None
        task = reply.task
        if task is not None and not task.done() and task is not asyncio.current_task():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _flow_failed(self, reply: _Reply, err: Exception) -> None:
        info = self._error_mapper(err)
        if info is None:
            self._log.exception("reply flow %s failed", reply.kind, exc_info=err)
            info = ErrorInfo(
                "internal_error", "something went wrong on our side; try again", retryable=True
            )
        else:
            self._log.warning("reply flow %s failed: %s: %s", reply.kind, info.code, info.message)
        if reply.audio_started and not reply.flushed:
            reply.flushed = True
            await self._emit(FlushPlayback(message=reply.message))
        await self._emit(ErrorEvent(code=info.code, message=info.message, retryable=info.retryable))
        if reply.turn is not None:
            self._discard_turn(reply.turn)
        if reply.kind == "closing":
            self._finished = False
        if self._reply is reply and self._turn is None:
            await self._set_state("listening")

    async def _finish(self, progress: Progress) -> None:
        self._finished = True
        if self._turn is not None:
            self._discard_turn(self._turn)
        # No fifth state for "over": the last state is listening (playback done), and
        # interview_finished tells the client that audio is ignored from now on.
        await self._set_state("listening")
        await self._emit(InterviewFinished(question=progress.question, total=progress.total))
        self._log.info("interview finished at question %d of %d", progress.question, progress.total)

    # ------------------------------------------------------------------ conversation calls

    async def _call_conversation(
        self, call: Awaitable[Progress], reply: _Reply | None = None
    ) -> Progress | None:
        """Run one conversation call; its errors become error events (the flow stops)."""
        try:
            return await call
        except Exception as err:
            info = self._error_mapper(err)
            if info is None:
                self._log.exception("conversation call failed")
                info = ErrorInfo(
                    "internal_error", "something went wrong on our side; try again", retryable=True
                )
            else:
                self._log.warning("conversation call failed: %s: %s", info.code, info.message)
            await self._emit(
                ErrorEvent(code=info.code, message=info.message, retryable=info.retryable)
            )
            if reply is not None and self._reply is reply and self._turn is None:
                await self._set_state("listening")
            return None

    async def _write(
        self, call: Coroutine[Any, Any, Progress], reply: _Reply | None
    ) -> Progress | None:
        """A conversation write, in its own task so that closing the session cannot cut it."""
        task: asyncio.Task[Progress] = asyncio.ensure_future(call)
        self._writes.add(task)
        task.add_done_callback(self._write_done)
        return await self._call_conversation(asyncio.shield(task), reply)

    def _write_done(self, task: asyncio.Task[Progress]) -> None:
        self._writes.discard(task)
        if task.cancelled():
            return
        # Retrieving it here keeps asyncio quiet; the awaiting flow reports the error as an
        # event, unless the session is closing and nobody awaits it any more.
        err = task.exception()
        if err is not None and self._finished:
            self._log.warning("conversation write failed while closing: %r", err)

    async def _save_candidate(
        self, reply: _Reply, text: str, audio_ms: int | None
    ) -> Progress | None:
        reply.phase = "saving"
        async with self._conversation_lock:
            continues = self._answer_open
            progress = await self._write(
                self._conversation.save_candidate_turn(
                    text,
                    audio_duration_ms=audio_ms,
                    timings={
                        **self._timings(reply),
                        # Delivery evidence for the feedback report (speaking rate, pauses).
                        "pauses_ms": pauses_ms(reply.turn.windows, self._config.silence_threshold)
                        if reply.turn is not None
                        else [],
                    },
                    continues_previous=continues,
                ),
                reply,
            )
            if progress is None:
                self._unsaved_attempts += 1
                if self._unsaved_attempts < _MAX_SAVE_ATTEMPTS:
                    self._unsaved_answer = text  # sent again on retry or with the next answer
                else:
                    # Not transient, it seems (e.g. rejected as too long): don't block the
                    # interview forever; the text is in the log and was shown to the candidate.
                    self._log.error(
                        "answer dropped after %d failed saves: %r", self._unsaved_attempts, text
                    )
                    self._unsaved_answer = None
                    self._unsaved_attempts = 0
                    await self._emit(
                        ErrorEvent(
                            code="answer_not_saved",
                            message="your answer could not be stored; please give it again",
                        )
                    )
                return None
            self._unsaved_answer = None
            self._unsaved_attempts = 0
            self._answer_open = True
        reply.marks["candidate_saved"] = self._clock()
        await self._note_progress(progress)
        return progress

    async def _save_interviewer(
        self, reply: _Reply, text: str, *, interrupted: bool
    ) -> Progress | None:
        async with self._conversation_lock:
            progress = await self._write(
                self._conversation.save_interviewer_turn(
                    text, interrupted=interrupted, timings=self._timings(reply)
                ),
                reply,
            )
            if progress is None:
                return None
            self._answer_open = False
        await self._note_progress(progress)
        return progress

    async def _note_progress(self, progress: Progress) -> None:
        self._awaiting = progress.awaiting
        await self._emit(
            ProgressEvent(
                question=progress.question, total=progress.total, awaiting=progress.awaiting
            )
        )

    def _can_answer(self) -> bool:
        """A question is pending (or the candidate is adding to an answer not yet replied to)."""
        return self._awaiting == "answer" or self._answer_open

    # ------------------------------------------------------------------ timings

    def _timings(self, reply: _Reply) -> dict[str, float]:
        marks = reply.marks
        base = marks.get(reply.reference)
        if base is None:
            return {}
        timings = {
            f"{name}_ms": round((t - base) * 1000, 1)
            for name, t in marks.items()
            if name != reply.reference
        }

        def span(a: str, b: str) -> None:
            if a in marks and b in marks:
                timings[f"{b}_after_{a}_ms"] = round((marks[b] - marks[a]) * 1000, 1)

        span("end_of_turn", "final_transcript")  # the STT tail
        span("candidate_saved", "first_token")  # LLM time to first token
        span("first_sentence", "first_audio")  # TTS time to first audio
        return timings

    async def _send_timings(self, reply: _Reply) -> None:
        timings = self._timings(reply)
        self._log.info(
            "turn %d timings (ms after %s): %s", reply.turn_number, reply.reference, timings
        )
        await self._emit(
            TurnTimings(turn=reply.turn_number, reference=reply.reference, timings_ms=timings)
        )

    # ------------------------------------------------------------------ abuse

    async def _protocol_error(self, err: ProtocolError, now: float) -> None:
        self._log.info("protocol error %s: %s", err.code, err.message)
        if self._error_level_at is not None:
            self._error_level = max(0.0, self._error_level - (now - self._error_level_at))
        self._error_level_at = now
        self._error_level += 1
        await self._emit(ErrorEvent(code=err.code, message=err.message))
        if self._error_level > self._config.max_error_burst:
            self._close(CLOSE_UNUSABLE, "too many malformed frames")

    async def _flooded(self, now: float) -> None:
        if now - self._last_flood_error_at >= 1.0:
            self._last_flood_error_at = now
            self._log.warning("audio arrives faster than real time: frames dropped")
            await self._emit(
                ErrorEvent(
                    code="audio_flood",
                    message="audio is arriving faster than real time; frames dropped",
                )
            )
        if self._flood.abusive:
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
            silence_ms=self._settings.silence_ms,
            voice_speed=self._settings.voice_speed,
            muted=self._muted,
        )

    @staticmethod
    def _samples(ms: float) -> int:
        return int(ms * INPUT_SAMPLE_RATE_HZ / 1000)
