"""Checks every model-written point must pass before the report shows it.

The small local model is sycophantic (it praises almost anything), writes about "the
candidate" in the third person, and names topics nobody raised. So a model point is shown
only if it is addressed to the candidate, praises only what the evidence shows, gives advice
where advice is due, and names only what the transcript, the CV or the job description
contain. A point that fails is dropped, and the evidence write-up takes its place.
"""

from __future__ import annotations

import re

from server.feedback.evidence import QA, AnswerEvidence, extract_skills, praiseworthy, said_in
from server.feedback.lexicon import COACHING_WORDS, FUNCTION_WORDS
from server.feedback.text import norm, words_of

__all__ = ["point_problem"]

THIRD_PERSON_RE = re.compile(
    r"\b(?:the|this) (?:candidate|interviewee|applicant)\b|\bcandidate'?s?\b|"
    r"(?:^|[.!?;]\s+)(?:he|she|they) \w+|\b(?:his|her|their) (?:answer|response|experience|"
    r"example|skills?|approach|role)\b",
    re.IGNORECASE,
)
SECOND_PERSON_RE = re.compile(r"\byou(?:r|rs|'re|'ve|'d|'ll)?\b", re.IGNORECASE)
# Praise that says nothing about the answer; a small model's favourite words.
GENERIC_PRAISE_RE = re.compile(
    r"\b(?:passion(?:ate)?|positive trait|great job|well done|clear and concise|comprehensive|"
    r"impressive|excellent|outstanding|fantastic|amazing|strong understanding|deep understanding|"
    r"great answer|good answer|enthusias\w*|dedicat\w*|commitment)\b",
    re.IGNORECASE,
)
PRAISE_RE = re.compile(
    r"\b(?:impressive|excellent|outstanding|noteworthy|great job|well done|strong|great|good)\b",
    re.IGNORECASE,
)
ADVICE_RE = re.compile(
    r"\b(?:could|should|would|try|add|give|include|explain|quantify|practi[cs]e|next time|more|"
    r"instead|avoid|make sure|consider|say|name|describe|mention|lead with|start with|close "
    r"with|end with|focus|share|state|tell|walk|prepare|use|put|show|cut|keep)\b",
    re.IGNORECASE,
)
# Words two letters or more that start with a capital inside a sentence: names of things.
_NAME_RE = re.compile(r"^[A-Z][A-Za-z0-9+#.-]*[A-Za-z0-9+#]$")
_QUOTED_RE = re.compile(r"“[^”]*”|\"[^\"]*\"|'[^']*'")
UNKNOWN_WORDS_ALLOWED = 1
"""Content words a point may use that occur in none of its sources (and are not the words of
coaching itself); one is tolerated for paraphrase, two mean a topic nobody raised."""


# "You mentioned the incident form and the fire drill": every word of four letters or more
# of each thing said to have been named must be in the answer (as a word of the same stem).
_NAMED_RE = re.compile(
    r"\byou (?:named|mentioned|cited|talked about|brought up|referred to)\s+"
    r"(?P<terms>[^.;:()]+?)(?=,? which\b|,? when\b|,? and how\b|,? in your\b|\s+as\b|"
    r"\s+for\b|\s+to\b|[.;:(]|$)",
    re.IGNORECASE,
)
_ARTICLE_RE = re.compile(r"^(?:the|a|an|your|my|some)\s+", re.IGNORECASE)


def _named_terms(text: str) -> list[str]:
    out: list[str] = []
    for m in _NAMED_RE.finditer(_QUOTED_RE.sub(" ", text)):
        for part in re.split(r",\s*|\s+and\s+|\s+or\s+", m.group("terms")):
            term = norm(_ARTICLE_RE.sub("", part.strip()))
            if term and len(term.split()) <= 4 and not term.startswith(("that ", "how ", "what ")):
                out.append(term)
    return out


def _stem(word: str) -> str:
    return word[:5]


def _names(text: str) -> list[str]:
    out: list[str] = []
    for sentence in re.split(r"[.!?:;]\s+|[()]", _QUOTED_RE.sub(" ", text)):
        for word in sentence.split()[1:]:
            word = word.strip(",'’“”\"")
            if _NAME_RE.match(word) and word not in {"I", "CV", "STAR"}:
                out.append(word)
    return out


def point_problem(
    text: str, *, praise: bool, answer: AnswerEvidence, qa: QA, context: str
) -> str | None:
    """Why a model point about one answer may not be shown, or ``None`` if it may.

    ``praise``: a strength (else an area to improve); ``context``: the CV, the job
    description, the job title and the company, which an area to improve may draw on."""
    if THIRD_PERSON_RE.search(text):
        return "written about the candidate, not to them"
    if not SECOND_PERSON_RE.search(text):
        return "not addressed to the candidate"
    if praise:
        if not praiseworthy(answer):
            return "praises an answer the evidence marks weak"
        if GENERIC_PRAISE_RE.search(text):
            return "generic praise"
    else:
        if PRAISE_RE.search(text) and not ADVICE_RE.search(text):
            return "a compliment, not an area to improve"
        if not ADVICE_RE.search(text):
            return "no advice"
    said = {_stem(w) for w in words_of(norm(qa.answer))}
    for term in _named_terms(text):
        missing = [w for w in words_of(term) if len(w) >= 4 and _stem(w) not in said]
        if missing:
            return f"says you mentioned {term!r}, which the answer does not contain"
    own = norm(f"{qa.question}\n{qa.answer}")
    # A strength may name only what this answer said; advice may also draw on the CV and job.
    allowed = own if praise else norm(f"{own}\n{context}")
    for skill in extract_skills(text):
        if not said_in(skill, allowed):
            return f"names {skill!r}, which was not said"
    for name in _names(text):
        if not said_in(name.lower(), allowed):
            return f"names {name!r}, which was not said"
    stems = {_stem(w) for w in words_of(allowed)}
    unknown = [
        w
        for w in words_of(norm(_QUOTED_RE.sub(" ", text)))
        if len(w) >= 5
        and w not in FUNCTION_WORDS
        and _stem(w) not in COACHING_WORDS
        and _stem(w) not in stems
    ]
    if len(set(unknown)) > UNKNOWN_WORDS_ALLOWED:
        return f"speaks of what nobody raised ({', '.join(sorted(set(unknown))[:4])})"
    return None
