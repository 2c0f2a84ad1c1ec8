"""VoiceConfig: the tunables of one voice session (turn-taking, transcription, reply, abuse)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from server.voice.audio import INPUT_SAMPLE_RATE_HZ
from server.voice.protocol import (
    MAX_ANSWER_CHARS,
    SILENCE_MS_DEFAULT,
    SILENCE_MS_SEMANTIC_DEFAULT,
    Mode,
    Settings,
)


@dataclass(frozen=True)
class VoiceConfig:
    mode: Mode = "vad"
    silence_ms: int | None = None
    """The candidate's pause limit; None: ``SILENCE_MS_SEMANTIC_DEFAULT`` when a turn-completion
    model judges pauses, else ``SILENCE_MS_DEFAULT`` (``VoiceConfig.resolved``)."""
    voice_speed: float = 1.0
    max_answer_chars: int = MAX_ANSWER_CHARS
    """The longest answer stored (``Settings.max_answer_chars``); told to the client in hello."""
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
    """Speech without a sentence pause is committed after this long (in its longest gap, see
    ``TurnDetector._forced_cut``), so the end of a long answer leaves only a few seconds to
    transcribe."""
    min_forced_commit_ms: float = 2000.0
    """Such a cut leaves at least this much audio before it (a sentence's worth)."""
    max_turn_ms: float = 300_000.0
    # Semantic end of turn (endpoint.py): at a pause this long, ask the turn-completion model;
    # "finished" (probability >= endpoint_threshold) ends the turn, else ``silence_ms`` does.
    semantic_endpoint: bool = True
    endpoint_check_ms: float = 250.0
    endpoint_threshold: float = 0.7
    endpoint_unsure_threshold: float = 0.5
    """A verdict from here up to ``endpoint_threshold`` is unsure: if the words say the answer
    is over (two whole sentences or more, the last one finished), the turn ends at
    ``endpoint_unsure_wait_ms`` of silence instead of the pause limit."""
    endpoint_unsure_wait_ms: float = 1200.0
    """About twice a conversational gap: long enough for "and…", short of the 3 s limit."""
    prompt_chars: int = 200
    """Preceding text of the same answer passed to Whisper as context."""
    question_as_context: bool = True
    """Before the answer has text of its own, the question is Whisper's context."""
    # The second pass (revision.py): each answer re-transcribed whole while the reply plays
    second_pass: bool = True
    second_pass_wait_s: float = 15.0
    """At the end of the interview, how long the last passes may hold up ``interview_finished``
    (so the report is written from their text)."""
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
    max_replay_burst: int = 3
    replay_refill_s: float = 10.0
    """``start``/``retry`` (each speaks the question again): a burst of this many, then one
    more every ``replay_refill_s``; past it, an error and nothing synthesised."""

    def with_settings(self, message: Settings) -> VoiceConfig:
        """This config with what a ``settings`` message changes (its fields that are set)."""
        fields = ("mode", "silence_ms", "voice_speed")
        changes = {f: v for f in fields if (v := getattr(message, f)) is not None}
        return replace(self, **changes)

    def resolved(self, *, semantic: bool) -> VoiceConfig:
        """This config with the default pause limit filled in."""
        if self.silence_ms is not None:
            return self
        default = SILENCE_MS_SEMANTIC_DEFAULT if semantic else SILENCE_MS_DEFAULT
        return replace(self, silence_ms=default)


def samples(ms: float) -> int:
    """Milliseconds of input audio as a sample count."""
    return int(ms * INPUT_SAMPLE_RATE_HZ / 1000)
