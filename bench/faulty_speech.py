"""``python -m bench.faulty_speech``: ``python -m server`` with its real speech engines behind
fault switches, for ``make resilience``. While the file ``fail-stt`` (or ``fail-tts``) exists
in the data directory, every transcription (or synthesis) raises, as an engine that crashed or
ran out of memory would; remove the file and the engine works again. The app is unchanged:
only the engines it is given are wrapped."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import server.container as container
from server.__main__ import main
from server.settings import Settings
from server.voice.audio import Pcm16
from server.voice.engines import SpeechEngines
from server.voice.stt import SpeechToText, Transcript
from server.voice.tts import TextToSpeech

STT_SWITCH = "fail-stt"
TTS_SWITCH = "fail-tts"


class InjectedFault(RuntimeError):
    pass


@dataclasses.dataclass
class SwitchedSTT:
    engine: SpeechToText
    switch: Path

    async def transcribe(
        self,
        pcm16_16k: Pcm16,
        *,
        prompt: str | None = None,
        hotwords: str | None = None,
        draft: bool = False,
    ) -> Transcript:
        if self.switch.exists():
            raise InjectedFault("speech recognition failed (injected)")
        return await self.engine.transcribe(
            pcm16_16k, prompt=prompt, hotwords=hotwords, draft=draft
        )


@dataclasses.dataclass
class SwitchedTTS:
    engine: TextToSpeech
    switch: Path

    @property
    def sample_rate_hz(self) -> int:
        return self.engine.sample_rate_hz

    async def synthesize(self, text: str, *, speed: float = 1.0) -> AsyncIterator[Pcm16]:
        if self.switch.exists():
            raise InjectedFault("speech synthesis failed (injected)")
        stream = self.engine.synthesize(text, speed=speed)
        try:
            async for chunk in stream:
                yield chunk
        finally:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                await aclose()


_load_speech = container.load_speech


async def load_switched_speech(settings: Settings) -> SpeechEngines:
    engines = await _load_speech(settings)
    stt_switch = settings.data_dir / STT_SWITCH
    return dataclasses.replace(
        engines,
        stt=SwitchedSTT(engines.stt, stt_switch),
        tts=SwitchedTTS(engines.tts, settings.data_dir / TTS_SWITCH),
        second_pass_stt=(
            SwitchedSTT(engines.second_pass_stt, stt_switch)
            if engines.second_pass_stt is not None
            else None
        ),
    )


if __name__ == "__main__":
    container.load_speech = load_switched_speech
    main()
