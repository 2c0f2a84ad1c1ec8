"""The chat model behind a small Protocol, with one real adapter: any OpenAI-compatible server."""

from __future__ import annotations

import json
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, cast

import openai
from openai.types.chat import ChatCompletion, ChatCompletionChunk, ChatCompletionMessageParam

from server.errors import AIOutputError, AIServiceError

logger = logging.getLogger(__name__)

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class ChatMessage:
    role: Role
    content: str


class ChatModel(Protocol):
    """What the interview engine and feedback service need from a language model.

    ``conversation`` names the interview a request belongs to (its public id): a server that
    keeps one prompt cache per slot can keep each interview's cache warm (``SlotPool``)."""

    def stream_chat(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int,
        temperature: float = 0.7,
        conversation: str | None = None,
    ) -> AsyncGenerator[str, None]:
        """Yield the reply's text as it is generated."""
        ...

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
        """Return the reply parsed as JSON, asking the server to follow ``schema``."""
        ...

    async def prefill(
        self, messages: Sequence[ChatMessage], *, conversation: str | None = None
    ) -> None:
        """Let the server read ``messages`` into its prompt cache ahead of the real request.

        A hint: it may do nothing, and it never raises."""
        ...


async def json_object(
    llm: ChatModel,
    messages: Sequence[ChatMessage],
    *,
    schema_name: str,
    schema: dict[str, Any],
    max_tokens: int,
    attempts: int,
    context: str,
    conversation: str | None = None,
) -> dict[str, Any] | None:
    """A JSON object from the model, asking again (up to ``attempts`` times) when its output is
    unusable; ``None`` if it never was. ``AIServiceError`` (unreachable) is not retried here:
    the adapter already retried with backoff. ``context`` labels the log lines."""
    for attempt in range(1, attempts + 1):
        try:
            raw = await llm.complete_json(
                messages,
                schema_name=schema_name,
                schema=schema,
                max_tokens=max_tokens,
                conversation=conversation,
            )
        except AIOutputError as err:
            logger.warning("%s: attempt %d unusable: %s", context, attempt, err.message)
            continue
        if isinstance(raw, dict):
            return raw
        logger.warning("%s: attempt %d is not a JSON object", context, attempt)
    return None


class SlotPool:
    """Pins each conversation to one of the server's slots (llama.cpp's ``id_slot``), taking
    the least recently used slot for a new one. llama.cpp keeps one prompt cache per slot and
    does not keep a slot's prompt when another conversation takes it over (the CV and job
    description are most of it), so without pinning two interviews re-read each other's whole
    history on every turn. ``dedicated`` conversations (the answer notes) each keep one of the
    last slots to themselves."""

    def __init__(self, slots: int, dedicated: Sequence[str] = ()) -> None:
        self.slots = slots - len(dedicated)
        if self.slots < 1:
            raise ValueError(f"{slots} slot(s) cannot hold {len(dedicated)} dedicated ones")
        self._dedicated = {name: self.slots + i for i, name in enumerate(dedicated)}
        self._owners: OrderedDict[str, int] = OrderedDict()

    def slot_for(self, conversation: str) -> int:
        if conversation in self._dedicated:
            return self._dedicated[conversation]
        if conversation in self._owners:
            self._owners.move_to_end(conversation)
            return self._owners[conversation]
        if len(self._owners) < self.slots:
            slot = len(self._owners)
        else:
            _, slot = self._owners.popitem(last=False)
        self._owners[conversation] = slot
        return slot


class OpenAIChatModel:
    """Talks to OpenAI, vLLM, Ollama or the embedded llama.cpp server through the ``openai`` SDK.

    The SDK retries connection errors, 408/409/429 and 5xx with exponential backoff
    (``max_retries``); anything that still fails is wrapped as ``AIServiceError``.
    """

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        model: str,
        timeout_s: float = 120.0,
        max_retries: int = 2,
        reply_timeout_s: float = 60.0,
        prefill: bool = False,
        slots: int = 0,
        dedicated_slots: Sequence[str] = (),
    ) -> None:
        """``timeout_s`` and ``max_retries``: per JSON request (notes, the report).
        ``reply_timeout_s``: an interviewer reply waits at most this long for the server's
        next bytes (its first token, or the next), once: a candidate is waiting, so a stalled
        model fails the turn with a retryable error instead of holding it for minutes.
        ``slots``: the server's llama.cpp slots to pin conversations to (0: not llama.cpp,
        or one slot; nothing extra is sent); ``dedicated_slots``: conversations that keep a
        slot to themselves (``SlotPool``)."""
        self.model = model
        self.reply_timeout_s = reply_timeout_s
        self.prefill_enabled = prefill
        self._slots = SlotPool(slots, dedicated_slots) if slots > 1 else None
        self._client = openai.AsyncOpenAI(
            base_url=base_url,
            api_key=api_key or "not-needed",
            timeout=timeout_s,
            max_retries=max_retries,
        )

    def _extra(self, conversation: str | None) -> dict[str, Any] | None:
        if self._slots is None or conversation is None:
            return None
        return {"id_slot": self._slots.slot_for(conversation)}

    async def stream_chat(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int,
        temperature: float = 0.7,
        conversation: str | None = None,
    ) -> AsyncGenerator[str, None]:
        started = time.perf_counter()
        client = self._client.with_options(timeout=self.reply_timeout_s, max_retries=0)
        try:
            stream = await client.chat.completions.create(
                model=self.model,
                messages=_wire(messages),
                max_tokens=max_tokens,
                temperature=temperature,
                stream=True,
                stream_options={"include_usage": True},
                extra_body=self._extra(conversation),
            )
            async with stream:
                async for chunk in stream:
                    if chunk.choices and chunk.choices[0].delta.content:
                        yield chunk.choices[0].delta.content
                    if chunk.usage is not None:
                        _log_usage("reply", chunk, started)
        except GeneratorExit:
            # Closed before the end (the candidate went on, or the reply guard stopped it);
            # closing the HTTP stream stops the generation.
            logger.info("llm reply: stopped ms=%.0f", (time.perf_counter() - started) * 1000)
            raise
        except openai.APITimeoutError as err:
            raise AIServiceError(
                f"The interviewer's model did not answer within {self.reply_timeout_s:.0f} s; "
                "your answer is kept: retry."
            ) from err
        except openai.OpenAIError as err:
            raise AIServiceError(f"The language model failed: {_describe(err)}") from err

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
        started = time.perf_counter()
        try:
            response = await self._client.chat.completions.create(
                model=self.model,
                messages=_wire(messages),
                max_tokens=max_tokens,
                temperature=temperature,
                response_format={
                    "type": "json_schema",
                    "json_schema": {"name": schema_name, "strict": True, "schema": schema},
                },
                extra_body=self._extra(conversation),
            )
        except openai.OpenAIError as err:
            if _output_rejected(err):
                # The server is up; this one output broke its grammar (cut off at max_tokens):
                # an unusable answer, asked again by ``json_object``, not an outage.
                raise AIOutputError(
                    f"The language model's JSON was cut off: {_describe(err)}"
                ) from err
            raise AIServiceError(f"The language model failed: {_describe(err)}") from err
        _log_usage(schema_name, response, started)
        content = response.choices[0].message.content if response.choices else None
        if not content:
            raise AIOutputError("The language model returned an empty reply.")
        try:
            return json.loads(content)
        except json.JSONDecodeError as err:
            raise AIOutputError(f"The language model returned invalid JSON: {err}") from err

    async def prefill(
        self, messages: Sequence[ChatMessage], *, conversation: str | None = None
    ) -> None:
        """A one-token request: a server with a prompt cache (llama.cpp, vLLM) keeps the prompt.

        Off unless enabled: a hosted API bills the request and may not cache short prompts."""
        if not self.prefill_enabled:
            return
        started = time.perf_counter()
        try:
            response = await self._client.with_options(max_retries=0).chat.completions.create(
                model=self.model,
                messages=_wire(messages),
                max_tokens=1,
                temperature=0.0,
                extra_body=self._extra(conversation),
            )
        except openai.OpenAIError as err:
            logger.debug("prefill failed: %s", _describe(err))
            return
        _log_usage("prefill", response, started)

    async def aclose(self) -> None:
        await self._client.close()


def _wire(messages: Sequence[ChatMessage]) -> list[ChatCompletionMessageParam]:
    return [
        cast("ChatCompletionMessageParam", {"role": m.role, "content": m.content}) for m in messages
    ]


def _log_usage(kind: str, response: ChatCompletion | ChatCompletionChunk, started: float) -> None:
    """One line per request: tokens read (and how many came from the server's prompt cache),
    tokens generated, and the server's own rates where it reports them (llama.cpp does).
    ``python -m bench`` reads these lines."""
    usage = response.usage
    if usage is None:
        return
    details = usage.prompt_tokens_details
    cached = (details.cached_tokens if details else None) or 0
    rates = ""
    timings = (response.model_extra or {}).get("timings")
    if isinstance(timings, dict):
        rates = (
            f" prompt_tps={float(timings.get('prompt_per_second') or 0):.1f}"
            f" gen_tps={float(timings.get('predicted_per_second') or 0):.1f}"
        )
    logger.info(
        "llm %s: prompt=%d cached=%d generated=%d ms=%.0f%s",
        kind,
        usage.prompt_tokens,
        cached,
        usage.completion_tokens,
        (time.perf_counter() - started) * 1000,
        rates,
    )


def _output_rejected(err: openai.OpenAIError) -> bool:
    """llama.cpp answers HTTP 500 when the model's output does not parse under the requested
    JSON schema ("…does not match the expected … format"), typically when it was cut off."""
    return isinstance(err, openai.InternalServerError) and "does not match the expected" in str(
        err.message
    )


def _describe(err: openai.OpenAIError) -> str:
    if isinstance(err, openai.APIStatusError):
        return f"HTTP {err.status_code}: {err.message}"
    if isinstance(err, openai.APITimeoutError):
        return "request timed out"
    if isinstance(err, openai.APIConnectionError):
        return "could not connect to the model server"
    return str(err) or type(err).__name__
