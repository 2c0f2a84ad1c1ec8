"""Naming a question as a person would: "question 3 (“Which part of the ledger did you own?”)".

An interviewer's message often opens with a greeting or an acknowledgement ("Welcome to your
practice interview…", "Thank you for that. How did you…", "That's great!"); the report names a
question by what it asked, never by its preamble.
"""

from __future__ import annotations

import re

from server.feedback.text import sentences, words_of

__all__ = ["asked", "question_name"]

MAX_WORDS = 14
FOLLOW_ON_WORDS = 5  # "What happened?", "What did you do?": too short to name a question

# Sentences that greet, thank, react or announce, and ask nothing.
_PREAMBLE_RE = re.compile(
    r"^(?:welcome|thank|thanks|that's|that is|that sounds|great|good|excellent|interesting|"
    r"wonderful|nice|perfect|brilliant|impressive|fantastic|awesome|ok\b|okay|alright|all right|"
    r"sure|right|i see|understood|got it|let's|let me|hi\b|hello|to start|to begin|first|"
    r"next|now|moving on|i'd like|i would like|i'm|my name|this is|we'll|we will|you've|"
    r"you have|it's great|it is great|appreciate|"
    # The acknowledgements Viva composes (server/services/acknowledgement.py).
    r"you mentioned|that was|those were|i didn't hear|so,)",
    re.IGNORECASE,
)
_LEAD_IN_RE = re.compile(
    r"^(?:(?:so|and|now|next|ok|okay|well|then|also|finally|to start|to begin|first|lastly),?\s+)+",
    re.IGNORECASE,
)


def _without_lead_in(text: str) -> str:
    text = _LEAD_IN_RE.sub("", text).strip()
    return text[:1].upper() + text[1:]


def asked(question: str) -> str:
    """What the interviewer's message asked: its question sentence(s) without the preamble.

    The last sentence that ends with "?" (or, when that is a short follow-on such as "What
    happened?", the sentence before it that sets it up); without a "?", the last sentence that
    is not a preamble; failing both, the message itself."""
    spans = sentences(question)
    parts = [question[a:b].strip() for a, b in spans]
    if not parts:
        return " ".join(question.split())
    asking = [i for i, p in enumerate(parts) if p.endswith("?")]
    if asking:
        i = asking[-1]
        if _PREAMBLE_RE.match(parts[i]) and len(asking) > 1:
            i = asking[-2]
        # "Tell me about a time your data was wrong. What did you do?": the short follow-on
        # names nothing; the sentence that sets it up names the question.
        if (
            len(words_of(parts[i])) < FOLLOW_ON_WORDS
            and i > 0
            and not _PREAMBLE_RE.match(parts[i - 1])
        ):
            i -= 1
        return _without_lead_in(parts[i])
    plain = [p for p in parts if not _PREAMBLE_RE.match(p)]
    return _without_lead_in((plain or parts)[-1])


def question_name(number: int, question: str) -> str:
    """``question 3 (“Which part of the ledger did you own?”)``, the question shortened at a word
    boundary when it is long. Starts lower-case: it is used inside sentences."""
    text = asked(question)
    words = words_of(text)
    if len(words) > MAX_WORDS:
        # Cut after the MAX_WORDS-th word of the original text, keeping its own spelling.
        count, cut = 0, len(text)
        for m in re.finditer(r"\S+", text):
            if words_of(m.group(0)):
                count += 1
            if count == MAX_WORDS:
                cut = m.end()
                break
        text = text[:cut].rstrip(",;:") + "…"
    return f"question {number} (“{text}”)"
