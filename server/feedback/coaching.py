"""Coaching that teaches: a stronger version of each answer, built from the candidate's own words.

Every part of a stronger version is either a sentence the candidate said, verbatim, or a
marked gap saying what to put there ("[The result: …]"). Nothing is invented: where a number
would help and the candidate gave one in another answer, the gap points to it. For the two
weakest answers, one concrete thing to add.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from server.feedback.evidence import (
    QA,
    AnswerEvidence,
    InterviewEvidence,
    extract_numbers,
    star_cues,
)
from server.feedback.limits import RELEVANT, SHORT_ANSWER_WORDS
from server.feedback.questions import asked
from server.feedback.rubric import answer_depth
from server.feedback.text import sentences
from server.feedback.writeup import clip_words, name_of

__all__ = ["Coaching", "Part", "coach"]

WEAKEST = 2  # answers that get "the one thing to add"
_HYPOTHETICAL_RE = re.compile(
    r"\b(?:how would|what would|how do you|what do you|how should)\b", re.I
)


@dataclass(frozen=True)
class Part:
    label: str  # "Situation", "What you did", "Result", ...
    text: str  # verbatim from the answer when ``said``, else what to put there
    said: bool


@dataclass(frozen=True)
class Coaching:
    answer_index: int
    question: str  # named as the report names it
    parts: list[Part] = field(default_factory=list)
    one_thing: str | None = None  # for the weakest answers: the single most useful addition

    def as_dict(self) -> dict[str, object]:
        return {
            "answer_index": self.answer_index,
            "question": self.question,
            "parts": [{"label": p.label, "text": p.text, "said": p.said} for p in self.parts],
            "one_thing": self.one_thing,
        }


def _classified(answer: str) -> dict[str, list[str]]:
    """The answer's sentences by the STAR part they signal (a sentence goes to one part)."""
    out: dict[str, list[str]] = {"situation": [], "action": [], "result": []}
    for start, end in sentences(answer):
        sentence = answer[start:end]
        cues = star_cues(sentence)
        if cues["result"]:
            out["result"].append(sentence)
        elif cues["action"]:
            out["action"].append(sentence)
        elif cues["situation"] or cues["task"]:
            out["situation"].append(sentence)
    return out


def _number_elsewhere(evidence: InterviewEvidence, qas: Sequence[QA], index: int) -> str | None:
    """A sentence with a measured result from another of the candidate's answers."""
    for other in evidence.answers:
        if other.index == index or not (other.numbers and other.star["result"]):
            continue
        answer = qas[other.index].answer
        for start, end in sentences(answer):
            sentence = answer[start:end]
            if extract_numbers(sentence) and star_cues(sentence)["result"]:
                return f"{name_of(qas, other.index)}: “{clip_words(sentence)}”"
    return None


def _parts(a: AnswerEvidence, qa: QA, elsewhere: str | None) -> list[Part]:
    said = _classified(qa.answer)
    hypothetical = bool(_HYPOTHETICAL_RE.search(asked(qa.question)))
    parts: list[Part] = []
    if said["situation"]:
        parts.append(Part("Situation", clip_words(said["situation"][0]), True))
    else:
        parts.append(
            Part(
                "Situation",
                "[One sentence on a real time this happened: where you were and what was at stake.]"
                if not hypothetical
                else "[A time you faced this at work, in one sentence, so your approach is "
                "grounded in something you did.]",
                False,
            )
        )
    actions = said["action"][:2]
    if actions:
        parts.extend(Part("What you did", clip_words(s), True) for s in actions)
    else:
        parts.append(
            Part(
                "What you did",
                "[What you did yourself, step by step: “I …”, naming the tools or methods.]"
                if not a.keyword_only
                else "[The terms you listed, in a sentence: what you did with them, “I used … "
                "to …”.]",
                False,
            )
        )
    if said["result"]:
        parts.append(Part("Result", clip_words(said["result"][-1]), True))
        if not a.numbers:
            parts.append(
                Part("Measure", "[How much it changed: a number, before and after.]", False)
            )
    else:
        hint = f" You gave one in {elsewhere}." if elsewhere else ""
        parts.append(
            Part(
                "Result", f"[What changed as a result, with a number if you have one.{hint}]", False
            )
        )
    return parts


def _one_thing(a: AnswerEvidence, qa: QA) -> str:
    question = asked(qa.question)
    if a.evasive:
        return (
            "Prepare one real example for this kind of question; if you lack the experience, "
            "say how you would approach it and why."
        )
    if a.keyword_only:
        return "Turn the list into a sentence about what you did with it: “I used … to …”."
    if a.repeats is not None:
        return (
            f"Answer this question itself (“{clip_words(question)}”) rather than repeating "
            "another answer."
        )
    if a.word_count < SHORT_ANSWER_WORDS:
        return "Give one concrete example: the situation, what you did yourself and what happened."
    if a.question_relevance < RELEVANT:
        return f"Lead with a direct answer to “{clip_words(question)}”, then one example from work."
    if not a.concrete_example:
        return "Tell one specific time you did this, with what you did yourself."
    if not a.star["result"]:
        return "Close with the outcome: what changed because of what you did."
    if not a.numbers:
        return "Put a number on the outcome: time saved, errors avoided, people helped."
    if a.agency_others > a.agency_self:
        return "Say what you decided and did yourself, not only what “we” did."
    return "End with what you learned or would do differently next time."


def coach(evidence: InterviewEvidence, qas: Sequence[QA]) -> list[Coaching]:
    """A stronger version of every answer, and for the two weakest, the one thing to add."""
    weakest = sorted(evidence.answers, key=lambda a: (answer_depth(a), a.word_count))[:WEAKEST]
    weak = {a.index for a in weakest}
    out: list[Coaching] = []
    for a in evidence.answers:
        qa = qas[a.index]
        out.append(
            Coaching(
                answer_index=a.index,
                question=name_of(qas, a.index),
                parts=_parts(a, qa, _number_elsewhere(evidence, qas, a.index)),
                one_thing=_one_thing(a, qa) if a.index in weak else None,
            )
        )
    return out
