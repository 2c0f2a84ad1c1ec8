"""Turn a stream of LLM text deltas into speakable units as early as each one is complete.

Piper synthesizes a whole unit before yielding any audio (one chunk per sentence), so the
first audio byte waits for the first unit: we emit each sentence the moment its end is
certain and, for the first unit of a message only, a leading clause at a comma once it
has enough words. Later units stay whole sentences, where prosody matters more than speed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Words that end with a period but do not end the sentence (compared lower-case, no final dot).
_NEVER_FINAL = frozenset(
    {
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "sr",
        "jr",
        "st",
        "vs",
        "e.g",
        "i.e",
        "cf",
        "approx",
        "fig",
        "dept",
        "mt",
    }
)
# Words that end a sentence only if what follows looks like a new sentence ("etc. Then").
_MAYBE_FINAL = frozenset(
    {
        "etc",
        "al",
        "inc",
        "ltd",
        "co",
        "corp",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
    }
)
_CLOSERS = "\"')]}’”»"
_TERMINALS = ".!?…"
_CLAUSE_BREAKS = ",;:—–"
_MARKDOWN = re.compile(r"(\*\*|__|`+|^#+\s*|^\s*[-*•]\s+|^\s*\d+[.)]\s+(?=\S))", re.MULTILINE)
_SPACES = re.compile(r"\s+")


_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+")


def split_sentences(text: str) -> list[str]:
    """A whole text's sentences, split after ".", "!" or "?" and a space (the plain rule, for
    text already written; ``SentenceSplitter`` is for a stream of deltas)."""
    return _SENTENCE_BREAK.split(text)


def speakable(text: str) -> str:
    """Strip markdown an LLM may emit (bullets, emphasis, headings) and collapse whitespace."""
    return _SPACES.sub(" ", _MARKDOWN.sub("", text)).strip()


@dataclass
class SentenceSplitter:
    """Feed deltas with push(); call flush() at the end of the stream for the remainder."""

    first_clause_min_words: int = 5
    """0 disables the early first clause."""
    min_unit_chars: int = 2
    _buffer: str = field(default="", repr=False)
    _emitted: int = field(default=0, repr=False)

    def push(self, delta: str) -> list[str]:
        self._buffer += delta
        units: list[str] = []
        while True:
            cut = self._find_sentence_end(self._buffer)
            if cut is None and self._emitted == 0 and not units and self.first_clause_min_words > 0:
                cut = self._find_first_clause_end(self._buffer)
            if cut is None:
                break
            unit, self._buffer = self._buffer[:cut], self._buffer[cut:]
            self._append(units, unit)
        return units

    def flush(self) -> list[str]:
        units: list[str] = []
        self._append(units, self._buffer)
        self._buffer = ""
        return units

    def _append(self, units: list[str], raw: str) -> None:
        text = speakable(raw)
        if len(text) >= self.min_unit_chars and any(ch.isalnum() for ch in text):
            units.append(text)
            self._emitted += 1
        elif text and units:
            # A stray closer or symbol belongs to the unit before it.
            units[-1] = f"{units[-1]} {text}".strip()

    def _find_sentence_end(self, text: str) -> int | None:
        """Index just past a certain sentence end (after closers), or None if not yet certain."""
        for match in re.finditer(r"\n\s*\n|\n|[.!?…]+", text):
            end = match.end()
            if match.group().startswith("\n"):
                if text[: match.start()].strip():
                    return end
                continue
            while end < len(text) and text[end] in _CLOSERS:
                end += 1
            if end >= len(text):
                if match.group()[-1] in "!?":
                    return end  # nothing can make "?" or "!" mid-sentence; don't wait a token
                return None  # we cannot see what follows yet: "3." may become "3.5"
            following = text[end]
            if not following.isspace():
                continue  # "3.5", "e.g.", "U.S.A", "example.com"
            if match.group().startswith((".", "…")):
                verdict = self._period_ends_sentence(text, match.start(), end)
                if verdict is None:
                    return None  # wait for the next word to judge
                if not verdict:
                    continue
            return end
        return None

    @staticmethod
    def _period_ends_sentence(text: str, dot_index: int, after: int) -> bool | None:
        """True/False, or None when only the next word can tell ("etc." + ?)."""
        before = text[:dot_index]
        word = before.rsplit(None, 1)[-1] if before.strip() else ""
        word = word.lstrip(_CLOSERS + "(\"'").lower()
        if len(word) == 1 and word.isalpha() and before.rstrip()[-1:].isupper():
            return False  # an initial: "J. Smith"
        if word in _NEVER_FINAL:
            return False
        next_text = text[after:].lstrip()
        dotted = "." in word  # "U.S.", "p.m.": abbreviations, maybe at a sentence end
        if word in _MAYBE_FINAL or dotted or text[dot_index:after].startswith(("..", "…")):
            if not next_text:
                return None
            return not (next_text[0].islower() or next_text[0].isdigit())
        return True

    def _find_first_clause_end(self, text: str) -> int | None:
        for match in re.finditer(f"[{_CLAUSE_BREAKS}]", text):
            end = match.end()
            if end >= len(text) or not text[end].isspace():
                continue  # "1,000" or not yet known
            if len(text[: match.start()].split()) >= self.first_clause_min_words:
                return end
        return None
