"""An independent audit of a feedback report: is every statement true, addressed to the
candidate, about what was discussed, and not padding?

This is the evaluation's own reader, written apart from the product's checks
(``server/feedback/checks.py``) so that a gap in one is not hidden by the same gap in the
other: it has its own term aliases and its own patterns, and it reads only the final report
text, its citations and the transcript.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["Finding", "ReportAudit", "audit_report"]

# The audit's own aliases: spoken and written names of one thing.
_ALIASES: tuple[frozenset[str], ...] = tuple(
    frozenset(group)
    for group in (
        {"postgres", "postgresql", "psql"},
        {"kubernetes", "k8s"},
        {"javascript", "js"},
        {"typescript", "ts"},
        {"golang", "go"},
        {"aws", "amazon web services"},
        {"gcp", "google cloud"},
        {"ci", "continuous integration"},
        {"ml", "machine learning"},
        {"a/b testing", "a/b tests", "ab testing", "a/b test"},
        {"rest", "restful", "rest api", "rest apis"},
        {"django", "django rest framework"},
        {"redis", "redis cache"},
    )
)

_THIRD_PERSON = re.compile(
    r"\b(?:the|this|our) (?:candidate|interviewee|applicant)\b|\bcandidate'?s\b|"
    r"(?:^|[.!?;]\s+)(?:he|she|they) (?:is|was|has|had|did|does|gave|showed|demonstrated|"
    r"provided|mentioned|described|explained|could|should|would|needs?)\b|"
    r"\b(?:his|her) (?:answer|response|experience|example|skills?)\b",
    re.IGNORECASE,
)
_NOT_DISCUSSED = re.compile(
    r"(?:lists?|mentions?|names?) (?P<terms>[^.;:]+?),? (?:which|that) (?:didn't|did not|"
    r"never|wasn't|were not|weren't) (?:come up|came up|discussed|mentioned)",
    re.IGNORECASE,
)
_YOU_NAMED = re.compile(
    r"\byou (?:named|mentioned|cited|talked about)\s+(?P<terms>[^.;:()]+?)"
    r"(?=,? which\b|,? when\b|,? in your\b|\s+as\b|\s+for\b|[.;:(]|$)",
    re.IGNORECASE,
)
_SAID_NOT_IN_CV = re.compile(
    r"\badd (?P<terms>[^.;:]+?) to your cv: you talked about", re.IGNORECASE
)
_PADDING = re.compile(
    r"responded to (?:every|all|\d+ of \d+) questions?|rather than skipping|"
    r"\bgave an answer to\b|in your own words|\bwithout hedging\b|gave a direct reply|"
    r"\byou answered (?:every|all)\b|\byou replied to\b|\byou were open about\b|"
    r"\bhad plenty to say\b",
    re.IGNORECASE,
)
_GREETING_NAME = re.compile(
    r"[“\"](?:welcome|thank you|thanks|that's|that is|great|hi|hello|good|excellent|"
    r"interesting|wonderful|nice|ok|okay|alright|let's)\b",
    re.IGNORECASE,
)
# Topics small models praise without anyone having raised them; flagged unless the key word
# occurs somewhere in the transcript, the CV or the job description.
_HALLUCINATION_PRONE = {
    "company culture": "culture",
    "values": "values",
    "mission": "mission",
    "passion": "passion",
    "leadership skills": "lead",
    "communication skills": "communicat",
    "teamwork": "team",
    "problem-solving": "problem",
    "enthusiasm": "enthusias",
    "work ethic": "ethic",
}
_QUOTED = re.compile(r"“[^”]*”|\"[^\"]*\"")
_NAME = re.compile(r"^[A-Z][A-Za-z0-9+#.-]*[A-Za-z0-9+#]$")
_NOT_NAMES = frozenset(
    {"You", "Your", "I", "CV", "STAR", "Question", "Questions", "Add", "Name", "Give", "Say",
     "Open", "Cut", "Mirror", "Put", "End", "Lead", "Close", "Prepare", "Replace", "State",
     "Delivery", "A", "The", "In", "When", "If", "For", "To", "Next", "Aim", "What", "How"}
)  # fmt: skip


@dataclass(frozen=True)
class Finding:
    kind: str  # third_person | false_statement | invented_topic | padding | greeting | weak_praise
    section: str
    text: str
    detail: str


@dataclass
class ReportAudit:
    statements: int = 0
    findings: list[Finding] = field(default_factory=list)

    def count(self, kind: str) -> int:
        return sum(1 for f in self.findings if f.kind == kind)


def _fold(text: str) -> str:
    return " ".join(text.replace("’", "'").lower().split())


def _said(term: str, haystack: str) -> bool:
    """Whether ``term`` (or one of its aliases, or a longer form of it) occurs in ``haystack``."""
    term = _fold(term).strip(" .,'\"“”")
    if not term:
        return True
    names = {term}
    for group in _ALIASES:
        if term in group:
            names |= group
    for name in names:
        pattern = r"(?<![a-z0-9])" + re.escape(name)
        # "postgres" is said in "postgresql"; a short term must match as a whole word.
        pattern += r"(?![a-z0-9])" if len(name) < 4 else ""
        if re.search(pattern, haystack):
            return True
    return False


_ARTICLE = re.compile(r"^(?:the|a|an|your|my)\s+", re.IGNORECASE)


def _terms(listing: str) -> list[str]:
    parts = re.split(r",\s*|\s+and\s+|\s+or\s+", listing)
    return [_ARTICLE.sub("", p.strip()) for p in parts if p.strip()]


def _said_loosely(term: str, haystack: str) -> bool:
    """``_said``, or every word of four letters or more of ``term`` occurs in ``haystack`` with
    the same first five letters: "the doctor's check" for "the doctor checked the patient"."""
    if _said(term, haystack):
        return True
    stems = {w[:5] for w in re.findall(r"[a-z0-9]+", haystack)}
    words = [w for w in re.findall(r"[a-z0-9]+", _fold(term)) if len(w) >= 4]
    return bool(words) and all(w[:5] in stems for w in words)


def _names(text: str) -> list[str]:
    """Capitalised words that do not start a sentence: names of things (Kafka, Datadog)."""
    out: list[str] = []
    for sentence in re.split(r"[.!?:;]\s+|\(|\)", text):
        for word in sentence.split()[1:]:
            word = word.strip(",'’")
            if _NAME.match(word):
                out.append(word)
    return out


def _verbatim(quote: str, answer: str) -> bool:
    needle = _fold(quote).strip(" \"'“”‘’….")
    return bool(needle) and needle in _fold(answer)


def audit_report(
    *,
    strengths: Sequence[str],
    weaknesses: Sequence[str],
    cv_improvements: Sequence[str],
    citations: dict[str, list[dict[str, object]]] | None,
    questions: Sequence[str],
    answers: Sequence[str],
    cv_text: str,
    job_description: str,
    job_title: str,
    company: str,
    weak_answers: Sequence[int] = (),
) -> ReportAudit:
    """Every finding in one report. ``weak_answers``: indexes a strength must not praise."""
    audit = ReportAudit()
    said = _fold(" \n ".join(answers))
    sources = _fold(
        " \n ".join([*questions, *answers, cv_text, job_description, job_title, company])
    )
    sections = {
        "strengths": strengths,
        "weaknesses": weaknesses,
        "cv_improvements": cv_improvements,
    }
    cites = citations or {}
    for section, items in sections.items():
        for i, text in enumerate(items):
            audit.statements += 1
            cite = cites.get(section, [])
            citation = cite[i] if i < len(cite) else {}
            index = citation.get("answer_index")
            cited_answer = (
                answers[index] if isinstance(index, int) and 0 <= index < len(answers) else None
            )

            def flag(kind: str, detail: str, section: str = section, text: str = text) -> None:
                audit.findings.append(Finding(kind, section, text, detail))

            if _THIRD_PERSON.search(text):
                flag("third_person", "speaks about the candidate, not to them")
            for m in _NOT_DISCUSSED.finditer(text):
                for term in _terms(m.group("terms")):
                    if _said(term, said):
                        flag("false_statement", f"says {term!r} did not come up, but it was said")
            for m in _YOU_NAMED.finditer(text):
                where = _fold(cited_answer) if cited_answer is not None else said
                for term in _terms(_ARTICLE.sub("", m.group("terms"))):
                    if len(term.split()) <= 3 and not _said_loosely(term, where):
                        flag("false_statement", f"says you named {term!r}, which was not said")
            for m in _SAID_NOT_IN_CV.finditer(text):
                for term in _terms(m.group("terms")):
                    if not _said(term, said):
                        flag("false_statement", f"says you talked about {term!r}; you did not")
                    elif _said(term, _fold(cv_text)):
                        flag("false_statement", f"says the CV lacks {term!r}; it has it")
            quote = citation.get("quote")
            if (
                isinstance(quote, str)
                and quote
                and cited_answer is not None
                and not _verbatim(quote, cited_answer)
            ):
                flag("false_statement", f"quote not verbatim in answer {index}: {quote[:60]!r}")
            if _GREETING_NAME.search(text):
                flag("greeting", "names a question by the interviewer's greeting")
            unquoted = _QUOTED.sub(" ", text)
            for name in _names(unquoted):
                if name not in _NOT_NAMES and not _said(name, sources):
                    flag("invented_topic", f"{name!r} occurs nowhere in the transcript, CV or job")
            low = _fold(unquoted)
            for phrase, key in _HALLUCINATION_PRONE.items():
                if phrase in low and key not in sources:
                    flag("invented_topic", f"{phrase!r} was never discussed")
            if section == "strengths":
                kind = citation.get("kind")
                if kind != "to_earn" and _PADDING.search(text):
                    flag("padding", "a procedural fact presented as a strength")
                if kind != "to_earn" and isinstance(index, int) and index in weak_answers:
                    flag(
                        "weak_praise", f"praises answer {index + 1}, which the evidence marks weak"
                    )
    return audit
