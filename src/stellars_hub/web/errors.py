"""One JSON error shape for every /hub/api route: {"status": N, "message": "..."}.

JupyterHub's APIHandler already renders HTTPError as that shape. Logic modules raise domain
errors (``stellars_hub.errors``, the runtime's, this module's Busy/RateLimited, and a full data
disk or busy database: ``resourcefaults``);
``translate`` is the one table from those to statuses, and the platform's handler base classes
(``web/base.py``) apply it to every exception a handler lets through.
"""

from __future__ import annotations

from tornado import web

from .. import resourcefaults
from ..errors import BadRequest, Conflict, EngineUnavailable, Failed, NotFound, RuntimeConflict, TimedOut


class Busy(Exception):
    """Another destructive operation for the same user is running (409)."""


class RateLimited(Exception):
    """Too many operations in the window (429)."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


def http_error(status: int, message: str, **headers) -> web.HTTPError:
    err = web.HTTPError(status, message)
    if headers:
        err.headers = headers  # type: ignore[attr-defined]
    return err


def translate(exc: BaseException) -> web.HTTPError | None:
    """The HTTPError a domain error stands for, or None for anything else (a bug: 500)."""
    if isinstance(exc, BadRequest):
        return http_error(400, str(exc))
    if isinstance(exc, (Conflict, RuntimeConflict, Busy)):
        return http_error(409, str(exc))
    if isinstance(exc, TimedOut):
        return http_error(504, str(exc))
    if isinstance(exc, Failed):
        return http_error(500, str(exc))
    if isinstance(exc, EngineUnavailable):
        return http_error(
            503,
            f"{exc}. Other hub functions keep working; try again when the engine is back, or tell your administrator.",
        )
    if isinstance(exc, NotFound):
        return http_error(404, str(exc))
    if isinstance(exc, RateLimited):
        return http_error(429, str(exc), **{"Retry-After": str(exc.retry_after)})
    fault = resourcefaults.classify(exc)  # the hub's disk or database, not the request
    if fault is not None:
        return http_error(*resourcefaults.answer(fault))
    return None
