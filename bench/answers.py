"""The candidate's spoken answers: synthesized once with Piper, 16 kHz, cached in var/bench/."""

from __future__ import annotations

import hashlib
import wave
from pathlib import Path

from server.voice.audio import INPUT_SAMPLE_RATE_HZ, Pcm16, resample
from server.voice_client import read_wav

ANSWERS = [
    # 10-13 s each: shorter than most real answers, so less time for background work between
    # turns than a real interview gives.
    "At Parcelly I led the move of order tracking from a Django monolith to async FastAPI "
    "services. With Redis caching and rewritten queries we cut the p95 latency from nine "
    "hundred to one hundred and eighty milliseconds.",
    "I start with explain analyze, look for sequential scans and bad row estimates, and then add "
    "the right index or rewrite the query. At PayBright that took the refunds report from forty "
    "seconds to two.",
    "A teammate wanted to introduce Kafka, and I thought our outbox queue was enough. We load "
    "tested both options together, and kept the queue because it met the target at a third of "
    "the cost.",
    "I care a lot about observability. On my last team I added structured logging, OpenTelemetry "
    "tracing and a few clear dashboards, so we could find a slow service in minutes instead of "
    "hours.",
    "Once I shipped a migration that locked a large table during peak traffic. I rolled it back, "
    "wrote the postmortem, and since then every migration runs in small batches behind a "
    "feature flag.",
    "For this role I would first learn how clinical data flows through your systems and where "
    "the reliability risks are. Then I would measure one painful service and make a visible "
    "improvement in the first month.",
]
LEAD_IN_S = 0.4


def write_wav(path: Path, audio: Pcm16) -> None:
    """Write 16-bit mono ``audio`` to ``path`` atomically (a half-written file never stays)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with wave.open(str(tmp), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(audio.sample_rate_hz)
        wav.writeframes(audio.data)
    tmp.replace(path)


def load_answers(cache_dir: Path, tts: object | None = None) -> list[tuple[str, Pcm16]]:
    """(text, 16 kHz PCM with a short silent lead-in) for every answer; Piper runs only on a
    cache miss (``tts``: a loaded PiperTTS, else one is loaded here)."""
    out = []
    for text in ANSWERS:
        key = hashlib.sha1(text.encode()).hexdigest()[:12]
        path = cache_dir / f"answer-{key}.wav"
        if not path.exists():
            if tts is None:
                from server.voice.tts import PiperTTS

                tts = PiperTTS.load()
            chunks = list(tts._voice.synthesize(text))  # type: ignore[attr-defined]
            voice = Pcm16(b"".join(c.audio_int16_bytes for c in chunks), int(chunks[0].sample_rate))
            lead_in = bytes(int(LEAD_IN_S * INPUT_SAMPLE_RATE_HZ) * 2)
            audio = Pcm16(
                lead_in + resample(voice, INPUT_SAMPLE_RATE_HZ).data, INPUT_SAMPLE_RATE_HZ
            )
            write_wav(path, audio)
        out.append((text, read_wav(path)))
    return out
