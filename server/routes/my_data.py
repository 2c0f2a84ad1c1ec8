"""Your data is yours: everything Viva holds about a visitor, downloaded as one archive or
deleted at once (``/api/me``).

The archive holds, per interview, what the API and the report page show: the session with its
CV, job description and transcript (``session.json``, the API's own shape), the report
(``feedback.json`` and ``report.pdf``) and each recorded answer (``answer-N.wav``), plus a
README saying what is where.
"""

from __future__ import annotations

import asyncio
import io
import json
import zipfile
from datetime import UTC, datetime
from typing import Any

import msgspec
from litestar import Controller, Request, Response, delete, get
from litestar.di import NamedDependency

from server.feedback.service import FeedbackService
from server.owner import COOKIE_NAME, require_owner
from server.routes.pages import report_pdf
from server.routes.schemas import FeedbackOut, SessionOut
from server.services.interview import InterviewEngine
from server.services.recordings import RecordingService
from server.services.reports import ReportView
from server.services.sessions import SessionService
from server.settings import Settings

README = """Everything Viva holds about you, exported {when}.

One folder per interview, oldest first ({count} in all):
- session.json   the role, the company, your CV and the job description as you gave them,
                 the whole transcript (corrected answers keep their original text too)
- feedback.json  the report as the API returns it (score, strengths, areas to improve,
                 CV suggestions, the evidence behind them), when the interview has one
- report.pdf     the same report as a PDF
- answer-N.wav   the recording of spoken answer N, where one was kept

Delete it all from the home page ("Delete all my data") or with DELETE /api/me.
"""


class MyDataController(Controller):
    path = "/api/me"
    tags = ["my data"]  # noqa: RUF012 (Litestar declares it as an instance attribute)
    guards = [require_owner]  # noqa: RUF012

    @get(
        "/export",
        media_type="application/zip",
        summary="Download all my data: sessions, transcripts, reports and recordings (ZIP)",
    )
    async def export(
        self,
        request: Request[Any, Any, Any],
        sessions: NamedDependency[SessionService],
        interview: NamedDependency[InterviewEngine],
        feedback: NamedDependency[FeedbackService],
        recordings: NamedDependency[RecordingService],
        settings: NamedDependency[Settings],
        owner_id: NamedDependency[str],
    ) -> Response[bytes]:
        files: list[tuple[str, bytes]] = []
        summaries = sorted(await sessions.list_owned(owner_id), key=lambda s: s.created_at)
        for number, summary in enumerate(summaries, 1):
            folder = f"{number:02d}-{summary.created_at:%Y-%m-%d}-{summary.public_id}"
            files += [
                (f"{folder}/{name}", data)
                for name, data in await _interview_files(
                    request,
                    ReportView(
                        await sessions.get(summary.public_id, owner_id),
                        sessions,
                        feedback,
                        recordings,
                        settings,
                    ),
                    interview,
                )
            ]
        now = datetime.now(UTC)
        files.insert(
            0,
            (
                "README.txt",
                README.format(when=f"{now:%Y-%m-%d %H:%M} UTC", count=len(summaries)).encode(),
            ),
        )
        archive = await asyncio.to_thread(_zip, files)
        return Response(
            archive,
            media_type="application/zip",
            headers={
                "Content-Disposition": f'attachment; filename="viva-my-data-{now:%Y-%m-%d}.zip"',
                "Cache-Control": "private, no-store",
            },
        )

    @delete("/", status_code=200, summary="Delete all my data, and forget me")
    async def delete_all(
        self, sessions: NamedDependency[SessionService], owner_id: NamedDependency[str]
    ) -> Response[dict[str, int]]:
        summaries = await sessions.list_owned(owner_id)
        for summary in summaries:
            await sessions.delete(summary.public_id, owner_id)
        # The identity goes too: the next page load starts a new visitor.
        return Response(
            {"deleted_sessions": len(summaries)},
            headers={
                "Set-Cookie": f"{COOKIE_NAME}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax",
                "Cache-Control": "no-store",
            },
        )


async def _interview_files(
    request: Request[Any, Any, Any], view: ReportView, interview: InterviewEngine
) -> list[tuple[str, bytes]]:
    session = view.session
    messages = await view.sessions.messages_of(session)
    recorded = await view.recordings.recorded_message_ids(session)
    state = await interview.state(session)
    files = [("session.json", _json(SessionOut.of(session, messages, state, with_audio=recorded)))]
    report = await view.feedback.report_of(session)
    if report is not None:
        files.append(("feedback.json", _json(FeedbackOut.of(session.public_id, report))))
        rendered = await report_pdf(request, view)
        if rendered is not None:
            files.append(("report.pdf", rendered[1]))
    answers = [m for m in messages if m.role == "user"]
    for number, message in enumerate(answers, 1):
        if message.id in recorded:
            wav = await view.recordings.wav_of(session.public_id, session.owner_id, message.id)
            files.append((f"answer-{number}.wav", wav))
    return files


def _json(value: Any) -> bytes:
    return json.dumps(msgspec.to_builtins(value), indent=2, ensure_ascii=False).encode()


def _zip(files: list[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files:
            archive.writestr(name, data)
    return out.getvalue()
