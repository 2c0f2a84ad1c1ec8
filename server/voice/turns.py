"""The turn detector: from microphone frames to turns, and where to cut them for transcription.

Pure and synchronous (no tasks, no I/O; Silero runs inline, ~0.1 ms a window): feed it
frames, it returns VAD windows; feed it each window and it says whether speech started,
which stretch of the turn is ready to transcribe for good (a *commit*) or as a live
caption (a *partial*), and when the turn ends. The session decides what those mean for the
conversation (begin a turn, resume one, barge in).

It also keeps the pre-roll (the last ~2 s of audio and windows, so a turn starts before the
moment speech was confirmed) and the echo gate (while the interviewer may be audible, only
strong, sustained speech counts).
"""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass, field
from typing import Literal

from server.voice.audio import INPUT_SAMPLE_RATE_HZ, PCM16_SAMPLE_WIDTH_BYTES, Pcm16
from server.voice.config import VoiceConfig, samples
from server.voice.protocol import Mode
from server.voice.vad import SpeechTracker, StreamingVad, VadModel, VadWindow

PRE_ROLL_BYTES = 2 * INPUT_SAMPLE_RATE_HZ * PCM16_SAMPLE_WIDTH_BYTES
"""Pre-roll buffer: 2 s of input (the barge-in evidence plus pre_roll_ms fit easily)."""


class TurnPhase(enum.Enum):
    HEARING = "hearing"
    """The candidate has the floor; audio and windows are added to the turn."""
    ENDED = "ended"
    """End of turn decided; audio is still captured in case the candidate goes on."""
    CLOSED = "closed"
    """Final text taken (or the turn discarded): nothing more happens to it."""


@dataclass(eq=False)
class Turn:
    """One stretch of the candidate speaking: its audio, its VAD windows, and the cut points."""

    number: int
    mode: Mode
    start_sample: int
    audio: bytearray
    windows: list[VadWindow]
    last_voice_end_sample: int
    last_voice_wall: float
    committed_until: int
    """Audio before this sample is handed to a commit (or was silence, never transcribed)."""
    phase: TurnPhase = TurnPhase.HEARING
    voiced_since_partial: int = 0
    pause_handled_at: int = -1
    judged_at: int = -1
    """The voice end of the last pause the turn-completion model was asked about."""
    judgments: list[Judgment] = field(default_factory=list)
    settle_at: tuple[int, int] | None = None
    """(voice end, samples of silence): the turn ends after this much silence at that pause
    (not the pause limit), unless the candidate speaks again: the model was unsure there but
    the words say the answer is over, or it heard a finished answer and the candidate's
    learned patience (``TurnDetector.patience``) has not passed yet."""
    early_end: int | None = None
    """The voice end of the pause at which the turn ended before the pause limit (judged
    over, or settled); None if the limit or a key ended it, or it is still being heard."""
    went_on: tuple[int, int] | None = None
    """(pause, sample): this turn goes on with an answer whose turn ended early, from
    ``sample``, after a pause this long (samples): a cut-off, learned once its words are
    kept (``TurnDetector.learn_from``)."""

    @property
    def ended(self) -> bool:
        return self.phase is not TurnPhase.HEARING

    @property
    def closed(self) -> bool:
        return self.phase is TurnPhase.CLOSED

    @property
    def end_sample(self) -> int:
        return self.start_sample + len(self.audio) // PCM16_SAMPLE_WIDTH_BYTES

    def pcm(self, start_sample: int, end_sample: int) -> Pcm16:
        a = max(0, start_sample - self.start_sample) * PCM16_SAMPLE_WIDTH_BYTES
        b = max(0, end_sample - self.start_sample) * PCM16_SAMPLE_WIDTH_BYTES
        return Pcm16(bytes(self.audio[a:b]), INPUT_SAMPLE_RATE_HZ)

    @property
    def spoken_ms(self) -> int:
        """From the start of the turn to the end of its last voiced window."""
        return int((self.last_voice_end_sample - self.start_sample) * 1000 / INPUT_SAMPLE_RATE_HZ)

    def voiced_ms(self, threshold: float) -> float:
        """How much of the whole turn is voiced (VAD probability at least ``threshold``)."""
        voiced = self.voiced_samples(self.start_sample, self.end_sample, threshold)
        return voiced * 1000 / INPUT_SAMPLE_RATE_HZ

    def voiced_samples(self, start_sample: int, end_sample: int, threshold: float) -> int:
        return sum(
            w.end_sample - w.start_sample
            for w in self.windows
            if w.speech_prob >= threshold
            and w.end_sample > start_sample
            and w.start_sample < end_sample
        )


@dataclass(frozen=True, slots=True)
class Cut:
    """Audio [start, end) of the turn is ready: for good (``commit``) or as a live caption."""

    kind: Literal["commit", "partial"]
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Judge:
    """A short pause: ask the turn-completion model whether the candidate has finished,
    from the turn's audio up to ``end``. ``voice_end``: where the voice stopped; if it
    starts again before the answer comes, the answer is moot."""

    voice_end: int
    end: int


@dataclass(frozen=True, slots=True)
class Judgment:
    """What the model said about one pause, and how long it took."""

    voice_end: int
    end: int
    probability: float
    model_ms: float


@dataclass(frozen=True, slots=True)
class TurnEnd:
    reason: Literal["silence", "limit", "complete", "settled"]
    """``complete``: the model judged the answer finished at a short pause; ``settled``: it
    was unsure there, the words were finished, and the shorter wait (``Turn.settle_at``)
    passed."""


@dataclass(frozen=True, slots=True)
class Onset:
    """Speech was confirmed: where a turn would start (pre-roll included), and when the
    candidate started talking, on the wall clock (what they heard of a reply ends there)."""

    start_sample: int
    spoke_at: float
    speech_sample: int
    """Where the speech itself began (without the pre-roll)."""


Decision = Cut | Judge | TurnEnd


def judged_finished(turn: Turn, judgment: Judgment, threshold: float) -> bool:
    """Whether a judgment ends the turn: the model says finished, the turn is still being
    heard, and the candidate has not spoken since the pause it judged."""
    return judgment.probability >= threshold and still_pausing(turn, judgment)


def still_pausing(turn: Turn, judgment: Judgment) -> bool:
    """The turn is still being heard, and the candidate has not spoken since the pause."""
    return not turn.ended and turn.last_voice_end_sample == judgment.voice_end


def patience_after(pause: int, limit: int, patience: int = 0) -> int:
    """How long an early end waits (samples of silence) once a candidate has gone on after a
    ``pause`` at which their turn ended early: half as long again as the longest such pause,
    so one who thinks in pauses is cut off once at most, not on every long answer. A pause as
    long as the candidate's own ``limit`` teaches nothing: the limit would have ended it too.
    """
    if not 0 < pause < limit:
        return patience
    return max(patience, pause * 3 // 2)


def went_on_after(turn: Turn | None, onset: Onset) -> tuple[int, int] | None:
    """If ``onset`` goes on with ``turn``'s answer after a pause at which the turn ended early
    (judged over, or settled): (that pause, where the speech starts), for ``Turn.went_on``."""
    if turn is None or turn.mode != "vad" or turn.early_end is None:
        return None
    return onset.speech_sample - turn.early_end, onset.speech_sample


def pauses_ms(windows: list[VadWindow], silence_threshold: float) -> list[int]:
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


@dataclass(eq=False)
class TurnDetector:
    """VAD trackers, pre-roll, echo gate, and the commit/partial/end-of-turn rules."""

    vad_model: VadModel
    config: VoiceConfig = field(default_factory=VoiceConfig)
    echo_until: float = float("-inf")
    """Wall-clock time until which the interviewer's audio may still be heard (played + tail)."""
    patience: int = 0
    """Samples of silence a turn lasts at least before it ends early (at a pause judged over,
    or settled): 0 until this candidate goes on after such a pause (``learn_pause``)."""

    def __post_init__(self) -> None:
        cfg = self.config
        self.vad = StreamingVad(self.vad_model)
        self.normal = SpeechTracker(
            threshold=cfg.speech_threshold,
            neg_threshold=cfg.silence_threshold,
            min_speech_ms=cfg.min_speech_start_ms,
        )
        self.strong = SpeechTracker(
            threshold=cfg.barge_in_threshold,
            neg_threshold=cfg.barge_in_silence_threshold,
            min_speech_ms=cfg.barge_in_min_speech_ms,
        )
        self._recent = bytearray()
        self._recent_start = 0
        self._recent_windows: deque[VadWindow] = deque(maxlen=64)

    @property
    def samples_seen(self) -> int:
        return self.vad.samples_seen

    # ------------------------------------------------------------------ feeding

    def push(self, frame: Pcm16, turn: Turn | None) -> list[VadWindow]:
        """Keep the frame (pre-roll, and the turn being heard) and run the VAD over it."""
        self._recent += frame.data
        excess = len(self._recent) - PRE_ROLL_BYTES
        if excess > 0:
            del self._recent[:excess]
            self._recent_start += excess // PCM16_SAMPLE_WIDTH_BYTES
        if turn is not None:
            turn.audio += frame.data
        return self.vad.process(frame)

    def observe(self, window: VadWindow, now: float, turn: Turn | None) -> None:
        """Update the trackers, the pre-roll and the turn's voice marks with one window."""
        cfg = self.config
        self.normal.push(window)
        self.strong.push(window)
        self._recent_windows.append(window)
        if turn is None:
            return
        turn.windows.append(window)
        if window.speech_prob >= cfg.silence_threshold:
            turn.last_voice_end_sample = window.end_sample
            turn.last_voice_wall = now
        if window.speech_prob >= cfg.speech_threshold:
            turn.voiced_since_partial += window.end_sample - window.start_sample

    # ------------------------------------------------------------------ starting a turn

    def echo_active(self, now: float, *, playing: bool) -> bool:
        return playing or now < self.echo_until

    def onset(self, now: float, *, playing: bool) -> Onset | None:
        """Confirmed speech, if any: strong, sustained speech while the interviewer may be
        audible (the turn then starts where that strong run began, not in the echo before)."""
        tracker = self.strong if self.echo_active(now, playing=playing) else self.normal
        if not tracker.in_speech:
            return None
        start = tracker.speech_start_sample - samples(self.config.pre_roll_ms)
        spoke_at = (
            now - (self.vad.samples_seen - tracker.speech_start_sample) / INPUT_SAMPLE_RATE_HZ
        )
        return Onset(start, spoke_at, tracker.speech_start_sample)

    def key_onset(self) -> int:
        """Where a push-to-talk turn starts: now, less the pre-roll."""
        return self.vad.samples_seen - samples(self.config.pre_roll_ms)

    def start_turn(self, number: int, start_sample: int, now: float, *, mode: Mode) -> Turn:
        """A turn from ``start_sample`` (as far back as the pre-roll reaches) to now."""
        start_sample = max(start_sample, self._recent_start)
        offset = (start_sample - self._recent_start) * PCM16_SAMPLE_WIDTH_BYTES
        return Turn(
            number=number,
            mode=mode,
            start_sample=start_sample,
            audio=bytearray(self._recent[offset:]),
            windows=[w for w in self._recent_windows if w.end_sample > start_sample],
            last_voice_end_sample=self.vad.samples_seen,
            last_voice_wall=now,
            committed_until=start_sample,
        )

    # ------------------------------------------------------------------ the turn being heard

    def advance(
        self,
        turn: Turn,
        window: VadWindow,
        *,
        silence_ms: float,
        transcriber_idle: bool,
        semantic: bool = False,
    ) -> list[Decision]:
        """What this window means for the turn: stretches to transcribe, and its end.

        A sentence-length pause closes a phrase (a commit), as does a long stretch without
        one (cut in its longest gap while speech goes on, ``_forced_cut``); silence alone is
        never transcribed. While speech goes on, a partial is due every ``partial_every_ms``
        of voiced audio, if the transcriber is idle. In VAD mode, ``silence_ms`` of silence
        ends the turn; with ``semantic``, each pause of ``endpoint_check_ms`` first asks the
        turn-completion model (a ``Judge``), whose "finished" ends the turn there
        (``judged_finished``).
        """
        cfg = self.config
        decisions: list[Decision] = []
        silence = window.end_sample - turn.last_voice_end_sample
        uncommitted = window.end_sample - turn.committed_until
        if (
            silence >= samples(cfg.commit_pause_ms)
            and turn.pause_handled_at != turn.last_voice_end_sample
        ):
            turn.pause_handled_at = turn.last_voice_end_sample
            cut = turn.last_voice_end_sample + samples(cfg.commit_pause_ms) // 2
            if not turn.voiced_samples(turn.committed_until, cut, cfg.silence_threshold):
                turn.committed_until = max(turn.committed_until, cut)
            elif cut - turn.committed_until >= samples(cfg.min_commit_ms):
                decisions.append(self._commit(turn, cut))
        elif uncommitted >= samples(cfg.max_uncommitted_ms) and (
            # In a pause, the pause closes the phrase (a commit, or the end-of-turn judge's),
            # in one piece: a cut now would leave two stretches to transcribe at the end.
            silence == 0 or turn.last_voice_end_sample <= turn.committed_until
        ):
            cut = self._forced_cut(turn, window.end_sample)
            if not turn.voiced_samples(turn.committed_until, cut, cfg.silence_threshold):
                turn.committed_until = cut
            else:
                decisions.append(self._commit(turn, cut))
        elif (
            self.normal.in_speech
            and turn.voiced_since_partial >= samples(cfg.partial_every_ms)
            and transcriber_idle
        ):
            turn.voiced_since_partial = 0
            decisions.append(Cut("partial", turn.committed_until, window.end_sample))

        if (
            semantic
            and turn.mode == "vad"
            and samples(cfg.endpoint_check_ms) <= silence < samples(silence_ms)
            and turn.judged_at != turn.last_voice_end_sample
        ):
            turn.judged_at = turn.last_voice_end_sample
            decisions.append(Judge(turn.last_voice_end_sample, window.end_sample))
        settled = (
            turn.settle_at is not None
            and turn.settle_at[0] == turn.last_voice_end_sample
            and silence >= max(turn.settle_at[1], self.patience)
        )
        if turn.mode == "vad" and silence >= samples(silence_ms):
            decisions.append(TurnEnd("silence"))
        elif turn.mode == "vad" and settled:
            decisions.append(TurnEnd("settled"))
        elif window.end_sample - turn.start_sample >= samples(cfg.max_turn_ms):
            decisions.append(TurnEnd("limit"))
        return decisions

    def judged_over(self, turn: Turn, judgment: Judgment, threshold: float) -> bool:
        """Whether a judgment that the answer is finished (the model and the words agree)
        ends the turn now. It does unless this candidate has shown they pause longer
        (``patience``): then the turn ends once the pause has lasted that long (``settle_at``),
        unless they speak again."""
        if not judged_finished(turn, judgment, threshold):
            return False
        if self.patience:
            turn.settle_at = (judgment.voice_end, self.patience)
            return False
        return True

    def learn_pause(self, pause: int, limit: int) -> int:
        """The candidate went on after a pause at which their turn had ended early: a
        cut-off. Returns the new ``patience`` (``patience_after``)."""
        self.patience = patience_after(pause, limit, self.patience)
        return self.patience

    def learn_from(self, turn: Turn, limit: int) -> bool:
        """Learn from a turn whose words are kept, if it went on after an early end
        (``Turn.went_on``) with speech of its own: a cough or a click after the end is not the
        answer going on. Returns whether ``patience`` grew."""
        if turn.went_on is None:
            return False
        pause, since = turn.went_on
        voiced = turn.voiced_samples(since, turn.end_sample, self.config.speech_threshold)
        if voiced < samples(self.config.min_answer_voiced_ms):
            return False
        before = self.patience
        return self.learn_pause(pause, limit) != before

    def commit_until(self, turn: Turn, end: int) -> Cut | None:
        """Close the phrase at ``end`` now (the model heard a finished turn at a short pause):
        its words decide with the model, and if the turn ends there, nothing is left to
        transcribe. None if there is no speech to transcribe before ``end``."""
        if end <= turn.committed_until:
            return None
        if not turn.voiced_samples(turn.committed_until, end, self.config.silence_threshold):
            turn.committed_until = end
            return None
        return self._commit(turn, end)

    @staticmethod
    def _commit(turn: Turn, cut: int) -> Cut:
        start, turn.committed_until = turn.committed_until, cut
        return Cut("commit", start, cut)

    def _forced_cut(self, turn: Turn, end_sample: int) -> int:
        """Where to split a long stretch without a sentence pause: the middle of its longest
        gap (a run of windows below the silence threshold; the later of equal ones), else its
        least speech-like window more than 500 ms ago (not in the word being said). Both are
        searched for from ``min_forced_commit_ms`` after the last cut.

        A stretch cut mid-sentence loses words: Whisper ends its text at the last whole
        sentence and leaves out the fragment after it (tiny.en, given a bench answer cut
        inside "At PayBright, that took the refunds report", stored neither half of the
        fragment). A gap between two sentences, even one too short for a commit pause, is
        where a cut loses nothing.
        """
        cfg = self.config
        lo = turn.committed_until + samples(cfg.min_forced_commit_ms)
        candidates = [
            w for w in turn.windows if lo <= w.start_sample and w.end_sample <= end_sample
        ]
        gap: tuple[int, int] | None = None  # (first, last) index of the longest quiet run
        run_start: int | None = None
        for i, window in enumerate(candidates):
            if window.speech_prob >= cfg.silence_threshold:
                run_start = None
                continue
            run_start = i if run_start is None else run_start
            if gap is None or i - run_start >= gap[1] - gap[0]:
                gap = (run_start, i)
        if gap is not None:
            return (candidates[gap[0]].start_sample + candidates[gap[1]].end_sample) // 2
        hi = end_sample - samples(500)
        earlier = [w for w in candidates if w.end_sample <= hi]
        if not earlier:
            return max(hi, turn.committed_until + 1)
        quietest = min(earlier, key=lambda w: w.speech_prob)
        return (quietest.start_sample + quietest.end_sample) // 2
