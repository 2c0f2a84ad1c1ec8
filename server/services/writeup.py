"""Deterministic write-up from evidence: cited strengths, improvements and CV advice.

Used when the LLM's prose is missing or fails validation, and to check the LLM's
quotes (:func:`find_quote`). Every point names a measured fact and quotes the
candidate verbatim; nothing here praises substance the evidence doesn't show.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from server.services.evidence import (
    QA,
    AnswerEvidence,
    InterviewEvidence,
    extract_numbers,
    find_evasion,
    find_hedges,
    sentences,
    star_cues,
)

__all__ = [
    "CitedPoint",
    "fallback_cv_suggestions",
    "fallback_improvements",
    "fallback_strengths",
    "find_quote",
]

MIN_QUOTE_WORDS = 3
MAX_QUOTE_WORDS = 30
MIN_ITEMS, MAX_ITEMS = 3, 5  # the feedback contract: 3-5 items per list
SHORT_ANSWER_WORDS = 12

_SURROUNDING = " \t\r\n\"'`“”‘’«»…."


@dataclass(frozen=True)
class CitedPoint:
    text: str  # the point, naming the measured fact
    quote: str  # verbatim from the answer (up to whitespace)
    answer_index: int  # 0-based index into the interview's answers


def _normalise(text: str) -> str:
    return " ".join(text.split()).lower()


def find_quote(quote: str, answers: Sequence[str]) -> int | None:
    """Index of the answer that contains `quote` verbatim (after normalising whitespace
    and case only, and ignoring surrounding quotes/ellipses), else None. Quotes shorter
    than 3 words are rejected (None) unless the whole answer is shorter."""
    needle = _normalise(quote).strip(_SURROUNDING)
    if not needle:
        return None
    short = len(needle.split()) < MIN_QUOTE_WORDS
    pattern = re.compile(
        (r"(?<!\w)" if needle[0].isalnum() else "")
        + re.escape(needle)
        + (r"(?!\w)" if needle[-1].isalnum() else "")
    )
    for index, answer in enumerate(answers):
        haystack = _normalise(answer)
        if short and len(haystack.split()) >= MIN_QUOTE_WORDS:
            continue
        if pattern.search(haystack):
            return index
    return None


# ------------------------------------------------------------------ quoting helpers


def _clip_words(text: str, focus: int = 0) -> str:
    """A verbatim run of at most MAX_QUOTE_WORDS words of ``text`` around char ``focus``."""
    spans = [m.span() for m in re.finditer(r"\S+", text)]
    if len(spans) <= MAX_QUOTE_WORDS:
        return " ".join(text.split())
    at = next((i for i, (s, e) in enumerate(spans) if e > focus), 0)
    first = max(0, min(at - MAX_QUOTE_WORDS // 3, len(spans) - MAX_QUOTE_WORDS))
    last = first + MAX_QUOTE_WORDS - 1
    return " ".join(text[spans[first][0] : spans[last][1]].split())


def _quote(answer: str, predicate: Callable[[str], bool] | None = None) -> str:
    """A verbatim quote from ``answer``: the first sentence matching ``predicate`` (else
    the first sentence), widened to the next sentence while under MIN_QUOTE_WORDS."""
    spans = sentences(answer)
    if not spans:
        return " ".join(answer.split())
    if len(answer.split()) < MIN_QUOTE_WORDS:
        return " ".join(answer.split())
    chosen = 0
    if predicate is not None:
        chosen = next((i for i, (s, e) in enumerate(spans) if predicate(answer[s:e])), 0)
    start, end = spans[chosen]
    j = chosen
    while len(answer[start:end].split()) < MIN_QUOTE_WORDS and j + 1 < len(spans):
        j += 1
        end = spans[j][1]
    while len(answer[start:end].split()) < MIN_QUOTE_WORDS and chosen > 0:
        chosen -= 1
        start = spans[chosen][0]
    return _clip_words(answer[start:end])


_CONTENT_WORD = re.compile(r"[a-z0-9][a-z0-9+#.'-]{3,}")


def quote_for_point(point: str, answer: str) -> str:
    """The sentence of ``answer`` that a point about it is most about (the most shared words
    of four letters or more; the first sentence on a tie), quoted verbatim."""
    words = set(_CONTENT_WORD.findall(point.lower()))

    def overlap(sentence: str) -> int:
        return len(words & set(_CONTENT_WORD.findall(sentence.lower())))

    spans = sentences(answer)
    best = max((overlap(answer[s:e]) for s, e in spans), default=0)
    if best == 0:
        return _quote(answer)
    return _quote(answer, lambda sentence: overlap(sentence) == best)


def _short_question(question: str, max_words: int = 14) -> str:
    words = question.split()
    text = " ".join(words[:max_words]) + ("…" if len(words) > max_words else "")
    return f"“{text}”"


def _list(items: Sequence[str], limit: int = 3) -> str:
    items = list(items)[:limit]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _with_units_first(numbers: Sequence[str]) -> list[str]:
    unique = list(dict.fromkeys(numbers))
    return [x for x in unique if not x.isdigit()] + [x for x in unique if x.isdigit()]


def _has_number(text: str) -> bool:
    return bool(extract_numbers(text))


def _mentions_any(terms: Iterable[str]) -> Callable[[str], bool]:
    lowered = [t.lower() for t in terms]
    return lambda sentence: any(t in sentence.lower() for t in lowered)


def _first_person(sentence: str) -> bool:
    """A sentence that tells a first-person action, as the evidence counts them."""
    return star_cues(sentence)["action"]


def _pick(candidates: list[tuple[float, int, CitedPoint]], n: int) -> list[CitedPoint]:
    """Best-first, one point per answer while possible, then the rest; stable order."""
    ordered = sorted(candidates, key=lambda c: (-c[0], c[1]))
    chosen: list[CitedPoint] = []
    used_answers: set[int] = set()
    used_texts: set[str] = set()
    for distinct in (True, False):
        for _, _, point in ordered:
            if len(chosen) == n:
                return chosen
            if point.text in used_texts or (distinct and point.answer_index in used_answers):
                continue
            chosen.append(point)
            used_answers.add(point.answer_index)
            used_texts.add(point.text)
    return chosen


def _target(n: int) -> int:
    return max(MIN_ITEMS, min(MAX_ITEMS, n))


# ------------------------------------------------------------------------ strengths


def fallback_strengths(evidence: InterviewEvidence, qas: Sequence[QA], n: int) -> list[CitedPoint]:
    """``n`` (clamped to 3..5) strengths, each quoting an answer verbatim.

    Substantive strengths (a measured result, a concrete example, named job skills,
    clear ownership) come first and only where measured; modest, factual ones (a
    direct reply, answering every question) fill the rest, so one-word interviews get
    honest points rather than invented praise. Empty interviews get none."""
    if not evidence.answers:
        return []
    candidates: list[tuple[float, int, CitedPoint]] = []
    total = len(evidence.answers)
    for a in evidence.answers:
        text = qas[a.index].answer
        q = _short_question(qas[a.index].question)
        relevant = a.question_relevance >= 0.5 and not a.evasive
        if relevant and a.concrete_example and a.numbers and a.star["result"]:
            candidates.append((
                10 + len(a.numbers),
                a.index,
                CitedPoint(
                    f"You backed your answer to {q} with a measured result "
                    f"({_list(_with_units_first(a.numbers))}).",
                    _quote(text, _has_number),
                    a.index,
                ),
            ))  # fmt: skip
        elif relevant and a.concrete_example:
            candidates.append((
                8,
                a.index,
                CitedPoint(
                    f"You answered {q} with a concrete example of what you did yourself.",
                    _quote(text, _first_person),
                    a.index,
                ),
            ))  # fmt: skip
        if relevant and a.job_skills:
            candidates.append((
                6 + min(len(a.job_skills), 3),
                a.index,
                CitedPoint(
                    f"You named {_list(a.job_skills)}, which this job asks for, "
                    f"when asked {q}",
                    _quote(text, _mentions_any(a.job_skills)),
                    a.index,
                ),
            ))  # fmt: skip
        if relevant and a.agency_self >= 3 and a.ownership >= 0.7:
            candidates.append((
                5,
                a.index,
                CitedPoint(
                    f"You made your own part clear in your answer to {q}: "
                    f"{a.agency_self} first-person actions against {a.agency_others} "
                    "for 'we' or others.",
                    _quote(text, _first_person),
                    a.index,
                ),
            ))  # fmt: skip
        # Modest, factual points, available for every answer.
        if a.evasive:
            candidates.append((
                1,
                a.index,
                CitedPoint(
                    f"You were open about the limits of your experience when asked {q}",
                    _quote(text, lambda s: bool(find_evasion(s))),
                    a.index,
                ),
            ))  # fmt: skip
        elif a.question_relevance >= 0.5 and a.word_count >= MIN_QUOTE_WORDS:
            candidates.append((
                2,
                a.index,
                CitedPoint(f"You gave a direct reply to {q}", _quote(text), a.index),
            ))  # fmt: skip
        elif a.word_count >= 40:
            candidates.append((
                1.2,
                a.index,
                CitedPoint(
                    f"You had plenty to say when asked {q} ({a.word_count} words); the "
                    "next step is to aim it at the question.",
                    _quote(text),
                    a.index,
                ),
            ))  # fmt: skip
        else:
            candidates.append((
                1,
                a.index,
                CitedPoint(
                    f"You gave an answer to {q} rather than skipping it.", _quote(text), a.index
                ),
            ))  # fmt: skip
        if not a.hedges and not a.evasive:
            candidates.append((
                0.8,
                a.index,
                CitedPoint(f"You replied to {q} without hedging.", _quote(text), a.index),
            ))  # fmt: skip
        candidates.append((
            0.5,
            a.index,
            CitedPoint(f"You replied to {q} in your own words.", _quote(text), a.index),
        ))  # fmt: skip
    answered = [a for a in evidence.answers if qas[a.index].answer.strip()]
    if answered:
        first = answered[0]
        candidates.append((
            1.5,
            first.index,
            CitedPoint(
                f"You responded to every question ({total} of {total}) without skipping one."
                if len(answered) == total
                else f"You responded to {len(answered)} of {total} questions.",
                _quote(qas[first.index].answer),
                first.index,
            ),
        ))  # fmt: skip
    return _pick(candidates, _target(n))


# --------------------------------------------------------------------- improvements


def fallback_improvements(
    evidence: InterviewEvidence, qas: Sequence[QA], n: int
) -> list[CitedPoint]:
    """``n`` (clamped to 3..5) areas to improve, each quoting the answer it is about.

    Ordered by severity: deflections, one-line answers, drifting off the question,
    general claims without an example, "we" instead of "I", examples without a
    measured result, hedging, delivery; then per-answer refinements so even a strong
    interview gets three specific points."""
    if not evidence.answers:
        return []
    c: list[tuple[float, int, CitedPoint]] = []
    for a in evidence.answers:
        text = qas[a.index].answer
        q = _short_question(qas[a.index].question)
        words = f"{a.word_count} word{'s' if a.word_count != 1 else ''}"
        if a.evasive:
            phrase = (a.evasion or a.hedges or ["no answer"])[0]
            c.append((100, a.index, CitedPoint(
                f"When asked {q} you deflected (“{phrase}”). Prepare one real example "
                "for this kind of question; if you lack the experience, say how you "
                "would approach it and why.",
                _quote(text, lambda s: bool(find_evasion(s) or find_hedges(s))),
                a.index,
            )))  # fmt: skip
        elif a.word_count < SHORT_ANSWER_WORDS:
            c.append((90, a.index, CitedPoint(
                f"Your answer to {q} was {words}. Give a concrete example instead: "
                "the situation, what you did and what happened as a result.",
                _quote(text),
                a.index,
            )))  # fmt: skip
        drifted = a.question_relevance < 0.35 or (a.question_relevance < 0.5 and a.off_topic)
        if a.word_count >= SHORT_ANSWER_WORDS and drifted:
            topics = f" into {_list(a.off_topic)}" if a.off_topic else ""
            part = a.off_topic_parts[0] if a.off_topic_parts else None
            quote = _clip_words(part) if part and find_quote(part, [text]) == 0 else _quote(text)
            c.append((80, a.index, CitedPoint(
                f"Your answer to {q} drifted{topics}: about "
                f"{1 - a.question_relevance:.0%} of it was off the question. Lead with "
                "a direct answer, then one example from work.",
                quote,
                a.index,
            )))  # fmt: skip
        substantive = a.word_count >= SHORT_ANSWER_WORDS and not a.evasive
        if substantive and not a.concrete_example and not a.numbers and not a.skills:
            c.append((70, a.index, CitedPoint(
                f"Your answer to {q} stayed general ({words}, no example, number or "
                "named tool). Replace the general claim with one specific time you "
                "did it.",
                _quote(text),
                a.index,
            )))  # fmt: skip
        if substantive and a.agency_others >= 3 and a.ownership <= 0.4:
            c.append((60, a.index, CitedPoint(
                f"In your answer to {q} you mostly described what 'we' or others did "
                f"({a.agency_others} times against {a.agency_self} 'I'). Say what you "
                "personally decided and did.",
                _quote(text, lambda s: bool(re.search(r"\b(?:we|they|someone)\b", s, re.I))),
                a.index,
            )))  # fmt: skip
        if substantive and a.concrete_example and not a.numbers:
            c.append((50, a.index, CitedPoint(
                f"Your example for {q} had no measurable outcome. Add a number: time "
                "saved, errors avoided, people helped, before and after.",
                _quote(text, _first_person),
                a.index,
            )))  # fmt: skip
        elif substantive and a.concrete_example and not a.star["result"]:
            c.append((45, a.index, CitedPoint(
                f"Your example for {q} stopped before the outcome. Close with what "
                "changed as a result.",
                _quote(text, _first_person),
                a.index,
            )))  # fmt: skip
        if substantive and len(a.hedges) >= 2:
            c.append((40, a.index, CitedPoint(
                f"You hedged {len(a.hedges)} times in your answer to {q} "
                f"({_list(list(dict.fromkeys(a.hedges)))}). State your approach plainly.",
                _quote(text, lambda s: bool(find_hedges(s))),
                a.index,
            )))  # fmt: skip
        if a.speech is not None and a.word_count >= SHORT_ANSWER_WORDS:
            issue = _delivery_issue(a)
            if issue:
                c.append((35, a.index, CitedPoint(
                    f"Delivery in your answer to {q}: {issue}", _quote(text), a.index
                )))  # fmt: skip
        if a.word_count > 220:
            c.append((30, a.index, CitedPoint(
                f"Your answer to {q} ran to {a.word_count} words. Aim for about "
                "two minutes: the situation in a sentence, then what you did and the result.",
                _quote(text),
                a.index,
            )))  # fmt: skip
        # Refinements that hold for any answer, so there are always enough points.
        depth_gap = 3 - (bool(a.numbers) + bool(a.skills) + a.concrete_example)
        c.append((10 + depth_gap, a.index, CitedPoint(
            f"End your answer to {q} with what you learned or would do differently "
            "next time.",
            _quote(text, None) if a.word_count < SHORT_ANSWER_WORDS else _last_sentence(text),
            a.index,
        )))  # fmt: skip
        if not a.skills:
            c.append((9 + depth_gap, a.index, CitedPoint(
                f"Name the tools, methods or procedures you used when you answer {q}",
                _quote(text),
                a.index,
            )))  # fmt: skip
        if not a.numbers:
            c.append((8 + depth_gap, a.index, CitedPoint(
                f"Put a number on your answer to {q}: how many, how often, how much "
                "better.",
                _quote(text),
                a.index,
            )))  # fmt: skip
    return _pick(c, _target(n))


def _last_sentence(text: str) -> str:
    spans = sentences(text)
    if not spans:
        return _quote(text)
    s, e = spans[-1]
    j = len(spans) - 1
    while len(text[s:e].split()) < MIN_QUOTE_WORDS and j > 0:
        j -= 1
        s = spans[j][0]
    return _clip_words(text[s:e], focus=len(text[s:e]))


def _delivery_issue(a: AnswerEvidence) -> str:
    speech = a.speech
    if speech is None:
        return ""
    issues: list[str] = []
    if speech.words_per_minute > 175:
        issues.append(f"you spoke fast ({speech.words_per_minute:.0f} words a minute)")
    elif speech.words_per_minute < 100:
        issues.append(f"you spoke slowly ({speech.words_per_minute:.0f} words a minute)")
    if speech.long_pauses >= 2:
        issues.append(f"{speech.long_pauses} pauses of 2 seconds or more")
    per_100 = 100 * speech.filler_words / max(a.word_count, 1)
    if per_100 >= 5:
        issues.append(f"at least {speech.filler_words} filler words")
    if not issues:
        return ""
    return _list(issues) + ". Pause to plan before you start, then speak in short sentences."


# ---------------------------------------------------------------------- CV advice


def fallback_cv_suggestions(evidence: InterviewEvidence, *, job_title: str, n: int) -> list[str]:
    """``n`` (clamped to 3..5) CV suggestions for this role, from what the interview
    showed that the CV lacks and what the job asks for that neither showed."""
    cov = evidence.coverage
    role = job_title.strip() or "this"
    out: list[str] = []
    for sentence in cov.achievements_not_in_cv[:2]:
        out.append(
            f"Add the result you described in the interview to your CV for {role} "
            f"applications, as a bullet under the matching job: “{_clip_words(sentence)}”"
        )
    job_skills = list(dict.fromkeys(s for a in evidence.answers for s in a.job_skills))
    missing_skills = [s for s in cov.discussed_not_in_cv if s in job_skills] + [
        s for s in cov.discussed_not_in_cv if s not in job_skills
    ]
    if missing_skills:
        out.append(
            f"Add {_list(missing_skills, 4)} to your CV: you talked about "
            f"{'them' if len(missing_skills) > 1 else 'it'} in the interview, but the CV "
            "doesn't mention "
            f"{'them' if len(missing_skills) > 1 else 'it'}."
        )
    for requirement in cov.requirements_missing[:2]:
        out.append(
            f"The {role} role asks for “{requirement}”, and the interview showed no "
            "evidence of it. If you have it, add a CV line that shows it with an example "
            "and an outcome."
        )
    if cov.cv_skills_not_discussed:
        several = len(cov.cv_skills_not_discussed) > 1
        out.append(
            f"Your CV lists {_list(cov.cv_skills_not_discussed, 4)}, which didn't come up "
            "in the interview; "
            + (
                f"tie the ones the {role} role needs"
                if several
                else f"if the {role} role needs it, tie it"
            )
            + " to a project and an outcome, so the CV shows experience rather than keywords."
        )
    if cov.requirements_evidenced:
        out.append(
            f"Open your CV with a two-line summary for the {role} role that leads with "
            f"what you could evidence in the interview: “{cov.requirements_evidenced[0]}”."
        )
    out.append(
        f"Give each recent role on your CV one measured outcome relevant to {role} work "
        "(a number, time saved, people served), not only duties."
    )
    out.append(
        f"Mirror the wording of the {role} job description in your CV's skills and "
        "experience lines, where it is true for you, so screeners can match them."
    )
    out.append(
        f"Cut CV lines that don't support your application for the {role} role, and "
        "move the most relevant experience to the top."
    )
    return list(dict.fromkeys(out))[: _target(n)]
