from __future__ import annotations

import dataclasses
import hashlib
import io
import zipfile
from pathlib import Path

import pytest

from server.ai.model_files import (
    WHISPER_BUILDS,
    GgufBuild,
    ModelFileError,
    WheelModel,
    WhisperBuild,
    assemble,
    wheel_model,
    whisper_builds_needed,
    whisper_model_dir,
)
from server.settings import STT_MODELS, Settings


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


@dataclasses.dataclass(frozen=True)
class LocalWhisper(WhisperBuild):
    root: Path = Path()

    def package_path(self, module_name: str, relative: str) -> Path:
        return self.root / module_name / relative


def _whisper(tmp_path: Path, parts: list[bytes], sha: str | None = None) -> LocalWhisper:
    bins = []
    for i, data in enumerate(parts, 1):
        path = tmp_path / f"pkg{i}" / "data" / f"model.bin.part{i}"
        path.parent.mkdir(parents=True)
        path.write_bytes(data)
        bins.append((f"pkg{i}", f"data/model.bin.part{i}"))
    last = tmp_path / f"pkg{len(parts)}" / "data"
    for name in ("config.json", "tokenizer.json", "vocabulary.json"):
        (last / name).write_text("{}")
    whole = b"".join(parts)
    names = ("config.json", "tokenizer.json", "vocabulary.json")
    files = tuple((f"pkg{len(parts)}", f"data/{n}") for n in names)
    return LocalWhisper(
        name="base", description="test whisper", bin_parts=tuple(bins), files=files,
        size_bytes=len(whole), sha256=sha or hashlib.sha256(whole).hexdigest(), root=tmp_path,
    )  # fmt: skip


def test_every_stt_model_setting_has_a_packaged_build() -> None:
    assert tuple(WHISPER_BUILDS) == STT_MODELS
    for build in WHISPER_BUILDS.values():
        assert len(build.sha256) == 64 and build.size_bytes > 50_000_000
        assert {Path(rel).name for _, rel in build.files} >= {"config.json", "tokenizer.json"}


def test_a_whisper_model_in_parts_is_assembled_and_verified_once(tmp_path: Path) -> None:
    build = _whisper(tmp_path, [b"abc" * 1000, b"def" * 500])
    models = tmp_path / "models"
    path = whisper_model_dir(build, models)
    assert path == models / "whisper-base"
    assert (path / "model.bin").read_bytes() == b"abc" * 1000 + b"def" * 500
    assert {p.name for p in path.iterdir()} >= {"config.json", "tokenizer.json", "vocabulary.json"}
    seen: list[tuple[int, int]] = []
    assert whisper_model_dir(build, models, lambda d, t: seen.append((d, t))) == path
    assert seen == []  # trusted by its marker: not hashed again


def test_a_whole_whisper_model_is_used_where_its_package_put_it(tmp_path: Path) -> None:
    build = _whisper(tmp_path, [b"tiny" * 100])
    path = whisper_model_dir(build, tmp_path / "models")
    assert path == tmp_path / "pkg1" / "data"
    assert (tmp_path / "models" / "whisper-base.sha256").exists()


def test_a_whisper_checksum_mismatch_is_a_clear_error(tmp_path: Path) -> None:
    build = _whisper(tmp_path, [b"abc", b"def"], sha="0" * 64)
    with pytest.raises(ModelFileError, match="Checksum mismatch for test whisper"):
        whisper_model_dir(build, tmp_path / "models")
    assert not (tmp_path / "models" / "whisper-base" / "model.bin").exists()


def test_a_missing_whisper_package_says_how_to_install_it() -> None:
    build = dataclasses.replace(WHISPER_BUILDS["base"], bin_parts=(("no_such_pkg_x", "m"),))
    with pytest.raises(ModelFileError, match="make setup"):
        whisper_model_dir(build, Path("/nonexistent"))


def test_make_models_verifies_the_whisper_models_the_settings_load() -> None:
    names = [b.name for b in whisper_builds_needed(Settings())]
    assert names == list(dict.fromkeys([Settings().stt_model, Settings().stt_second_pass_model]))
    custom = dataclasses.replace(Settings(), stt_model_dir="/srv/w")
    assert [b.name for b in whisper_builds_needed(custom)] == [Settings().stt_second_pass_model]
    assert len(whisper_builds_needed(Settings(), everything=True)) == len(STT_MODELS)


# ------------------------------------------------------------------ a model inside a wheel


def _wheel_build(content: bytes, wheel: bytes) -> WheelModel:
    return WheelModel(
        description="test turn model",
        requirement="some-framework==1.0",
        wheel_sha256=hashlib.sha256(wheel).hexdigest(),
        member="pkg/data/model.onnx",
        filename="model.onnx",
        size_bytes=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
    )


def _zip(member: str, content: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(member, content)
        archive.writestr("pkg/__init__.py", "")
    return buffer.getvalue()


def test_a_model_is_taken_out_of_its_wheel_verified_and_then_trusted(tmp_path: Path) -> None:
    content = b"onnx bytes" * 100
    wheel = _zip("pkg/data/model.onnx", content)
    build = _wheel_build(content, wheel)
    fetched: list[str] = []

    def fetch(requirement: str, dest: Path) -> Path:
        fetched.append(requirement)
        path = dest / "some_framework-1.0-py3-none-any.whl"
        path.write_bytes(wheel)
        return path

    with pytest.raises(ModelFileError, match="make models"):
        wheel_model(build, tmp_path, fetch=fetch)  # the server never downloads
    assert fetched == []
    path = wheel_model(build, tmp_path, download=True, fetch=fetch)
    assert path.read_bytes() == content and fetched == ["some-framework==1.0"]
    assert {p.name for p in tmp_path.iterdir()} == {"model.onnx", "model.onnx.sha256"}
    assert wheel_model(build, tmp_path, download=True, fetch=fetch) == path
    assert fetched == ["some-framework==1.0"]  # verified once, then trusted


def test_a_wheel_or_member_that_is_not_the_pinned_one_is_refused(tmp_path: Path) -> None:
    content = b"onnx bytes"
    wheel = _zip("pkg/data/model.onnx", content)

    def fetch_other(requirement: str, dest: Path) -> Path:
        path = dest / "x.whl"
        path.write_bytes(_zip("pkg/data/model.onnx", b"something else"))
        return path

    with pytest.raises(ModelFileError, match="Checksum mismatch for the some-framework"):
        wheel_model(_wheel_build(content, wheel), tmp_path, download=True, fetch=fetch_other)
    # The right wheel, but its member is not the pinned model:
    tampered = dataclasses.replace(_wheel_build(content, wheel), sha256="0" * 64)

    def fetch(requirement: str, dest: Path) -> Path:
        path = dest / "x.whl"
        path.write_bytes(wheel)
        return path

    with pytest.raises(ModelFileError, match="Checksum mismatch for test turn model"):
        wheel_model(tampered, tmp_path, download=True, fetch=fetch)
    assert not (tmp_path / "model.onnx").exists()
