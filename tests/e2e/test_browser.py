"""A keyboard-only typed interview in headless Chromium, with axe-core on every page.

Needs Debian's ``chromium`` (never ``playwright install``), the ``playwright`` package and
``npm ci`` in this folder (axe-core); ``make test`` installs all three.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from server.services.plans import PLANS
from server.settings import Settings
from tests.fakes import OPENING, FakeChatModel
from tests.live import serve

# Not ``db``-marked: the data layer runs on both databases in the integration tests.
pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
DATA = Path(__file__).parents[1] / "data"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]

# `make test` installs all three; a missing one is a failure, never a silent skip.
if not CHROMIUM.exists():
    pytest.fail("Debian chromium is missing: run `make test` (apt-get install chromium)", False)
if not AXE.exists():
    pytest.fail("axe-core is missing: run `make test` (npm ci in tests/e2e)", False)
from playwright import sync_api  # noqa: E402


@pytest.fixture
def live_server(settings: Settings, db: None) -> Iterator[str]:
    """The real app on a free port, with the fake LLM injected through the factory."""
    from server.app import create_app

    with serve(create_app(settings, llm=FakeChatModel())) as url:
        yield url


@pytest.fixture
def page(live_server: str) -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        # Reduced motion (a setting the app honours) keeps fade-ins from racing the axe checks.
        context = browser.new_context(
            base_url=live_server, accept_downloads=True, reduced_motion="reduce"
        )
        page = context.new_page()
        page.set_default_timeout(15_000)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        yield page
        context.close()
        browser.close()
        assert not errors, f"JavaScript errors: {errors}"


def _axe(page: Any, name: str) -> None:
    # Evaluated over the DevTools protocol: the page's Content-Security-Policy (rightly) refuses
    # an injected <script> tag, and the test must not weaken it to run axe.
    page.evaluate(AXE.read_text() + "\n;undefined")
    violations = page.evaluate(
        """async (tags) => {
            // Judge the settled page: a message fading in is briefly low-contrast by design.
            const finite = document.getAnimations().filter(
                a => a.effect && a.effect.getComputedTiming().iterations !== Infinity);
            await Promise.all(finite.map(a => a.finished.catch(() => null)));
            const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 3).map(n => n.target.join(" ")),
            }));
        }""",
        AXE_TAGS,
    )
    assert violations == [], f"axe on {name}: {violations}"


def _tab_to(page: Any, selector: str, *, limit: int = 60) -> None:
    """Press Tab (only Tab) until the element matching ``selector`` has focus."""
    target = page.locator(selector)
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("el => el === document.activeElement"):
            # Focus must be visible wherever it lands (WCAG 2.4.7).
            outline = target.evaluate("el => getComputedStyle(el).outlineStyle")
            assert outline != "none", f"no visible focus on {selector}"
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_keyboard_only_typed_interview(page: Any, tmp_path: Path) -> None:
    page.goto("/")
    _axe(page, "home (empty)")
    _tab_to(page, ".hero-action a")
    page.keyboard.press("Enter")
    page.wait_for_url("**/new")
    _axe(page, "new interview")

    # Submitting an empty form shows the server's errors next to the fields.
    _tab_to(page, "#start-button")
    page.keyboard.press("Enter")
    page.locator("#error-summary").wait_for(state="visible")
    assert page.locator("#job_title-error").is_visible()
    assert page.locator("#cv-error").is_visible()
    assert page.evaluate("document.activeElement.id") == "error-summary"
    assert page.locator("#job_title").get_attribute("aria-invalid") == "true"
    _axe(page, "new interview with errors")

    page.keyboard.press("Shift+Tab")  # back into the page from the summary
    _tab_to(page, "#job_title")
    page.keyboard.type("Senior Python Backend Engineer")
    _tab_to(page, "#company_name")
    page.keyboard.type("Fernway Health")
    _tab_to(page, "#job_description")
    page.keyboard.insert_text((DATA / "sample_job_description.txt").read_text())
    _tab_to(page, "#cv_file")
    # Space on the focused file input opens the chooser. A cold headless Chromium sometimes
    # drops the first press, so press again (still only the keyboard) before giving up.
    for attempt in range(3):
        try:
            with page.expect_file_chooser(timeout=8000) as chooser:
                page.keyboard.press("Space")
            break
        except sync_api.TimeoutError:
            if attempt == 2:
                raise
            assert page.evaluate("document.activeElement.id") == "cv_file"
    chooser.value.set_files(str(DATA / "sample_cv.txt"))
    # A radio group is one Tab stop; the arrows choose. Easy: no follow-ups on these short
    # typed answers (the room's keyboard flow is under test, not the interviewer's policy).
    _tab_to(page, "#mode-mixed")
    page.keyboard.press("ArrowDown")  # the next kind of interview: behavioural (STAR)
    assert page.locator("#mode-behavioural").is_checked()
    _tab_to(page, "#difficulty-realistic")
    page.keyboard.press("ArrowLeft")
    assert page.locator("#difficulty-easy").is_checked()
    _tab_to(page, "#question_count")
    page.keyboard.press("Control+A")
    page.keyboard.type("3")
    _tab_to(page, "#start-button")
    page.keyboard.press("Enter")

    page.wait_for_url("**/sessions/*")
    status = page.locator("#room-status")
    log = page.locator("#transcript")
    assert log.get_attribute("role") == "log"
    assert log.get_attribute("aria-live") == "polite"
    assert status.get_attribute("role") == "status"
    for k in (1, 2, 3):
        page.locator("#progress-label", has_text=f"Question {k} of 3").wait_for()
        asked = OPENING if k == 1 else f"Question {k}:"  # the opening is fixed text
        page.locator(".msg-assistant", has_text=asked).wait_for()
        assert "Your turn" in status.inner_text()
        if k == 2:
            _axe(page, "interview room mid-turn")
        _tab_to(page, "#answer")
        page.keyboard.type(f"Answer {k}: I designed the billing API with PostgreSQL and Redis.")
        if k == 1:
            page.keyboard.press("Control+Enter")
        else:
            _tab_to(page, "#send-button")
            page.keyboard.press("Enter")
        page.locator(".msg-user", has_text=f"Answer {k}:").wait_for()

    page.locator("#finished-panel").wait_for(state="visible")
    assert page.evaluate("document.activeElement.id") == "report-link"
    _axe(page, "interview room finished")
    page.keyboard.press("Enter")

    page.wait_for_url("**/report")
    page.locator(".score-banner").wait_for()  # after "Writing your feedback…" and a reload
    # The kind of interview chosen by keyboard was held: its plan's first question, and the
    # report says which interview it was.
    assert page.locator(".transcript-list", has_text=PLANS["behavioural"][0].plain).count() == 1
    assert "Behavioural (STAR) interview · Easy" in page.locator("main").inner_text()
    # The score comes from the evidence rubric: read the stored one and compare the page to it.
    session_id = page.url.split("/sessions/")[1].split("/")[0]
    score = page.request.get(f"/api/sessions/{session_id}/feedback").json()["score"]
    assert page.locator(".score-value").inner_text() == f"{score}/10"
    assert page.locator(".score-circle").count() == 10
    assert page.locator(".score-circle.is-filled").count() == score
    assert page.locator(".score-circles").get_attribute("aria-label") == f"{score} out of 10"
    for heading in ("Strengths", "Areas for Improvement", "CV Improvement Suggestions"):
        assert page.get_by_role("heading", name=heading).is_visible()
    assert page.locator("#print-button").is_visible()
    assert page.locator(".transcript-list", has_text="Answer 3:").is_visible()
    _axe(page, "report")

    _tab_to(page, "a[href$='report.pdf']")
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    pdf_path = tmp_path / "report.pdf"
    download.value.save_as(pdf_path)
    from pypdf import PdfReader

    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf_path.read_bytes())).pages)
    text = " ".join(text.split())
    for needle in (f"{score}/10", "Overall Performance", "CV Improvement Suggestions", "Answer 2:"):
        assert needle in text, needle

    # Home: the session is listed with its score; delete it by keyboard, via the dialog.
    page.goto("/")
    assert page.locator(".session-score", has_text=f"{score}/10").is_visible()
    _axe(page, "home with an interview")
    _tab_to(page, "button[data-delete]")
    page.keyboard.press("Enter")
    dialog = page.locator("dialog.confirm")
    dialog.wait_for()
    assert page.evaluate("document.activeElement.textContent") == "Cancel"
    _axe(page, "delete dialog")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.locator("#home-status", has_text="Deleted").wait_for()
    assert page.locator(".session").count() == 0
    assert page.evaluate("document.activeElement.id") == "sessions-heading"

    page.goto("/sessions/no-such-session")
    assert page.get_by_role("heading", name="We can’t find that interview").is_visible()
    _axe(page, "not found")


def _store_recording(public_id: str, message_id: int, pcm_16k: bytes) -> None:
    """Keep a recording for an answer as the voice path would (the repository, directly)."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from models.tables import InterviewSession
    from server.repositories.sessions import RecordingRepository

    async def store() -> None:
        row = (
            await InterviewSession.select(InterviewSession.id)
            .where(InterviewSession.public_id == public_id)
            .first()
        )
        assert row is not None
        await RecordingRepository().save(row["id"], message_id, sample_rate_hz=16_000, pcm=pcm_16k)

    # Its own thread and event loop: Playwright's sync API holds this thread's.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, store()).result()


def test_report_plays_a_recorded_answer_and_deletes_it_by_keyboard(page: Any) -> None:
    import numpy as np

    cv = (DATA / "sample_cv.txt").read_text()
    jd = (DATA / "sample_job_description.txt").read_text()
    page.goto("/")  # the visitor identity comes with a page load
    created = page.request.post(
        "/api/sessions",
        multipart={
            "job_title": "Backend Engineer",
            "company_name": "Fernway Health",
            "job_description": jd,
            "cv_text": cv,
            "question_count": "3",
        },
    )
    assert created.status == 201, created.text()
    session_id = created.json()["id"]
    base = f"/api/sessions/{session_id}"

    # The room: the choice is a labelled checkbox, on by default, switched by keyboard.
    page.goto(f"/sessions/{session_id}")
    choice = page.get_by_role("checkbox", name="Keep my answers’ audio for playback")
    assert choice.is_checked()
    _tab_to(page, "#record-audio")
    page.keyboard.press("Space")
    page.locator("#record-audio-status", has_text="no longer kept").wait_for()
    assert page.request.get(f"{base}/recording").json()["record_audio"] is False
    page.keyboard.press("Space")
    page.locator("#record-audio-status", has_text="kept from your next answer").wait_for()
    assert page.request.get(f"{base}/recording").json()["record_audio"] is True

    assert page.request.post(f"{base}/next").ok
    answer = page.request.post(f"{base}/answers", data={"text": "I built the billing API."})
    assert answer.status == 201, answer.text()
    message_id = answer.json()["answer"]["id"]
    assert page.request.post(f"{base}/end").ok
    # 1.5 s of a 220 Hz tone, as 16 kHz PCM16.
    t = np.arange(24_000, dtype=np.float32) / 16_000
    tone = (0.3 * np.sin(2 * np.pi * 220 * t) * 32767).astype("<i2").tobytes()
    _store_recording(session_id, message_id, tone)

    statuses: list[tuple[int, str | None]] = []
    page.on(
        "response",
        lambda r: (
            statuses.append((r.status, r.request.headers.get("range")))
            if r.url.endswith("/audio")
            else None
        ),
    )
    page.goto(f"/sessions/{session_id}/report")
    page.locator(".score-banner").wait_for()  # the report is written, then the page reloads
    player = page.locator("audio")
    assert player.count() == 1
    assert player.get_attribute("preload") == "none"
    assert page.locator(".answer-audio-label").inner_text() == "Play answer 1"
    _axe(page, "report with a recording")
    # The browser loads the recording through the audio route (range requests included).
    loaded = player.evaluate(
        """a => new Promise((resolve, reject) => {
            a.addEventListener("loadedmetadata", () => resolve(
                {duration: a.duration, readyState: a.readyState}), {once: true});
            a.addEventListener("error", () => reject(new Error(
                "audio error " + (a.error && a.error.code))), {once: true});
            a.preload = "auto";
            a.load();
        })"""
    )
    assert loaded["readyState"] >= 1
    assert abs(loaded["duration"] - 1.5) < 0.05, loaded
    assert any(status == 206 and asked for status, asked in statuses), statuses
    assert all(status in (200, 206) for status, _ in statuses), statuses
    # And it plays: the time moves on (headless Chromium plays without a user gesture).
    played = player.evaluate(
        """async a => {
            await a.play();
            await new Promise(resolve => a.addEventListener("timeupdate", resolve, {once: true}));
            a.pause();
            return a.currentTime;
        }"""
    )
    assert played > 0

    _tab_to(page, "#delete-recordings")
    page.keyboard.press("Enter")
    page.locator("dialog.confirm").wait_for()
    assert page.evaluate("document.activeElement.textContent") == "Cancel"
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.locator("#recordings-status", has_text="deleted").wait_for()
    assert page.evaluate("document.activeElement.id") == "recordings-status"
    assert page.locator("audio").count() == 0
    assert page.request.get(f"{base}/messages/{message_id}/audio").status == 404
    _axe(page, "report after deleting the recordings")


def test_download_and_delete_all_my_data_by_keyboard(page: Any, tmp_path: Path) -> None:
    import zipfile

    page.goto("/")
    created = page.request.post(
        "/api/sessions",
        multipart={
            "job_title": "Backend Engineer",
            "company_name": "Fernway Health",
            "job_description": (DATA / "sample_job_description.txt").read_text(),
            "cv_text": (DATA / "sample_cv.txt").read_text(),
            "question_count": "3",
        },
    )
    assert created.ok
    session_id = created.json()["id"]
    page.goto("/")
    _axe(page, "home with its data controls")

    _tab_to(page, "#export-all")
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    archive = tmp_path / download.value.suggested_filename
    download.value.save_as(archive)
    assert archive.name.startswith("viva-my-data-") and archive.suffix == ".zip"
    names = zipfile.ZipFile(archive).namelist()
    assert "README.txt" in names and any(session_id in n for n in names)

    _tab_to(page, "#delete-all")
    page.keyboard.press("Enter")
    page.locator("dialog.confirm").wait_for()
    assert page.evaluate("document.activeElement.textContent") == "Cancel"
    _axe(page, "delete-all dialog")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.locator("#home-status", has_text="All your data was deleted (1 interview)").wait_for()
    assert page.locator(".session").count() == 0
    assert page.locator("#empty-state").is_visible()
    assert page.evaluate("document.activeElement.id") == "sessions-heading"
    page.reload()  # a new visitor now: nothing is listed
    assert page.locator(".session").count() == 0
    assert page.request.get(f"/api/sessions/{session_id}").status == 404


def test_skip_a_question_by_keyboard_when_typing(page: Any) -> None:
    page.goto("/")
    created = page.request.post(
        "/api/sessions",
        multipart={
            "job_title": "Backend Engineer",
            "company_name": "Fernway Health",
            "job_description": (DATA / "sample_job_description.txt").read_text(),
            "cv_text": (DATA / "sample_cv.txt").read_text(),
            "question_count": "3",
        },
    )
    session_id = created.json()["id"]
    page.goto(f"/sessions/{session_id}")
    page.locator("#progress-label", has_text="Question 1 of 3").wait_for()
    page.locator("#room-status", has_text="Your turn").wait_for()
    assert page.locator("#skip-button").get_attribute("aria-keyshortcuts") == "Alt+Shift+S"
    page.keyboard.press("Alt+Shift+S")
    page.locator("#progress-label", has_text="Question 2 of 3").wait_for()
    page.locator("#transcript .msg-user.is-skipped", has_text="Skipped this question").wait_for()
    _axe(page, "room after skipping a question")
    _tab_to(page, "#skip-button")
    page.keyboard.press("Enter")
    page.locator("#progress-label", has_text="Question 3 of 3").wait_for()
    turns = [
        m
        for m in page.request.get(f"/api/sessions/{session_id}").json()["messages"]
        if m["role"] == "user"
    ]
    assert [t["skipped"] for t in turns] == [True, True]
