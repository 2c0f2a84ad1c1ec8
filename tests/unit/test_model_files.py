from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import pytest

from server.ai.model_files import GgufBuild, ModelFileError, assemble


@dataclasses.dataclass(frozen=True)
class LocalBuild(GgufBuild):
    parts_dir: Path = Path()

    def part_paths(self) -> list[Path]:
        return sorted(self.parts_dir.glob("part*.bin"))


def _build(tmp_path: Path, parts: list[bytes], sha: str | None = None) -> LocalBuild:
    for i, data in enumerate(parts, 1):
        (tmp_path / f"part{i:02d}.bin").write_bytes(data)
    whole = b"".join(parts)
    return LocalBuild(
        profile="fast", description="test model", filename="m.gguf", package_prefix="x",
        part_count=len(parts), size_bytes=len(whole),
        sha256=sha or hashlib.sha256(whole).hexdigest(), parts_dir=tmp_path,
    )  # fmt: skip


def test_assembles_verifies_and_reports_progress(tmp_path: Path) -> None:
    build = _build(tmp_path, [b"abc" * 1000, b"def" * 500])
    seen: list[tuple[int, int]] = []
    path = assemble(build, tmp_path / "out", lambda d, t: seen.append((d, t)))
    assert path.read_bytes() == b"abc" * 1000 + b"def" * 500
    assert seen[-1] == (4500, 4500)
    # Second call trusts the verified marker and does no work.
    seen.clear()
    assert assemble(build, tmp_path / "out", lambda d, t: seen.append((d, t))) == path
    assert seen == []


def test_checksum_mismatch_is_a_clear_error_and_leaves_nothing(tmp_path: Path) -> None:
    build = _build(tmp_path, [b"abc", b"def"], sha="0" * 64)
    with pytest.raises(ModelFileError, match="Checksum mismatch"):
        assemble(build, tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []


def test_wrong_total_size(tmp_path: Path) -> None:
    build = dataclasses.replace(_build(tmp_path, [b"abc"]), size_bytes=10)
    with pytest.raises(ModelFileError, match="expected 10"):
        assemble(build, tmp_path / "out")
