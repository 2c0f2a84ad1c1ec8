"""Fake engines for unit and integration tests (the real ones are exercised in slow tests)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncGenerator, Sequence
from typing import Any

from server.ai.llm import ChatMessage
from server.errors import AIServiceError
from server.services.prompts import ANSWER_LABEL

VALID_FEEDBACK: dict[str, Any] = {
    "score": 6,
    "strengths": ["Clear structure", "Named the tools used", "Stayed on topic"],
    "weaknesses": ["Few numbers", "Little ownership shown", "Short answers"],
    "cv_improvements": ["Add metrics", "List PostgreSQL", "Lead with backend work"],
}


def answers_in(messages: Sequence[ChatMessage]) -> list[str]:
    """The candidate's answers as they appear in a chat the app built."""
    marker = f"\n\n{ANSWER_LABEL}\n"
    return [
        m.content.split(marker, 1)[1] for m in messages if m.role == "user" and marker in m.content
    ]


def cited_note(messages: Sequence[ChatMessage]) -> dict[str, Any]:
    """A well-behaved model's note on the last answer in the chat: each point names its
    first words (so the report quotes that sentence)."""
    number = re.search(r"answer to question (\d+)", messages[-1].content)
    n = int(number.group(1)) if number else len(answers_in(messages))
    opening = " ".join(answers_in(messages)[-1].split()[:4])
    return {
        "strength": f"You did well in answer {n}: {opening}.",
        "improvement": f"Add the outcome to your answer {n}: {opening}.",
    }


# How the interviewer's first message begins: fixed text (``prompts.opening_message``).
OPENING = "Welcome to your practice interview"


# What the fake asks, question by question (2, 3, ...): distinct, as the server lets no question
# be asked twice.
_TOPICS = (
    "tell me about your work as a backend engineer?",
    "how do you decide what to test before a release?",
    "what was the hardest production incident you handled?",
    "how do you handle a disagreement about a design?",
    "what would you change first in a slow checkout service?",
    "how do you keep a large codebase easy to change?",
    "which metric tells you a feature worked?",
    "how do you plan a database migration without downtime?",
)


class FakeChatModel:
    """Answers like an interviewer, deterministically; can be told to fail or return junk."""

    def __init__(self) -> None:
        self.chat_calls: list[list[ChatMessage]] = []
        self.json_calls: list[list[ChatMessage]] = []
        self.json_schemas: list[dict[str, Any]] = []
        self.json_for: list[str | None] = []  # the ``conversation`` of each JSON request
        self.json_replies: list[Any] = []  # consumed one per call; exceptions are raised
        self.adjustment: dict[str, Any] = {"score_adjustment": 0, "adjustment_reason": ""}
        self.prefill_calls: list[list[ChatMessage]] = []
        self.prefill_for: list[str | None] = []  # the interview of each prefill
        self.prefill_hold = False  # prefills wait while set (a flag: the app may run its
        # requests on another event loop than the test's)
        self.fail_next_chat: AIServiceError | None = None
        self.chat_replies: list[str] = []  # scripted interviewer replies, one per call
        self.chat_streams_finished = 0  # streams read to their end (not closed early)
        self.stream_hold_at: int | None = None  # replies wait before this word while it is set
        self.conversations: list[str | None] = []  # the ``conversation`` of every request

    async def stream_chat(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int,
        temperature: float = 0.7,
        conversation: str | None = None,
    ) -> AsyncGenerator[str, None]:
        self.chat_calls.append(list(messages))
        self.conversations.append(conversation)
        if self.fail_next_chat is not None:
            err, self.fail_next_chat = self.fail_next_chat, None
            raise err
        # The note rides with the last answer (a reply may go on from an acknowledgement).
        note = next(m.content for m in reversed(messages) if m.role != "assistant")
        if self.chat_replies:
            reply = self.chat_replies.pop(0)
        elif "Do not ask another question" in note:
            reply = "Thank you for your time today. Your feedback report is being prepared."
        else:
            number = re.search(r"Ask question (\d+) of (\d+)", note)
            k = number.group(1) if number else "?"
            topic = _TOPICS[(int(k) - 2) % len(_TOPICS)] if k.isdigit() else _TOPICS[0]
            reply = f"Interviewer: Thanks. Question {k}: {topic}"
        for index, word in enumerate(reply.split(" ")):
            while self.stream_hold_at is not None and index >= self.stream_hold_at:  # noqa: ASYNC110
                await asyncio.sleep(0.005)
            yield word + " "
        self.chat_streams_finished += 1

    async def prefill(
        self, messages: Sequence[ChatMessage], *, conversation: str | None = None
    ) -> None:
        self.prefill_calls.append(list(messages))
        self.prefill_for.append(conversation)
        self.conversations.append(conversation)
        while self.prefill_hold:  # noqa: ASYNC110 (an Event is bound to one event loop)
            await asyncio.sleep(0.005)

    async def complete_json(
        self,
        messages: Sequence[ChatMessage],
        *,
        schema_name: str,
        schema: dict[str, Any],
        max_tokens: int,
        temperature: float = 0.2,
        conversation: str | None = None,
    ) -> Any:
        self.json_calls.append(list(messages))
        self.json_for.append(conversation)
        self.conversations.append(conversation)
        self.json_schemas.append(schema)
        if self.json_replies:
            reply = self.json_replies.pop(0)
        elif schema_name == "score_adjustment":
            reply = self.adjustment
        else:
            reply = cited_note(messages)
        if isinstance(reply, Exception):
            raise reply
        return reply
