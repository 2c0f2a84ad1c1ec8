"""The browser client repeats none of the protocol's constants and carries no test hooks.

The server's ``hello`` states the formats, limits and close codes (docs/protocol.md); a
number copied into the JavaScript would silently disagree the day the server changes it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from server.voice.audio import INPUT_SAMPLE_RATE_HZ
from server.voice.protocol import (
    NO_RECONNECT_CLOSE_CODES,
    SILENCE_MS_MIN,
    VOICE_SPEED_MAX,
)

JS = Path(__file__).parents[2] / "web" / "static" / "js"
SOURCES = sorted(JS.glob("*.js"))


def _code(path: Path) -> str:
    """The file without its comments (a comment may name a number to explain it)."""
    text = re.sub(r"/\*.*?\*/", "", path.read_text(), flags=re.S)
    return "\n".join(line.split("//", 1)[0] for line in text.splitlines())


def test_there_is_a_client_to_check() -> None:
    names = {p.name for p in SOURCES}
    assert {"voice.js", "voice-socket.js", "voice-mic.js", "voice-playback.js"} <= names


# Numbers distinctive enough to search for. MAX_ANSWER_CHARS (8000) and SILENCE_MS_MAX (10000)
# are also a reconnect delay and a timeout of the client's own, so they are left out.
@pytest.mark.parametrize(
    "constant",
    [*NO_RECONNECT_CLOSE_CODES, INPUT_SAMPLE_RATE_HZ, SILENCE_MS_MIN, VOICE_SPEED_MAX],
)
def test_protocol_constants_come_from_hello(constant: float) -> None:
    pattern = re.compile(rf"(?<![\w.]){re.escape(str(constant))}(?![\w.])")
    found = [p.name for p in SOURCES if pattern.search(_code(p))]
    assert not found, f"{constant} is written into {found}; read it from the server's hello"


def test_no_test_hooks_in_the_app() -> None:
    hooks = [p.name for p in SOURCES if re.search(r"window\.__\w+", _code(p))]
    assert not hooks, f"test hooks in {hooks}: observe the page from the test instead"
