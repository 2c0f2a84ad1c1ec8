"""Semantic end of turn: does the candidate sound finished?

A fixed silence timeout cannot tell a finished answer from a thinking pause: at 700 ms it
cuts people who pause mid-sentence, and anything long enough for them makes everyone else
wait. So in a VAD-mode turn, at each pause of ``endpoint_check_ms`` the session asks a
turn-completion model about the answer's last 8 s: finished ends the turn there; not
finished waits for the candidate's own maximum pause (``silence_ms``), as before.

``TurnCompletion`` is the engine's interface; ``SmartTurn`` its one adapter: Smart Turn v3.2
(BSD-2-Clause, Daily; a Whisper-style audio encoder with a classifier head, trained on
finished and unfinished speech), run on onnxruntime directly. Its file comes out of
the ``pipecat-ai`` wheel at set-up (``server.ai.model_files.SMART_TURN``); nothing of the
framework is installed or imported.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

import numpy as np

from server.voice.asking import invites_a_long_answer
from server.voice.audio import INPUT_SAMPLE_RATE_HZ, Pcm16
from server.voice.sentences import split_sentences
from server.voice.turns import Judge, Judgment, TurnDetector, still_pausing
from server.voice.workers import EngineThreads

if TYPE_CHECKING:
    from server.voice.transcriber import TurnTranscriber


WINDOW_S = 8
"""Smart Turn hears the last 8 s of the turn (zero-padded in front when shorter)."""


class TurnCompletion(Protocol):
    async def probability(self, audio: Pcm16) -> float:
        """How likely the speaker has finished their turn, from the turn's audio up to now
        (16 kHz; the trailing silence included)."""
        ...


class EndOfTurnJudge:
    """The session's stage for a ``Judge`` (a short pause in a VAD-mode turn).

    Asks the model; if it hears a finished turn, closes the phrase at the pause so its words
    are transcribed for good (they are then the whole STT tail), and checks them. Records
    each judgment on the turn.
    """

    def __init__(
        self,
        model: TurnCompletion,
        detector: TurnDetector,
        *,
        threshold: float,
        unsure_threshold: float,
        unsure_wait_ms: float,
        clock: Callable[[], float],
        log: logging.LoggerAdapter[logging.Logger] | logging.Logger,
    ) -> None:
        self.model = model
        self._detector = detector
        self._threshold = threshold
        self._unsure_threshold = unsure_threshold
        self._unsure_wait = int(unsure_wait_ms * INPUT_SAMPLE_RATE_HZ / 1000)
        self._clock = clock
        self._log = log
        self._min_commit = int(detector.config.min_commit_ms * INPUT_SAMPLE_RATE_HZ / 1000)

    async def finished(
        self,
        hearing: TurnTranscriber,
        judge: Judge,
        *,
        question: str | None = None,
        said_before: int = 0,
    ) -> bool:
        """Whether the turn should end now: the model hears it finished, the words do not
        stop mid-sentence (nor are a thin answer to ``question``, the interviewer's last
        message, when it is open, counting the ``said_before`` words of the answer this turn
        goes on with), and the candidate has not spoken since the pause.

        When the model is unsure (``unsure_threshold`` up to ``threshold``) and the words say
        the answer is over (``settled``), the turn is not ended now but set to end at a
        shorter silence than the pause limit (``Turn.settle_at``). So is a finished one, once
        the candidate has been cut off before and their pause has not passed yet
        (``TurnDetector.judged_over``)."""
        turn = hearing.turn
        if judge.end - turn.committed_until >= self._min_commit:
            # A phrase long enough to transcribe on its own (the commit rule's length) starts
            # now, beside the model: if the model hears a finished turn, its words are ready
            # sooner; if not, it is a commit like any other.
            self._commit(hearing, judge)
        started = self._clock()
        try:
            probability = await self.model.probability(
                turn.pcm(judge.end - WINDOW_S * INPUT_SAMPLE_RATE_HZ, judge.end)
            )
        except Exception:
            self._log.exception("the turn-completion model failed; the pause limit decides")
            return False
        model_ms = (self._clock() - started) * 1000
        judgment = Judgment(judge.voice_end, judge.end, probability, model_ms)
        turn.judgments.append(judgment)
        if probability < self._unsure_threshold or not still_pausing(turn, judgment):
            self._log.debug("turn %d: not finished (p=%.2f)", turn.number, probability)
            return False
        self._commit(hearing, judge)
        text = await hearing.text_so_far()
        outcome = verdict(
            probability,
            text,
            threshold=self._threshold,
            unsure_threshold=self._unsure_threshold,
            question=question,
            open_answer_words=OPEN_ANSWER_WORDS - said_before,
        )
        if outcome == "wait":
            self._log.debug(
                "turn %d: the words so far stop mid-sentence or are a thin answer (p=%.2f)",
                turn.number,
                probability,
            )
            return False
        if outcome == "settle":
            if still_pausing(turn, judgment):
                turn.settle_at = (judge.voice_end, self._unsure_wait)
                self._log.debug(
                    "turn %d: unsure (p=%.2f), the words are over: it ends at a shorter pause",
                    turn.number,
                    probability,
                )
            return False
        self._log.debug(
            "turn %d judged finished (p=%.2f, %.0f ms)", turn.number, probability, model_ms
        )
        return self._detector.judged_over(turn, judgment, self._threshold)

    def _commit(self, hearing: TurnTranscriber, judge: Judge) -> None:
        cut = self._detector.commit_until(hearing.turn, judge.end)
        if cut is not None:
            hearing.commit(cut.start, cut.end)


class SmartTurn:
    """Smart Turn v3 on onnxruntime, one intra-op thread (~0.1 s a call on this CPU).

    Features are Whisper's 80-bin log-mel over 8 s, computed by faster-whisper's own
    extractor after the zero-mean, unit-variance normalisation the model was trained with
    (identical, to 3e-7, to the transformers extractor the model card names).
    """

    def __init__(self, model_path: Path, *, threads: int = 1) -> None:
        import onnxruntime as ort
        from faster_whisper.feature_extractor import FeatureExtractor

        options = ort.SessionOptions()
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.inter_op_num_threads = 1
        options.intra_op_num_threads = threads
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session = ort.InferenceSession(
            str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._features = FeatureExtractor(
            feature_size=80,
            sampling_rate=INPUT_SAMPLE_RATE_HZ,
            hop_length=160,
            chunk_length=WINDOW_S,
            n_fft=400,
        )
        self.model_path = model_path
        # One judgement at a time, on a thread of its own: on a few cores two at once are no
        # faster, and a queue of them must not hold up the event loop's other work.
        self._threads = EngineThreads("smart-turn")

    @classmethod
    def load(cls, models_dir: Path | None = None) -> SmartTurn:
        """The verified model (``make models`` puts it in the environment)."""
        from server.ai.model_files import SMART_TURN, wheel_model

        model = cls(wheel_model(SMART_TURN, models_dir))
        model.probability_sync(Pcm16(bytes(INPUT_SAMPLE_RATE_HZ), INPUT_SAMPLE_RATE_HZ))  # warm
        return model

    async def probability(self, audio: Pcm16) -> float:
        return await self._threads.run(self.probability_sync, audio)

    def probability_sync(self, audio: Pcm16) -> float:
        """``probability``, blocking (the model runs in the calling thread)."""
        if audio.sample_rate_hz != INPUT_SAMPLE_RATE_HZ:
            raise ValueError(f"Smart Turn needs {INPUT_SAMPLE_RATE_HZ} Hz audio")
        window = WINDOW_S * INPUT_SAMPLE_RATE_HZ
        x = np.frombuffer(audio.data, dtype=np.int16)[-window:].astype(np.float32) / 32768.0
        if x.size < window:
            x = np.pad(x, (window - x.size, 0))
        x = (x - x.mean()) / np.sqrt(x.var() + 1e-7)
        features = self._features(x, padding=0)[:, : WINDOW_S * 100]
        (logits,) = self._session.run(None, {"input_features": features[None].astype(np.float32)})
        return float(np.asarray(logits).reshape(-1)[0])


# ------------------------------------------------------------------ the words so far

_TRAILING = ("...", "…", ",", "-", "–", "—", ":", ";")
_UNFINISHED = (
    "and but or nor so because cause if when where while which who whom whose that than "
    "the a an to of in on at for from with by about into onto between among like as per "
    "via being my our your their his her its this these those "
    "i we they he she um uh er erm hmm"
)
_UNFINISHED_WORDS = frozenset(_UNFINISHED.split())
"""Words a spoken sentence does not end on. Verbs that can end one ("than he was", "Yes, I
have.", "I would.") and object pronouns ("I fixed it.") are not in it: a candidate trailing
off after "was" is written "was..." by Whisper, and the ellipsis vetoes."""
_SUBORDINATORS = frozenset(
    ["when", "if", "although", "though", "while", "unless", "whenever", "whereas", "until", "since"]
)


def sounds_unfinished(text: str) -> bool:
    """Whether the answer so far (its transcript) stops in the middle of a sentence.

    Whisper writes a trailing-off "was..." or a dangling "and", even with a period after
    it, so the words veto a "finished" from the audio: a last word that cannot end a
    sentence, a trailing comma or ellipsis, or a last sentence that is only a subordinate
    clause ("When the queue backed up."). Empty text says nothing (False).
    """
    text = text.strip()
    if not text:
        return False
    if text.endswith(_TRAILING):
        return True
    words = [w.strip(".,!?;:\"'()").lower() for w in text.split()]
    words = [w for w in words if w]
    if not words:
        return False
    if words[-1] in _UNFINISHED_WORDS:
        return True
    last_sentence = split_sentences(text)[-1]
    first = last_sentence.split(maxsplit=1)[0].strip(",").lower() if last_sentence else ""
    return first in _SUBORDINATORS and "," not in last_sentence


OPEN_ANSWER_WORDS = 25
"""An answer to an open question of fewer words than this (about 10 s of speech) is too thin
to be over at a pause.

Asked "Describe an outage you handled.", a candidate who has said "The primary database ran
out of disk space on a Friday evening." has set the scene and not yet said what they did; a
thinking pause there sounds finished to the model (p 0.79-0.98 on the pause set) and the
words are a whole sentence. An interviewer waits for more. The pause set's thinking pauses
after a whole clause came after 7 to 17 words (the two-sentence ones after 10 to 13); an
interview answer to an open question runs a minute or more, and the bench's own answers run
33 to 37 words. The bar was 10 words before (``bench.pauses`` measures both)."""


def thin_answer(text: str, question: str | None, words: int = OPEN_ANSWER_WORDS) -> bool:
    """Whether the answer so far is too thin for ``question`` to be over: fewer than
    ``words`` words, and the question open."""
    return len(text.split()) < words and invites_a_long_answer(question)


def settled(
    text: str | None, *, question: str | None = None, open_answer_words: int = OPEN_ANSWER_WORDS
) -> bool:
    """Whether the words alone say the answer is over, for a pause the model is unsure
    about: two whole sentences or more, the last one finished, and not an answer of fewer
    than ``open_answer_words`` to an open ``question``.

    The model's probability at a pause moves with where its window falls: on one bench
    answer ("…rewrite the query. At PayBright that took the refunds report from forty
    seconds to two.") it was 0.66-0.99 from run to run, and at 0.66 the candidate waited out
    the 3 s limit after a finished answer of four sentences. A single sentence stays with
    the limit: a thinking pause after a whole first clause sounds just like that.
    """
    if not text or sounds_unfinished(text):
        return False
    if thin_answer(text, question, open_answer_words):
        return False
    return len(split_sentences(text)) >= 2


Verdict = Literal["finished", "settle", "wait"]


def verdict(
    probability: float,
    text: str | None,
    *,
    threshold: float,
    unsure_threshold: float,
    question: str | None = None,
    open_answer_words: int = OPEN_ANSWER_WORDS,
) -> Verdict:
    """What a pause means, from the model and the words so far: the turn is over now
    (``finished``), over at a shorter pause than the limit (``settle``: the model unsure,
    the words ``settled``), or not over (``wait``: the pause limit decides)."""
    if probability >= threshold:
        over = finished(
            probability, text, threshold, question=question, open_answer_words=open_answer_words
        )
        return "finished" if over else "wait"
    if probability >= unsure_threshold and settled(
        text, question=question, open_answer_words=open_answer_words
    ):
        return "settle"
    return "wait"


def finished(
    probability: float,
    text: str | None,
    threshold: float,
    *,
    question: str | None = None,
    open_answer_words: int = OPEN_ANSWER_WORDS,
) -> bool:
    """The verdict at a pause: the model hears a finished turn, and the words (when known)
    do not stop mid-sentence and are not a thin answer to an open question (fewer than
    ``open_answer_words``).

    A first clause can be a whole sentence by its words and its intonation ("We ran
    everything on Kubernetes in AWS, … and I set up alerts"), and neither the model nor the
    words can tell it from a finished answer. The question can: asked "How did you run
    it?", a candidate who stops after a sentence or two is more often thinking than done,
    and an interviewer waits for more. So a thin answer to an open question ends on the
    candidate's own pause limit (``silence_ms``), not at the judged pause; a short answer
    to a closed one ("Have you used Kafka?" "Yes, I have.") ends as soon as it sounds
    finished.
    """
    if probability < threshold:
        return False
    if text is None:
        return True
    if sounds_unfinished(text):
        return False
    return not thin_answer(text, question, open_answer_words)
