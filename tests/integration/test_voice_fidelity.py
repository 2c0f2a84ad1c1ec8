"""What Viva stores is what was said: spoken answers streamed through the real session with the
real Silero VAD and Whisper (the speech benchmark's live path, bench/stt_live.py).

The two answers are the ones that came back with a phrase stored twice (Piper slowed,
pitched down, 20 dB SNR noise: a 4 s phrase made Whisper's short-window pass loop), and each
must also keep its last words.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.stt import CV, JOB_DESCRIPTION, TECHNICAL
from bench.stt_audio import RENDERINGS, Renderer, require_tools
from bench.stt_live import doubled_phrases, ending_kept, stream_answer
from bench.wer import word_error_rate
from server.services.vocabulary import interview_vocabulary
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
