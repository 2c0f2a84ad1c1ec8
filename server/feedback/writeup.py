"""Deterministic write-up from evidence: cited strengths, improvements and CV advice.

Used when the LLM's prose is missing or fails validation, and to check the LLM's
quotes (:func:`find_quote`). Every point names a measured fact and quotes the
candidate verbatim; nothing here praises substance the evidence doesn't show.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from server.feedback.evidence import (
    QA,
    AnswerEvidence,
    InterviewEvidence,
    extract_numbers,
    find_evasion,
    find_hedges,
    praiseworthy,
    star_cues,
)
from server.feedback.limits import MAX_ITEMS, MIN_ITEMS, RELEVANT, SHORT_ANSWER_WORDS
from server.feedback.questions import question_name
from server.feedback.text import sentences

__all__ = [
    "CitedPoint",
    "clip_words",
    "evidenced_strengths",
    "fallback_cv_suggestions",
    "fallback_improvements",
    "find_quote",
    "name_of",
    "strengths_to_earn",
]

MIN_QUOTE_WORDS = 3
MAX_QUOTE_WORDS = 30

_SURROUNDING = " \t\r\n\"'`“”‘’«»…."


@dataclass(frozen=True)
class CitedPoint:
    text: str  # the point, naming the measured fact
    quote: str  # verbatim from the answer (up to whitespace); "" when it cites none
    answer_index: int | None  # 0-based index into the interview's answers
    # "evidenced": a point the evidence (or a checked model note) supports; "to_earn": what
    # would have earned a strength, shown apart from the strengths themselves.
    kind: str = "evidenced"


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


def clip_words(text: str, focus: int = 0) -> str:
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
    return clip_words(answer[start:end])


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


def name_of(qas: Sequence[QA], index: int) -> str:
    """How the report names the question an answer replied to (see ``questions.py``)."""
    qa = qas[index]
    return question_name(qa.question_number or index + 1, qa.question)


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
    used_answers: set[int | None] = set()
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


def evidenced_strengths(evidence: InterviewEvidence, qas: Sequence[QA], n: int) -> list[CitedPoint]:
    """Up to ``n`` (clamped to 3..5) strengths the evidence shows, each quoting its answer.

    Only substance counts (a measured result, a concrete example, job skills named in what
    you said, clear ownership), and only in ``praiseworthy`` answers: clearly on the question,
    not deflected, not a list of terms, not a repeat. Procedural facts ("you answered every
    question") are not strengths, so this may return fewer than three, or none:
    :func:`strengths_to_earn` says honestly what would have earned the rest."""
    candidates: list[tuple[float, int, CitedPoint]] = []
    for a in evidence.answers:
        if not praiseworthy(a):
            continue
        text = qas[a.index].answer
        q = name_of(qas, a.index)
        if a.concrete_example and a.numbers and a.star["result"]:
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
        elif a.concrete_example:
            candidates.append((
                8,
                a.index,
                CitedPoint(
                    f"You answered {q} with a concrete example of what you did yourself.",
                    _quote(text, _first_person),
                    a.index,
                ),
            ))  # fmt: skip
        if a.job_skills:
            candidates.append((
                6 + min(len(a.job_skills), 3),
                a.index,
                CitedPoint(
                    f"You said how you used {_list(a.job_skills)}, which this job asks for, "
                    f"in your answer to {q}.",
                    _quote(text, _mentions_any(a.job_skills)),
                    a.index,
                ),
            ))  # fmt: skip
        if a.agency_self >= 3 and a.ownership >= 0.7:
            candidates.append((
                5,
                a.index,
                CitedPoint(
                    f"You made your own part clear in your answer to {q}: "
                    f"{a.agency_self} things you did yourself against {a.agency_others} "
                    "for 'we' or others.",
                    _quote(text, _first_person),
                    a.index,
                ),
            ))  # fmt: skip
    return _pick(candidates, _target(n))


def _what_held_back(answers: Sequence[AnswerEvidence]) -> str:
    """The commonest reason the answers showed no strength, in plain words."""
    reasons = [
        (sum(a.evasive for a in answers), "most answers deflected the question"),
        (sum(a.keyword_only for a in answers), "most answers listed terms instead of saying "
         "what you did with them"),
        (sum(a.repeats is not None for a in answers), "the same answer was given to different "
         "questions"),
        (sum(a.word_count < SHORT_ANSWER_WORDS for a in answers), "the answers were too short "
         "to show anything"),
        (sum(a.word_count >= SHORT_ANSWER_WORDS and a.question_relevance < RELEVANT
             for a in answers), "most answers were about something other than the question"),
    ]  # fmt: skip
    count, reason = max(reasons, key=lambda r: r[0])
    if count * 2 >= len(answers):
        return reason
    return "no answer told a specific time you did something, with a number or a named tool"


def strengths_to_earn(
    evidence: InterviewEvidence, qas: Sequence[QA], n: int, *, job_skills: Sequence[str] = ()
) -> list[CitedPoint]:
    """``n`` honest items for a strengths card that the evidence cannot fill: that nothing (or
    nothing more) was shown, and what would have earned a strength, for named questions.

    These are marked ``kind="to_earn"``: the report shows them apart from strengths."""
    answers = evidence.answers
    out: list[CitedPoint] = []
    if not answers or n <= 0:
        return out
    shown = any(praiseworthy(a) for a in answers)
    # The answers closest to earning one: on the question, longest first.
    closest = sorted(
        (a for a in answers if not praiseworthy(a)),
        key=lambda a: (a.question_relevance >= RELEVANT, min(a.word_count, 200)),
        reverse=True,
    )
    if not shown:
        out.append(
            CitedPoint(
                "No answer in this interview showed a strength for this role yet: "
                f"{_what_held_back(answers)}.",
                "",
                None,
                kind="to_earn",
            )
        )
    for a in closest:
        if len(out) >= n:
            break
        q = name_of(qas, a.index)
        if a.keyword_only:
            advice = (
                f"For {q}, say in sentences what you did with the terms you listed and what "
                "came of it; that would earn a strength, a list does not."
            )
        elif a.evasive:
            advice = (
                f"For {q}, one real example would earn a strength: the situation, what you did "
                "yourself and the result. Without one, say how you would approach it."
            )
        elif a.word_count >= SHORT_ANSWER_WORDS and a.question_relevance < RELEVANT:
            advice = (
                f"For {q}, answer the question asked with one example from work; that would "
                "earn a strength."
            )
        else:
            advice = (
                f"For {q}, one specific time you did it, what you did yourself and what changed "
                "(with a number if you have one) would earn a strength."
            )
        out.append(CitedPoint(advice, _quote(qas[a.index].answer), a.index, kind="to_earn"))
    if len(out) < n and job_skills:
        out.append(
            CitedPoint(
                f"Saying how you used {_list(list(job_skills), 3)}, which the job asks for, "
                "inside such an example would show them; naming them is not enough.",
                "",
                None,
                kind="to_earn",
            )
        )
    if len(out) < n:
        out.append(
            CitedPoint(
                "Saying what you personally decided and did (“I …”, not only “we …”) would "
                "show your own part.",
                "",
                None,
                kind="to_earn",
            )
        )
    return out[:n]


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
        q = name_of(qas, a.index)
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
        drifted = a.question_relevance < 0.35 or (a.question_relevance < RELEVANT and a.off_topic)
        if a.word_count >= SHORT_ANSWER_WORDS and drifted:
            topics = f" into {_list(a.off_topic)}" if a.off_topic else ""
            part = a.off_topic_parts[0] if a.off_topic_parts else None
            quote = clip_words(part) if part and find_quote(part, [text]) == 0 else _quote(text)
            c.append((80, a.index, CitedPoint(
                f"Your answer to {q} drifted{topics}: about "
                f"{1 - a.question_relevance:.0%} of it was off the question. Lead with "
                "a direct answer, then one example from work.",
                quote,
                a.index,
            )))  # fmt: skip
        assessable = a.word_count >= SHORT_ANSWER_WORDS and not a.evasive
        if assessable and not a.concrete_example and not a.numbers and not a.skills:
            c.append((70, a.index, CitedPoint(
                f"Your answer to {q} stayed general ({words}, no example, number or "
                "named tool). Replace the general claim with one specific time you "
                "did it.",
                _quote(text),
                a.index,
            )))  # fmt: skip
        if assessable and a.agency_others >= 3 and a.ownership <= 0.4:
            c.append((60, a.index, CitedPoint(
                f"In your answer to {q} you mostly described what 'we' or others did "
                f"({a.agency_others} times against {a.agency_self} 'I'). Say what you "
                "personally decided and did.",
                _quote(text, lambda s: bool(re.search(r"\b(?:we|they|someone)\b", s, re.I))),
                a.index,
            )))  # fmt: skip
        if assessable and a.concrete_example and not a.numbers:
            c.append((50, a.index, CitedPoint(
                f"Your example for {q} had no measurable outcome. Add a number: time "
                "saved, errors avoided, people helped, before and after.",
                _quote(text, _first_person),
                a.index,
            )))  # fmt: skip
        elif assessable and a.concrete_example and not a.star["result"]:
            c.append((45, a.index, CitedPoint(
                f"Your example for {q} stopped before the outcome. Close with what "
                "changed as a result.",
                _quote(text, _first_person),
                a.index,
            )))  # fmt: skip
        if assessable and len(a.hedges) >= 2:
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
    return clip_words(text[s:e], focus=len(text[s:e]))


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
        issues.append(f"{speech.filler_words} filler words")
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
            f"applications, as a bullet under the matching job: “{clip_words(sentence)}”"
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
    if cov.cv_skills_not_evidenced:
        several = len(cov.cv_skills_not_evidenced) > 1
        out.append(
            f"You mentioned {_list(cov.cv_skills_not_evidenced, 4)}, which your CV lists, but "
            f"no answer said what you did with {'them' if several else 'it'}; on the CV, give "
            f"{'each' if several else 'it'} a line with a project and an outcome."
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
