"""Screenshots of the web app for docs/screenshots/: home, new interview, the voice room
mid-turn, the report (desktop and phone width) and the PDF's first page.

Runs the real app on a throwaway SQLite database with its real default engines: the embedded
model asks the questions and writes the notes of every report shown, the evidence rubric
scores them; the pages are taken in Debian's headless Chromium, and the candidate's voice in
the room shot is Piper's, spoken into Chromium's fake microphone. Takes about ten minutes on
two cores (the model answers every typed answer, as in a real interview). Usage:
``.venv/bin/python scripts/screenshots.py [OUT_DIR]`` (default docs/screenshots; needs
``chromium``, ``playwright`` and ``pdftoppm``).
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import io
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import wave
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else ROOT / "docs" / "screenshots"
DATA = ROOT / "tests" / "data"

# The database is chosen from the environment when Piccolo is first imported: set it first.
_TMP = Path(tempfile.mkdtemp(prefix="viva-screenshots-"))
os.environ["VIVA_DATA_DIR"] = str(_TMP)
os.environ["VIVA_DATABASE_URL"] = f"sqlite:///{_TMP / 'screens.sqlite3'}"
os.environ.setdefault("VIVA_SECRET_KEY", "screenshots")
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Page, sync_playwright  # noqa: E402

from server.container import load_speech  # noqa: E402
from server.settings import Settings  # noqa: E402
from server.voice.engines import SpeechEngines  # noqa: E402
from tests.e2e.test_browser import CHROMIUM_ARGS  # noqa: E402
from tests.e2e.test_voice_room import SPEAK_INTO_MIC  # noqa: E402
from tests.helpers import wait_for_js  # noqa: E402

MODEL_TIMEOUT_MS = 600_000  # one reply or report on two cores, with room to spare


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _serve(speech: SpeechEngines) -> tuple[str, Any]:
    """The app with its real LLM (started by its own lifespan), on a free port."""
    import dataclasses

    import uvicorn

    from server.app import create_app
    from server.database import migrate

    asyncio.run(migrate())
    settings = dataclasses.replace(Settings.from_env(), migrate_on_startup=False)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, speech=speech),
            host="127.0.0.1",
            port=port,
            log_level="warning",
        )
    )
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:  # the embedded model loads first (a few seconds)
        time.sleep(0.1)
    return f"http://127.0.0.1:{port}", server


def _create(page: Page, title: str, company: str, questions: int = 3) -> str:
    page.goto("/")  # the visitor identity comes with a page load
    response = page.request.post(
        "/api/sessions",
        multipart={
            "job_title": title,
            "company_name": company,
            "job_description": (DATA / "sample_job_description.txt").read_text(),
            "cv_text": (DATA / "sample_cv.txt").read_text(),
            "question_count": str(questions),
        },
    )
    assert response.ok, response.text()
    session_id: str = response.json()["id"]
    return session_id


def _interview(page: Page, session_id: str, answers: list[str], *, finish: bool) -> None:
    """A typed interview through the API, as the keyboard path holds one: the real model
    replies to each answer, and writes the report's notes."""
    base = f"/api/sessions/{session_id}"
    assert page.request.post(f"{base}/next", timeout=MODEL_TIMEOUT_MS).ok
    for answer in answers:
        reply = page.request.post(
            f"{base}/answers", data={"text": answer}, timeout=MODEL_TIMEOUT_MS
        )
        assert reply.ok, reply.text()
    if finish:
        assert page.request.post(f"{base}/end", timeout=MODEL_TIMEOUT_MS).ok
        report = page.request.post(f"{base}/feedback", timeout=MODEL_TIMEOUT_MS)
        assert report.ok, report.text()


def _spoken_wav_base64(speech: SpeechEngines, text: str) -> str:
    async def synthesize() -> bytes:
        return b"".join([chunk.data async for chunk in speech.tts.synthesize(text)])

    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(speech.tts.sample_rate_hz)
        w.writeframes(asyncio.run(synthesize()) + b"\x00\x00" * speech.tts.sample_rate_hz)
    return base64.b64encode(out.getvalue()).decode()


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    speech = asyncio.run(
        load_speech(
            dataclasses.replace(
                Settings(), stt_beam_size=1, turn_model="off", stt_second_pass=False
            )
        )
    )
    spoken = _spoken_wav_base64(
        speech,
        "I'd start by measuring where the time goes: tracing on the checkout path, "
        "then the slowest queries first.",
    )
    silent_mic = _TMP / "room-tone.wav"
    with wave.open(str(silent_mic), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(48_000)
        w.writeframes(b"\x00\x00" * 96_000)
    base_url, server = _serve(speech)
    # A candidate of mixed strength, so the report shows strengths, real gaps and coaching:
    # a measured story, an approach without an example, and a short answer.
    answers = [
        "At Parcelly I owned the order tracking API. Last year it timed out at peak, so I "
        "profiled it, found an N plus one query in the Django ORM and rewrote it with "
        "select_related and two PostgreSQL indexes. As a result p95 went from 900 to 180 "
        "milliseconds, and I added a latency alert so we would see it coming next time.",
        "I usually start from the access patterns, then I add indexes and check the query "
        "plans with EXPLAIN ANALYZE before and after. For big tables we partition by month.",
        "We had a queue outage once and the team fixed it. I think we added some alerting "
        "afterwards.",
    ]
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=[
                    *CHROMIUM_ARGS,
                    "--use-fake-ui-for-media-stream",
                    "--use-fake-device-for-media-stream",
                    f"--use-file-for-fake-audio-capture={silent_mic}",
                    "--autoplay-policy=no-user-gesture-required",
                ],
            )
            context = browser.new_context(
                base_url=base_url, viewport={"width": 1280, "height": 900}, device_scale_factor=1
            )
            page = context.new_page()
            page.set_default_timeout(MODEL_TIMEOUT_MS)
            page.add_init_script(SPEAK_INTO_MIC)
            page.goto("/")  # gets the owner cookie

            # History for the progress chart: two roles, several scores.
            # (The score comes from the evidence rubric; the model writes the notes.)
            for title, company in [
                ("Senior Python Backend Engineer", "Acme"),
                ("Data Analyst", "Northwind"),
                ("Senior Python Backend Engineer", "Globex"),
                ("Data Analyst", "Initech"),
            ]:
                sid = _create(page, title, company)
                _interview(page, sid, answers[:2], finish=True)
            report_id = _create(page, "Senior Python Backend Engineer", "Fernway Health")
            _interview(page, report_id, answers, finish=True)
            room_id = _create(page, "Staff Platform Engineer", "Umbrella Health", questions=5)
            _interview(page, room_id, answers[:1], finish=False)

            page.goto("/")
            page.screenshot(path=OUT / "home.png", full_page=True)

            page.goto(f"/new?from={report_id}")
            page.screenshot(path=OUT / "new-interview.png", full_page=True)

            # The voice room while the candidate speaks: live caption, "Hearing you…", level.
            page.goto(f"/sessions/{room_id}")
            page.locator("#progress-label", has_text="Question 2 of 5").wait_for()
            page.locator('#room-status[data-voice-state="listening"]').wait_for()
            page.evaluate("(wav) => window.__vivaSay(wav)", spoken)
            wait_for_js(
                page,
                "document.getElementById('live-caption-text').textContent.split(' ').length > 4",
            )
            page.screenshot(path=OUT / "room-mid-turn.png", full_page=True)

            page.goto(f"/sessions/{report_id}/report")
            page.locator(".score-banner").wait_for()
            page.screenshot(path=OUT / "report.png", full_page=True)
            page.set_viewport_size({"width": 390, "height": 844})
            page.screenshot(path=OUT / "report-phone.png", full_page=True)

            pdf = page.request.get(f"/sessions/{report_id}/report.pdf")
            assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
            pdf_path = _TMP / "report.pdf"
            pdf_path.write_bytes(pdf.body())
            subprocess.run(
                [
                    "pdftoppm",
                    "-png",
                    "-r",
                    "80",
                    "-f",
                    "1",
                    "-l",
                    "1",
                    "-singlefile",
                    str(pdf_path),
                    str(OUT / "report-pdf-page1"),
                ],
                check=True,
            )
            browser.close()
    finally:
        server.should_exit = True
    for path in sorted(OUT.glob("*.png")):
        print(path)


if __name__ == "__main__":
    main()
