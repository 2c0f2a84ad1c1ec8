"""TurnDetector alone: frames in, onsets, commit/partial cuts and ends of turn out.

A level-coded VAD reads each window's speech probability off the audio itself (a constant
level per 512-sample window), so every test states exactly which windows are speech.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest

from server.voice.audio import INPUT_SAMPLE_RATE_HZ, Float32Array, Pcm16
from server.voice.config import VoiceConfig, samples
from server.voice.protocol import Mode
from server.voice.turns import (
    PRE_ROLL_BYTES,
    Cut,
    Decision,
    Judge,
    Judgment,
    Onset,
    Turn,
    TurnDetector,
    TurnEnd,
    TurnPhase,
    patience_after,
    pauses_ms,
)
from server.voice.vad import CONTEXT_SAMPLES, WINDOW_SAMPLES, VadWindow

W = WINDOW_SAMPLES  # one VAD window, 32 ms
SIL = 0.02
WEAK = 0.4  # above silence_threshold (0.35), below speech_threshold (0.5)
TALK = 0.7  # speech, but not barge-in strength (0.85)
LOUD = 0.9
NO_PARTIALS = VoiceConfig(partial_every_ms=1e9)


class LevelVad:
    """VadModel whose probability is twice the window's mean sample value."""

    def new_state(self) -> object:
        return None

    def speech_probability(
        self, window_with_context: Float32Array, state: object
    ) -> tuple[float, object]:
        return round(float(np.mean(window_with_context[CONTEXT_SAMPLES:])) * 2, 3), state


def level(*runs: tuple[float, int]) -> Pcm16:
    """Audio from (probability, number of windows) runs."""
    parts = [np.full(n * W, p / 2, dtype=np.float32) for p, n in runs]
    return Pcm16.from_float32(np.concatenate(parts), INPUT_SAMPLE_RATE_HZ)


def ms(n: float) -> int:
    """Windows in n milliseconds (rounded up)."""
    return -(-int(n * INPUT_SAMPLE_RATE_HZ / 1000) // W)


@dataclass
class Mic:
    """Drives a detector the way the session does, recording what it decides."""

    detector: TurnDetector
    mode: Mode = "vad"
    silence_ms: float = 700
    playing: bool = False
    idle: bool = True
    semantic: bool = False
    t0: float = 1000.0
    recorded: bytearray = field(default_factory=bytearray)
    turn: Turn | None = None
    onset: Onset | None = None
    audio_bytes_at_start: int = 0
    decisions: list[tuple[int, Decision]] = field(default_factory=list)
    """(end sample of the window that decided it, decision)."""

    @property
    def now(self) -> float:
        return self.t0 + len(self.recorded) / 2 / INPUT_SAMPLE_RATE_HZ

    @property
    def commits(self) -> list[Cut]:
        return [d for _, d in self.decisions if isinstance(d, Cut) and d.kind == "commit"]

    @property
    def partials(self) -> list[tuple[int, Cut]]:
        return [(at, d) for at, d in self.decisions if isinstance(d, Cut) and d.kind == "partial"]

    @property
    def ends(self) -> list[tuple[int, TurnEnd]]:
        return [(at, d) for at, d in self.decisions if isinstance(d, TurnEnd)]

    def key_down(self) -> Turn:
        self.turn = self.detector.start_turn(1, self.detector.key_onset(), self.now, mode=self.mode)
        return self.turn

    def feed(self, audio: Pcm16, *, frame_ms: float = 20) -> None:
        for frame in audio.split(frame_ms):
            self.recorded += frame.data
            now = self.now
            for window in self.detector.push(frame, self.turn):
                self.detector.observe(window, now, self.turn)
                if self.turn is None:
                    onset = self.detector.onset(now, playing=self.playing)
                    if onset is not None:
                        self.onset = onset
                        self.turn = self.detector.start_turn(
                            1, onset.start_sample, now, mode=self.mode
                        )
                        self.audio_bytes_at_start = len(self.turn.audio)
                elif not self.turn.ended:
                    for decision in self.detector.advance(
                        self.turn,
                        window,
                        silence_ms=self.silence_ms,
                        transcriber_idle=self.idle,
                        semantic=self.semantic,
                    ):
                        self.decisions.append((window.end_sample, decision))
                        if isinstance(decision, TurnEnd):
                            self.turn.phase = TurnPhase.ENDED


def mic(
    config: VoiceConfig | None = None,
    *,
    mode: Mode = "vad",
    silence_ms: float = 700,
    playing: bool = False,
    idle: bool = True,
    semantic: bool = False,
) -> Mic:
    detector = TurnDetector(LevelVad(), config or VoiceConfig())
    return Mic(
        detector, mode=mode, silence_ms=silence_ms, playing=playing, idle=idle, semantic=semantic
    )


# --------------------------------------------------------------------------- onset and pre-roll


def test_a_turn_starts_pre_roll_ms_before_confirmed_speech() -> None:
    m = mic()
    m.feed(level((SIL, 40), (TALK, 20)))
    assert m.onset is not None and m.turn is not None
    speech_start = 40 * W
    assert m.onset.start_sample == speech_start - samples(300)
    assert m.turn.start_sample == speech_start - samples(300)
    # The turn's audio is exactly the input from its start on, pre-roll included.
    assert bytes(m.turn.audio) == bytes(m.recorded[m.turn.start_sample * 2 :])
    # spoke_at is the wall time of the first speech sample, not of the confirmation.
    assert m.onset.spoke_at == pytest.approx(m.t0 + speech_start / INPUT_SAMPLE_RATE_HZ)
    # The pre-roll's windows come with the turn.
    assert m.turn.windows[0].start_sample <= m.turn.start_sample < m.turn.windows[0].end_sample
    starts = [w.start_sample for w in m.turn.windows]
    assert starts == list(range(starts[0], starts[0] + W * len(starts), W))


def test_onset_needs_min_speech_start_ms_of_speech() -> None:
    m = mic()
    m.feed(level((SIL, 10), (TALK, 2), (SIL, 10)))  # 64 ms < 96 ms
    assert m.onset is None
    m.feed(level((TALK, 3)))
    assert m.onset is not None


def test_pre_roll_is_clamped_to_the_two_second_buffer() -> None:
    m = mic(VoiceConfig(pre_roll_ms=5000))
    m.feed(level((SIL, 200), (TALK, 10)))
    assert m.onset is not None and m.turn is not None
    assert m.onset.start_sample == 200 * W - samples(5000)
    assert m.audio_bytes_at_start == PRE_ROLL_BYTES
    assert m.turn.start_sample > m.onset.start_sample
    assert bytes(m.turn.audio) == bytes(m.recorded[m.turn.start_sample * 2 :])


def test_pre_roll_is_clamped_to_the_start_of_the_stream() -> None:
    m = mic()
    m.feed(level((SIL, 2), (TALK, 10)))
    assert m.turn is not None and m.onset is not None
    assert m.onset.start_sample < 0
    assert m.turn.start_sample == 0
    assert bytes(m.turn.audio) == bytes(m.recorded)


def test_push_to_talk_turn_starts_pre_roll_before_the_key() -> None:
    m = mic(mode="ptt")
    m.feed(level((SIL, 100)))
    turn = m.key_down()
    assert turn.start_sample == 100 * W - samples(300)
    assert len(turn.audio) == samples(300) * 2
    assert turn.committed_until == turn.start_sample


# --------------------------------------------------------------------------- commits


def test_a_sentence_pause_after_min_commit_ms_gives_one_commit_in_the_pause() -> None:
    m = mic(NO_PARTIALS)
    m.feed(level((SIL, 10), (TALK, 110), (SIL, 15), (TALK, 32), (SIL, 30)))
    assert m.turn is not None
    voice_end = (10 + 110) * W
    next_voice = voice_end + 15 * W
    assert len(m.commits) == 1
    commit = m.commits[0]
    assert commit.start == m.turn.start_sample
    assert commit.end == voice_end + samples(450) // 2
    assert voice_end < commit.end < next_voice
    # Decided during the pause, as soon as it reached commit_pause_ms.
    decided_at = next(at for at, d in m.decisions if d == commit)
    assert decided_at == voice_end + ms(450) * W


def test_a_phrase_shorter_than_min_commit_ms_waits_for_the_next_pause() -> None:
    m = mic(NO_PARTIALS)
    m.feed(level((SIL, 10), (TALK, 50), (SIL, 15), (TALK, 50), (SIL, 15), (TALK, 20), (SIL, 30)))
    assert m.turn is not None
    second_pause = (10 + 50 + 15 + 50) * W
    assert len(m.commits) == 1
    assert m.commits[0].start == m.turn.start_sample
    assert second_pause < m.commits[0].end < second_pause + 15 * W


def test_a_comma_pause_does_not_cut() -> None:
    m = mic(NO_PARTIALS)
    m.feed(level((SIL, 10), (TALK, 70), (SIL, 10), (TALK, 70), (SIL, 30)))  # 320 ms pause
    assert m.turn is not None
    end_of_speech = (10 + 70 + 10 + 70) * W
    assert [(c.start, c.end > end_of_speech) for c in m.commits] == [(m.turn.start_sample, True)]


def test_silence_only_stretches_are_never_cut_for_transcription() -> None:
    m = mic(NO_PARTIALS, mode="ptt")
    m.feed(level((SIL, 10)))
    turn = m.key_down()
    m.feed(level((TALK, 110), (SIL, 250), (TALK, 110), (SIL, 20)))  # 8 s of silence between
    second_run = (10 + 110 + 250) * W
    first, second = m.commits
    assert first.start == turn.start_sample
    # committed_until moved through the silence: the second commit starts after the first
    # ends, and nothing voiced was skipped in between.
    assert second.start > first.end
    assert turn.voiced_samples(first.end, second.start, 0.35) == 0
    assert second.start <= second_run < second.end


def test_leading_silence_of_a_push_to_talk_turn_is_left_out_of_its_first_commit() -> None:
    m = mic(NO_PARTIALS, mode="ptt")
    m.feed(level((SIL, 10)))
    turn = m.key_down()
    m.feed(level((SIL, 40), (TALK, 110), (SIL, 20)))
    (commit,) = m.commits
    assert commit.start > turn.start_sample
    assert turn.voiced_samples(turn.start_sample, commit.start, 0.35) == 0


def test_a_push_to_talk_turn_of_silence_is_never_cut() -> None:
    m = mic(mode="ptt")
    m.feed(level((SIL, 10)))
    turn = m.key_down()
    m.feed(level((SIL, ms(15_000))))
    assert m.decisions == []
    assert turn.committed_until > turn.start_sample + samples(6000)


def _long_stretch(probs: list[float]) -> tuple[Mic, int]:
    """A turn of 250 windows with these probabilities and no commit pause; (mic, start)."""
    m = mic(NO_PARTIALS)
    m.feed(level((SIL, 32), *[(p, 1) for p in probs], (SIL, 30)))
    assert m.turn is not None
    start = m.turn.start_sample
    assert start == 32 * W - samples(300)
    return m, start


def test_a_long_stretch_without_pauses_is_cut_in_its_longest_gap() -> None:
    # The cut is due once 6 s are uncommitted (window 179 of this run); it is searched for
    # from 2 s after the last cut (window 54).
    probs = [TALK] * 250
    probs[30:36] = [SIL] * 6  # longer, but too early
    probs[70:73] = [SIL] * 3  # a gap between two sentences: the longest in range
    probs[100:102] = [SIL] * 2  # a short one (a stop consonant, a breath)
    probs[120:122] = [0.4] * 2  # quiet, but speech
    m, start = _long_stretch(probs)
    first = m.commits[0]
    assert first == Cut("commit", start, (32 + 70) * W + 3 * W // 2)
    decided_at = next(at for at, d in m.decisions if d == first)
    assert decided_at - start >= samples(6000) > decided_at - W - start


def test_of_equal_gaps_the_later_is_taken() -> None:
    probs = [TALK] * 250
    probs[70:72] = [SIL] * 2
    probs[130:132] = [SIL] * 2
    m, start = _long_stretch(probs)
    assert m.commits[0] == Cut("commit", start, (32 + 131) * W)


def test_a_cut_due_in_a_pause_waits_for_speech_and_is_made_in_that_pause() -> None:
    # 6 s are uncommitted in the middle of a 320 ms pause (windows 175..184): cut now, the
    # stretch after it would be the pause's end and nothing more; so the cut waits, and when
    # the candidate goes on it is made in the pause (longer than the gap at 70..72).
    probs = [TALK] * 250
    probs[70:73] = [SIL] * 3
    probs[175:185] = [SIL] * 10
    m, start = _long_stretch(probs)
    first = m.commits[0]
    assert first == Cut("commit", start, (32 + 180) * W)
    decided_at = next(at for at, d in m.decisions if d == first)
    assert decided_at == (32 + 186) * W  # the first window of speech after the pause


def test_a_long_stretch_without_any_gap_is_cut_at_its_quietest_window() -> None:
    probs = [TALK] * 250
    probs[40] = 0.36  # quieter, but too early
    probs[100] = 0.6
    probs[140] = 0.4  # the quietest window in range
    probs[170] = 0.36  # quieter, but in the last 500 ms
    m, start = _long_stretch(probs)
    assert m.commits[0] == Cut("commit", start, (32 + 140) * W + W // 2)


def test_partials_come_every_partial_every_ms_of_voiced_audio() -> None:
    m = mic()
    m.feed(level((SIL, 32), (TALK, 125), (SIL, 30)))
    assert m.turn is not None
    partials = m.partials
    assert len(partials) == 3
    assert all(cut.start == m.turn.start_sample for _, cut in partials)
    assert all(at == cut.end for at, cut in partials)
    ends = [cut.end for _, cut in partials]
    assert np.diff(ends).tolist() == [ms(1000) * W] * 2
    assert ends[-1] <= (32 + 125) * W  # none in the silence after speech


def test_partials_wait_for_an_idle_transcriber() -> None:
    m = mic(idle=False)
    m.feed(level((SIL, 32), (TALK, 100)))
    assert m.partials == []
    m.idle = True
    m.feed(level((TALK, 1)))
    assert [at for at, _ in m.partials] == [(32 + 101) * W]
    m.feed(level((TALK, 40)))
    assert [at for at, _ in m.partials] == [(32 + 101) * W, (32 + 101 + ms(1000)) * W]


def test_partials_after_a_commit_start_where_it_ends() -> None:
    m = mic()
    m.feed(level((SIL, 10), (TALK, 110), (SIL, 15), (TALK, 80)))
    (commit,) = m.commits
    after = [cut for at, cut in m.partials if at > commit.end]
    assert after and all(cut.start == commit.end for cut in after)


@pytest.mark.parametrize("seed", range(3))
def test_commit_cuts_tile_the_voiced_audio(seed: int) -> None:
    """Every voiced sample is in exactly one commit or in the tail; no commit is silence."""
    rng = np.random.default_rng(seed)
    runs: list[tuple[float, int]] = []
    for _ in range(16):
        for _ in range(int(rng.integers(1, 250))):
            runs.append((float(rng.choice([TALK, LOUD, TALK, 0.6, WEAK, 0.36])), 1))
        runs.append((SIL, int(rng.choice([1, 5, 10, 14, 15, 20, 60, 250]))))
    m = mic(mode="ptt")
    m.feed(level((SIL, 20)))
    turn = m.key_down()
    m.feed(level(*runs), frame_ms=64)
    commits = m.commits
    assert commits
    cover = np.zeros(turn.end_sample - turn.start_sample, dtype=np.int32)
    previous_end = turn.start_sample
    for cut in commits:
        assert previous_end <= cut.start < cut.end
        assert turn.voiced_samples(cut.start, cut.end, 0.35) > 0
        cover[cut.start - turn.start_sample : cut.end - turn.start_sample] += 1
        previous_end = cut.end
    assert turn.committed_until >= previous_end
    cover[turn.committed_until - turn.start_sample :] += 1  # the tail
    voiced = np.zeros_like(cover, dtype=bool)
    for w in turn.windows:
        if w.speech_prob >= 0.35 and w.start_sample >= turn.start_sample:
            voiced[w.start_sample - turn.start_sample : w.end_sample - turn.start_sample] = True
    assert voiced.any()
    assert (cover[voiced] == 1).all()


# --------------------------------------------------------------------------- end of turn


@pytest.mark.parametrize("silence_ms", [700, 1200])
def test_vad_turn_ends_after_silence_ms(silence_ms: int) -> None:
    m = mic(NO_PARTIALS, silence_ms=silence_ms)
    m.feed(level((SIL, 10), (TALK, 32), (SIL, 60)))
    voice_end = (10 + 32) * W
    assert m.ends == [(voice_end + ms(silence_ms) * W, TurnEnd("silence"))]


def test_a_quiet_stretch_above_the_silence_threshold_keeps_the_turn() -> None:
    m = mic(NO_PARTIALS)
    m.feed(level((SIL, 10), (TALK, 32), (WEAK, 50), (SIL, 60)))
    voice_end = (10 + 32 + 50) * W
    assert m.ends == [(voice_end + ms(700) * W, TurnEnd("silence"))]


def test_a_push_to_talk_turn_never_ends_on_silence() -> None:
    m = mic(mode="ptt")
    m.feed(level((SIL, 10)))
    m.key_down()
    m.feed(level((TALK, 32), (SIL, ms(10_000))))
    assert m.ends == []


@pytest.mark.parametrize("mode", ["vad", "ptt"])
def test_a_turn_ends_at_max_turn_ms(mode: Mode) -> None:
    m = mic(VoiceConfig(max_turn_ms=4000), mode=mode)
    m.feed(level((SIL, 10)))
    if mode == "ptt":
        m.key_down()
    m.feed(level((TALK, 200)))
    assert m.turn is not None
    ((at, end),) = m.ends
    assert end == TurnEnd("limit")
    assert at - m.turn.start_sample >= samples(4000) > at - W - m.turn.start_sample


# --------------------------------------------------------------------------- echo gate


@pytest.mark.parametrize("via", ["playing", "echo_until"])
def test_while_the_interviewer_may_be_heard_weak_or_short_voice_is_no_onset(via: str) -> None:
    m = mic(playing=via == "playing")
    if via == "echo_until":
        m.detector.echo_until = m.t0 + 100
    m.feed(level((SIL, 10), (TALK, 60), (SIL, 10)))  # ordinary speech: maybe the echo
    m.feed(level((LOUD, 9), (SIL, 10)))  # strong, but 288 ms < barge_in_min_speech_ms
    assert m.onset is None


def test_strong_sustained_speech_barges_in_and_starts_at_the_strong_run() -> None:
    audio = level((SIL, 10), (TALK, 20), (LOUD, 15))
    quiet = mic()
    quiet.feed(audio)
    assert quiet.onset is not None
    assert quiet.onset.start_sample == 10 * W - samples(300)

    m = mic(playing=True)
    m.feed(audio)
    assert m.onset is not None and m.turn is not None
    strong_start = 30 * W
    assert m.onset.start_sample == strong_start - samples(300)
    assert m.onset.spoke_at == pytest.approx(m.t0 + strong_start / INPUT_SAMPLE_RATE_HZ)
    assert m.turn.start_sample == strong_start - samples(300)


def test_after_echo_until_ordinary_speech_gives_an_onset_again() -> None:
    m = mic()
    m.detector.echo_until = m.t0 + 1.0
    m.feed(level((SIL, 5), (TALK, 20), (SIL, 20)))  # all before echo_until (~1.44 s: no)
    assert m.onset is None
    m.feed(level((TALK, 10)))
    assert m.onset is not None
    assert m.onset.start_sample == 45 * W - samples(300)


# --------------------------------------------------------------------------- helpers


def test_pauses_ms_are_the_gaps_between_the_first_and_last_voiced_windows() -> None:
    probs = [SIL, SIL, TALK, SIL, SIL, SIL, WEAK, TALK, SIL, TALK, SIL, SIL]
    windows = [VadWindow(i * W, (i + 1) * W, p) for i, p in enumerate(probs)]
    assert pauses_ms(windows, 0.35) == [96, 32]
    assert pauses_ms(windows[:2], 0.35) == []


def test_turn_pcm_is_clamped_to_the_turn() -> None:
    turn = Turn(1, "vad", 1000, bytearray(range(200)), [], 0, 0.0, 1000)
    assert turn.end_sample == 1100
    assert turn.pcm(0, 1010).data == bytes(range(20))
    assert turn.pcm(1090, 5000).data == bytes(range(180, 200))


# --------------------------------------------------------------------------- semantic end of turn


def test_each_pause_asks_the_turn_model_once_at_endpoint_check_ms() -> None:
    m = mic(NO_PARTIALS, semantic=True, silence_ms=3000)
    m.feed(level((SIL, 10), (TALK, 32), (SIL, 20), (TALK, 20), (SIL, 120)))
    judges = [(at, d) for at, d in m.decisions if isinstance(d, Judge)]
    first_end, second_end = (10 + 32) * W, (10 + 32 + 20 + 20) * W
    assert [d.voice_end for _, d in judges] == [first_end, second_end]
    # Asked at the first window with endpoint_check_ms (250 ms) of silence after the voice.
    assert [at - d.voice_end for at, d in judges] == [ms(250) * W] * 2
    assert all(d.end == at for at, d in judges)
    assert m.ends == [(second_end + ms(3000) * W, TurnEnd("silence"))]  # the limit stays


def test_no_judge_without_the_model_in_push_to_talk_or_past_the_limit() -> None:
    for m in (mic(NO_PARTIALS), mic(NO_PARTIALS, mode="ptt", semantic=True)):
        if m.mode == "ptt":
            m.feed(level((SIL, 10)))
            m.key_down()
        m.feed(level((SIL, 10), (TALK, 32), (SIL, 40)))
        assert not [d for _, d in m.decisions if isinstance(d, Judge)]
    config = VoiceConfig(partial_every_ms=1e9, endpoint_check_ms=400)
    short = mic(config, semantic=True, silence_ms=300)  # the limit comes first
    short.feed(level((SIL, 10), (TALK, 32), (SIL, 40)))
    assert [d for _, d in short.decisions if isinstance(d, Judge)] == []
    assert short.ends


def test_commit_until_closes_the_phrase_at_the_pause() -> None:
    m = mic(NO_PARTIALS, semantic=True, silence_ms=3000)
    m.feed(level((SIL, 10), (TALK, 32), (SIL, 10)))
    turn = m.turn
    assert turn is not None
    end = turn.end_sample
    cut = m.detector.commit_until(turn, end)
    assert cut == Cut("commit", turn.start_sample, end)
    assert turn.committed_until == end
    assert m.detector.commit_until(turn, end) is None  # nothing more to close
    m.feed(level((SIL, 10)))
    assert m.detector.commit_until(turn, turn.end_sample) is None  # silence only
    assert turn.committed_until == turn.end_sample


# --------------------------------------------------------------------------- learned patience


def test_a_pause_the_candidate_went_on_after_is_waited_out_half_as_long_again() -> None:
    second, limit = INPUT_SAMPLE_RATE_HZ, 3 * INPUT_SAMPLE_RATE_HZ
    assert patience_after(second, limit) == 3 * second // 2
    assert patience_after(second // 2, limit, patience=3 * second // 2) == 3 * second // 2
    # A pause as long as the candidate's own limit teaches nothing (the limit ends it too),
    # nor does a negative one (speech that began before the voice end it is measured from).
    assert patience_after(limit, limit, patience=5) == 5
    assert patience_after(-10, limit) == 0
    detector = TurnDetector(LevelVad())
    assert detector.learn_pause(second, limit) == detector.patience == 3 * second // 2


@pytest.mark.parametrize("patience_ms", [0, 1200])
def test_a_finished_verdict_ends_the_turn_after_the_learned_patience(patience_ms: int) -> None:
    m = mic(NO_PARTIALS, semantic=True, silence_ms=3000)
    m.detector.patience = samples(patience_ms)
    m.feed(level((SIL, 10), (TALK, 32), (SIL, ms(250))))
    turn = m.turn
    assert turn is not None
    (judge,) = [d for _, d in m.decisions if isinstance(d, Judge)]
    judgment = Judgment(judge.voice_end, judge.end, 0.95, 40.0)
    ends_now = m.detector.judged_over(turn, judgment, 0.7)
    assert ends_now is (patience_ms == 0)
    if ends_now:
        return
    m.feed(level((SIL, ms(1200) - ms(250) + 2)))
    assert m.ends == [(judge.voice_end + ms(1200) * W, TurnEnd("settled"))]


def test_speech_after_the_verdict_cancels_the_patient_end() -> None:
    m = mic(NO_PARTIALS, semantic=True, silence_ms=3000)
    m.detector.patience = samples(1200)
    m.feed(level((SIL, 10), (TALK, 32), (SIL, ms(250))))
    assert m.turn is not None
    (judge,) = [d for _, d in m.decisions if isinstance(d, Judge)]
    assert not m.detector.judged_over(m.turn, Judgment(judge.voice_end, judge.end, 0.95, 40), 0.7)
    m.feed(level((SIL, 10), (TALK, 20), (SIL, ms(2000))))  # the candidate goes on, then pauses
    assert not m.ends  # that pause has not been judged over: the 3 s limit decides


def test_an_unsure_pause_settles_no_sooner_than_the_learned_patience() -> None:
    m = mic(NO_PARTIALS, semantic=True, silence_ms=3000)
    m.detector.patience = samples(2000)
    m.feed(level((SIL, 10), (TALK, 32), (SIL, ms(250))))
    assert m.turn is not None
    m.turn.settle_at = (m.turn.last_voice_end_sample, samples(1200))
    m.feed(level((SIL, ms(2000))))
    assert [at - m.turn.last_voice_end_sample for at, _ in m.ends] == [ms(2000) * W]


def test_a_turn_that_went_on_teaches_only_with_speech_of_its_own() -> None:
    m = mic(NO_PARTIALS, semantic=True, silence_ms=3000)
    m.feed(level((SIL, 10), (TALK, 32), (SIL, 40), (TALK, 2), (SIL, 10)))  # then a 64 ms click
    turn = m.turn
    assert turn is not None
    limit = samples(3000)
    click = (10 + 32 + 40) * W
    turn.went_on = (samples(1000), click)
    assert not m.detector.learn_from(turn, limit) and m.detector.patience == 0
    m.feed(level((TALK, 10), (SIL, 10)))  # 320 ms of speech: the answer goes on
    assert m.detector.learn_from(turn, limit)
    assert m.detector.patience == samples(1500)
    turn.went_on = None
    assert not m.detector.learn_from(turn, limit)  # a turn that did not go on teaches nothing
