"""The voice interview room in headless Chromium against the real speech engines.

Whisper, Piper and Silero are real; the interviewer is the fake LLM. The candidate's answers
are synthesized with Piper and spoken into the page's microphone; the microphone itself is
Chromium's fake capture device (``--use-fake-device-for-media-stream`` with a silent WAV from
``--use-file-for-fake-audio-capture``), so getUserMedia, the AudioWorklet and the socket are
the app's own. Chromium starts its fake file when the stream opens and loops it, which cannot
be lined up with the interviewer's turns; so a small init script mixes each answer into that
same microphone stream when the test says so (``window.__vivaSay``), after the room is
listening. What the page does with its socket and its audio is watched from the outside, by
another init script (``OBSERVE_VOICE``); the app's code carries no test hooks. Needs what
test_browser.py needs (``make test`` installs it).
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import io
import re
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from server.container import load_speech
from server.settings import Settings
from server.voice.engines import SpeechEngines
from server.voice.tts import PiperTTS
from tests.e2e.test_browser import CHROMIUM, CHROMIUM_ARGS, _axe
from tests.fakes import OPENING, FakeChatModel
from tests.helpers import wait_for_js
from tests.live import serve

pytestmark = pytest.mark.e2e

from playwright import sync_api  # noqa: E402

DATA = Path(__file__).parents[1] / "data"
TIMEOUT_MS = 60_000  # real models on two shared cores: generous, but every wait is on a condition
MEDIA_ARGS = [
    "--use-fake-device-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
]
ANSWERS = [
    (
        "I led the billing migration to Postgres and we cut failed payments by forty percent.",
        {"billing", "migration", "payments", "percent", "forty"},
    ),
    (
        "I find the slow queries first, then I add indexes and a Redis cache.",
        {"queries", "indexes", "cache", "slow", "redis"},
    ),
]

# Mixes test speech into the microphone stream the page gets from the fake capture device.
SPEAK_INTO_MIC = """
(() => {
  const devices = navigator.mediaDevices;
  if (!devices || !devices.getUserMedia) return;
  const original = devices.getUserMedia.bind(devices);
  let context = null;
  let mixer = null;
  devices.getUserMedia = async (constraints) => {
    const device = await original(constraints);
    window.__vivaMicConstraints = constraints;
    context = new AudioContext();
    context.__vivaTestSpeech = true; // not the app's: OBSERVE_VOICE leaves it out
    mixer = context.createMediaStreamDestination();
    context.createMediaStreamSource(device).connect(mixer);
    return mixer.stream;
  };
  window.__vivaSay = async (wavBase64) => {
    const bytes = Uint8Array.from(atob(wavBase64), (c) => c.charCodeAt(0));
    const buffer = await context.decodeAudioData(bytes.buffer);
    const source = context.createBufferSource();
    source.buffer = buffer;
    source.connect(mixer);
    window.__vivaSpoken = new Promise((resolve) => { source.onended = resolve; });
    source.start();
    return buffer.duration;
  };
})();
"""

# Watches the app from the outside: its WebSocket (connections, microphone frames sent,
# transcripts received) and the interviewer audio it schedules; `window.__vivaDrop()` closes
# the socket as a network failure would (to see the reconnect).
OBSERVE_VOICE = """
(() => {
  const seen = {
    connects: 0, framesSent: 0, partials: 0, finals: 0, chunksScheduled: 0, secondsScheduled: 0,
  };
  window.__vivaSeen = seen;
  let socket = null;
  const NativeSocket = window.WebSocket;
  window.WebSocket = class extends NativeSocket {
    constructor(...args) {
      super(...args);
      seen.connects += 1;
      socket = this;
      this.addEventListener("message", (message) => {
        if (typeof message.data !== "string") return;
        const type = JSON.parse(message.data).type;
        if (type === "final_transcript") seen.finals += 1;
        if (type === "partial_transcript") seen.partials += 1;
      });
    }
    send(data) {
      if (typeof data !== "string") seen.framesSent += 1;
      return super.send(data);
    }
  };
  const start = AudioBufferSourceNode.prototype.start;
  AudioBufferSourceNode.prototype.start = function (...args) {
    if (!this.context.__vivaTestSpeech) {
      seen.chunksScheduled += 1;
      seen.secondsScheduled += this.buffer ? this.buffer.duration : 0;
    }
    return start.apply(this, args);
  };
  window.__vivaDrop = () => socket.close(4000, "Dropped on purpose.");
})();
"""


def _wav(pcm16: bytes, sample_rate_hz: int, *, lead_s: float, tail_s: float) -> bytes:
    silence = lambda s: b"\x00\x00" * int(sample_rate_hz * s)  # noqa: E731
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate_hz)
        w.writeframes(silence(lead_s) + pcm16 + silence(tail_s))
    return out.getvalue()


@pytest.fixture(scope="module")
def engines() -> SpeechEngines:
    return asyncio.run(
        load_speech(
            dataclasses.replace(
                Settings(), stt_beam_size=1, turn_model="off", stt_second_pass=False
            )
        )
    )


@pytest.fixture(scope="module")
def spoken_answers(candidate_voice: PiperTTS) -> list[str]:
    """Each answer as a base64 WAV: speech, then silence long enough to end the turn."""

    async def synthesize(text: str) -> bytes:
        return b"".join([chunk.data async for chunk in candidate_voice.synthesize(text)])

    rate = candidate_voice.sample_rate_hz
    return [
        base64.b64encode(_wav(asyncio.run(synthesize(text)), rate, lead_s=0.3, tail_s=1.5)).decode()
        for text, _ in ANSWERS
    ]


@pytest.fixture
def voice_server(settings: Settings, db: None, engines: SpeechEngines) -> Iterator[str]:
    from server.app import create_app

    with serve(create_app(settings, llm=FakeChatModel(), speech=engines)) as url:
        yield url


@pytest.fixture(scope="module")
def silent_mic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("mic") / "room-tone.wav"
    path.write_bytes(_wav(b"", 48_000, lead_s=2.0, tail_s=0))
    return path


def _browser(p: Any, extra_args: list[str]) -> Any:
    return p.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS + MEDIA_ARGS + extra_args, headless=True
    )


def _page(browser: Any, base_url: str, errors: list[str]) -> Any:
    context = browser.new_context(base_url=base_url, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.add_init_script(OBSERVE_VOICE)
    return page


def _stats(page: Any) -> dict[str, Any]:
    return dict(page.evaluate("() => ({...window.__vivaSeen})"))


def _wait_state(page: Any, state: str) -> None:
    page.locator(f'#room-status[data-voice-state="{state}"]').wait_for()


def _create_session_with_cv_upload(page: Any, questions: int) -> None:
    page.goto("/new")
    page.fill("#job_title", "Senior Python Backend Engineer")
    page.fill("#company_name", "Fernway Health")
    page.fill("#job_description", (DATA / "sample_job_description.txt").read_text())
    page.set_input_files("#cv_file", str(DATA / "sample_cv.txt"))
    page.check("#difficulty-easy")  # the room is under test: no follow-ups on short answers
    page.fill("#question_count", str(questions))
    page.click("#start-button")
    page.wait_for_url(re.compile(r".*/sessions/[^/]+$"))


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", text.lower()))


def test_spoken_interview_with_real_speech_engines(
    voice_server: str, spoken_answers: list[str], silent_mic: Path, tmp_path: Path
) -> None:
    errors: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = _browser(
            p, ["--use-fake-ui-for-media-stream", f"--use-file-for-fake-audio-capture={silent_mic}"]
        )
        page = _page(browser, voice_server, errors)
        page.context.grant_permissions(["microphone"])
        page.add_init_script(SPEAK_INTO_MIC)
        _create_session_with_cv_upload(page, questions=4)

        # The first question is spoken: audio scheduled, caption in the log, then listening.
        page.locator("#voice-panel").wait_for(state="visible")
        page.locator("#transcript .msg-assistant", has_text=OPENING).wait_for()
        _wait_state(page, "listening")
        page.locator("#progress-label", has_text="Question 1 of 4").wait_for()
        stats = _stats(page)
        assert stats["chunksScheduled"] > 5 and stats["secondsScheduled"] > 1, stats
        constraints = page.evaluate("window.__vivaMicConstraints")
        assert constraints["audio"]["echoCancellation"] is True
        wait_for_js(
            page, "window.__vivaSeen.framesSent > 25", timeout_s=TIMEOUT_MS / 1000
        )  # 0.5 s of mic
        assert page.locator("#mic-notice").is_hidden()
        assert page.locator("#mic-meter").get_attribute("role") == "meter"
        _axe(page, "voice room, listening")

        # Answer 1 hands-free (the pause ends it), answer 2 by push-to-talk (Space held on the
        # focused button: speech alone starts nothing, letting go ends the turn).
        for k, (wav, (_, expected)) in enumerate(zip(spoken_answers, ANSWERS, strict=True), 1):
            finals = _stats(page)["finals"]
            if k == 1:
                page.evaluate("(wav) => window.__vivaSay(wav)", wav)
                _wait_state(page, "hearing")
            else:
                page.click(".voice-settings summary")
                page.check("#mode-ptt")
                ptt = page.locator("#ptt-button")
                ptt.focus()
                _axe(page, "voice room, push-to-talk, settings open")
                page.evaluate("(wav) => window.__vivaSay(wav)", wav)
                page.evaluate("() => window.__vivaSpoken")  # VAD alone must not take it
                assert page.locator("#room-status").get_attribute("data-voice-state") == (
                    "listening"
                )
                page.keyboard.down("Space")
                _wait_state(page, "hearing")
                page.evaluate("(wav) => window.__vivaSay(wav)", wav)
                page.evaluate("() => window.__vivaSpoken")
                page.keyboard.up("Space")
            wait_for_js(page, f"window.__vivaSeen.finals > {finals}", timeout_s=TIMEOUT_MS / 1000)
            answer = page.locator("#transcript .msg-user").last.inner_text()
            assert len(_words(answer) & expected) >= 2, (answer, expected)
            # The answer was stored and the next question asked and spoken.
            page.locator("#progress-label", has_text=f"Question {k + 1} of 4").wait_for()
            page.locator("#transcript .msg-assistant", has_text=f"Question {k + 1}").wait_for()
            _wait_state(page, "listening")
        assert _stats(page)["partials"] >= 1  # live captions came while speaking
        assert page.locator("#live-caption").is_hidden()  # replaced by the final transcript

        # A typed answer travels on the socket and keeps the voice session in step.
        page.locator("#answer").fill("Answer 3: I wrote the incident review and added alerting.")
        page.locator("#answer").press("Control+Enter")
        page.locator("#transcript .msg-user", has_text="Answer 3:").wait_for()
        page.locator("#progress-label", has_text="Question 4 of 4").wait_for()
        page.locator("#transcript .msg-assistant", has_text="Question 4").wait_for()
        assert page.locator("#answer").input_value() == ""
        _wait_state(page, "listening")

        assert page.locator("#room-error").is_hidden()
        page.click("#end-button")
        page.locator("dialog.confirm button", has_text="End interview").click()
        page.wait_for_url("**/report")
        page.locator(".score-banner").wait_for()
        session_id = page.url.split("/sessions/")[1].split("/")[0]
        score = page.request.get(f"/api/sessions/{session_id}/feedback").json()["score"]
        assert page.locator(".score-value").inner_text() == f"{score}/10"
        assert page.locator(".score-circle").count() == 10
        for heading in ("Strengths", "Areas for Improvement", "CV Improvement Suggestions"):
            assert page.get_by_role("heading", name=heading).is_visible()
        messages = page.request.get(f"/api/sessions/{session_id}").json()["messages"]
        answers = [m["content"] for m in messages if m["role"] == "user"]
        assert len(answers) == 3 and answers[2].startswith("Answer 3:"), answers

        with page.expect_download() as download:
            page.click("a[href$='report.pdf']")
        pdf_path = tmp_path / "report.pdf"
        download.value.save_as(pdf_path)
        from pypdf import PdfReader

        text = " ".join(p.extract_text() for p in PdfReader(pdf_path).pages)
        text = " ".join(text.split())
        for needle in (
            f"{score}/10",
            "Strengths",
            "Areas for Improvement",
            "CV Improvement Suggestions",
        ):
            assert needle in text, needle
        browser.close()
    assert not errors, f"JavaScript errors: {errors}"


def test_microphone_denied_falls_back_to_typing(voice_server: str) -> None:
    errors: list[str] = []
    with sync_api.sync_playwright() as p:
        # No --use-fake-ui-for-media-stream and no permission granted: getUserMedia is refused.
        browser = _browser(p, ["--deny-permission-prompts"])
        page = _page(browser, voice_server, errors)
        page.goto("/")
        response = page.request.post(
            "/api/sessions",
            multipart={
                "job_title": "Data Analyst",
                "company_name": "Northwind",
                "job_description": (DATA / "sample_job_description.txt").read_text(),
                "cv_file": {
                    "name": "cv.txt",
                    "mimeType": "text/plain",
                    "buffer": (DATA / "sample_cv.txt").read_bytes(),
                },
                "question_count": "3",
                "difficulty": "easy",  # a short typed answer, and no follow-up on it
            },
        )
        assert response.ok, response.text()
        page.goto(f"/sessions/{response.json()['id']}")

        notice = page.locator("#mic-notice")
        notice.wait_for(state="visible")
        assert notice.get_attribute("role") == "alert"
        assert "microphone" in notice.inner_text() and "Type your answers" in notice.inner_text()
        assert page.locator("#mic-level").is_hidden()
        # The question is still spoken and captioned; the typed box has focus.
        page.locator("#transcript .msg-assistant", has_text=OPENING).wait_for()
        wait_for_js(page, "window.__vivaSeen.chunksScheduled > 0", timeout_s=TIMEOUT_MS / 1000)
        _wait_state(page, "listening")
        assert "type your answer" in page.locator("#room-status").inner_text()
        assert page.evaluate("document.activeElement.id") == "answer"
        assert _stats(page)["framesSent"] == 0
        _axe(page, "voice room, microphone denied")

        page.keyboard.type("Answer 1: I built the reporting pipeline in dbt and Airflow.")
        page.keyboard.press("Control+Enter")
        page.locator("#transcript .msg-user", has_text="Answer 1:").wait_for()
        page.locator("#progress-label", has_text="Question 2 of 3").wait_for()
        page.locator("#transcript .msg-assistant", has_text="Question 2").wait_for()
        _wait_state(page, "listening")

        # A dropped connection: "Reconnecting…", then the session resumes where it stands and
        # the pending question (spoken again) is not shown twice.
        page.evaluate("() => window.__vivaDrop()")
        _wait_state(page, "reconnecting")
        assert "Reconnecting" in page.locator("#room-status").inner_text()
        wait_for_js(page, "window.__vivaSeen.connects >= 2", timeout_s=TIMEOUT_MS / 1000)
        _wait_state(page, "speaking")
        _wait_state(page, "listening")
        assert page.locator("#transcript .msg-assistant", has_text="Question 2").count() == 1
        page.keyboard.type("Answer 2: I reconciled the finance numbers.")
        page.keyboard.press("Control+Enter")
        page.locator("#progress-label", has_text="Question 3 of 3").wait_for()
        assert page.locator("#room-error").is_hidden()
        browser.close()
    assert not errors, f"JavaScript errors: {errors}"


@pytest.fixture(scope="module")
def spoken_commands(candidate_voice: PiperTTS) -> dict[str, str]:
    """The commands said by Piper, as base64 WAVs (as ``spoken_answers``)."""

    async def synthesize(text: str) -> bytes:
        return b"".join([chunk.data async for chunk in candidate_voice.synthesize(text)])

    rate = candidate_voice.sample_rate_hz
    texts = {
        "repeat": "Could you repeat the question, please?",
        "skip": "Skip this question.",
        "end": "End the interview.",
    }
    return {
        name: base64.b64encode(
            _wav(asyncio.run(synthesize(text)), rate, lead_s=0.3, tail_s=1.5)
        ).decode()
        for name, text in texts.items()
    }


def test_voice_commands_by_speech_and_by_keyboard(
    voice_server: str,
    spoken_answers: list[str],
    spoken_commands: dict[str, str],
    silent_mic: Path,
) -> None:
    """Commands: "repeat the question", "skip this question" and "end the interview" said aloud
    (real Piper speech through the real microphone path, Silero and Whisper), "give me a
    moment" by its shortcut."""
    repeat, end = spoken_commands["repeat"], spoken_commands["end"]
    errors: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = _browser(
            p, ["--use-fake-ui-for-media-stream", f"--use-file-for-fake-audio-capture={silent_mic}"]
        )
        page = _page(browser, voice_server, errors)
        page.context.grant_permissions(["microphone"])
        page.add_init_script(SPEAK_INTO_MIC)
        _create_session_with_cv_upload(page, questions=3)
        page.locator("#transcript .msg-assistant", has_text=OPENING).wait_for()
        _wait_state(page, "listening")
        session_id = page.url.split("/sessions/")[1].split("/")[0]
        assert page.locator("#repeat-button").get_attribute("aria-keyshortcuts") == "Alt+Shift+R"

        scheduled = _stats(page)["chunksScheduled"]
        page.evaluate("(wav) => window.__vivaSay(wav)", repeat)
        page.locator("#transcript .msg-note", has_text="You said: repeat the question").wait_for()
        _wait_state(page, "speaking")
        _wait_state(page, "listening")
        assert _stats(page)["chunksScheduled"] > scheduled  # the question was spoken again
        assert page.locator("#transcript .msg-user").count() == 0

        page.keyboard.press("Alt+Shift+W")
        page.locator("#transcript .msg-note", has_text="You asked: give me a moment").wait_for()
        _wait_state(page, "listening")
        _axe(page, "voice room after a command")

        page.wait_for_timeout(1000)  # as a person would: past the interviewer's echo tail
        page.evaluate("(wav) => window.__vivaSay(wav)", spoken_commands["skip"])
        page.locator("#transcript .msg-note", has_text="You said: skip this question").wait_for()
        page.locator("#progress-label", has_text="Question 2 of 3").wait_for()
        _wait_state(page, "listening")

        page.evaluate("(wav) => window.__vivaSay(wav)", spoken_answers[0])
        page.locator("#progress-label", has_text="Question 3 of 3").wait_for()
        _wait_state(page, "listening")
        page.evaluate("(wav) => window.__vivaSay(wav)", end)
        page.wait_for_url("**/report")
        messages = page.request.get(f"/api/sessions/{session_id}").json()["messages"]
        browser.close()
    turns = [m for m in messages if m["role"] == "user"]
    assert [t["skipped"] for t in turns] == [True, False]  # the skipped question, then the answer
    assert "billing" in turns[1]["content"].lower()  # commands are never answers
    assert not errors, errors
