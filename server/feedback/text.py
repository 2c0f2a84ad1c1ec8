"""Plain-text helpers the feedback code shares: words, sentences, folding, term mentions."""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["dedupe", "mentions", "norm", "sentences", "words_of"]

_WORD_RE = re.compile(r"[A-Za-z0-9]+(?:['’.+#/-][A-Za-z0-9]+)*[+#%]?")
_SENTENCE_RE = re.compile(r"[^.!?]+(?:[.!?]+|$)")


def words_of(text: str) -> list[str]:
    return _WORD_RE.findall(text)


def norm(text: str) -> str:
    """Lower-case, straight apostrophes, single spaces: the form the cue regexes read."""
    return re.sub(r"\s+", " ", text.replace("’", "'").replace("‘", "'")).strip().lower()


def sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) spans of the sentences of ``text``, whitespace trimmed."""
    spans: list[tuple[int, int]] = []
    for m in _SENTENCE_RE.finditer(text):
        start, end = m.start(), m.end()
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start < end and _WORD_RE.search(text[start:end]):
            spans.append((start, end))
    return spans


def mentions(term: str, low_text: str) -> bool:
    """Whether the lower-case ``term`` occurs in ``low_text`` as whole words."""
    return re.search(r"(?<![a-z0-9])" + re.escape(term) + r"(?![a-z0-9])", low_text) is not None


def dedupe(items: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(items))
