"""The interview's vocabulary as the recognizer sees it: the terms a candidate is likely to
say (from their CV and the job description), turned into Whisper ``hotwords`` per question.

Whisper hears "Kafka", "PostgreSQL" or a company name far more reliably when it has read
them first (on our synthetic answers, recall of such terms went from 26-50 % to 85-91 %).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

HOTWORDS_MAX_CHARS = 240
"""About 60 Whisper tokens: enough for a CV's and a job's terms. faster-whisper allows 223
tokens, but long prompts invite repetition loops and dropped sentences (faster-whisper #901)."""

TERM_SEPARATOR = ", "


def mentions(text: str, term: str) -> bool:
    """``term`` occurs in ``text`` as whole words, whatever the case."""
    return re.search(rf"(?<!\w){re.escape(term)}(?!\w)", text, re.IGNORECASE) is not None


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """Terms in priority order (most worth biasing towards first), without repeats."""

    terms: tuple[str, ...]

    def hotwords(
        self, question: str | None = None, *, max_chars: int = HOTWORDS_MAX_CHARS
    ) -> str | None:
        """The terms as one ``hotwords`` string of at most ``max_chars``: those the current
        ``question`` names first (the answer is most likely to repeat them), then the rest in
        priority order. ``None`` when there is nothing to bias towards."""
        asked = [t for t in self.terms if question and mentions(question, t)]
        chosen: list[str] = []
        length = 0
        for term in [*asked, *(t for t in self.terms if t not in asked)]:
            added = len(term) + (len(TERM_SEPARATOR) if chosen else 0)
            if length + added > max_chars:
                continue  # a shorter term further down may still fit
            chosen.append(term)
            length += added
        return TERM_SEPARATOR.join(chosen) or None
