"""Spoken commands are recognised only when they are the whole utterance."""

from __future__ import annotations

import pytest

from server.voice.commands import spoken_command


@pytest.mark.parametrize(
    ("said", "command"),
    [
        ("Repeat the question.", "repeat"),
        ("Um, could you repeat the question, please?", "repeat"),
        ("Can you say that again?", "repeat"),
        ("Sorry, what was the question?", "repeat"),
        ("Give me a moment.", "wait"),
        ("Let me think.", "wait"),
        ("Hold on.", "wait"),
        ("Skip this question.", "skip"),
        ("I'd like to skip this question.", "skip"),
        ("Next question, please.", "skip"),
        ("End the interview.", "end"),
        ("Okay, I want to end the interview now.", "end"),
        ("And the interview.", "end"),  # how Whisper hears a lone "End the interview."
        ("And then the interview.", "end"),  # the same, its first sound clipped
        # Whisper (tiny.en) repeats a short utterance: still one command.
        ("End the interview. End the interview.", "end"),
        ("End the interview. And the interview.", "end"),
        ("Skip this question. Skip this question.", "skip"),
    ],
)
def test_a_whole_utterance_command_is_recognised(said: str, command: str) -> None:
    assert spoken_command(said) == command


@pytest.mark.parametrize(
    "said",
    [
        "I would repeat the question back to the customer to check I understood it.",
        "We had to skip this question in the survey because nobody answered it.",
        "Give me a moment to explain how the outbox worked.",
        "The hardest part was deciding when to end the interview process for a candidate.",
        "Wait times dropped from four minutes to ten seconds.",
        "I passed the exam.",
        "",
        "In the interview.",  # a possible answer ("Where did you learn that?")
        "End the interview. I led the billing migration.",  # a command, then an answer
        "Skip this question. End the interview.",  # two commands: neither is carried out
    ],
)
def test_a_command_inside_an_answer_is_an_answer(said: str) -> None:
    assert spoken_command(said) is None


def test_command_cues_come_first_within_whispers_budget() -> None:
    from server.voice.commands import COMMAND_CUES, with_command_cues
    from server.voice.vocabulary import HOTWORDS_MAX_CHARS

    terms = ", ".join(f"Term{i}" for i in range(80))
    cued = with_command_cues(terms)
    assert cued is not None and cued.startswith(", ".join(COMMAND_CUES))
    assert len(cued) <= HOTWORDS_MAX_CHARS and cued.endswith(tuple(terms.split(", ")))
    assert with_command_cues(None) is None  # no bias at all (VIVA_STT_BIAS=0): no cues either
