"""The interviewer's first words after an answer: a short acknowledgement of what was said.

It is composed from the stored answer, not written by the model, for two reasons:

- **Faithful.** It names what the candidate said in a sentence (a skill or term of theirs, a
  number they gave) or, for a thin answer, neutrally says what was missing. It never praises:
  the small models praised almost anything ("That's very impressive!" after a bare list of
  keywords), and a reaction built from the measured answer cannot.
- **Fast.** It is ready the moment the answer is stored, so it is spoken while the model
  writes the question, instead of after 2-3 s of generating a first sentence on two cores.

The model then continues the message (the acknowledgement is its prefilled start) with the
question only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from server.ai.embedder import common_words
from server.feedback.evidence import extract_numbers, extract_skills, measure_answer_text
from server.feedback.lexicon import FUNCTION_WORDS
from server.feedback.limits import SHORT_ANSWER_WORDS
from server.voice.vocabulary import mentions

Kind = Literal["named", "number", "example", "brief", "list", "no_example", "plain"]

MAX_NAMED = 2
"""Terms named at most: "You mentioned Kafka and Redis." stays under eight words."""
MAX_TERM_WORDS = 4

# Several wordings per kind, so no acknowledgement opens the same way twice running.
_TEMPLATES: dict[Kind, tuple[str, ...]] = {
    "named": ("You mentioned {x}.", "Okay, {x}.", "Right, {x}.", "Got it, {x}.", "So, {x}."),
    "number": ("You mentioned {x}.", "Okay, {x}.", "Right, {x}.", "Got it, {x}."),
    "example": ("Okay, that's one example.", "Thanks for the example.", "Right, an example."),
    "brief": ("That was brief.", "Okay, a short answer.", "Right, briefly put."),
    "list": ("That was mostly a list of terms.", "Those were terms rather than an example."),
    "no_example": ("Okay, no specific example there.", "I didn't hear a specific example there."),
    "plain": ("Okay.", "I see.", "Right.", "Understood."),
}


def stock_phrases() -> tuple[str, ...]:
    """What every acknowledgement is made of but its named terms: the wordings without a
    term ("I see."), and the opening clauses before one ("Right,"). The voice caches their
    audio (``server.voice.tts.PhraseCache``), so the first words after an answer are sent at
    once."""
    phrases: list[str] = []
    for templates in _TEMPLATES.values():
        for template in templates:
            head = template.split("{x}", 1)[0].strip()
            if "{x}" not in template:
                phrases.append(template)
            elif head.endswith(","):
                phrases.append(head)
    return tuple(dict.fromkeys(phrases))


# One follow-up on exactly what a thin answer lacked, asked instead of the next question (at
# most once per question); several wordings, since no question is asked twice.
_FOLLOW_UPS: dict[Kind, tuple[str, ...]] = {
    "brief": (
        "Could you tell me more: one specific time, what you did, and how it turned out?",
        "Can you expand on that with one real example: what happened, and what was your part?",
        "Could you say more, with one real case: the situation, your part, and the outcome?",
        "Can you take me through one time this came up: what you did, and what happened next?",
    ),
    "list": (
        "Pick one of those: where did you use it, what did you do with it, and what was the "
        "result?",
        "Take one of them and walk me through a real project where you used it: what did you do?",
        "Choose the one you know best: when did you use it, and how did it go?",
        "Which of those did you use most recently, on what, and what came of it?",
    ),
    "no_example": (
        "Can you think of one specific time, even a small one: what was the situation, and "
        "what did you do?",
        "Even if you are unsure, what is one real situation you can describe, and your part in it?",
        "Could you ground that in one real case: where were you, and what did you do?",
        "What is one moment you remember where this happened, and how did you handle it?",
    ),
    "plain": (
        "Can you give me one specific example: the situation, what you did, and the result?",
        "What is one concrete time that shows this: what happened, and what did you do?",
        "Could you make that concrete with one real situation: your part, and how it ended?",
        "Which real project shows this best, and what exactly did you do there?",
    ),
}

_OPENING_WORD = re.compile(r"[A-Za-z']+")


# A tough interviewer also presses an example that never says how it ended.
_RESULT_FOLLOW_UPS = (
    "And what was the result: what changed, and how did you know?",
    "How did it turn out, and what would you measure to show it?",
    "What came of it in the end, and what evidence showed it worked?",
    "Where did it leave things: what was different afterwards?",
)


@dataclass(frozen=True)
class Acknowledgement:
    text: str
    kind: Kind
    has_result: bool = True  # the answer says how it turned out (a result cue or a number)
    gap: Kind | None = None  # what it lacked (a kind of ``_FOLLOW_UPS``), else None

    @property
    def thin(self) -> bool:
        """The answer lacked an example or substance: worth one follow-up."""
        return self.gap is not None

    def follow_up(self, asked: Sequence[str], *, press_for_result: bool = False) -> str | None:
        """The follow-up question on what this answer lacked, in a wording not in ``asked``
        (the questions asked so far); None if it lacked nothing or all were asked.
        ``press_for_result``: an answer without a result lacks one (a tough interview)."""
        wordings = _FOLLOW_UPS.get(self.gap, ()) if self.gap is not None else ()
        if not wordings and press_for_result and not self.has_result:
            wordings = _RESULT_FOLLOW_UPS
        return next((w for w in wordings if w not in asked), None)


def acknowledge(
    answer: str, *, terms: Sequence[str] = (), earlier: Sequence[str] = ()
) -> Acknowledgement:
    """The acknowledgement of ``answer``.

    ``terms``: the interview's vocabulary (its CV's and job's terms, ``interview_vocabulary``),
    named only where the answer says them in a sentence. ``earlier``: the interviewer's
    earlier messages in this interview, so the wording changes from turn to turn.
    """
    features = measure_answer_text(answer)
    if features.word_count < SHORT_ANSWER_WORDS:
        kind: Kind = "brief"
        filler = ""
    elif features.keyword_only:
        kind, filler = "list", ""
    elif features.evasive:
        kind, filler = "no_example", ""
    elif named := _named(answer, features.claim_text, terms):
        kind, filler = "named", named
    elif number := _number(features.claim_text):
        kind, filler = "number", number
    elif salient := _salient(features.claim_text or answer):
        kind, filler = "named", salient  # what it was about, in its own word
    elif features.concrete_example:
        kind, filler = "example", ""
    else:
        kind, filler = "plain", ""
    # What it lacked: the wording's own kind for a thin answer; an answer that names no term
    # and no number and tells no example is generic ("plain"), however it is acknowledged.
    specific = kind in ("number", "example") or bool(_named(answer, features.claim_text, terms))
    gap: Kind | None = kind if kind in ("brief", "list", "no_example") else None
    if gap is None and not specific and not features.concrete_example:
        gap = "plain"
    has_result = features.star["result"] or bool(features.numbers)
    return Acknowledgement(_wording(kind, filler, earlier), kind, has_result=has_result, gap=gap)


def _named(answer: str, claims: str, terms: Sequence[str]) -> str:
    """Up to two terms the answer's claims name, as the answer spells them, in its order:
    named skills first, then the interview's other terms (names, jargon)."""
    found: dict[str, int] = {}  # in priority order
    for term in [*extract_skills(claims), *terms]:
        if len(term.split()) > MAX_TERM_WORDS or not mentions(claims, term):
            continue
        match = re.search(rf"(?<!\w){re.escape(term)}(?!\w)", answer, re.IGNORECASE)
        if match is None or match.group(0).lower() in {f.lower() for f in found}:
            continue
        if match.group(0) != term and term.lower() in common_words():
            continue  # "EXPLAIN" (the SQL command) said as the word "explain"
        found[match.group(0)] = match.start()
    # "Redis" of "Redis caching" is named by the longer term.
    kept = [t for t in found if not any(o != t and mentions(o, t) for o in found)]
    return " and ".join(sorted(kept[:MAX_NAMED], key=found.__getitem__))


# Words that say nothing of what an answer was about, however long.
_EMPTY_WORDS = frozenset(
    [
        "really",
        "always",
        "something",
        "everything",
        "anything",
        "nothing",
        "things",
        "thing",
        "important",
        "usually",
        "actually",
        "basically",
        "probably",
        "definitely",
        "especially",
        "generally",
        "honestly",
        "certainly",
        "different",
        "another",
        "people",
        "person",
        "because",
        "through",
        "whether",
        "without",
        "within",
        "around",
        "already",
        "quite",
        "rather",
        "pretty",
        "little",
        "lots",
        "maybe",
    ]
)


def _salient(text: str) -> str:
    """One word of ``text`` that says what it was about ("hiking", "communication"): a name
    if it has one, else its rarest long word (rare in general English: common_words)."""
    tokens = text.split()
    words = [w.strip(".,;:!?\"'()") for w in tokens]
    # A capital inside a sentence is a name ("Leeds"); one after a full stop starts a sentence
    # ("Then"), and a function word is never what an answer was about.
    names = [
        w for i, w in enumerate(words)
        if i and w[:1].isupper() and w.isalpha() and len(w) > 2
        and tokens[i - 1][-1:] not in ".!?" and w.lower() not in FUNCTION_WORDS
        and w.lower() not in _EMPTY_WORDS
    ]  # fmt: skip
    if names:
        return names[0]
    common = common_words()
    candidates = [
        w.lower() for w in words
        if w.isalpha() and len(w) >= 6 and w.lower() not in FUNCTION_WORDS
        and w.lower() not in _EMPTY_WORDS
    ]  # fmt: skip
    rare = [w for w in candidates if w not in common]
    return (rare or sorted(candidates, key=len, reverse=True) or [""])[0]


def _number(claims: str) -> str:
    """The first number the claims give with its unit ("300 milliseconds"), if any."""
    with_unit = [n for n in extract_numbers(claims) if " " in n]
    return with_unit[0] if with_unit else ""


def _wording(kind: Kind, filler: str, earlier: Sequence[str]) -> str:
    """The first of the kind's wordings whose opening word no earlier message opened with;
    when all have been used, the least recently used."""
    templates = _TEMPLATES[kind]
    openings = [_opening(text) for text in earlier]
    for template in templates:
        if _opening(template) not in openings:
            return _fill(template, filler)
    last_use = {t: max(i for i, o in enumerate(openings) if o == _opening(t)) for t in templates}
    return _fill(min(templates, key=last_use.__getitem__), filler)


def _opening(text: str) -> str:
    match = _OPENING_WORD.search(text.replace("{x}", "x"))
    return match.group(0).lower() if match else ""


def _fill(template: str, filler: str) -> str:
    text = template.format(x=filler)
    return text[0].upper() + text[1:]
