"""How transcripts are scored in the speech benchmarks: word error rate on the words as said,
and recall of the interview's terms."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from server.voice.stt import normalize_words

_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_SPELLED = {"mr": ["mister"], "mrs": ["missus"], "dr": ["doctor"]}


def _spelled(word: str) -> list[str]:
    """A whole number below 100 written in digits as words ("10" → "ten"), a title as said."""
    if word.isdigit() and int(word) < 100:
        n = int(word)
        if n < 20:
            return [_ONES[n]]
        tens, ones = divmod(n, 10)
        return [_TENS[tens - 2]] + ([_ONES[ones]] if ones else [])
    return _SPELLED.get(word, [word])


def scoring_words(text: str) -> list[str]:
    """The words WER is counted on: ``normalize_words`` (case, punctuation and hyphens
    ignored, as the product does), with small numbers and titles spelled out, so that
    Whisper's "10 of clubs" is not an error against "ten of clubs"."""
    return [w for word in normalize_words(text).split() for w in _spelled(word)]


def word_edits(reference: str, hypothesis: str) -> tuple[int, int]:
    """(word-level Levenshtein distance, reference words), on ``scoring_words``."""
    ref = scoring_words(reference)
    hyp = scoring_words(hypothesis)
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        current = [i]
        for j, h in enumerate(hyp, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h)))
        previous = current
    return previous[-1], len(ref)


def word_error_rate(reference: str, hypothesis: str) -> float:
    edits, words = word_edits(reference, hypothesis)
    return edits / max(1, words)


def corpus_wer(pairs: Iterable[tuple[str, str]]) -> float:
    """Edits over reference words, summed over all answers (long answers weigh more)."""
    edits = words = 0
    for reference, hypothesis in pairs:
        e, w = word_edits(reference, hypothesis)
        edits, words = edits + e, words + w
    return edits / max(1, words)


def term_counts(text: str, terms: Sequence[str]) -> dict[str, int]:
    """How often each term occurs in ``text`` as whole normalised words."""
    words = normalize_words(text).split()
    counts: dict[str, int] = {}
    for term in terms:
        needle = normalize_words(term).split()
        n = sum(words[i : i + len(needle)] == needle for i in range(len(words)))
        if n:
            counts[term] = n
    return counts


def term_hits(reference: str, hypothesis: str, terms: Sequence[str]) -> tuple[int, int]:
    """(occurrences of the reference's terms that the hypothesis has too, occurrences)."""
    said = term_counts(reference, terms)
    heard = term_counts(hypothesis, terms)
    return sum(min(n, heard.get(t, 0)) for t, n in said.items()), sum(said.values())
