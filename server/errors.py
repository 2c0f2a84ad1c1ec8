"""One error hierarchy for the whole app, mapped to HTTP responses in ``server.app``."""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    status_code = 500
    code = "internal_error"

    def __init__(
        self,
        message: str,
        *,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}
        self.headers = headers or {}
        """HTTP headers the error response must carry (e.g. ``Content-Range`` with a 416)."""


class ValidationError(AppError):
    status_code = 422
    code = "validation_error"


class Forbidden(AppError):
    status_code = 403
    code = "forbidden"


class NotFound(AppError):
    status_code = 404
    code = "not_found"


class Conflict(AppError):
    status_code = 409
    code = "conflict"


class PayloadTooLarge(AppError):
    status_code = 413
    code = "payload_too_large"


class TooManyRequests(AppError):
    """Over a rate or a quota; ``Retry-After`` says when to try again, where it can."""

    status_code = 429
    code = "too_many_requests"


class UnsupportedMediaType(AppError):
    status_code = 415
    code = "unsupported_media_type"


class RangeNotSatisfiable(AppError):
    """A ``Range`` request none of whose ranges overlaps the resource."""

    status_code = 416
    code = "range_not_satisfiable"


class AIServiceError(AppError):
    """The language model failed or answered something we cannot use."""

    status_code = 502
    code = "ai_service_error"


class AIOutputError(AIServiceError):
    """The model answered, but with output we cannot use (empty, not JSON, wrong shape)."""
