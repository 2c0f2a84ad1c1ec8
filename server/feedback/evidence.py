"""Measure what a candidate actually said: per-answer evidence and job/CV coverage.

Everything here is deterministic and explainable: each feature is a count or a share with
a finding a person can check against the transcript. The word lists and patterns live in
``lexicon.py``; the only learned part is the sentence embedding used for relevance
(``server.ai.embedder``).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from server.ai.embedder import Embedder, default_embedder
from server.feedback.lexicon import (
    ALLOWED_LOWERCASE_SKILLS,
    BULLET_RE,
    BUZZWORD_RE,
    CLAIM_SUBJECT_RE,
    EVASION_RES,
    FILLER_RE,
    FIRST_PERSON_VERB_RE,
    FUNCTION_WORDS,
    HEDGE_RES,
    IGNORED_SKILLS,
    IRREGULAR_PAST,
    NON_ACTION_PAST,
    NUMERIC_RE,
    OFF_TOPIC_PROTOTYPES,
    OTHERS_AGENCY_RE,
    REQUIREMENT_CUE_RE,
    RESULT_RE,
    ROLE_WORD_RE,
    SELF_AGENCY_RE,
    SITUATION_PLACE_RE,
    SITUATION_RE,
    SKILL_ALIASES,
    TASK_RE,
    TITLE_BEFORE_RE,
    WORDED_RE,
)
from server.feedback.limits import LONG_PAUSE_MS, PRAISE_RELEVANT, RELEVANT, SHORT_ANSWER_WORDS
from server.feedback.text import dedupe, mentions, norm, sentences, words_of

__all__ = [
    "QA",
    "AnswerEvidence",
    "Coverage",
    "InterviewEvidence",
    "SpeechMetrics",
    "TextFeatures",
    "answer_segments",
    "claim_spans",
    "count_filler_words",
    "describe",
    "extract_numbers",
    "extract_skills",
    "find_evasion",
    "find_hedges",
    "job_requirements",
    "measure_answer_text",
    "measure_interview",
    "ownership_counts",
    "praiseworthy",
    "repeated_answers",
    "said_in",
    "star_cues",
    "substantive",
]

# --------------------------------------------------------------------------- types


@dataclass(frozen=True)
class SpeechMetrics:
    """Delivery measured from a spoken answer; ``None`` on typed answers."""

    duration_ms: int
    words_per_minute: float
    long_pauses: int  # pauses >= LONG_PAUSE_MS
    # Counted from the stored transcript, which keeps most fillers (Whisper starts from a
    # filler seed: FILLERS_KEPT_SHARE); still a slight undercount.
    filler_words: int

    @classmethod
    def from_transcript(
        cls, text: str, *, duration_ms: int, pause_durations_ms: Sequence[int] = ()
    ) -> SpeechMetrics:
        """Build metrics from a transcript, its spoken duration and the silences
        the VAD measured inside it."""
        words = len(words_of(text))
        minutes = max(duration_ms, 1) / 60_000
        return cls(
            duration_ms=duration_ms,
            words_per_minute=round(words / minutes, 1),
            long_pauses=sum(1 for p in pause_durations_ms if p >= LONG_PAUSE_MS),
            filler_words=count_filler_words(text),
        )


@dataclass(frozen=True)
class QA:
    question: str  # the interviewer message that preceded the answer
    answer: str  # candidate's answer text
    message_id: int | None = None
    speech: SpeechMetrics | None = None
    question_number: int | None = None  # as the interview numbered it (None: the answer's own)


@dataclass(frozen=True)
class AnswerEvidence:
    """What one answer shows. JSON-serialisable via ``dataclasses.asdict``."""

    index: int
    message_id: int | None
    word_count: int
    numbers: list[str]  # numeric facts: "300 milliseconds", "40 percent", "2021"
    skills: list[str]  # named tools/skills/practices, lower-case
    star: dict[str, bool]  # situation / task / action / result cues
    ownership: float  # I-agency / (I-agency + we/they/someone agency); 0.0 if neither
    evasion: list[str]  # deflecting phrases found ("i don't remember")
    hedges: list[str]  # hedging phrases found ("i'm not sure", "it depends")
    question_relevance: float  # 0..1
    job_relevance: float  # 0..1
    speech: SpeechMetrics | None
    findings: list[str]  # short explanations a person can check
    concrete_example: bool = False  # a specific episode told with first-person actions
    evasive: bool = False  # deflects without giving an example
    agency_self: int = 0  # "I built", "I called" ...
    agency_others: int = 0  # "we", "the team", "someone else" ...
    job_skills: list[str] = field(default_factory=list)  # skills also named by the job
    off_topic: list[str] = field(default_factory=list)  # what it drifted to ("travel")
    off_topic_parts: list[str] = field(default_factory=list)  # the parts that drifted, verbatim
    # The share of the answer's words that are in claims (sentences with a subject, see
    # claim_spans), and the numbers and named skills those claims contain: a list of job
    # terms is not a statement of experience, so depth, relevance and coverage read these.
    claim_share: float = 1.0
    claim_specifics: int | None = None  # None: all of ``numbers`` and ``skills`` (hand-built)
    keyword_only: bool = False  # mostly terms and numbers, not sentences
    repeats: int | None = None  # index of another answer this one mostly repeats


def praiseworthy(a: AnswerEvidence) -> bool:
    """Whether a strength may cite this answer: substantive and clearly on its question."""
    return substantive(a) and a.question_relevance >= PRAISE_RELEVANT


def substantive(a: AnswerEvidence) -> bool:
    """Whether an answer shows something that can be checked: a few sentences on the question,
    not deflected, not a list of terms, not a repeat of an earlier answer, with a concrete
    example or a number or named tool said in a sentence. Only these answers evidence a
    requirement or a strength."""
    specifics = (
        a.claim_specifics if a.claim_specifics is not None else len(a.numbers) + len(a.skills)
    )
    return (
        a.word_count >= SHORT_ANSWER_WORDS
        and not a.evasive
        and not a.keyword_only
        and a.repeats is None
        and a.question_relevance >= RELEVANT
        and (a.concrete_example or specifics > 0)
    )


@dataclass(frozen=True)
class Coverage:
    requirements_evidenced: list[str]  # job requirements the answers produced evidence for
    requirements_missing: list[str]
    cv_skills_not_discussed: list[str]  # CV skills no answer said, in any form (``said_in``)
    discussed_not_in_cv: list[str]  # skills discussed in the interview that the CV omits
    # Measured results said aloud whose numbers the CV does not carry, as
    # (verbatim sentence) strings; candidates for a CV bullet.
    achievements_not_in_cv: list[str] = field(default_factory=list)
    # CV skills that were said, but in no substantive answer: named, never shown.
    cv_skills_not_evidenced: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class InterviewEvidence:
    answers: list[AnswerEvidence]
    coverage: Coverage


# ---------------------------------------------------------------- tunable facts

# Job relevance: the cosine similarity of an answer's closest part to the job title
# or a requirement line, mapped linearly onto 0..1. On the labelled set, parts that
# talk about the job's work reach 0.4-0.65; everyday talk stays under 0.2.
SIM_FLOOR = 0.15
SIM_CEILING = 0.50
# A requirement counts as evidenced by an answer this similar to it (or by a
# named skill it contains); answers shorter than this can't evidence anything.
REQUIREMENT_SIM = 0.38
# An answer repeats an earlier one when this share of their content words is shared (a canned
# pitch given to several questions: 0.8 in the labelled set; distinct stories 0.07-0.18).
REPEAT_OVERLAP = 0.4
REPEAT_MIN_WORDS = 12
# An answer with less than this share of its words in claims is a list of terms, not an answer.
KEYWORD_ONLY_BELOW = 0.5


# ----------------------------------------------------------------------- numbers
def extract_numbers(text: str) -> list[str]:
    """Numeric facts in order of appearance: digits ("300 milliseconds", "p95",
    "40%", "2021") and spelled-out quantities with a unit ("twelve customers",
    "two and a half seconds"). A bare "one" or "two"
    without a unit is not a fact, so it isn't counted."""
    low = norm(text)
    found: list[tuple[int, str]] = []
    taken: list[tuple[int, int]] = []
    for m in NUMERIC_RE.finditer(low):
        found.append((m.start(), m.group(0).strip()))
        taken.append((m.start(), m.end()))
    for m in WORDED_RE.finditer(low):
        if not any(s <= m.start() < e for s, e in taken):
            found.append((m.start(), m.group(0).strip()))
    return [s for _, s in sorted(found)]


# --------------------------------------------------------------------- STAR cues
def star_cues(text: str) -> dict[str, bool]:
    """Which STAR parts the answer signals: a specific situation, a task, first-person
    past actions, and a stated result. Cue phrases, not understanding."""
    low = norm(text)
    return {
        "situation": bool(SITUATION_RE.search(low) or SITUATION_PLACE_RE.search(text)),
        "task": bool(TASK_RE.search(low)),
        "action": _first_person_actions(low) > 0,
        "result": bool(RESULT_RE.search(low)),
    }


def _first_person_actions(low: str) -> int:
    count = 0
    for m in FIRST_PERSON_VERB_RE.finditer(low):
        verb = m.group(1)
        if verb in NON_ACTION_PAST:
            continue
        if verb in IRREGULAR_PAST or (verb.endswith("ed") and len(verb) > 4):
            count += 1
    return count


# --------------------------------------------------------------------- ownership
def ownership_counts(text: str) -> tuple[int, int]:
    """(first-person-singular agency, team/other agency) statements in ``text``."""
    low = norm(text)
    self_count = len(SELF_AGENCY_RE.findall(low))
    others = len(OTHERS_AGENCY_RE.findall(low))
    return self_count, others


# -------------------------------------------------------------- evasion, hedging
def find_evasion(text: str) -> list[str]:
    """Deflecting phrases in ``text`` (canonical labels, in order, repeats kept)."""
    return _find_labelled(EVASION_RES, text)


def find_hedges(text: str) -> list[str]:
    """Hedging phrases in ``text`` (canonical labels, in order, repeats kept)."""
    return _find_labelled(HEDGE_RES, text)


def _find_labelled(patterns: tuple[tuple[re.Pattern[str], str], ...], text: str) -> list[str]:
    low = norm(text)
    hits: list[tuple[int, str]] = []
    for pattern, label in patterns:
        hits.extend((m.start(), label) for m in pattern.finditer(low))
    return [label for _, label in sorted(hits)]


# ------------------------------------------------------------------------ fillers


def count_filler_words(text: str) -> int:
    """Filler words in a transcript; "like" and "you know" only count where used as fillers.
    On Viva's stored transcripts this finds ~FILLERS_KEPT_SHARE of the fillers said."""
    return len(FILLER_RE.findall(norm(text)))


# ------------------------------------------------------------------------- skills

_gazetteer_lock = threading.Lock()
_gazetteer: Any = None  # skill_extractor.matcher.KeywordMatcher once loaded


def _skill_matcher() -> Any:
    """The 31K-entry skill gazetteer shipped in ``skill_extractor`` (its data only:
    the package's own classifier downloads a model at first use, so we don't use it)."""
    global _gazetteer
    if _gazetteer is None:
        with _gazetteer_lock:
            if _gazetteer is None:
                from skill_extractor.matcher import KeywordMatcher

                data = resources.files("skill_extractor") / "data" / "skills.json"
                with data.open(encoding="utf-8") as f:
                    _gazetteer = KeywordMatcher(json.load(f))
    return _gazetteer


def extract_skills(text: str) -> list[str]:
    """Named skills/tools in ``text``, lower-case, first-seen order, without repeats.

    A gazetteer hit counts when it is unambiguous: several words ("risk assessment"),
    digits or symbols ("c#", "a/b testing"), capitalised mid-sentence ("Redis") or
    in a short list of lower-case skill words ("sql")."""
    out: list[str] = []
    for kw, start, end in _skill_matcher().extract(text):
        if kw in IGNORED_SKILLS or kw in out or ROLE_WORD_RE.search(kw) or BUZZWORD_RE.search(kw):
            continue
        if TITLE_BEFORE_RE.search(text[max(0, start - 5) : start]):
            continue  # "Mr Jenkins" is a person, not the CI server
        original = text[start:end]
        multiword = " " in kw
        symbolic = any(not ch.isalpha() for ch in kw)
        capitalised = any(ch.isupper() for ch in original) and not _at_sentence_start(text, start)
        if multiword or symbolic or capitalised or kw in ALLOWED_LOWERCASE_SKILLS:
            out.append(kw)
    return out


def _at_sentence_start(text: str, start: int) -> bool:
    before = text[:start].rstrip()
    return not before or before[-1] in ".!?:\n•-*"


# ---------------------------------------------------------------- job requirements

MAX_REQUIREMENTS = 12


def job_requirements(job_description: str) -> list[str]:
    """The job's requirement lines: its bullet points, or failing that, the
    sentences that state a requirement. At most ``MAX_REQUIREMENTS``."""
    bullets = [m.group(1).rstrip(".;") for line in job_description.splitlines()
               if (m := BULLET_RE.match(line))]  # fmt: skip
    if not bullets:
        bullets = [
            job_description[s:e].strip().rstrip(".;")
            for s, e in sentences(job_description)
            if REQUIREMENT_CUE_RE.search(job_description[s:e])
        ]
    return bullets[:MAX_REQUIREMENTS]


def _relevance_from_similarity(sim: float) -> float:
    return round(min(1.0, max(0.0, (sim - SIM_FLOOR) / (SIM_CEILING - SIM_FLOOR))), 3)


# A part's relevance is 0.5 + (job-side similarity - off-topic similarity) / WIDTH,
# clipped to 0..1: a tie is half relevant, a lead of WIDTH/2 is fully relevant.
# Off-topic similarity below NOISE_FLOOR is noise and is raised to the floor, so a
# specific detail that is far from everything ("I score things on reach, impact and
# effort": about 0.2 to both sides) counts about half rather than swinging on noise.
RELEVANCE_NOISE_FLOOR = 0.20
RELEVANCE_WIDTH = 0.20
# A part is reported as drifting into a theme ("travel") only when it is clearly
# about it, not merely less about the job.
OFF_TOPIC_LABEL_SIM = 0.35
SEGMENT_WORDS = 30  # long sentences are cut at commas into parts of at most this
ANSWER_WORD_BUDGET = 64  # words of one answer that are embedded (~85 tokens)


def answer_segments(text: str) -> list[str]:
    """The parts of an answer that relevance is judged on: sentences, long ones cut
    at commas, sampled from both ends inwards until ANSWER_WORD_BUDGET words."""
    parts: list[str] = []
    for start, end in sentences(text):
        sentence = text[start:end]
        if len(words_of(sentence)) <= SEGMENT_WORDS:
            parts.append(sentence)
            continue
        current: list[str] = []
        for clause in re.split(r"(?<=,)\s+", sentence):
            if current and len(words_of(" ".join([*current, clause]))) > SEGMENT_WORDS:
                parts.append(" ".join(current))
                current = []
            current.append(clause)
        if current:
            parts.append(" ".join(current))
    order: list[int] = []
    lo, hi = 0, len(parts) - 1
    while lo <= hi:
        order.append(lo)
        if hi != lo:
            order.append(hi)
        lo, hi = lo + 1, hi - 1
    chosen: set[int] = set()
    budget = ANSWER_WORD_BUDGET
    for i in order:
        n = len(words_of(parts[i]))
        if chosen and n > budget:
            continue
        chosen.add(i)
        budget -= n
    return [parts[i] for i in sorted(chosen)]


# ---------------------------------------------------------------- per-answer text


@dataclass(frozen=True)
class TextFeatures:
    """The features of one answer that need neither the question nor the job."""

    word_count: int
    numbers: list[str]
    skills: list[str]
    star: dict[str, bool]
    agency_self: int
    agency_others: int
    evasion: list[str]
    hedges: list[str]
    concrete_example: bool
    evasive: bool
    claim_share: float
    claim_text: str  # the answer's claims, joined

    @property
    def keyword_only(self) -> bool:
        return self.word_count >= SHORT_ANSWER_WORDS and self.claim_share < KEYWORD_ONLY_BELOW

    @property
    def ownership(self) -> float:
        total = self.agency_self + self.agency_others
        return round(self.agency_self / total, 3) if total else 0.0


def _content_words(text: str) -> set[str]:
    return {w for w in words_of(norm(text)) if len(w) > 2 and w not in FUNCTION_WORDS}


def repeated_answers(answers: Sequence[str]) -> list[int | None]:
    """For each answer, the index of the first other answer it mostly repeats, else None.

    Both copies count: the same paragraph given to two questions answered at most one of
    them, and nothing says which."""
    words = [_content_words(a) for a in answers]
    out: list[int | None] = []
    for i, mine in enumerate(words):
        found = None
        for j, theirs in enumerate(words):
            if j == i or min(len(mine), len(theirs)) < REPEAT_MIN_WORDS:
                continue
            if len(mine & theirs) / len(mine | theirs) >= REPEAT_OVERLAP:
                found = j
                break
        out.append(found)
    return out


def said_in(term: str, low_text: str) -> bool:
    """Whether the lower-case skill ``term`` occurs in ``low_text`` (``norm`` form) under any
    of its names: itself, a longer form ("postgres" in "postgresql"), or an alias ("k8s")."""
    names = {term}
    for group in SKILL_ALIASES:
        if term in group:
            names |= group
    for name in names:
        tail = r"[a-z0-9]*" if len(name) >= 4 else ""
        if re.search(r"(?<![a-z0-9])" + re.escape(name) + tail + r"(?![a-z0-9])", low_text):
            return True
    return False


def claim_spans(text: str) -> list[tuple[int, int]]:
    """The sentences (or comma-separated parts of long ones) of ``text`` that make a claim:
    at least four words, a subject, and two or more function words. "We moved the ledger to
    PostgreSQL" is a claim; "Ledger, double-entry, PostgreSQL, Kafka" is not."""
    spans: list[tuple[int, int]] = []
    for start, end in sentences(text):
        low = norm(text[start:end])
        tokens = words_of(low)
        function = sum(1 for t in tokens if t in FUNCTION_WORDS)
        if len(tokens) >= 4 and function >= 2 and CLAIM_SUBJECT_RE.search(low):
            spans.append((start, end))
    return spans


def measure_answer_text(answer: str) -> TextFeatures:
    """Length, specificity, STAR shape, ownership, evasion and hedging of one answer."""
    words = words_of(answer)
    numbers = extract_numbers(answer)
    star = star_cues(answer)
    agency_self, agency_others = ownership_counts(answer)
    evasion = find_evasion(answer)
    hedges = find_hedges(answer)
    concrete = star["action"] and (star["situation"] or star["result"] or bool(numbers))
    # Deflecting is evasive unless the answer goes on to give an example anyway;
    # a short reply that is mostly hedges ("It depends. I'm not sure.") is too.
    evasive = (bool(evasion) and not concrete) or (
        len(words) < 25 and len(hedges) >= 2 and not concrete
    )
    claims = [answer[a:b] for a, b in claim_spans(answer)]
    claimed_words = sum(len(words_of(c)) for c in claims)
    return TextFeatures(
        claim_share=round(claimed_words / len(words), 3) if words else 0.0,
        claim_text=" ".join(claims),
        word_count=len(words),
        numbers=numbers,
        skills=extract_skills(answer),
        star=star,
        agency_self=agency_self,
        agency_others=agency_others,
        evasion=evasion,
        hedges=hedges,
        concrete_example=concrete,
        evasive=evasive,
    )


def _findings(
    f: TextFeatures,
    q_rel: float,
    off_topics: list[str],
    job_skills: list[str],
    speech: SpeechMetrics | None,
) -> list[str]:
    found: list[str] = []
    if f.word_count < SHORT_ANSWER_WORDS:
        found.append(f"very short answer ({f.word_count} word{'s' if f.word_count != 1 else ''})")
    else:
        found.append(f"{f.word_count} words")
    if f.concrete_example and f.numbers and f.star["result"]:
        found.append(f"gave a concrete example with a measured result ({', '.join(f.numbers[:3])})")
    elif f.concrete_example:
        found.append("gave a concrete example")
    elif f.numbers:
        found.append(f"quoted numbers ({', '.join(f.numbers[:3])}) without a concrete example")
    if f.keyword_only and f.word_count >= SHORT_ANSWER_WORDS:
        found.append(f"a list of terms rather than sentences ({f.claim_share:.0%} in sentences)")
    if f.skills:
        found.append(f"named {', '.join(f.skills[:5])}")
    if job_skills:
        found.append(f"used skills the job asks for: {', '.join(job_skills[:5])}")
    if f.agency_self + f.agency_others >= 2:
        if f.ownership >= 0.6:
            found.append(
                f"described own actions ({f.agency_self} 'I' vs {f.agency_others} 'we/they')"
            )
        elif f.ownership <= 0.4:
            found.append(
                f"mostly described what others did ({f.agency_others} 'we/they' "
                f"vs {f.agency_self} 'I')"
            )
    if f.evasion:
        found.append("deflected: " + ", ".join(f"'{e}'" for e in dict.fromkeys(f.evasion)))
    if f.hedges:
        found.append("hedged: " + ", ".join(f"'{h}'" for h in dict.fromkeys(f.hedges)))
    if f.word_count >= SHORT_ANSWER_WORDS and off_topics:
        found.append(
            f"{1 - q_rel:.0%} of it was off the question's topic ({', '.join(off_topics[:3])})"
        )
    if speech is not None:
        if speech.words_per_minute > 175:
            found.append(f"spoke fast ({speech.words_per_minute:.0f} words/min)")
        elif 0 < speech.words_per_minute < 100 and f.word_count >= SHORT_ANSWER_WORDS:
            found.append(f"spoke slowly ({speech.words_per_minute:.0f} words/min)")
        if speech.long_pauses:
            found.append(
                f"{speech.long_pauses} long pause{'s' if speech.long_pauses != 1 else ''} "
                "(2 s or more)"
            )
        if speech.filler_words:
            found.append(f"{speech.filler_words} filler words (counted from the transcript)")
    return found  # fmt: skip


def describe(answer: AnswerEvidence, *, detailed: bool = False) -> str:
    """The measured facts of one answer in one line, as the model's prompts read them."""
    facts = [f"{answer.word_count} words"]
    facts.append("a concrete example" if answer.concrete_example else "no concrete example")
    shown = 4 if detailed else 3
    facts.append(
        f"numbers: {', '.join(answer.numbers[:shown])}" if answer.numbers else "no numbers"
    )
    if detailed and answer.skills:
        facts.append(f"named: {', '.join(answer.skills[:5])}")
    if answer.evasive:
        facts.append("evasive")
    if answer.keyword_only:
        facts.append("a list of terms, not sentences")
    if answer.word_count >= SHORT_ANSWER_WORDS and answer.question_relevance < RELEVANT:
        facts.append("off the question")
    if detailed:
        facts.extend(answer.findings[:2])
    return "; ".join(facts)


# ------------------------------------------------------------------------- the API


def measure_interview(
    qas: Sequence[QA],
    *,
    job_title: str,
    job_description: str,
    cv_text: str,
    embedder: Embedder | None = None,
) -> InterviewEvidence:
    """Evidence for every answer plus what the interview covered of the job and CV.

    ``embedder`` defaults to the process-wide MiniLM; tests may pass another.
    """
    requirements = job_requirements(job_description)
    job_vocab = dedupe(extract_skills(job_title + ".\n" + job_description))
    cv_low = norm(cv_text)
    # The first line of a CV is usually the candidate's name, and surnames collide
    # with the gazetteer ("Hart", "Pike"); skills are on the lines below.
    cv_body = cv_text.split("\n", 1)[1] if "\n" in cv_text.strip() else cv_text
    cv_vocab = dedupe(extract_skills(cv_body))
    if not qas:
        return InterviewEvidence(
            answers=[],
            coverage=Coverage(
                requirements_evidenced=[],
                requirements_missing=requirements,
                cv_skills_not_discussed=cv_vocab,
                discussed_not_in_cv=[],
            ),
        )
    emb = embedder if embedder is not None else default_embedder()
    job_vecs = emb.embed([job_title, *requirements])
    off_labels = list(OFF_TOPIC_PROTOTYPES)
    off_vecs = emb.embed(list(OFF_TOPIC_PROTOTYPES.values()))

    answers: list[AnswerEvidence] = []
    repeats = repeated_answers([qa.answer for qa in qas])
    requirement_sims: list[list[float]] = []  # answer x requirement, best segment
    for i, qa in enumerate(qas):
        f = measure_answer_text(qa.answer)
        low = norm(qa.answer)
        skills = dedupe(f.skills + [s for s in job_vocab + cv_vocab if mentions(s, low)])
        claim_low = norm(f.claim_text)
        claim_skills = [s for s in skills if mentions(s, claim_low)]
        job_skills = [s for s in claim_skills if s in job_vocab]

        segments = answer_segments(qa.answer) or [qa.answer]
        seg_vecs = emb.embed(segments)
        weights = [max(1, len(words_of(s))) for s in segments]
        to_question = seg_vecs @ emb.embed([qa.question])[0]
        to_job = seg_vecs @ job_vecs.T  # segments x (title + requirements)
        to_off = seg_vecs @ off_vecs.T
        relevant_words = 0.0
        drifted: list[str] = []
        drifted_parts: list[str] = []
        for k, w in enumerate(weights):
            best_off = int(to_off[k].argmax())
            off_sim = max(float(to_off[k][best_off]), RELEVANCE_NOISE_FLOOR)
            job_side = max(float(to_question[k]), float(to_job[k].max()))
            part = min(1.0, max(0.0, 0.5 + (job_side - off_sim) / RELEVANCE_WIDTH))
            relevant_words += w * part
            if part < RELEVANT and float(to_off[k][best_off]) >= OFF_TOPIC_LABEL_SIM:
                drifted.append(off_labels[best_off])
                drifted_parts.append(segments[k])
        q_rel = round(relevant_words / sum(weights), 3)
        best_job_sim = float(to_job.max())
        j_rel = max(_relevance_from_similarity(best_job_sim), min(1.0, len(job_skills) / 3))
        requirement_sims.append([float(x) for x in to_job.max(axis=0)[1:]])

        off_topics = dedupe(drifted)
        repeated = repeats[i]
        answers.append(
            AnswerEvidence(
                index=i,
                message_id=qa.message_id,
                word_count=f.word_count,
                numbers=f.numbers,
                skills=skills,
                star=f.star,
                ownership=f.ownership,
                evasion=f.evasion,
                hedges=f.hedges,
                question_relevance=q_rel,
                job_relevance=round(j_rel, 3),
                speech=qa.speech,
                findings=_findings(f, q_rel, off_topics, job_skills, qa.speech)
                + ([f"mostly the same as answer {repeated + 1}"] if repeated is not None else []),
                concrete_example=f.concrete_example,
                evasive=f.evasive,
                agency_self=f.agency_self,
                agency_others=f.agency_others,
                job_skills=job_skills,
                off_topic=off_topics,
                off_topic_parts=drifted_parts,
                claim_share=f.claim_share,
                claim_specifics=len(extract_numbers(f.claim_text)) + len(claim_skills),
                keyword_only=f.keyword_only,
                repeats=repeated,
            )
        )

    coverage = _coverage(qas, answers, requirements, requirement_sims, job_vocab, cv_vocab, cv_low)
    return InterviewEvidence(answers=answers, coverage=coverage)


def _coverage(
    qas: Sequence[QA],
    answers: list[AnswerEvidence],
    requirements: list[str],
    requirement_sims: list[list[float]],
    job_vocab: list[str],
    cv_vocab: list[str],
    cv_low: str,
) -> Coverage:
    # Evidence means substance: a long, on-theme answer with no example, number or
    # named skill ("I'm a good communicator") claims a requirement but doesn't show it.
    substantive_answers = [a for a in answers if substantive(a)]
    discussed = dedupe([s for a in substantive_answers for s in a.skills])
    evidenced: list[str] = []
    missing: list[str] = []
    for r, requirement in enumerate(requirements):
        req_skills = [s for s in extract_skills(requirement) if s in job_vocab] or [
            s for s in job_vocab if mentions(s, norm(requirement))
        ]
        by_skill = any(s in discussed for s in req_skills)
        by_meaning = any(
            requirement_sims[a.index][r] >= REQUIREMENT_SIM for a in substantive_answers
        )
        (evidenced if by_skill or by_meaning else missing).append(requirement)
    said = norm(" \n ".join(qa.answer for qa in qas))
    cv_not_discussed = [s for s in cv_vocab if not said_in(s, said)]
    cv_not_evidenced = [
        s
        for s in cv_vocab
        if s not in cv_not_discussed and not any(_same_skill(s, d) or d == s for d in discussed)
    ]
    # "Add X to your CV: you talked about it" only for what clearly on-question answers said
    # (an off-topic story about a chatbot is not "customer service" experience).
    shown = dedupe([s for a in substantive_answers if praiseworthy(a) for s in a.skills])
    not_in_cv = [
        s for s in shown if not said_in(s, cv_low) and not any(_same_skill(s, c) for c in cv_vocab)
    ]
    achievements: list[str] = []
    for a in substantive_answers:
        if not (a.numbers and a.star["result"]):
            continue
        text = qas[a.index].answer
        for start, end in sentences(text):
            sentence = text[start:end]
            nums = extract_numbers(sentence)
            if (
                nums
                and RESULT_RE.search(norm(sentence))
                and not any(mentions(n, cv_low) for n in nums)
            ):
                achievements.append(sentence)
                break
    return Coverage(
        requirements_evidenced=evidenced,
        requirements_missing=missing,
        cv_skills_not_discussed=cv_not_discussed,
        discussed_not_in_cv=not_in_cv,
        achievements_not_in_cv=achievements,
        cv_skills_not_evidenced=cv_not_evidenced,
    )


def _same_skill(a: str, b: str) -> bool:
    """ "postgres" and "postgresql", "redis" and "redis cache" name the same thing."""
    short, long = sorted((a, b), key=len)
    return len(short) >= 4 and long.startswith(short)
