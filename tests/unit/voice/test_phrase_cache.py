"""PhraseCache: the acknowledgements' stock phrases synthesised once, the rest as before."""

from __future__ import annotations

from server.services.acknowledgement import acknowledge, stock_phrases
from server.voice.audio import Pcm16
from server.voice.engines import SpeechEngines, warm_phrases
from server.voice.tts import PhraseCache
from tests.unit.voice.conftest import FakeTTS

PHRASES = ("Right,", "Got it,", "I see.", "Okay, that's one example.")


async def _say(tts: PhraseCache, text: str, speed: float = 1.0) -> bytes:
    return b"".join([chunk.data async for chunk in tts.synthesize(text, speed=speed)])


async def _plain(text: str, speed: float = 1.0) -> bytes:
    chunks: list[Pcm16] = [chunk async for chunk in FakeTTS().synthesize(text, speed=speed)]
    return b"".join(chunk.data for chunk in chunks)


async def test_an_opening_clause_is_synthesised_once_and_the_rest_each_time() -> None:
    inner = FakeTTS()
    tts = PhraseCache(inner, PHRASES)
    first = await _say(tts, "Right, Kafka and outbox.")
    second = await _say(tts, "Right, Redis.")
    assert inner.texts == ["Right,", "Kafka and outbox.", "Redis."]
    # What is heard: the clause's audio, then the rest's.
    assert first == await _plain("Right,") + await _plain("Kafka and outbox.")
    assert second == await _plain("Right,") + await _plain("Redis.")
    assert tts.hits == 1


async def test_a_whole_phrase_and_a_warmed_one_are_spoken_from_the_cache() -> None:
    inner = FakeTTS()
    tts = PhraseCache(inner, PHRASES)
    await tts.warm()
    assert sorted(inner.texts) == sorted(PHRASES)
    inner.texts.clear()
    assert await _say(tts, " I see. ") == await _plain("I see.")
    assert await _say(tts, "Okay, that's one example.") == await _plain("Okay, that's one example.")
    assert await _say(tts, "Got it, FastAPI.") == await _plain("Got it,") + await _plain("FastAPI.")
    assert inner.texts == ["FastAPI."]


async def test_other_text_goes_to_the_voice_unchanged() -> None:
    inner = FakeTTS()
    tts = PhraseCache(inner, PHRASES)
    for text in ("Rightly so, thanks.", "Right,then.", "You mentioned Kafka.", "I see it now."):
        assert await _say(tts, text) == await _plain(text)
    assert inner.texts == [
        "Rightly so, thanks.",
        "Right,then.",
        "You mentioned Kafka.",
        "I see it now.",
    ]


async def test_each_speed_has_its_own_audio_and_the_cache_is_bounded() -> None:
    inner = FakeTTS()
    tts = PhraseCache(inner, PHRASES, max_entries=2)
    await _say(tts, "I see.", speed=1.0)
    slow = await _say(tts, "I see.", speed=0.8)
    assert slow == await _plain("I see.", speed=0.8) != await _plain("I see.")
    assert inner.texts == ["I see.", "I see."]
    await _say(tts, "Right, Go.")  # a third entry: the least recently used goes
    await _say(tts, "I see.", speed=0.8)
    await _say(tts, "I see.", speed=1.0)
    assert inner.texts == ["I see.", "I see.", "Right,", "Go.", "I see."]


async def test_a_stream_closed_early_closes_the_voice_too() -> None:
    inner = FakeTTS()
    tts = PhraseCache(inner, PHRASES)
    await tts.warm()
    stream = tts.synthesize("Right, a long rest of the sentence here.")
    for _ in range(3):  # the cached clause (two pieces), then the first piece of the rest
        await anext(stream)
    closed = inner.closed
    await stream.aclose()
    assert inner.closed == closed + 1


def test_the_stock_phrases_are_what_acknowledgements_begin_with() -> None:
    phrases = stock_phrases()
    assert {"Right,", "Okay,", "Got it,", "So,", "I see.", "That was brief."} <= set(phrases)
    assert not any("{" in p or p.startswith("You mentioned") for p in phrases)
    tts = PhraseCache(FakeTTS(), phrases)
    said = acknowledge(
        "I built the checkout service with Kafka and an outbox table, and it cut errors.",
        earlier=["You mentioned Django."],
        terms=["Kafka", "outbox"],
    )
    assert said.text.startswith(("Okay,", "Right,")) and tts.split(said.text) is not None, said


async def test_warm_phrases_fills_the_cache_and_needs_none() -> None:
    inner = FakeTTS()
    engines = SpeechEngines(stt=None, tts=PhraseCache(inner, PHRASES), vad=None)  # type: ignore[arg-type]
    await warm_phrases(engines)
    assert inner.texts == list(PHRASES)  # in the order given: the opening clauses first
    plain = FakeTTS()
    await warm_phrases(SpeechEngines(stt=None, tts=plain, vad=None))  # type: ignore[arg-type]
    assert plain.texts == []
