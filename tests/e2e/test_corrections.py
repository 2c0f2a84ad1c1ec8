"""The candidate corrects their answers by keyboard only, in the room and on the report page.

Uses the server and browser of test_browser.py (Debian chromium, axe-core; the fake LLM).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_browser import _axe, _tab_to, live_server, page  # noqa: F401 (fixtures)
from tests.fakes import OPENING
from tests.helpers import wait_for_js

pytestmark = pytest.mark.e2e

DATA = Path(__file__).parents[1] / "data"
HEARD = "Answer 1: I cached the price look-ups in readings."
SAID = "Answer 1: I cached the price look-ups in Redis."
SECOND = "Answer 2: I moved the ledger to PostgreSQL."
SECOND_SAID = "Answer 2: I moved the ledger to PostgreSQL and led the cut-over."


def _start(tab: Any) -> str:
    tab.goto("/")
    response = tab.request.post(
        "/api/sessions",
        multipart={
            "job_title": "Senior Python Backend Engineer",
            "company_name": "Fernway Health",
            "job_description": (DATA / "sample_job_description.txt").read_text(),
            "cv_text": (DATA / "sample_cv.txt").read_text(),
            "question_count": "3",
            "difficulty": "easy",  # short typed answers, and no follow-ups on them
        },
    )
    assert response.ok, response.text()
    session_id: str = response.json()["id"]
    tab.goto(f"/sessions/{session_id}")
    tab.locator(".msg-assistant", has_text=OPENING).wait_for()
    return session_id


def _answer(tab: Any, k: int, text: str) -> None:
    tab.locator("#progress-label", has_text=f"Question {k} of 3").wait_for()
    tab.locator("#room-status", has_text="Your turn").wait_for()
    tab.locator("#answer").fill(text)
    tab.locator("#answer").press("Control+Enter")
    tab.locator("#transcript .msg-user", has_text=text).wait_for()


def _focused(tab: Any) -> dict[str, Any]:
    result: dict[str, Any] = tab.evaluate(
        """() => {
            const el = document.activeElement;
            return {id: el.id, tag: el.tagName, cls: el.className, name: el.textContent,
                    label: el.labels && el.labels[0] ? el.labels[0].textContent : null};
        }"""
    )
    return result


def _status(tab: Any, text: str) -> None:
    wait_for_js(
        tab, "(text) => document.getElementById('edit-status').textContent === text", arg=text
    )


def test_correct_answers_by_keyboard_in_the_room_and_on_the_report(
    page: Any,  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
) -> None:
    session_id = _start(page)
    _answer(page, 1, HEARD)
    first = page.locator("#transcript .msg-user", has_text="Answer 1:")
    edit = first.locator(".msg-edit")
    edit.wait_for()  # the answer's id came from the API
    assert edit.inner_text().startswith("Edit")
    assert edit.evaluate("b => b.textContent") == "Edit answer 1"  # its accessible name

    # Edit → the text box has focus, labelled; Ctrl+Enter saves; focus returns to Edit.
    _tab_to(page, "#transcript .msg-user .msg-edit")
    page.keyboard.press("Enter")
    focused = _focused(page)
    assert focused["tag"] == "TEXTAREA" and focused["label"] == "Correct answer 1", focused
    assert page.evaluate("document.activeElement.value") == HEARD
    _axe(page, "interview room, correcting an answer")
    page.keyboard.press("Control+A")
    page.keyboard.type(SAID)
    page.keyboard.press("Control+Enter")
    first.locator(".msg-text", has_text=SAID).wait_for()
    assert first.locator(".msg-revised").inner_text() == "Corrected by you"
    assert "msg-edit" in _focused(page)["cls"]
    _status(page, "Answer 1 corrected.")

    # Escape cancels: nothing changes, and focus is back on Edit.
    page.keyboard.press("Enter")
    page.keyboard.type(" and something I never said")
    page.keyboard.press("Escape")
    assert first.locator(".msg-editor").count() == 0
    assert first.locator(".msg-text").inner_text() == SAID
    assert "msg-edit" in _focused(page)["cls"]
    _status(page, "Correction of answer 1 cancelled.")

    # An empty correction is refused in place, and the text box keeps focus.
    page.keyboard.press("Enter")
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.press("Control+Enter")
    assert first.locator(".field-error").inner_text().startswith("Type what you said")
    assert _focused(page)["tag"] == "TEXTAREA"
    page.keyboard.press("Escape")

    # The original is one keypress away.
    _tab_to(page, "#transcript .msg-user .msg-original summary")
    page.keyboard.press("Enter")
    assert first.locator(".msg-original p").inner_text() == HEARD

    stored = page.request.get(f"/api/sessions/{session_id}").json()["messages"]
    answer = next(m for m in stored if m["role"] == "user")
    assert answer["content"] == SAID and answer["original_content"] == HEARD
    assert answer["revised_by"] == "candidate"

    _answer(page, 2, SECOND)
    _answer(page, 3, "Answer 3: I wrote the incident review.")
    page.locator("#finished-panel").wait_for(state="visible")
    assert page.evaluate("document.activeElement.id") == "report-link"
    page.keyboard.press("Enter")

    # The report: written from the corrected text, which its transcript shows as corrected.
    page.wait_for_url("**/report")
    page.locator(".score-banner").wait_for()
    assert page.locator("#report-stale").is_hidden()
    item = page.locator(".transcript-list .msg-user", has_text=SAID)
    assert item.locator(".msg-revised").inner_text() == "Corrected by you"
    assert item.locator(".msg-original p").text_content() == HEARD  # in its closed <details>
    _axe(page, "report with a corrected answer")

    # Corrected after the report: it is marked out of date, and updated on request.
    second = page.locator(".transcript-list .msg-user", has_text=SECOND)
    second_id = second.get_attribute("data-message-id")
    _tab_to(page, f"#msg-{second_id} .msg-edit")
    page.keyboard.press("Enter")
    assert _focused(page)["label"] == "Correct answer 2"
    page.keyboard.press("Control+A")
    page.keyboard.type(SECOND_SAID)
    page.keyboard.press("Control+Enter")
    page.locator("#report-stale").wait_for(state="visible")
    _status(
        page,
        "Answer 2 corrected. Your report is now out of date: update it once you have "
        "finished correcting.",
    )
    assert "msg-edit" in _focused(page)["cls"]
    feedback = page.request.get(f"/api/sessions/{session_id}/feedback").json()
    assert feedback["out_of_date"] is True
    _axe(page, "report out of date")

    _tab_to(page, "#update-button")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.locator(".score-banner").wait_for()
    assert page.locator("#report-stale").is_hidden()
    assert page.locator(".transcript-list .msg-revised").count() == 2
    assert page.locator(".transcript-list .msg-user", has_text=SECOND_SAID).is_visible()
    assert page.request.get(f"/api/sessions/{session_id}/feedback").json()["out_of_date"] is False

    # The PDF: the corrected text and its mark, and no controls.
    with page.expect_download() as download:
        page.locator("a[href$='report.pdf']").click()
    pdf_path = tmp_path / "report.pdf"
    download.value.save_as(pdf_path)
    from pypdf import PdfReader

    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf_path.read_bytes())).pages)
    transcript = " ".join(text.split()).rsplit("Transcript", 1)[1]
    assert SAID in transcript and "led the cut-over" in transcript
    assert transcript.count("Corrected by you") == 2
    assert "Edit" not in transcript and "Original text" not in transcript
