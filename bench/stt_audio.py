"""Spoken answers for ``python -m bench.stt``, made at bench time: Piper (the joe voice) and
espeak-ng in two accents, reshaped by sox (tempo, pitch) and mixed with noise.

Nothing is committed: the WAVs are cached under var/bench/ by a hash of what made them.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.answers import write_wav
from server.voice.audio import INPUT_SAMPLE_RATE_HZ, Pcm16, silence
from server.voice.tts import default_piper_voice_path
from server.voice_client import read_wav

PAUSE_MS = 1500.0
"""A thinking pause inside an answer: longer than the 700 ms end-of-turn default."""
LEAD_MS = 400.0
"""Silence before and after each answer, as a microphone hears it."""
_RENDER_VERSION = "2"  # bump when the rendering changes, so cached WAVs are remade


@dataclass(frozen=True)
class Rendering:
    """One synthetic speaker: an engine, then sox effects, then noise."""

    name: str
    engine: str  # "piper" or "espeak-ng"
    espeak_voice: str = ""
    espeak_words_per_min: int = 0
    sox_effects: tuple[str, ...] = ()
    snr_db: float | None = None
    """Signal-to-noise ratio of added white noise (over the speech); None: clean."""

    def describe(self) -> str:
        parts = [
            "Piper joe"
            if self.engine == "piper"
            else f"espeak-ng {self.espeak_voice} {self.espeak_words_per_min} wpm"
        ]
        if self.sox_effects:
            parts.append("sox " + " ".join(self.sox_effects))
        if self.snr_db is not None:
            parts.append(f"noise {self.snr_db:g} dB SNR")
        return ", ".join(parts)


RENDERINGS = (
    Rendering("piper", "piper"),  # the voice the other tests use: the easy case
    Rendering(
        "piper-slow-noisy", "piper", sox_effects=("tempo", "0.85", "pitch", "-150"), snr_db=20.0
    ),
    Rendering("espeak-us", "espeak-ng", espeak_voice="en-us", espeak_words_per_min=150),
    # Clean: with noise on top this accent is past what tiny.en hears at all (WER ~0.6).
    Rendering(
        "espeak-scottish", "espeak-ng", espeak_voice="en-gb-scotland", espeak_words_per_min=140
    ),
)


def require_tools() -> None:
    missing = [tool for tool in ("espeak-ng", "sox") if shutil.which(tool) is None]
    if missing:
        raise SystemExit(
            f"{' and '.join(missing)} not found: `make system-deps` (scripts/system-deps.sh) "
            "installs them"
        )


class Renderer:
    """Renders answers (each a list of parts, joined by a thinking pause) for one speaker."""

    def __init__(self, cache_dir: Path) -> None:
        self.cache_dir = cache_dir
        self._piper: Any = None  # a piper.PiperVoice, loaded on the first Piper rendering

    def render(self, rendering: Rendering, parts: Sequence[str]) -> Pcm16:
        key = hashlib.sha1(repr((_RENDER_VERSION, rendering, tuple(parts))).encode()).hexdigest()
        path = self.cache_dir / f"{rendering.name}-{key[:12]}.wav"
        if not path.exists():
            write_wav(path, self._make(rendering, parts, seed=int(key[:8], 16)))
        return read_wav(path)

    def _make(self, rendering: Rendering, parts: Sequence[str], *, seed: int) -> Pcm16:
        spoken = [self._speak(rendering, text) for text in parts]
        speech = np.concatenate([p.to_float32() for p in spoken])
        lead = silence(LEAD_MS).to_float32()
        pause = silence(PAUSE_MS).to_float32()
        pieces = [lead]
        for i, part in enumerate(spoken):
            if i:
                pieces.append(pause)
            pieces.append(part.to_float32())
        pieces.append(lead)
        samples = np.concatenate(pieces)
        if rendering.snr_db is not None:
            # Noise everywhere, the pause included: that is where Whisper invents words.
            speech_rms = float(np.sqrt(np.mean(speech**2)))
            noise_rms = speech_rms / 10 ** (rendering.snr_db / 20)
            rng = np.random.default_rng(seed)
            samples = samples + rng.normal(0.0, noise_rms, len(samples)).astype(np.float32)
        return Pcm16.from_float32(np.clip(samples, -1.0, 1.0), INPUT_SAMPLE_RATE_HZ)

    def _speak(self, rendering: Rendering, text: str) -> Pcm16:
        """One part, 16 kHz mono, with the rendering's sox effects."""
        with tempfile.TemporaryDirectory() as tmp:
            raw, out = Path(tmp) / "raw.wav", Path(tmp) / "out.wav"
            if rendering.engine == "piper":
                write_wav(raw, self._piper_speak(text))
            else:
                subprocess.run(
                    ["espeak-ng", "-v", rendering.espeak_voice, "-s",
                     str(rendering.espeak_words_per_min), "-w", str(raw), text],
                    check=True,
                )  # fmt: skip
            # -R: the same dither every run; -G: lower the gain where the effects would clip.
            subprocess.run(
                ["sox", "-R", "-G", "-V1", str(raw), "-r", str(INPUT_SAMPLE_RATE_HZ), "-c", "1",
                 "-b", "16", str(out), *rendering.sox_effects],
                check=True,
            )  # fmt: skip
            return read_wav(out)

    def _piper_speak(self, text: str) -> Pcm16:
        from piper import PiperVoice, SynthesisConfig

        if self._piper is None:
            self._piper = PiperVoice.load(default_piper_voice_path())
        # Without generator noise: Piper otherwise says an answer a little differently each
        # time (the test sentence's WER ranged 0-0.3 over 8 renders), so a fresh render
        # would move the numbers.
        config = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0)
        chunks = list(self._piper.synthesize(text, syn_config=config))
        return Pcm16(b"".join(c.audio_int16_bytes for c in chunks), int(chunks[0].sample_rate))
