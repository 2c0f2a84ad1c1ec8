"""Speculative decoding for the embedded model: the 0.5B model drafting for the 1.5B one
(the setting's parsing is in test_settings_owner; the real server in test_real_llm)."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.ai import embedded
from server.ai.model_files import GgufBuild
from server.settings import Settings


def test_the_draft_is_set_in_xllamacpps_params() -> None:
    import xllamacpp

    params = xllamacpp.CommonParams()
    assert params.speculative.types == [
        xllamacpp.common_speculative_type.COMMON_SPECULATIVE_TYPE_NONE
    ]
    embedded._set_draft(params, Path("/models/draft.gguf"), threads=2, draft_max=5)
    # The path alone would load the draft model and never draft: the type turns it on.
    assert params.speculative.types == [
        xllamacpp.common_speculative_type.COMMON_SPECULATIVE_TYPE_DRAFT_SIMPLE
    ]
    draft = params.speculative.draft
    assert draft.mparams.path == "/models/draft.gguf"
    assert draft.cpuparams.n_threads == draft.cpuparams_batch.n_threads == 2
    assert draft.cache_type_k == draft.cache_type_v == xllamacpp.ggml_type.GGML_TYPE_Q8_0
    assert draft.n_max == 5


@pytest.mark.parametrize(("draft", "expected"), [("off", None), ("fast", "fast.gguf")])
async def test_the_app_starts_the_embedded_server_with_the_draft_it_is_set_to(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, draft: str, expected: str | None
) -> None:
    async def started(self: embedded.EmbeddedLlamaServer) -> None:
        return None

    def assemble(build: GgufBuild, models_dir: Path, progress: object) -> Path:
        return models_dir / f"{build.profile}.gguf"

    monkeypatch.setattr(embedded, "assemble", assemble)
    monkeypatch.setattr(embedded.EmbeddedLlamaServer, "start_async", started)
    settings = Settings(data_dir=tmp_path, llm_draft=draft)  # type: ignore[arg-type]
    server = await embedded.start_embedded_llm(settings)
    assert server.model_path == tmp_path / "models" / "quality.gguf"
    assert server.draft_model_path == (None if expected is None else tmp_path / "models" / expected)
