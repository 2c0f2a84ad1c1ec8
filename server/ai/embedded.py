"""The embedded default LLM: llama.cpp's OpenAI-compatible server, run in-process via xllamacpp."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from pathlib import Path
from typing import Any

import httpx

from server.ai.model_files import BUILDS, assemble, terminal_progress
from server.errors import AIServiceError
from server.settings import Settings

logger = logging.getLogger(__name__)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


HOST_PROMPT_CACHE_MIB = 512


class EmbeddedLlamaServer:
    """Serves one GGUF model on a loopback port for as long as this object is running.

    Each slot keeps one conversation's whole context, so llama.cpp's prompt cache turns a
    follow-up turn's prefill into a few new tokens; the app pins each interview to a slot
    (``llm.SlotPool``). ``context_tokens`` is per slot; llama.cpp allocates every slot's
    KV cache at load (8-bit: about 120 MB per slot of 8192 tokens for the 1.5B model).

    ``draft_model_path``: a smaller model with the same tokenizer that drafts tokens for this
    one to verify in a batch (llama.cpp's speculative decoding; the output is the model's
    own, drafted or not). ``draft_max``: tokens drafted per step (None: llama.cpp's default).
    """

    def __init__(
        self,
        model_path: Path,
        *,
        threads: int = 2,
        context_tokens: int = 8192,
        slots: int = 1,
        draft_model_path: Path | None = None,
        draft_max: int | None = None,
    ) -> None:
        self.model_path = model_path
        self.threads = threads
        self.context_tokens = context_tokens
        self.slots = slots
        self.draft_model_path = draft_model_path
        self.draft_max = draft_max
        self.port = 0
        self._server: Any = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self, ready_timeout_s: float = 120.0) -> None:
        """Load the model and wait until the server answers (blocking; call off the loop)."""
        import xllamacpp

        params = xllamacpp.CommonParams()
        params.model.path = str(self.model_path)
        params.n_ctx = self.context_tokens * self.slots
        params.n_parallel = self.slots
        params.cpuparams.n_threads = self.threads
        params.cpuparams_batch.n_threads = self.threads
        params.cache_prompt = True
        # 8-bit KV cache: two slots in the memory of one f16 slot (-210 MB RSS for the 1.5B
        # model), at the same prompt and generation speed on this CPU (needs flash attention,
        # which llama.cpp turns on for the CPU by default).
        params.cache_type_k = params.cache_type_v = xllamacpp.ggml_type.GGML_TYPE_Q8_0
        # Slots' prompts saved to RAM when another interview takes the slot over: bounded, so a
        # long-running server stays inside its memory budget (llama.cpp's default is 8 GiB).
        params.cache_ram_mib = HOST_PROMPT_CACHE_MIB
        if self.draft_model_path is not None:
            _set_draft(params, self.draft_model_path, self.threads, self.draft_max)
        self.port = _free_port()
        params.port = self.port
        params.hostnames = ["127.0.0.1"]
        started = time.perf_counter()
        self._server = xllamacpp.Server(params)
        deadline = started + ready_timeout_s
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.perf_counter() > deadline:
                self.stop()
                raise AIServiceError("The embedded language model did not start in time.")
            time.sleep(0.1)
        logger.info(
            "Embedded LLM %s%s ready on port %d in %.1f s",
            self.model_path.name,
            f" (drafted by {self.draft_model_path.name})" if self.draft_model_path else "",
            self.port,
            time.perf_counter() - started,
        )

    async def start_async(self) -> None:
        await asyncio.to_thread(self.start)

    def stop(self) -> None:
        # xllamacpp serves until the Server object is freed.
        self._server = None


def _set_draft(params: Any, path: Path, threads: int, draft_max: int | None) -> None:
    """Speculative decoding with a draft model, in xllamacpp's ``CommonParams``: the model
    path alone loads the draft model but drafts nothing; the type turns drafting on."""
    import xllamacpp

    spec = params.speculative
    spec.types = [xllamacpp.common_speculative_type.COMMON_SPECULATIVE_TYPE_DRAFT_SIMPLE]
    draft = spec.draft
    draft.mparams.path = str(path)
    draft.cpuparams.n_threads = threads
    draft.cpuparams_batch.n_threads = threads
    # The draft's own KV cache (as long as the target's, every slot): 8-bit like the target's.
    draft.cache_type_k = draft.cache_type_v = xllamacpp.ggml_type.GGML_TYPE_Q8_0
    if draft_max is not None:
        draft.n_max = draft_max


async def start_embedded_llm(settings: Settings) -> EmbeddedLlamaServer:
    """Assemble (first run only) and serve the configured embedded model."""
    build = BUILDS[settings.llm_profile]
    path = await asyncio.to_thread(
        assemble, build, settings.models_dir, terminal_progress(f"Assembling {build.description}")
    )
    draft_path = None
    if settings.llm_draft != "off":
        draft = BUILDS[settings.llm_draft]
        draft_path = await asyncio.to_thread(
            assemble,
            draft,
            settings.models_dir,
            terminal_progress(f"Assembling {draft.description} (draft)"),
        )
    server = EmbeddedLlamaServer(
        path,
        draft_model_path=draft_path,
        threads=settings.llm_threads,
        context_tokens=settings.llm_context_tokens,
        # One slot more than interviews: the answer notes' own (``notes.NOTES_CONVERSATION``),
        # so a note never holds up an interview's slot.
        slots=settings.llm_slots + 1,
    )
    await server.start_async()
    return server
