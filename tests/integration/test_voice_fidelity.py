"""What Viva stores is what was said: spoken answers streamed through the real session with the
real Silero VAD and Whisper (the speech benchmark's live path, bench/stt_live.py).

The two answers are the ones that came back with a phrase stored twice (Piper slowed,
pitched down, 20 dB SNR noise: a 4 s phrase made Whisper's short-window pass loop), and each
must also keep its last words.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import numpy as np
import pytest

from bench.stt import CV, JOB_DESCRIPTION, TECHNICAL
from bench.stt_audio import RENDERINGS, Renderer, require_tools
from bench.stt_live import doubled_phrases, ending_kept, stream_answer
from bench.wer import scoring_words, word_error_rate
from server.services.vocabulary import interview_vocabulary
from server.voice.audio import INPUT_SAMPLE_RATE_HZ, Pcm16, silence
from server.voice.config import VoiceConfig
from server.voice.stt import WhisperSTT
from server.voice.vad import shared_silero_vad

pytestmark = pytest.mark.slow

NOISY = next(r for r in RENDERINGS if r.name == "piper-slow-noisy")
LOOPED = (TECHNICAL[1], TECHNICAL[3])  # cron jobs → Kafka; Shipwise on Kubernetes


@pytest.fixture(scope="module")
def whisper() -> WhisperSTT:
    return WhisperSTT()


@pytest.fixture(scope="module")
def renderer(tmp_path_factory: pytest.TempPathFactory) -> Renderer:
    require_tools()
    return Renderer(Path(tmp_path_factory.mktemp("stt-audio")))


@pytest.mark.parametrize("answer", LOOPED, ids=["cron-to-kafka", "shipwise"])
@pytest.mark.parametrize(
    "config",
    [VoiceConfig(), VoiceConfig(question_as_context=False)],
    ids=["as-shipped", "without-question-context"],  # the loop check alone must hold too
)
async def test_a_spoken_answer_is_stored_once_and_whole(
    answer: object, config: VoiceConfig, whisper: WhisperSTT, renderer: Renderer
) -> None:
    reference = answer.text  # type: ignore[attr-defined]
    audio = renderer.render(NOISY, answer.parts)  # type: ignore[attr-defined]
    vocabulary = interview_vocabulary(CV, JOB_DESCRIPTION)
    live = await stream_answer(
        audio,
        stt=whisper,
        vad_model=shared_silero_vad(),
        vocabulary=vocabulary,
        speed=3.0,
        config=config,
    )
    print(f"\nsaid:   {reference}\nlive:   {live.stored_live}\nstored: {live.stored}")
    for text in (live.stored_live, live.stored):
        assert doubled_phrases(reference, text) == 0, text
        assert ending_kept(reference, text), text
    # Stored looping, these answers had a word error rate of 0.40 and 0.65; read right, a
    # word or three in 25 differ ("move the backend delivery"). The corpus-level comparison
    # with a whole-file decode (stored ÷ whole file ≤ 1.1) is the benchmark's: one answer
    # is too few words for it.
    assert word_error_rate(reference, live.stored) <= 0.25, live.stored


# Five sentences read on without a commit pause: 200 ms between them, as a fluent speaker
# (or Piper) leaves. More than 6 s go uncommitted, so the session must cut the stretch itself.
FLUENT = (
    "I start with explain analyze and look for sequential scans.",
    "Then I add the right index or rewrite the query.",
    "At PayBright that took the refunds report from forty seconds to two.",
    "We also moved the nightly jobs onto a queue in Redis.",
    "Since then the dashboards load in under a second.",
)


def _trimmed(audio: Pcm16) -> np.ndarray:
    """The speech in ``audio``, without the silence before and after it."""
    x = audio.to_float32()
    loud = np.flatnonzero(np.abs(x) > 0.01)
    return x[loud[0] : loud[-1] + 1]


async def test_a_long_stretch_is_cut_between_sentences_and_loses_no_words(
    whisper: WhisperSTT, renderer: Renderer
) -> None:
    """Cut inside a sentence, Whisper drops the fragment after the last whole one (the bench
    answer stored "…rewrite the query. Report from 40 seconds to 2."): a long stretch is cut
    in its longest gap, here one between two sentences."""
    piper = next(r for r in RENDERINGS if r.name == "piper")
    gap = silence(200).to_float32()
    pieces = [silence(400).to_float32()]
    for i, sentence in enumerate(FLUENT):
        pieces += [gap] if i else []
        pieces.append(_trimmed(renderer.render(piper, [sentence])))
    pieces.append(silence(400).to_float32())
    audio = Pcm16.from_float32(np.concatenate(pieces), INPUT_SAMPLE_RATE_HZ)
    live = await stream_answer(
        audio,
        stt=whisper,
        vad_model=shared_silero_vad(),
        vocabulary=interview_vocabulary(CV, JOB_DESCRIPTION),
        speed=3.0,
    )
    reference = " ".join(FLUENT)
    print(f"\nsaid: {reference}\nlive: {live.stored_live}")
    # Misheard words are the model's; words missing are the cut's ("At PayBright that").
    assert _words_dropped(reference, live.stored_live) <= 1, live.stored_live
    assert word_error_rate(reference, live.stored_live) <= 0.15, live.stored_live


def _words_dropped(reference: str, text: str) -> int:
    """Words said that the text has nothing in place of (deletions in the alignment)."""
    said, heard = scoring_words(reference), scoring_words(text)
    opcodes = difflib.SequenceMatcher(a=said, b=heard, autojunk=False).get_opcodes()
    return sum(max(0, (i2 - i1) - (j2 - j1)) for op, i1, i2, j1, j2 in opcodes if op != "equal")
