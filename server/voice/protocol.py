"""The Viva voice WebSocket protocol, version 1 (see docs/protocol.md).

Text frames carry JSON control messages (client → server) and events (server → client),
each a msgspec tagged union keyed by ``type``. Binary frames carry raw audio:
client → server PCM16 LE mono 16 kHz, server → client PCM16 LE mono at ``tts_sample_rate_hz``.
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

import msgspec

from server.voice.audio import INPUT_SAMPLE_RATE_HZ, PCM16_SAMPLE_WIDTH_BYTES, Pcm16

PROTOCOL_VERSION: Final = 1

MAX_AUDIO_FRAME_BYTES: Final = 64 * 1024
"""~2 s of 16 kHz PCM16; the browser sends ~20 ms (640 bytes) per frame."""
MAX_TEXT_FRAME_BYTES: Final = 64 * 1024
MAX_FRAME_BYTES: Final = 64 * 1024
"""The largest WebSocket frame the server reads at all (uvicorn's ``ws_max_size``): a larger
one closes the connection (1009) before it is buffered."""
MAX_ANSWER_CHARS: Final = 8_000
"""The one limit on an answer's length, typed or spoken, over the socket and the API."""

SILENCE_MS_MIN: Final = 300
SILENCE_MS_MAX: Final = 10_000
SILENCE_MS_DEFAULT: Final = 700
"""The silence that ends a turn when silence alone decides (no turn-completion model)."""
SILENCE_MS_SEMANTIC_DEFAULT: Final = 3000
"""With the turn-completion model, ``silence_ms`` is the longest pause waited out when the
candidate does not sound finished (a finished answer ends after ~0.3-1 s); 3 s covers the
pause set's thinking pauses of up to 2.5 s (bench/pauses.py)."""
VOICE_SPEED_MIN: Final = 0.5
VOICE_SPEED_MAX: Final = 2.0

# WebSocket close codes. 4xxx mirror the HTTP status a plain request would get.
CLOSE_NORMAL: Final = 1000
CLOSE_INTERNAL_ERROR: Final = 1011
CLOSE_UNSUPPORTED_PROTOCOL: Final = 4400
"""The client asked for a protocol version this server does not speak."""
CLOSE_NOT_OWNER: Final = 4403
"""The interview exists but belongs to someone else (or the caller is not signed in)."""
CLOSE_UNKNOWN_SESSION: Final = 4404
"""No interview with that id."""
CLOSE_UNUSABLE: Final = 4408
"""Sustained flooding or malformed input: the connection is dropped, the client may reconnect."""
CLOSE_REPLACED: Final = 4409
"""Another connection took over this interview (one live socket per interview)."""
CLOSE_TOO_MANY: Final = 4429
"""Too many voice connections open: this visitor's, or the server's in all."""

Mode = Literal["vad", "ptt"]
VoiceState = Literal["listening", "hearing", "thinking", "speaking"]
Awaiting = Literal["question", "answer", "finished"]

ErrorCode = Literal[
    # protocol (client's fault, the session continues)
    "malformed_json",
    "message_too_large",
    "bad_message",
    "unknown_type",
    "invalid_value",
    "unsupported_version",
    "bad_audio_frame",
    "audio_frame_too_large",
    "audio_flood",
    "not_started",
    "busy",
    "no_question",
    "interview_finished",
    "answer_not_saved",
    "empty_reply",
    # server side
    "internal_error",
]
"""Codes raised by the voice layer; errors from the interview engine carry its own codes."""

SilenceMs = Annotated[int, msgspec.Meta(ge=SILENCE_MS_MIN, le=SILENCE_MS_MAX)]
VoiceSpeed = Annotated[float, msgspec.Meta(ge=VOICE_SPEED_MIN, le=VOICE_SPEED_MAX)]
TypedText = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_ANSWER_CHARS)]


class ProtocolError(Exception):
    """A frame the client should not have sent; becomes an ``error`` event, not a disconnect."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code: ErrorCode = code
        self.message = message


# --------------------------------------------------------------------------- client → server


class _ClientMessage(
    msgspec.Struct, tag_field="type", forbid_unknown_fields=True, kw_only=True, frozen=True
):
    pass


class Start(_ClientMessage, tag="start", kw_only=True, frozen=True):
    """Begin, or resume after a reconnect: the server continues wherever the interview stands."""

    protocol_version: int = PROTOCOL_VERSION


class Retry(_ClientMessage, tag="retry", kw_only=True, frozen=True):
    """Try again after an ``error`` event with ``retryable: true`` (same effect as ``start``)."""


class PttDown(_ClientMessage, tag="ptt_down", kw_only=True, frozen=True):
    pass


class PttUp(_ClientMessage, tag="ptt_up", kw_only=True, frozen=True):
    pass


class Mute(_ClientMessage, tag="mute", kw_only=True, frozen=True):
    pass


class Unmute(_ClientMessage, tag="unmute", kw_only=True, frozen=True):
    pass


class Settings(_ClientMessage, tag="settings", kw_only=True, frozen=True):
    """Partial update: omitted fields keep their value."""

    mode: Mode | None = None
    silence_ms: SilenceMs | None = None
    voice_speed: VoiceSpeed | None = None


class TypedAnswer(_ClientMessage, tag="typed_answer", kw_only=True, frozen=True):
    text: TypedText


class RepeatQuestion(_ClientMessage, tag="repeat_question", kw_only=True, frozen=True):
    """Say the interviewer's last message again (nothing is stored)."""


class SkipQuestion(_ClientMessage, tag="skip_question", kw_only=True, frozen=True):
    """Skip the question asked: stored as skipped (never scored), then the next question."""


class Wait(_ClientMessage, tag="wait", kw_only=True, frozen=True):
    """ "Give me a moment": the interviewer says so and waits for the candidate, who then has
    the longest pause limit for that answer."""


class EndInterview(_ClientMessage, tag="end_interview", kw_only=True, frozen=True):
    pass


ClientMessage = (
    Start
    | Retry
    | PttDown
    | PttUp
    | Mute
    | Unmute
    | Settings
    | TypedAnswer
    | EndInterview
    | RepeatQuestion
    | SkipQuestion
    | Wait
)

CLIENT_MESSAGE_TYPES: Final[frozenset[str]] = frozenset(
    msgspec.inspect.type_info(cls).tag  # type: ignore[attr-defined]
    for cls in (
        Start,
        Retry,
        PttDown,
        PttUp,
        Mute,
        Unmute,
        Settings,
        TypedAnswer,
        EndInterview,
        RepeatQuestion,
        SkipQuestion,
        Wait,
    )
)


def decode_client_message(text: str | bytes) -> ClientMessage:
    """Parse one JSON control frame, or raise ProtocolError saying exactly what is wrong."""
    size = len(text.encode() if isinstance(text, str) else text)
    if size > MAX_TEXT_FRAME_BYTES:
        raise ProtocolError(
            "message_too_large",
            f"control message is {size} bytes; the limit is {MAX_TEXT_FRAME_BYTES}",
        )
    try:
        raw: Any = msgspec.json.decode(text)
    except msgspec.DecodeError as err:
        raise ProtocolError("malformed_json", f"not valid JSON: {err}") from None
    except RecursionError:  # "[[[[…" nested past the decoder's depth
        raise ProtocolError("malformed_json", "not valid JSON: nested too deeply") from None
    if not isinstance(raw, dict):
        raise ProtocolError("bad_message", "a control message must be a JSON object")
    kind = raw.get("type")
    if not isinstance(kind, str):
        raise ProtocolError("bad_message", 'a control message needs a string "type" field')
    if kind not in CLIENT_MESSAGE_TYPES:
        raise ProtocolError("unknown_type", f"unknown message type {kind!r}")
    try:
        message: ClientMessage = msgspec.convert(raw, type=ClientMessage)
    except msgspec.ValidationError as err:
        raise ProtocolError("invalid_value", f"{kind}: {err}") from None
    if isinstance(message, Start) and message.protocol_version != PROTOCOL_VERSION:
        raise ProtocolError(
            "unsupported_version",
            f"protocol_version {message.protocol_version} is not supported; "
            f"this server speaks {PROTOCOL_VERSION}",
        )
    if isinstance(message, TypedAnswer) and not message.text.strip():
        raise ProtocolError("invalid_value", "typed_answer: text is blank")
    return message


def decode_audio_frame(data: bytes) -> Pcm16:
    """Validate one binary frame from the client: PCM16 LE mono 16 kHz."""
    if not data:
        raise ProtocolError("bad_audio_frame", "empty audio frame")
    if len(data) > MAX_AUDIO_FRAME_BYTES:
        raise ProtocolError(
            "audio_frame_too_large",
            f"audio frame is {len(data)} bytes; the limit is {MAX_AUDIO_FRAME_BYTES}",
        )
    if len(data) % PCM16_SAMPLE_WIDTH_BYTES:
        raise ProtocolError(
            "bad_audio_frame",
            f"audio frame length {len(data)} is odd; expected PCM16 LE mono (2 bytes per sample)",
        )
    return Pcm16(bytes(data), INPUT_SAMPLE_RATE_HZ)


# --------------------------------------------------------------------------- server → client


class AudioFormat(msgspec.Struct, frozen=True, kw_only=True):
    sample_rate_hz: int
    channels: int = 1
    sample_format: Literal["pcm_s16le"] = "pcm_s16le"


class SettingsState(msgspec.Struct, frozen=True, kw_only=True):
    mode: Mode
    silence_ms: int
    voice_speed: float
    muted: bool


class _ServerEvent(msgspec.Struct, tag_field="type", kw_only=True, frozen=True):
    pass


class Limits(msgspec.Struct, frozen=True, kw_only=True):
    """The bounds the server enforces, so the client need not repeat them."""

    silence_ms_min: int = SILENCE_MS_MIN
    silence_ms_max: int = SILENCE_MS_MAX
    voice_speed_min: float = VOICE_SPEED_MIN
    voice_speed_max: float = VOICE_SPEED_MAX
    max_answer_chars: int = MAX_ANSWER_CHARS


NO_RECONNECT_CLOSE_CODES: Final = (
    CLOSE_UNSUPPORTED_PROTOCOL,
    CLOSE_NOT_OWNER,
    CLOSE_UNKNOWN_SESSION,
    CLOSE_REPLACED,
)
"""Closes after which reconnecting on its own would fail again (or steal the interview back)."""


class Hello(_ServerEvent, tag="hello", kw_only=True, frozen=True):
    """First event on every connection; the client sends ``start`` after it. It carries every
    constant of the protocol the client needs: formats, limits and the close codes after which
    the client must not reconnect on its own."""

    protocol_version: int = PROTOCOL_VERSION
    session_id: str
    tts_sample_rate_hz: int
    input_audio: AudioFormat
    output_audio: AudioFormat
    max_audio_frame_bytes: int = MAX_AUDIO_FRAME_BYTES
    limits: Limits = Limits()
    no_reconnect_close_codes: tuple[int, ...] = NO_RECONNECT_CLOSE_CODES
    settings: SettingsState


class SettingsChanged(_ServerEvent, tag="settings", kw_only=True, frozen=True):
    """The settings now in force (sent after every ``settings``/``mute``/``unmute``)."""

    settings: SettingsState


class State(_ServerEvent, tag="state", kw_only=True, frozen=True):
    state: VoiceState


class PartialTranscript(_ServerEvent, tag="partial_transcript", kw_only=True, frozen=True):
    """Live caption of the answer so far; replaces the previous partial of the same turn."""

    turn: int
    text: str


class FinalTranscript(_ServerEvent, tag="final_transcript", kw_only=True, frozen=True):
    """The candidate's answer as stored. ``continues``: these words go on with the previous
    answer (the candidate carried on after a pause); they are stored as part of it."""

    turn: int
    text: str
    source: Literal["voice", "typed"]
    continues: bool = False


class AnswerRevised(_ServerEvent, tag="answer_revised", kw_only=True, frozen=True):
    """The second pass heard the whole answer again and stored this text instead of the
    live one (``turns``: the turns whose final transcripts made up that answer)."""

    turns: list[int]
    text: str


class TurnDiscarded(_ServerEvent, tag="turn_discarded", kw_only=True, frozen=True):
    """A detected turn held no usable speech (noise, a cough), or was a spoken command:
    nothing was stored."""

    turn: int
    reason: Literal["no_speech", "command"]


class CommandHeard(_ServerEvent, tag="command", kw_only=True, frozen=True):
    """A command was carried out: spoken as a whole utterance ("repeat the question") or sent
    as a control message (a button, a shortcut)."""

    name: Literal["repeat", "wait", "skip", "end"]
    spoken: bool
    text: str | None = None  # what was heard, for a spoken command


class InterviewerSentence(_ServerEvent, tag="interviewer_sentence", kw_only=True, frozen=True):
    """Caption for the audio that follows; show it when playback reaches ``audio_offset_ms``."""

    message: int
    index: int
    text: str
    audio_offset_ms: int


class AudioStart(_ServerEvent, tag="audio_start", kw_only=True, frozen=True):
    """Binary frames that follow until ``audio_end`` belong to this interviewer message."""

    message: int
    sample_rate_hz: int
    channels: int = 1
    sample_format: Literal["pcm_s16le"] = "pcm_s16le"


class AudioEnd(_ServerEvent, tag="audio_end", kw_only=True, frozen=True):
    message: int
    duration_ms: int


class FlushPlayback(_ServerEvent, tag="flush_playback", kw_only=True, frozen=True):
    """Barge-in: drop all queued interviewer audio now. ``kept``: what was heard of the
    message is stored (it asked something). False: it was only an acknowledgement, and the
    candidate went on with their answer; it is not stored, and the next words continue
    that answer."""

    message: int
    kept: bool = True


class ProgressEvent(_ServerEvent, tag="progress", kw_only=True, frozen=True):
    question: int
    total: int
    awaiting: Awaiting


class TurnTimings(_ServerEvent, tag="turn_timings", kw_only=True, frozen=True):
    """Milliseconds from ``reference`` to each stage, plus a few stage-to-stage spans."""

    turn: int
    reference: Literal["speech_end", "answer_received", "request"]
    timings_ms: dict[str, float]


class ErrorEvent(_ServerEvent, tag="error", kw_only=True, frozen=True):
    code: str
    message: str
    retryable: bool = False


class InterviewFinished(_ServerEvent, tag="interview_finished", kw_only=True, frozen=True):
    question: int
    total: int


ServerEvent = (
    Hello
    | SettingsChanged
    | State
    | PartialTranscript
    | FinalTranscript
    | AnswerRevised
    | TurnDiscarded
    | CommandHeard
    | InterviewerSentence
    | AudioStart
    | AudioEnd
    | FlushPlayback
    | ProgressEvent
    | TurnTimings
    | ErrorEvent
    | InterviewFinished
)

_encoder = msgspec.json.Encoder()
_server_event_decoder: msgspec.json.Decoder[ServerEvent] = msgspec.json.Decoder(ServerEvent)


def encode_server_event(event: ServerEvent) -> str:
    return _encoder.encode(event).decode()


def decode_server_event(text: str | bytes) -> ServerEvent:
    """For tests and Python clients."""
    return _server_event_decoder.decode(text)


def encode_client_message(message: ClientMessage) -> str:
    """For tests and Python clients."""
    return _encoder.encode(message).decode()
