"""Spoken commands: "repeat the question", "give me a moment", "skip this question", "end the
interview".

A candidate who cannot (or would rather not) reach for the keyboard runs the interview by
voice. A command is recognised only when it is the whole utterance (a final transcript), after
politeness and fillers are set aside: "Um, could you repeat the question, please?" is a
command; "I would repeat the question back to the customer" is an answer.
"""

from __future__ import annotations

import re
from typing import Literal

from server.voice.sentences import split_sentences
from server.voice.vocabulary import HOTWORDS_MAX_CHARS, TERM_SEPARATOR

Command = Literal["repeat", "wait", "skip", "end"]

COMMAND_MAX_MS = 2500
"""An utterance longer than this is an answer: its transcription is not cued with commands."""
COMMAND_CUES = (
    "Skip this question",
    "Repeat the question",
    "Give me a moment",
    "End the interview",
)
"""Whisper's hotwords for a short utterance: it hears the commands far more reliably then."""

_PHRASES: dict[Command, tuple[str, ...]] = {
    "repeat": (
        "repeat the question",
        "repeat that question",
        "repeat the last question",
        "repeat that",
        "repeat it",
        "repeat",
        "say that",  # "say that again": "again" is set aside
        "say it",
        "say the question",
        "ask the question",
        "what was the question",
        "what is the question",
    ),
    "wait": (
        "give me a moment",
        "give me a minute",
        "give me a second",
        "give me some time",
        "let me think",
        "let me think about it",
        "let me think about that",
        "one moment",
        "just a moment",
        "one second",
        "just a second",
        "hold on",
        "wait",
    ),
    "skip": (
        "skip this question",
        "skip the question",
        "skip question",
        "skip this one",
        "skip it",
        "skip",
        "next question",
        "i'd like to skip this question",
        "i would like to skip this question",
        "i'd like to skip this one",
        "i want to skip this question",
        "let's skip this question",
        "let's skip this one",
        # How Whisper hears a lone "Skip this question." in Piper's voice, cues or not.
        "let's get this question",
        "pass",
        "i pass",
    ),
    "end": (
        "end the interview",
        # Whisper hears a lone "End the interview." as "And the interview." (tiny.en, Piper's
        # voice, in the room's browser test); as a whole utterance it is no answer either.
        "and the interview",
        "and then the interview",  # the same, its first sound clipped
        "then the interview",
        "end this interview",
        "end interview",
        "stop the interview",
        "finish the interview",
        "finish this interview",
        "i want to end the interview",
        "i'd like to end the interview",
        "i would like to end the interview",
    ),
}
_BY_PHRASE: dict[str, Command] = {p: c for c, ps in _PHRASES.items() for p in ps}

# Set aside around a command: fillers, politeness, a name, "the interviewer".
_LEADING = re.compile(
    r"^(?:(?:um+|uh+|er+|erm|hmm+|ok(?:ay)?|so|sorry|excuse me|hey|viva|right|well|oh|"
    r"please|can you|could you|would you|will you|can we|could we|i need you to|"
    r"i'd like you to|would you mind|do you mind)\s+)+"
)
_TRAILING = re.compile(r"(?:\s+(?:please|for me|again|now|viva|thanks|thank you))+$")


def normalized(text: str) -> str:
    """Lower case, apostrophes kept, other punctuation and repeated spaces gone."""
    text = text.lower().replace("’", "'")
    text = re.sub(r"[^a-z0-9' ]+", " ", text)
    return " ".join(text.split())


def spoken_command(text: str) -> Command | None:
    """The command ``text`` is, when the whole of it is one; else None. A command said (or
    heard: Whisper repeats a short utterance) more than once is still that one command."""
    commands = {_command(sentence) for sentence in split_sentences(text) if sentence.strip()}
    if len(commands) == 1 and None not in commands:
        return commands.pop()
    return None


def _command(sentence: str) -> Command | None:
    words = normalized(sentence)
    words = _LEADING.sub("", words)
    words = _TRAILING.sub("", words).strip()
    return _BY_PHRASE.get(words)  # the whole sentence, exactly: never a phrase inside an answer


def with_command_cues(hotwords: str | None) -> str | None:
    """``COMMAND_CUES`` then ``hotwords``, cut at a term to Whisper's hotword budget; None
    when recognition is not biased at all (``VIVA_STT_BIAS=0``: no hotwords)."""
    if hotwords is None:
        return None
    terms = [*COMMAND_CUES, *hotwords.split(TERM_SEPARATOR)]
    kept: list[str] = []
    for term in terms:
        if len(TERM_SEPARATOR.join([*kept, term])) > HOTWORDS_MAX_CHARS:
            break
        kept.append(term)
    return TERM_SEPARATOR.join(kept)
