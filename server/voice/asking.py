"""What the interviewer's message asks: anything at all, and an open or a closed question.

The session uses it twice: an acknowledgement the candidate talked over is stored only if what
they heard asked something (``asks_something``), and a thin answer to an open question is
not taken as finished at a pause (``invites_a_long_answer``, see endpoint.py).
"""

from __future__ import annotations

import re

from server.voice.sentences import split_sentences

PROMPTS = (
    "tell me", "tell us", "describe", "walk me", "walk us", "talk me", "talk us", "explain",
    "give me", "give us", "share", "let's talk", "lets talk", "please", "imagine", "suppose",
    "take me", "run me",
)  # fmt: skip
"""How an interviewer asks without a question mark ("Tell me about a time when…")."""


def asks_something(units: list[str]) -> bool:
    """Whether these sentences of an interviewer message ask the candidate anything: a
    question, or a prompt ("Describe…", "Walk me through…"). A message that only
    acknowledges ("That's great!") does not."""
    for unit in units:
        text = unit.strip().lower().lstrip("\"'(")
        if "?" in text or text.startswith(PROMPTS):
            return True
    return False


_CLOSED = (
    "do ", "does ", "did ", "have ", "has ", "had ", "are ", "is ", "was ", "were ", "will ",
    "would you say", "how many", "how much", "how long", "how often", "how old", "which ",
    "when did", "when was", "where did", "where was", "what year", "what is your",
    "what's your", "what was your", "who ",
)  # fmt: skip
"""How a closed question begins: one a few words answer ("Have you used Kafka?")."""
_POLITE = re.compile(r"^(?:(?:can|could|would|will) you (?:please )?|please )")


def invites_a_long_answer(message: str | None) -> bool:
    """Whether the interviewer's message ends by asking an open question ("How did you make
    the retries safe?", "Tell me about a time…"), not a closed one ("Have you used Kafka?").
    A message that asks nothing (an acknowledgement the candidate went on over) does not."""
    if not message:
        return False
    sentences = [s.strip().lower().lstrip("\"'(") for s in split_sentences(message)]
    asking = [s for s in sentences if "?" in s or s.startswith(PROMPTS)]
    if not asking:
        return False
    # "Can you walk me through it?" is a prompt, however politely put.
    last = _POLITE.sub("", asking[-1])
    return last.startswith(PROMPTS) or not last.startswith(_CLOSED)
