"""What the report and home pages show beyond raw records: score bands, the progress chart, the PDF.

The PDF is printed by WeasyPrint from the same HTML as the report page (its print stylesheet),
so the page and the download never disagree.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from server.feedback.limits import Band, band_for
from server.feedback.service import FeedbackService
from server.repositories.records import FeedbackRecord, MessageRecord, SessionRecord, SessionSummary
from server.services.plans import DIFFICULTY_LABELS, MODE_LABELS
from server.services.recordings import RecordingService
from server.services.sessions import SessionService
from server.settings import Settings

logger = logging.getLogger(__name__)

SCORE_MAX = 10


def score_band(score: int) -> Band:
    """The band a 1..10 score falls in (out-of-range scores are clamped, never an error page)."""
    return band_for(score)


# ---------------------------------------------------------------------------------------------
# Progress chart (home page): scores over time as an inline SVG, one line per role.

# Colours chosen to stay ≥ 3:1 against white (WCAG 1.4.11) and apart from each other.
_SERIES_COLOURS = ("#4f46e5", "#c2410c", "#047857", "#be185d", "#0369a1", "#7c3aed")
_SERIES_SHAPES = ("circle", "square", "diamond", "triangle", "circle", "square")


@dataclass(frozen=True)
class ChartPoint:
    x: float
    y: float
    score: int
    session_id: str
    date: datetime
    role: str


@dataclass(frozen=True)
class ChartSeries:
    role: str
    colour: str
    shape: str
    points: tuple[ChartPoint, ...]

    @property
    def path(self) -> str:
        return " ".join(
            f"{'M' if i == 0 else 'L'}{p.x:.1f},{p.y:.1f}" for i, p in enumerate(self.points)
        )

    @property
    def first(self) -> int:
        return self.points[0].score

    @property
    def latest(self) -> int:
        return self.points[-1].score


@dataclass(frozen=True)
class ProgressChart:
    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    series: tuple[ChartSeries, ...]
    y_ticks: tuple[tuple[int, float], ...]
    x_labels: tuple[tuple[float, str], ...]
    points: tuple[ChartPoint, ...]  # every point, oldest first (for the table fallback)

    @property
    def summary(self) -> str:
        """One sentence for screen readers; the table under the chart has every value."""
        n = len(self.points)
        parts = []
        for s in self.series:
            if len(s.points) == 1:
                parts.append(f"{s.role}: {s.latest} out of 10")
            else:
                count = len(s.points)
                parts.append(
                    f"{s.role}: from {s.first} to {s.latest} out of 10 over {count} interviews"
                )
        noun = "interview" if n == 1 else "interviews"
        return f"Scores of {n} scored {noun}. " + "; ".join(parts) + "."


def progress_chart(
    sessions: Sequence[SessionSummary], *, width: int = 640, height: int = 240
) -> ProgressChart | None:
    """Geometry for the scored sessions, oldest on the left; None when nothing is scored yet."""
    scored = sorted((s for s in sessions if s.score is not None), key=lambda s: s.created_at)
    if not scored:
        return None
    left, right, top, bottom = 40, 16, 16, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / (len(scored) - 1) if len(scored) > 1 else 0.0

    def y_of(score: float) -> float:
        return top + plot_h * (1 - score / SCORE_MAX)

    points: list[ChartPoint] = []
    for i, s in enumerate(scored):
        x = left + (step * i if len(scored) > 1 else plot_w / 2)
        assert s.score is not None
        points.append(ChartPoint(x, y_of(s.score), s.score, s.public_id, s.created_at, s.job_title))

    # Group case-insensitively: "Backend engineer" and "backend Engineer" are one role.
    roles: dict[str, list[ChartPoint]] = {}
    names: dict[str, str] = {}
    for p in points:
        key = p.role.casefold()
        roles.setdefault(key, []).append(p)
        names.setdefault(key, p.role)
    series = tuple(
        ChartSeries(
            names[key],
            _SERIES_COLOURS[i % len(_SERIES_COLOURS)],
            _SERIES_SHAPES[i % len(_SERIES_SHAPES)],
            tuple(pts),
        )
        for i, (key, pts) in enumerate(roles.items())
    )
    # At most ~6 date labels, so they never overlap on the narrowest chart, and a day is
    # named once even when several interviews fall on it.
    every = max(1, -(-len(points) // 6))
    labels: list[tuple[float, str]] = []
    for i, p in enumerate(points):
        label = f"{p.date:%d %b}"
        if (i % every == 0 or i == len(points) - 1) and (not labels or labels[-1][1] != label):
            labels.append((p.x, label))
    x_labels = tuple(labels)
    y_ticks = tuple((v, y_of(v)) for v in range(0, SCORE_MAX + 1, 2))
    return ProgressChart(
        width, height, left, right, top, bottom, series, y_ticks, x_labels, tuple(points)
    )


# ---------------------------------------------------------------------------------------------
# PDF


def render_report_pdf(html: str, base_url: str) -> bytes:
    """Print the report HTML to PDF. CPU-bound (about a second): call it via asyncio.to_thread.

    ``base_url`` is a ``file://`` URL of the static folder; the only resources the renderer
    may read are files below it (the stylesheet), so no text in a report can make the server
    fetch anything else, local or remote.
    """
    from weasyprint import HTML  # imported lazily: it loads Pango, which start-up doesn't need

    pdf: bytes = HTML(
        string=html, base_url=base_url, url_fetcher=_static_only_fetcher(base_url)
    ).write_pdf()
    return pdf


def _static_only_fetcher(base_url: str) -> Any:
    from weasyprint.urls import URLFetcher

    root = _file_url_path(base_url)

    class StaticOnlyFetcher(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            path = _file_url_path(url)
            if root is None or path is None or not path.is_relative_to(root):
                logger.warning("PDF: refused to fetch %s", url[:200])
                raise ValueError(f"The report may only load its own static files, not {url!r}")
            return super().fetch(url, headers)

    return StaticOnlyFetcher(allowed_protocols={"file"})


def _file_url_path(url: str) -> Path | None:
    parts = urlsplit(url)
    if parts.scheme != "file":
        return None
    return Path(unquote(parts.path)).resolve()


@dataclass(frozen=True)
class ReportView:
    """What the report page (and its PDF, and the data export) shows of one owned interview."""

    session: SessionRecord
    sessions: SessionService
    feedback: FeedbackService
    recordings: RecordingService
    settings: Settings

    async def context(self) -> dict[str, Any]:
        session = self.session
        messages: list[MessageRecord] = await self.sessions.messages_of(session)
        report = await self.feedback.report_of(session)
        feedback: FeedbackRecord | None = report.feedback if report else None
        recorded = await self.recordings.recorded_message_ids(session)
        answers = [m for m in messages if m.role == "user"]
        return {
            "session": session,
            "messages": messages,
            "feedback": feedback,
            "out_of_date": report is not None and report.out_of_date,
            "band": score_band(feedback.interview_score) if feedback else None,
            "answered": bool(answers),
            "max_answer_chars": self.settings.max_answer_chars,
            "mode_label": MODE_LABELS[session.interview_mode],
            "difficulty_label": DIFFICULTY_LABELS[session.difficulty],
            # Answers with a recording to play, by message id: their number ("Play answer 2").
            "answer_audio": {m.id: n for n, m in enumerate(answers, 1) if m.id in recorded},
        }
