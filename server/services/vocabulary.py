"""The interview's vocabulary: the technical terms and names in a CV and a job description,
known before the candidate speaks, so speech recognition can be biased towards them."""

from __future__ import annotations

import re
from collections.abc import Iterable

from server.ai.embedder import common_words
from server.feedback.evidence import extract_skills
from server.feedback.lexicon import FUNCTION_WORDS, IGNORED_SKILLS, ROLE_WORD_RE
from server.voice.vocabulary import Vocabulary

MAX_TERMS = 64
"""Kept per interview; the hotwords for one question are cut much shorter (by characters)."""
JARGON_MIN_LETTERS = 5
"""Shorter lower-case words missing from the word list are mostly abbreviations and typos."""

_ADDRESS_RE = re.compile(r"\S+@\S+|\bhttps?://\S+|\bwww\.\S+")
# A word as names are written: "PostgreSQL", "CI/CD", "Node.js", "C++", "p95".
_TOKEN_RE = re.compile(r"(?<![\w.])[A-Za-z][A-Za-z0-9]*(?:[./][A-Za-z0-9]+)*[+#]*")
_SENTENCE_END = ".!?:\n•-*"


def interview_vocabulary(cv_text: str, job_description_text: str) -> Vocabulary:
    """Named skills first (the gazetteer's, as the documents spell them), then names
    (products, companies, acronyms) and jargon ("idempotent", "webhook") in reading order,
    CV before job. Words of general English are left out: Whisper already hears them."""
    documents = [_ADDRESS_RE.sub(" ", cv_text), _ADDRESS_RE.sub(" ", job_description_text)]
    skills = [_surface(documents, skill) for doc in documents for skill in extract_skills(doc)]
    lowercase_words = {w for doc in documents for w in re.findall(r"\b[a-z][a-z0-9]*\b", doc)}
    words = [t for doc in documents for t in _names_and_jargon(doc, lowercase_words)]
    return Vocabulary(_unique(t for t in [*skills, *words] if _worth_biasing(t))[:MAX_TERMS])


def _surface(documents: list[str], skill: str) -> str:
    """The skill as the documents write it, capitalised where any of them capitalises it
    ("PostgreSQL" for "postgresql"): Whisper is prompted with spellings, and it writes what
    it was shown."""
    pattern = re.compile(rf"(?<!\w){re.escape(skill)}(?!\w)", re.IGNORECASE)
    spellings = [m.group(0) for doc in documents for m in pattern.finditer(doc)]
    return next((s for s in spellings if s != s.lower()), spellings[0] if spellings else skill)


def _names_and_jargon(text: str, lowercase_words: set[str]) -> list[str]:
    out = []
    for match in _TOKEN_RE.finditer(text):
        token = match.group(0)
        marked = (
            any(ch.isupper() for ch in token[1:])  # PayBright, FastAPI, AWS
            or any(ch.isdigit() for ch in token)  # p95, S3
            or any(ch in "./+#" for ch in token)  # CI/CD, Node.js, C++
        )
        if marked and _abbreviation(token):
            continue
        if marked:
            out.extend(_split_pair(token))
        elif token[0].isupper():
            # A capitalised word the documents also write in lower case is an ordinary word
            # in a title ("Senior Backend Engineer"), not a name.
            if (
                not _at_sentence_start(text, match.start())
                and token.lower() not in lowercase_words
                and _rare(token)
            ):
                out.append(token)
        elif len(token) >= JARGON_MIN_LETTERS and _rare(token):
            out.append(token)
    return out


def _rare(word: str) -> bool:
    """Not in the general word list, in any of its plain inflections ("queries", "rewriting"
    and "optimisation" are general English)."""
    common = common_words()
    w = word.lower()
    forms = {w, w.replace("is", "iz")}
    for suffix, replacements in _INFLECTIONS:
        if w.endswith(suffix) and len(w) > len(suffix) + 2:
            forms.update(w[: -len(suffix)] + r for r in replacements)
    return not any(form in common for form in forms)


_INFLECTIONS = (
    ("ies", ("y",)),
    ("es", ("", "e")),
    ("s", ("",)),
    ("ied", ("y",)),
    ("ed", ("", "e")),
    ("ing", ("", "e")),
)  # not "-ly": "Parcelly" is a name, not an adverb of "parcel"


def _split_pair(token: str) -> list[str]:
    """Python/Django is two names; CI/CD and TCP/IP are one."""
    parts = token.split("/")
    return [token] if all(len(p) <= 3 for p in parts) else [p for p in parts if p]


def _abbreviation(token: str) -> bool:
    """Single letters between dots (e.g, i.e, U.S) are abbreviations, not names."""
    return "." in token and all(len(part) <= 1 for part in token.split("."))


def _at_sentence_start(text: str, start: int) -> bool:
    i = start - 1
    while i >= 0 and text[i] in " \t":
        i -= 1
    return i < 0 or text[i] in _SENTENCE_END


def _worth_biasing(term: str) -> bool:
    low = term.lower()
    if low in FUNCTION_WORDS or low in IGNORED_SKILLS or ROLE_WORD_RE.search(low):
        return False
    # Several plain words ("schema design", "Clear communication" at the start of a bullet)
    # are English Whisper already knows; each would only lengthen the prompt. Their names
    # ("Redis" of "Redis caching") are terms of their own.
    return " " not in term or any(ch.isupper() or ch.isdigit() or ch in "./+#" for ch in term[1:])


def _unique(terms: Iterable[str]) -> tuple[str, ...]:
    """First spelling of each term; "APIs" and "API" are one term."""
    seen: set[str] = set()
    out = []
    for term in terms:
        low = term.lower()
        key = low[:-1] if low.endswith("s") and len(low) > 3 else low
        if key not in seen:
            seen.add(key)
            out.append(term)
    return tuple(out)
