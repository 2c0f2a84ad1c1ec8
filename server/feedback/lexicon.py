"""The words Viva listens for: cue phrases, patterns and word lists, apart from measurement.

Everything here is data (English, compiled once); ``evidence.py`` counts with it. Changing a
list changes what is measured, so each one says what it is for.
"""

from __future__ import annotations

import re

# ------------------------------------------------------------------------------- numbers

NUMBER_WORDS = (
    "two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
    "fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|"
    "seventy|eighty|ninety|hundred|thousand|million|billion|a dozen|dozens of|half|"
    "a third|a quarter|double|triple"
)
UNITS = (
    "percent|per cent|%|x|times|ms|milliseconds?|seconds?|minutes?|hours?|days?|"
    "weeks?|months?|years?|quarters?|people|patients?|students?|pupils?|customers?|"
    "users?|accounts?|clients?|engineers?|developers?|staff|colleagues|nurses?|"
    "beds?|queries|requests|orders?|tickets?|items?|seats?|tasks?|deploys?|"
    "releases?|pounds|dollars|euros|kilos?|kg|litres?|grades?|points?|lessons?|"
    "shifts?|calls?|sign-ups|interviews|integrations|bays?|wards?|stores?|sites?|"
    "teams?|reports?|dashboards?|tests?|services?|lines?|k|m|gb|mb|tb"
)
NUMERIC_RE = re.compile(
    r"(?:[£$€]\s?)?\b(?:p\d{2,3}|\d+(?:[.,]\d+)*(?:\s?(?:%|k\b|m\b|x\b|ms\b|s\b))?"
    r"(?:\s(?:" + UNITS + r")\b)?)"
)
WORDED_RE = re.compile(
    r"\b(?:(?:" + NUMBER_WORDS + r")(?:[\s-](?:" + NUMBER_WORDS + r"))*)"
    r"(?:\s(?:and a half|and a bit))?"
    r"(?:\s(?:of\s)?(?:[a-z]+\s)?(?:" + UNITS + r"))\b"
)


# ----------------------------------------------------------------------------- STAR cues

SITUATION_RE = re.compile(
    r"\b(?:when i was|at my (?:last|previous|current|old|first) (?:job|role|company|"
    r"school|ward|team|place)|there was (?:a|an|this|one) |one (?:time|day|night|"
    r"shift|morning|evening)|last (?:year|month|week|summer|spring|autumn|winter|"
    r"quarter|term|black friday)|(?:a few|two|three|some) (?:days|weeks|months|years) "
    r"ago|in my (?:last|previous|current|first) (?:role|job|position|school)|"
    r"(?:i|we) had (?:a|an|this|one|two) |on a (?:night|day|late|busy|bad) shift|"
    r"\bonce\b|back in \d{4}|in \d{4}|this year|earlier this year)"
)
SITUATION_PLACE_RE = re.compile(r"\b(?:[Aa]t|[Ii]n) (?!I\b)[A-Z][a-z]+")
TASK_RE = re.compile(
    r"\b(?:i (?:needed|had|was asked|was responsible|was tasked|wanted) to|"
    r"my (?:job|role|task|goal|responsibility) was|the (?:goal|aim|task|challenge|"
    r"problem|issue) was|(?:we|they) (?:needed|wanted|asked me) to|(?:was|were) "
    r"asked to|i owned|i own|i was the one)\b"
)
NON_ACTION_PAST = frozenset(
    {"needed", "wanted", "liked", "loved", "hated", "enjoyed", "used", "hoped",
     "wished", "seemed", "tried", "guessed", "supposed", "believed", "felt", "was",
     "were", "had", "did", "got", "thought", "qualified", "joined", "started"}
)  # fmt: skip
IRREGULAR_PAST = frozenset(
    {"built", "wrote", "made", "took", "put", "ran", "led", "sat", "went", "told",
     "gave", "found", "brought", "spoke", "held", "split", "kept", "shipped",
     "pulled", "chose", "drove", "began", "set", "met", "rang", "caught", "cut",
     "sent", "taught", "rolled", "stopped", "paired", "dug", "rewrote", "redesigned",
     "fixed", "designed", "did"}
)  # fmt: skip
FIRST_PERSON_VERB_RE = re.compile(
    r"\bi (?:then |also |just |actually |personally |immediately |quickly |"
    r"first |finally |eventually )?([a-z]+)\b"
)
RESULT_RE = re.compile(
    r"\b(?:as a result|which (?:meant|reduced|cut|saved|increased|improved|halved|"
    r"doubled)|(?:went|dropped|fell|rose|grew|came|increased|decreased|improved|"
    r"reduced|cut|jumped) (?:down |up |back )?(?:from|to|by)|ended up|in the end|"
    r"the (?:result|outcome|impact) was|it worked|(?:we|i|it) saved|got (?:it )?"
    r"(?:down|up) to|was back to|back up to|since (?:then|we)|afterwards|went live|"
    r"was fixed|it's now|that's now|is now|are now|were using|(?:they|he|she) "
    r"(?:signed|agreed|kept|changed|came back)|(?:up|down) from)\b"
)


# ----------------------------------------------------------------------------- ownership

SELF_AGENCY_RE = re.compile(
    r"\bi(?:'d| would| will|'ll|'ve| have| had)? (?:then |also |just |actually |"
    r"personally |immediately |quickly |first |always |usually |straight away )?"
    r"(?!don't|do not|didn't|can't|cannot|couldn't|wasn't|haven't|won't|think|"
    r"guess|mean|suppose|believe|feel|felt|am|was|love|loved|like|liked|know|hope|"
    r"remember|wish|rather|get it|saw|heard|grew|went travelling|play|used to|"
    r"really|probably|maybe|not|try to be)[a-z]+"
)
OTHERS_AGENCY_RE = re.compile(
    r"\b(?:we|they|someone(?: else)?|somebody(?: else)?|everyone|the team|"
    r"my (?:manager|boss|lead|team|colleagues?)|the (?:other|engineering|data|"
    r"leadership|product|rest of the) (?:team|lead|people)|"
    r"the (?:engineering|tech) lead|other people)\b"
)


# ---------------------------------------------------------------------- evasion, hedging

EVASION_PATTERNS: tuple[tuple[str, str], ...] = (
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
EVASION_RES = tuple((re.compile(p), label) for p, label in EVASION_PATTERNS)

HEDGE_PATTERNS: tuple[tuple[str, str], ...] = (
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
HEDGE_RES = tuple((re.compile(p), label) for p, label in HEDGE_PATTERNS)


# ------------------------------------------------------------------------------- fillers

FILLER_RE = re.compile(
    r"\b(?:um+|uh+|erm+|er|hmm+|mm+|ah)\b|\byou know\b(?!\s+(?:what|how|when|where|that|"
    r"if|why|who))|(?<=, )like,|\bi mean,"
)
FILLERS_KEPT_SHARE = 0.89
"""Of the fillers said in the speech benchmark's answers ("um", "uh", "like", "you know":
44 in four synthetic voices), the share FILLER_RE finds in what Viva stores (tiny.en with
the interview's hotwords and the filler seed); 0.34 before the seed. `make bench-stt`,
docs/benchmarks.md. Re-measure when the speech model or its prompt changes."""
FILLERS_HOW_COUNTED = (
    "counted from your transcript; speech recognition kept "
    f"{FILLERS_KEPT_SHARE:.0%} of the fillers said in our tests"
)


# -------------------------------------------------------------------------------- skills

# Single, lower-case words in the gazetteer that are skills even when written
# in lower case in speech; any other single lower-case gazetteer hit ("was",
# "did", "black", "timing") is too ambiguous to count.
ALLOWED_LOWERCASE_SKILLS = frozenset(
    {"python", "django", "flask", "fastapi", "postgres", "postgresql", "mysql", "sql",
     "redis", "celery", "docker", "kubernetes", "terraform", "aws", "azure", "gcp",
     "linux", "git", "javascript", "typescript", "react", "java", "golang", "rust",
     "kafka", "graphql", "rest", "grpc", "pandas", "numpy", "excel", "tableau",
     "looker", "snowflake", "bigquery", "dbt", "airflow", "spark", "jira",
     "amplitude", "figma", "scrum", "kanban", "sbar", "datix", "safeguarding",
     "triage", "phlebotomy", "cannulation", "venepuncture", "catheterisation",
     "differentiation", "scaffolding", "caching", "indexing", "microservices",
     "observability", "monitoring", "profiling", "latency", "sepsis", "roadmapping",
     "prioritisation", "prioritization", "wireframing", "prototyping", "onboarding"}
)  # fmt: skip
# Gazetteer entries that are everyday words or phrases in spoken answers.
IGNORED_SKILLS = frozenset(
    {"communication", "teamwork", "english", "leadership", "listening", "writing",
     "empathy", "honesty", "go", "black", "lead", "support", "time", "work", "data",
     "reliability", "performance", "design", "flexibility", "problem solving",
     "mindset", "hard worker", "passion", "apps", "monday", "tuesday", "wednesday",
     "thursday", "friday", "saturday", "sunday", "social media"}
)  # fmt: skip
# Gazetteer entries that are self-descriptions, not skills anyone can check ("data-driven",
# "analytical mindset", "commitment to excellence"): a fluent generic answer is full of them.
BUZZWORD_RE = re.compile(
    r"-(?:driven|oriented|minded|focused)\b|\b(?:mindset|excellence|passion(?:ate)?|standards?|"
    r"values?|improvement|attitude|ethic|player|self-starter|starter|thinking|skills|"
    r"integrity|ownership|dedication|commitment|motivated|synergy|storytelling|go-getter|"
    r"detail|excellent|strong|insights?)\b"
)
ROLE_WORD_RE = re.compile(
    r"\b(?:analyst|developer|engineer|nurse|teacher|manager|officer|assistant|"
    r"director|owner|consultant|intern)s?\b"
)  # job titles, not skills
TITLE_BEFORE_RE = re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Dr|Prof)\.?\s$")


# ---------------------------------------------------------------------- job requirements

BULLET_RE = re.compile(r"^\s*(?:[-*•●▪‣]|\d+[.)])\s+(.+?)\s*$")
REQUIREMENT_CUE_RE = re.compile(
    r"\b(?:experience|you will|you'll|must|ability|able to|knowledge|skills?|"
    r"familiar|proficien|responsible|required|looking for|you have)\b",
    re.IGNORECASE,
)


# ---------------------------------------------------------------------- off-topic themes

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


# ------------------------------------------------------------------------------------ claims

# A claim is a sentence about what someone did or what happened: it has a subject and the
# small words that hold a sentence together. A list of job terms and numbers has neither,
# however many of them it names ("Ledger, double-entry, PostgreSQL, Kafka, p99 80 ms").
CLAIM_SUBJECT_RE = re.compile(
    r"\b(?:i|i'm|i've|i'd|i'll|we|we're|we've|we'd|they|he|she|it|it's|you|my|our|their|"
    r"this|that|there|someone|everyone|nobody|the team)\b"
)
FUNCTION_WORDS = frozenset(
    {"the", "a", "an", "to", "of", "and", "in", "on", "for", "with", "was", "were", "is",
     "are", "had", "have", "has", "that", "so", "but", "because", "then", "from", "by", "at",
     "as", "which", "when", "what", "how", "into", "about", "after", "before", "if", "not",
     "be", "been", "did", "do", "does", "would", "could", "should", "will", "can", "it",
     "this", "we", "i", "they", "our", "my", "there", "them", "me", "us", "just", "also"}
)  # fmt: skip


# ----------------------------------------------------------------------------- aliases

# Names of one thing as people say and write them. "Postgres" in an answer is the CV's
# "PostgreSQL": a report must never say a skill didn't come up when it was said this way.
SKILL_ALIASES: tuple[frozenset[str], ...] = tuple(
    frozenset(group)
    for group in (
        {"postgresql", "postgres", "psql"},
        {"kubernetes", "k8s", "kube"},
        {"javascript", "js"},
        {"typescript", "ts"},
        {"golang", "go lang"},
        {"aws", "amazon web services"},
        {"gcp", "google cloud", "google cloud platform"},
        {"azure", "microsoft azure"},
        {"ci/cd", "ci", "continuous integration", "ci pipeline"},
        {"machine learning", "ml"},
        {"a/b testing", "a/b tests", "a/b test", "ab testing", "split testing"},
        {"rest", "rest api", "rest apis", "restful"},
        {"node.js", "node", "nodejs"},
        {"react", "react.js", "reactjs"},
        {"sql server", "mssql"},
        {"elasticsearch", "elastic search"},
        {"github actions", "gha"},
        {"excel", "microsoft excel"},
    )
)


# ----------------------------------------------------------------------- coaching words

# The vocabulary of coaching itself: a point may use these whatever the answer was about.
# Stored as five-letter stems ("quantif" and "quantify" are one), as checks.py compares them.
COACHING_WORDS = frozenset(
    w[:5]
    for w in (
        "answer", "question", "example", "specific", "specifics", "result", "results",
        "outcome", "outcomes", "number", "numbers", "metric", "metrics", "measurable",
        "measured", "quantify", "impact", "situation", "action", "actions", "detail",
        "details", "detailed", "clear", "clearly", "clarity", "explain", "explaining",
        "describe", "describing", "description", "mention", "mentioning", "structure",
        "structured", "concrete", "experience", "experiences", "approach", "process",
        "decision", "decisions", "challenge", "challenges", "improve", "improvement",
        "strength", "strengths", "better", "stronger", "focus", "provide", "providing",
        "include", "including", "highlight", "highlighting", "demonstrate", "demonstrated",
        "showing", "shows", "showed", "skill", "skills", "personal", "personally",
        "yourself", "directly", "direct", "instead", "rather", "briefly", "concise",
        "elaborate", "elaborating", "expand", "expanding", "context", "background",
        "effective", "effectively", "understanding", "understand", "knowledge",
        "ability", "abilities", "relevant", "relevance", "steps", "taken", "specifically",
        "contribution", "contributions", "responsibility", "responsibilities", "during",
        "handled", "handle", "handling", "solution", "solutions", "solve", "solved",
        "problem", "problems", "issue", "issues", "overall", "interview", "interviewer",
        "response", "responses", "point", "points", "story", "stories", "sentence",
        "sentences", "words", "something", "things", "thing", "someone", "another",
        "actual", "actually", "really", "little", "using", "making", "would", "could",
        "should", "might", "which", "where", "while", "about", "after", "before", "these",
        "those", "their", "there", "other", "others", "first", "second", "third", "final",
        "finally", "again", "always", "often", "every", "each", "clarify", "support",
        "supporting", "evidence", "achievement", "achievements", "accomplish",
        "accomplished", "results-oriented", "method", "methods", "tools", "practice",
        "practise", "prepare", "preparing", "next", "time", "times", "later", "future",
        "change", "changed", "changes", "learned", "learn", "lesson", "lessons",
        "differently", "different", "aspect", "aspects", "level", "specify", "include",
        "consider", "considering", "discuss", "discussing", "discussed", "talked",
        "technical", "technique", "techniques", "strategy", "strategies", "worked",
        "working", "helped", "helping", "ensure", "ensuring", "improved", "improving",
        "value", "reason", "reasons", "because", "explained", "shared", "share", "sharing",
        "state", "stated", "clearer", "quick", "quickly", "short", "shorter", "longer",
        "example's", "exactly", "certain", "simply", "simple", "generic", "general",
        "vague", "honest", "honestly", "limits", "limit",
    )
)  # fmt: skip
