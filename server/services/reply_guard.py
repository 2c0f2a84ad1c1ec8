"""Keep the interviewer in its role, while its reply streams.

Small models slip out of role: the 0.5B "fast" model repeats the candidate's answer back,
reads the job description out, or introduces itself as the candidate ("I'm Alex Morgan, a
Senior Backend Engineer…"). Nothing of that may be spoken. The guard releases the reply
where speech synthesis would start anyway, so it costs no latency: the first sentence clause
by clause (the speech stage voices a first clause of five words or more early), later
sentences whole. It checks each sentence so far, and at the first slip stops the model and
finishes the turn with a plain question on the planned topic. A question turn that ends
without a question gets that question too.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

logger = logging.getLogger(__name__)

FALLBACK_CLOSING = "Thank you, that was the last question. Your feedback report is being prepared."
ACKNOWLEDGEMENT = "Thank you."

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
# Quoting the candidate back is fine when it is addressed to them ("You said you cut…").
_SECOND_PERSON = frozenset({"you", "your", "you're", "you've", "you'd", "you'll", "yours"})
# "I'm Alex Morgan", "I am a Senior Backend Engineer", "My name is …": the candidate's voice.
_SELF_INTRO = re.compile(
    r"^\W*(?:(?i:hi|hello)\W*)?(?i:i'm|i’m|i am|my name is)\s+(?!Viva\b)(?:(?i:a|an|the)\s+)?[A-Z]"
)
# "I used Redis caching and rewrote the queries…": the candidate's work told in the first
# person. The interviewer never reports having done it ("I see", "I'd like" are not this).
_CANDIDATE_VOICE = re.compile(
    r"^\W*(?:(?i:so|well|yes|yeah),?\s+)?I (?:then |also |personally |first )?(?:used|built|"
    r"designed|led|implemented|wrote|rewrote|created|developed|managed|optimi[sz]ed|reduced|"
    r"cut|migrated|deployed|added|moved|owned|worked on|introduced|set up|tuned|fixed)\b"
)
# "I'm sorry, but I can't assist with that." A sentence that starts like an apology is held
# whole, so that a refusal is caught before any of it is spoken.
_APOLOGY_START = re.compile(r"^\W*(?:(?:i'm|i’m|i am)\s+)?(?:sorry|afraid|apologi[sz]e)\b", re.I)
_REFUSAL = re.compile(
    r"\b(?:can't|can’t|cannot|can not|unable to|not able to)\s+(?:assist|help|do that|provide)"
    r"|\bas an ai\b|\blanguage model\b",
    re.I,
)
# "That's great!", "Thank you for sharing that.": the model acknowledging an answer that has
# already been acknowledged (``ReplyPlan.said``), and praising it. Held whole and dropped, as
# is any exclamation before the question ("Oh no!").
_PRAISE_START = re.compile(
    r"^\W*(?:\w+\W+){0,3}?(?:great|impressive|excellent|interesting|fantastic|wonderful|"
    r"amazing|awesome|brilliant|insightful|fascinating|perfect|good|solid|thank|thanks|"
    r"appreciate|glad|"
    r"wow|congratulations|well done|sounds like)\b",
    re.I,
)
_CLAUSE_END = re.compile(r"[,;:.!?…](?=\s)")
_SENTENCE_END = re.compile(r"[.!?…][\"')\]]*$")


def _without_praise(sentence: str) -> str:
    """A praising first sentence without its praise: nothing if it asks nothing ("That's
    great!"), else the question after the praising clause ("That's great, so how…?" → "So
    how…?")."""
    if "?" not in sentence:
        return ""
    parts = re.split(r"(?<=[,;:!.—–])\s+", sentence, maxsplit=1)
    if len(parts) < 2 or "?" not in parts[1]:
        return sentence
    rest = parts[1]
    return rest[0].upper() + rest[1:]


# Words every question is made of: two questions sharing them are not the same question.
_QUESTION_FRAME = frozenset(
    [
        "what",
        "which",
        "when",
        "where",
        "would",
        "could",
        "should",
        "about",
        "tell",
        "more",
        "your",
        "with",
        "that",
        "this",
        "there",
        "have",
        "they",
        "them",
        "then",
        "from",
        "into",
        "than",
        "also",
        "just",
        "like",
        "describe",
        "explain",
        "walk",
        "through",
        "give",
        "example",
        "time",
        "specific",
        "situation",
        "think",
        "approach",
        "handle",
        "made",
        "make",
        "role",
        "team",
        "work",
        "worked",
        "project",
    ]
)
REPEAT_MIN_CONTENT_WORDS = 4
REPEAT_SHARE = 0.75


HOLD = "hold"
# A clause shorter than this is held until the sentence goes on or ends: too short to judge,
# and the speech stage waits for as many words anyway (``SentenceSplitter.first_clause_min_words``).
RELEASE_WORDS = 5
RELEASE_CONTENT_WORDS = 2
ECHO_RUN = 4  # words copied in a row from the answer
ECHO_LONG_RUN = 6  # a run this long is an echo however much else the sentence says
DOCUMENT_RUN = 5  # words copied in a row from the CV, job description or instructions
COPIED_SHARE = 0.5


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("’", "'"))


def _ngrams(words: list[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def _copied(words: list[str], grams: set[tuple[str, ...]], n: int) -> list[bool]:
    """Which of ``words`` lie in a run of ``n`` or more words found in the source."""
    covered = [False] * len(words)
    for i in range(len(words) - n + 1):
        if tuple(words[i : i + n]) in grams:
            covered[i : i + n] = [True] * n
    return covered


@dataclass(frozen=True)
class ReplyPlan:
    """What this reply must be: which answer it follows, whether it asks a question, and the
    plain reply to fall back on."""

    answer: str | None  # the candidate's answer it replies to (None: the opening)
    documents: tuple[str, ...]  # what it must not read out: CV, job description, instructions
    question: str | None  # the plain question to ask (None: the closing line)
    greeting: str  # the plain first sentence: a welcome (opening) or an acknowledgement
    said: str = ""  # already said before the model's text: the answer's acknowledgement
    asked: tuple[str, ...] = ()  # the questions asked so far in this interview: never again
    quotable: str = ""  # the job requirement line this question is about: it may be quoted

    def fallback(self, *, spoken: str) -> str:
        """What to add after ``spoken`` (possibly nothing said yet) to finish the turn."""
        spoken = f"{self.said} {spoken}".strip()
        if self.question is None:
            return "" if spoken.strip() else FALLBACK_CLOSING
        if "?" in spoken:
            return ""
        return self.question if spoken.strip() else f"{self.greeting} {self.question}"


def content_words(text: str) -> set[str]:
    """The words of ``text`` that carry its meaning (not "how", "the", "you", "tell")."""
    return {w for w in _words(text) if len(w) > 3 and w not in _QUESTION_FRAME}


def asks_again(sentence: str, asked: Sequence[str]) -> bool:
    """Whether ``sentence`` (or its beginning) is a question already asked: most of its content
    words come from one earlier question, and enough of them to tell; or most of its words, in
    runs, are copied from one (a question all frame: "Take one of them and walk me through…"),
    or half of them with next to nothing of its own."""
    mine = content_words(sentence)
    words = _words(sentence)
    for question in asked:
        theirs = content_words(question)
        if len(mine) >= REPEAT_MIN_CONTENT_WORDS and len(mine & theirs) >= REPEAT_SHARE * len(mine):
            return True
        if len(words) >= ECHO_LONG_RUN:
            copied = sum(_copied(words, _ngrams(_words(question), ECHO_RUN), ECHO_RUN))
            if copied >= REPEAT_SHARE * len(words):
                return True
            # Half of it copied, and nothing new said around the copy ("Could you explain a
            # situation, your part, and the outcome?" after "…the situation, your part, and
            # the outcome?"); a new topic in a shared frame names words of its own.
            if copied >= COPIED_SHARE * len(words) and len(mine - theirs) <= 1:
                return True
    return False


class Guard:
    def __init__(self, plan: ReplyPlan) -> None:
        self._answer = _ngrams(_words(plan.answer or ""), ECHO_RUN)
        self._answer_long = _ngrams(_words(plan.answer or ""), ECHO_LONG_RUN)
        self._documents = set().union(
            *(_ngrams(_words(d), DOCUMENT_RUN) for d in plan.documents)
        ) - _ngrams(_words(plan.quotable), DOCUMENT_RUN)
        self._asked = plan.asked

    def slip(self, sentence: str) -> str | None:
        """Why ``sentence`` (or its beginning) is not the interviewer speaking, or None."""
        if _SELF_INTRO.match(sentence) or _CANDIDATE_VOICE.match(sentence):
            return "speaks as the candidate"
        if _REFUSAL.search(sentence):
            return "refuses"
        words = _words(sentence)
        if len(words) >= ECHO_RUN and not _SECOND_PERSON.intersection(words):
            copied = _copied(words, self._answer, ECHO_RUN)
            if sum(copied) >= COPIED_SHARE * len(words) or any(
                _copied(words, self._answer_long, ECHO_LONG_RUN)
            ):
                return "repeats the candidate's answer"
        if len(words) >= DOCUMENT_RUN:
            copied = _copied(words, self._documents, DOCUMENT_RUN)
            if sum(copied) >= COPIED_SHARE * len(words):
                return "reads out its instructions, the CV or the job description"
        if asks_again(sentence, self._asked):
            return "asks a question already asked"
        return None


async def guard_reply(
    deltas: AsyncIterator[str], plan: ReplyPlan, *, log_as: str = ""
) -> AsyncIterator[str]:
    """Pass ``deltas`` (cleaned reply text) through clause by clause while they stay in role;
    at a slip stop reading them (the caller closes the model's stream) and finish the turn with
    the plan's fallback."""
    guard = Guard(plan)
    spoken = ""  # released so far
    sentence = ""  # the released part of the current sentence
    pending = ""  # received, not yet released
    past_first = False  # the first sentence is out: later ones are released whole
    # After an acknowledgement already said, the model's own first sentence may not be another
    # one: praise there is held whole and dropped (``_without_praise``).
    check_praise = bool(plan.said)
    slip: str | None = None

    def check(piece: str, *, last: bool) -> str | None:
        """None: release ``piece``; HOLD: wait for more; otherwise why it is a slip."""
        so_far = sentence + piece
        # The clause on its own too: an echo after a good opening clause is still an echo.
        reason = guard.slip(so_far) or (guard.slip(piece) if sentence else None)
        if reason is not None or last or _SENTENCE_END.search(piece.rstrip()):
            return reason
        if (
            past_first
            or _APOLOGY_START.match(so_far)
            or (check_praise and not sentence and _PRAISE_START.match(so_far))
            or len(_words(so_far)) < RELEASE_WORDS
            or len(content_words(so_far)) < RELEASE_CONTENT_WORDS
        ):
            # A later sentence, an apology or praise, or a clause too short or all frame to
            # judge ("Could you explain a situation, your part," may be a question asked
            # before: its end tells).
            return HOLD
        return None

    def released(piece: str) -> str:
        nonlocal spoken, sentence, past_first, check_praise
        if check_praise and not sentence:
            exclaimed = piece.rstrip().endswith("!") and "?" not in piece
            if exclaimed or _PRAISE_START.match(piece):
                piece = _without_praise(piece)
                logger.info("reply %s: praise after the acknowledgement dropped", log_as)
                if not piece:
                    return ""  # and the next sentence is checked too ("Oh no! That sounds…")
            check_praise = False
        spoken += piece
        if _SENTENCE_END.search(piece.rstrip()):
            sentence, past_first = "", True
        else:
            sentence += piece
        return piece

    async for delta in deltas:
        pending += delta
        cut = 0
        for end in (m.end() for m in _CLAUSE_END.finditer(pending)):
            verdict = check(pending[cut:end], last=False)
            if verdict == HOLD:
                continue
            if verdict is not None:
                slip = verdict
                break
            # With the space after it: the speech stage cuts a sentence only once it sees what
            # follows its period ("3." may become "3.5"), and the next piece may be a whole
            # sentence away.
            if piece := released(pending[cut : end + 1]):
                yield piece
            cut = end + 1
        if slip is not None:
            break
        pending = pending[cut:]
    else:
        if pending.strip():
            slip = check(pending, last=True)
            if slip is None and (piece := released(pending)):
                yield piece
    extra = plan.fallback(spoken=spoken)
    if slip is not None or extra:
        logger.warning(
            "reply %s: %s; %s",
            log_as,
            slip or "no question asked",
            "finished with the planned question" if extra else "cut short",
        )
    if extra:
        # Cut off mid-sentence (only the first sentence is released in clauses): mark the break.
        space = " " if spoken and not spoken.endswith(" ") else ""
        yield space + ("… " if sentence.strip() else "") + extra
