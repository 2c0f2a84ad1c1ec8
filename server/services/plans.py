"""Interview modes and difficulty: the question plan of each mode, and how hard it presses.

A plan is the ordered list of topics the interviewer covers (question k takes topic k; the last
question is always the closing one, on motivation and first priorities) and, for each topic,
the plain question asked when the model's own cannot be used (and as question 1, which is
fixed text so that it is spoken at once). Topics are instructions to the model, phrased so a
small model names concrete things instead of echoing the topic back. docs/interview-modes.md
describes each plan and policy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, get_args

from server.repositories.records import Difficulty
from server.repositories.records import InterviewMode as Mode

MODES: Final[tuple[Mode, ...]] = get_args(Mode)
DIFFICULTIES: Final[tuple[Difficulty, ...]] = get_args(Difficulty)
DEFAULT_MODE: Final[Mode] = "mixed"
DEFAULT_DIFFICULTY: Final[Difficulty] = "realistic"

MODE_LABELS: Final[dict[Mode, str]] = {
    "mixed": "Mixed",
    "behavioural": "Behavioural (STAR)",
    "technical": "Technical",
    "system_design": "System design / case",
}
# What the system prompt says of each mode.
MODE_BRIEF: Final[dict[Mode, str]] = {
    "mixed": "a mixed interview: experience, skills, behaviour and the role itself",
    "behavioural": "a behavioural interview: ask for real situations, what the candidate did "
    "and the result (STAR)",
    "technical": "a technical interview: go deep into the role's skills, decisions and trade-offs",
    "system_design": "a system design interview: work through one design for the company "
    "together, step by step",
}
DIFFICULTY_LABELS: Final[dict[Difficulty, str]] = {
    "easy": "Easy",
    "realistic": "Realistic",
    "tough": "Tough",
}


@dataclass(frozen=True)
class Topic:
    focus: str  # the instruction to the model
    plain: str  # the plain question; ``{role}`` and ``{company}`` come from the session
    on_requirement: Topic | None = None
    """The topic on one of the job's requirement lines (``{requirement}``; ``requirement_for``
    says which), asked when the job description lists any; else this generic one."""


ASK_ABOUT_REQUIREMENT = Topic(
    'this requirement from the job description: "{requirement}"; name it and ask how they '
    "have met it, with one real example",
    "The role asks for this: {requirement}. Where have you done that, and how did it go?",
)


CLOSING = Topic(
    "why they want this role at this company, and what they would focus on first",
    "Why do you want to join {company} as {role}, and what would you focus on first?",
)

PLANS: Final[dict[Mode, tuple[Topic, ...]]] = {
    "mixed": (
        Topic(
            "the experience in their CV most relevant to this role; name that job or project",
            "Which part of your experience is most relevant to this role, and what did you do "
            "there?",
        ),
        Topic(
            "one specific skill the job description asks for; name the skill and ask how they "
            "used it",
            "Which skill from the {role} job description have you used the most, and how did "
            "you use it?",
            on_requirement=ASK_ABOUT_REQUIREMENT,
        ),
        Topic(
            "one project or achievement from their CV; name it and ask what they did and the "
            "result",
            "Tell me about a project from your CV you are proud of: what did you do, and what "
            "was the result?",
        ),
        Topic(
            "a disagreement with a colleague; ask for the situation, their action and the result",
            "Tell me about a disagreement with a colleague on your team: what was the "
            "situation, what did you do, and how did it end?",
        ),
        Topic(
            "a tool or technology they mentioned earlier; name it and ask a deeper follow-up",
            "Pick a tool or technology you mentioned earlier: how exactly did you use it in "
            "your project, and what would you do differently now?",
        ),
        Topic(
            "a realistic problem in this role; describe it in one sentence and ask how they "
            "would solve it",
            "Imagine an important service at {company} gets slow under load. How would you "
            "find the cause and fix it?",
            on_requirement=Topic(
                'a realistic problem in this part of the role: "{requirement}"; describe it in '
                "one sentence and ask how they would solve it",
                "Imagine this is your job at {company}: {requirement}. What problem would you "
                "expect first there, and how would you handle it?",
            ),
        ),
        Topic(
            "a time something went wrong or they got critical feedback, and what they learned",
            "Tell me about a time something went wrong in a project or you got critical "
            "feedback. What did you learn?",
        ),
        Topic(
            "a requirement in the job description not discussed yet; name it and ask about it",
            "Which requirement of the {role} role have we not talked about yet, and how do you "
            "meet it?",
            on_requirement=ASK_ABOUT_REQUIREMENT,
        ),
    ),
    "behavioural": (
        Topic(
            "a time they owned something end to end; ask for the situation, what they did and "
            "the result",
            "Tell me about a time you owned a piece of work from start to finish: what was the "
            "situation, what did you do, and what was the result?",
        ),
        Topic(
            "a conflict or disagreement at work; ask for the situation, their action and how it "
            "ended",
            "Describe a disagreement with a colleague: what was it about, what did you do, and "
            "how did it end?",
        ),
        Topic(
            "a failure or mistake of their own; ask what happened and what they changed after",
            "Tell me about a mistake you made at work: what happened, and what did you change "
            "afterwards?",
        ),
        Topic(
            "a tight deadline or competing priorities; ask how they decided what to do",
            "Tell me about a time you had more to do than time allowed: how did you decide what "
            "to do first, and how did it turn out?",
        ),
        Topic(
            "influencing people without authority; ask how they won support",
            "Tell me about a time you had to convince people who did not report to you: what "
            "did you do, and did it work?",
        ),
        Topic(
            "critical feedback they received; ask what it was and what they did with it",
            "Tell me about the most useful critical feedback you have had: what was it, and what "
            "did you do with it?",
        ),
        Topic(
            "a decision made with incomplete information; ask how they decided and what happened",
            "Tell me about a decision you made without all the information you wanted: how did "
            "you decide, and what happened?",
        ),
        Topic(
            "helping a colleague or the team grow; ask for one concrete example",
            "Tell me about a time you helped a colleague or your team get better at something: "
            "what did you do?",
        ),
    ),
    "technical": (
        Topic(
            "one core skill the job description asks for; ask how they used it in depth on a "
            "real project",
            "Which skill from the {role} job description do you know best, and how did you use "
            "it on a real project?",
            on_requirement=ASK_ABOUT_REQUIREMENT,
        ),
        Topic(
            "a technical decision they made and its trade-offs; ask what they weighed",
            "Tell me about a technical decision you made: what options did you weigh, and why "
            "did you choose the one you did?",
        ),
        Topic(
            "the hardest production problem they debugged; ask how they found the cause",
            "What is the hardest problem you have debugged in production, and how did you find "
            "the cause?",
        ),
        Topic(
            "performance or scaling of something they built; ask what they measured and changed",
            "Tell me about a time you made something faster or able to handle more load: what "
            "did you measure, and what did you change?",
        ),
        Topic(
            "how they keep quality up: tests, reviews, deployment; ask for their own practice",
            "How do you make sure the code you ship works: what do you test, and how?",
        ),
        Topic(
            "a tool or technology from their CV; name it and ask what its limits are in practice",
            "Pick a tool or technology from your CV: where did it fall short for you, and what "
            "did you do about it?",
        ),
        Topic(
            "reliability or security risks in this role's systems; ask how they would handle one",
            "What could go wrong with the systems a {role} at {company} works on, and how would "
            "you guard against it?",
            on_requirement=Topic(
                'what could go wrong in this part of the role: "{requirement}"; ask how they '
                "would guard against it",
                "Think of this part of the role: {requirement}. What could go wrong there, and "
                "how would you guard against it?",
            ),
        ),
        Topic(
            "a requirement in the job description not discussed yet; name it and ask how they "
            "meet it",
            "Which requirement of the {role} role have we not talked about yet, and how do you "
            "meet it?",
            on_requirement=ASK_ABOUT_REQUIREMENT,
        ),
    ),
    "system_design": (
        Topic(
            "designing a system central to this company's product; ask them to start with the "
            "requirements",
            "Let's design a core service for {company}. What would you ask first, and what "
            "requirements would you write down?",
        ),
        Topic(
            "the data model and storage choices for that system; ask what they would pick and why",
            "How would you store the data for that service: which store, what shape, and why?",
        ),
        Topic(
            "the APIs or interfaces of that system; ask what they would expose",
            "What would the main API of that service look like, and what would you leave out?",
        ),
        Topic(
            "scaling that system to ten times the load; ask what breaks first",
            "Traffic grows tenfold. What breaks first in your design, and how would you change it?",
        ),
        Topic(
            "failure modes and recovery; ask what happens when a dependency goes down",
            "A dependency of your service goes down for ten minutes. What happens, and how does "
            "your design recover?",
        ),
        Topic(
            "observability; ask how they would know the system is healthy",
            "How would you know your service is healthy in production, and what would wake you "
            "up at night?",
        ),
        Topic(
            "the trade-offs in their design; ask which one they are least sure about",
            "Which trade-off in your design are you least sure about, and what would change "
            "your mind?",
        ),
        Topic(
            "what they would build first with a small team; ask for the first milestone",
            "With two engineers and six weeks, what would you build first, and what would you "
            "leave for later?",
        ),
    ),
}

# How hard the interviewer presses, per difficulty: a line for the system prompt, and whether
# a thin answer gets a follow-up (and, when tough, an answer with no result too).
STYLE: Final[dict[Difficulty, str]] = {
    "easy": "Keep questions simple and open, one thing at a time; be encouraging in tone, "
    "never in judgement.",
    "realistic": "Ask as a fair, experienced interviewer for this role would.",
    "tough": "Ask demanding questions: for specifics, numbers, trade-offs and what they would "
    "do differently.",
}


def topic(mode: Mode, number: int, total: int) -> Topic:
    """Question ``number``'s topic: the plan's, round again past its end; the last is the
    closing topic (interviews of three questions or more)."""
    if number == total and total >= 3:
        return CLOSING
    plan = PLANS[mode]
    return plan[(number - 1) % len(plan)]


def requirement_for(
    mode: Mode, number: int, total: int, requirements: Sequence[str]
) -> tuple[Topic, str]:
    """Question ``number``'s topic, and the job requirement line it is about ("" if none).

    The j-th topic of the interview that can be on a requirement takes the job's j-th line
    (round again past the end), so every such question names a different one. Decided by the
    session alone, so the prompt of every turn stays the same (append-only)."""
    planned = topic(mode, number, total)
    if not requirements or planned.on_requirement is None:
        return planned, ""
    earlier = sum(1 for k in range(1, number) if topic(mode, k, total).on_requirement)
    return planned.on_requirement, requirements[earlier % len(requirements)]


def follows_up(difficulty: Difficulty) -> bool:
    """Whether a thin answer gets one follow-up on what it lacked."""
    return difficulty != "easy"
