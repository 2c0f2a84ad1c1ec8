"""The web app's HTML pages: thin handlers that load records and render Jinja templates.

Everything interactive (creating a session, answering, ending, feedback) goes through the
JSON API from the pages' ES modules; these handlers only read.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Annotated, Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig
from litestar.types import ControllerRouterHandler

from server.errors import NotFound
from server.repositories.records import SessionRecord
from server.services.interview import InterviewEngine
from server.services.plans import (
    DEFAULT_DIFFICULTY,
    DEFAULT_MODE,
    DIFFICULTY_LABELS,
    MODE_LABELS,
)
from server.services.recordings import RecordingService
from server.services.reports import ReportView, progress_chart, render_report_pdf
from server.services.sessions import SessionService
from server.settings import Settings
from server.voice.protocol import Limits

logger = logging.getLogger(__name__)

WEB_DIR = Path(__file__).resolve().parents[2] / "web"
TEMPLATE_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"
STATIC_URL = "/static"


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    """Jinja with autoescaping on for every template, whatever its file name.

    ``select_autoescape`` would only cover .html/.xml; the report also renders inline SVG,
    and model text must never reach the page unescaped.
    """
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(env))


def static_files_router() -> ControllerRouterHandler:
    return create_static_files_router(
        path=STATIC_URL, directories=[STATIC_DIR], name="static", include_in_schema=False
    )


def _not_found_page(request: Request[Any, Any, Any], exc: NotFound) -> Response[Any]:
    # Same status and wording for "missing" and "someone else's": ids must not leak.
    return Template(
        "not_found.html",
        context={"static_url": STATIC_URL, "message": exc.message, "page": "not_found"},
        status_code=404,
    )


class PageController(Controller):
    include_in_schema = False
    exception_handlers = {NotFound: _not_found_page}  # noqa: RUF012 (Litestar's layer attribute)

    @get("/", name="home")
    async def home(
        self, sessions: NamedDependency[SessionService], owner_id: NamedDependency[str]
    ) -> Template:
        owned = await sessions.list_owned(owner_id)
        return _page("home.html", "home", sessions=owned, chart=progress_chart(owned))

    @get("/new", name="new")
    async def new(
        self,
        sessions: NamedDependency[SessionService],
        settings: NamedDependency[Settings],
        owner_id: NamedDependency[str],
        from_: Annotated[str | None, QueryParameter(name="from")] = None,
    ) -> Template:
        # ``?from=<id>`` prefills the CV and job description of an earlier session (WCAG
        # 3.3.7, redundant entry). Someone else's or a missing id just means an empty form.
        source: SessionRecord | None = None
        if from_:
            try:
                source = await sessions.get(from_, owner_id)
            except NotFound:
                logger.info("new-session form: ignored unknown ?from= id")
        s = settings
        return _page(
            "new.html",
            "new",
            source=source,
            modes=MODE_LABELS,
            difficulties=DIFFICULTY_LABELS,
            mode=source.interview_mode if source else DEFAULT_MODE,
            difficulty=source.difficulty if source else DEFAULT_DIFFICULTY,
            limits={
                "min_questions": s.min_questions,
                "max_questions": s.max_questions,
                "default_questions": s.default_questions,
                "max_upload_mb": round(s.max_upload_bytes / (1024 * 1024), 1),
            },
        )

    @get("/sessions/{session_id:str}", name="room")
    async def room(
        self,
        session: NamedDependency[SessionRecord],
        sessions: NamedDependency[SessionService],
        interview: NamedDependency[InterviewEngine],
        recordings: NamedDependency[RecordingService],
        settings: NamedDependency[Settings],
    ) -> Template:
        return _page(
            "room.html",
            "room",
            session=session,
            messages=await sessions.messages_of(session),
            state=await interview.state(session),
            max_answer_chars=settings.max_answer_chars,
            voice_limits=Limits(max_answer_chars=settings.max_answer_chars),
            server_records=recordings.server_records,
        )

    @get("/sessions/{session_id:str}/report", name="report")
    async def report(self, report_view: NamedDependency[ReportView]) -> Template:
        return _page("report.html", "report", **await report_view.context())

    @get("/sessions/{session_id:str}/report.pdf", name="report_pdf", media_type="application/pdf")
    async def report_pdf(
        self, request: Request[Any, Any, Any], report_view: NamedDependency[ReportView]
    ) -> Response[bytes]:
        rendered = await report_pdf(request, report_view)
        if rendered is None:
            raise NotFound("This interview has no feedback yet, so there is no PDF to download.")
        session, pdf = rendered
        return Response(
            pdf,
            media_type="application/pdf",
            headers={
                "Content-Disposition": f'attachment; filename="{_pdf_filename(session)}"',
                "Cache-Control": "no-store",
            },
        )


async def report_pdf(
    request: Request[Any, Any, Any], view: ReportView
) -> tuple[SessionRecord, bytes] | None:
    """The owner's report as a PDF (the page's template, ``for_pdf``); None without feedback."""
    context = await view.context()
    if context["feedback"] is None:
        return None
    # The same template as the page; static files are read from disk, not over HTTP.
    static_base = STATIC_DIR.as_uri() + "/"
    engine = request.app.template_engine
    if engine is None:  # only if the app was built without template_config()
        raise RuntimeError("The PDF needs the app's template engine.")
    html = engine.get_template("report.html").render(
        **context, page="report", static_url=static_base.rstrip("/"), for_pdf=True
    )
    pdf = await asyncio.to_thread(render_report_pdf, html, static_base)
    session: SessionRecord = context["session"]
    logger.info("session %s: report PDF rendered (%d bytes)", session.public_id, len(pdf))
    return session, pdf


def _pdf_filename(session: SessionRecord) -> str:
    # ASCII letters and digits only: the header must not carry user text verbatim.
    slug = "".join(c if c.isascii() and c.isalnum() else "-" for c in session.job_title.lower())
    slug = "-".join(part for part in slug.split("-") if part)[:60] or "interview"
    return f"viva-feedback-{slug}-{session.created_at:%Y-%m-%d}.pdf"


def _page(template: str, page: str, **context: Any) -> Template:
    # Pages carry personal text (CVs, answers): keep them out of shared caches.
    return Template(
        template,
        context={"static_url": STATIC_URL, "page": page, "for_pdf": False, **context},
        headers={"Cache-Control": "no-store"},
    )
