"""One JSON error shape for every /hub/api route: {"status": N, "message": "..."}.

JupyterHub's APIHandler already renders HTTPError as that shape; ``api_errors`` turns the
runtime's and the web layer's own exceptions into the right HTTPError first.
"""

from __future__ import annotations

import functools

from tornado import web

from ..runtime.base import EngineUnavailable, NotFound, RuntimeConflict


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
        err.headers = headers
    return err


def translate(exc: Exception) -> web.HTTPError | None:
    if isinstance(exc, EngineUnavailable):
        return http_error(503, f"{exc}. Other hub functions keep working; try again when the engine is back, or tell your administrator.")
    if isinstance(exc, NotFound):
        return http_error(404, str(exc))
    if isinstance(exc, (RuntimeConflict, Busy)):
        return http_error(409, str(exc))
    if isinstance(exc, RateLimited):
        return http_error(429, str(exc), **{"Retry-After": str(exc.retry_after)})
    return None


def api_errors(method):
    """Decorator for handler methods: domain exceptions become JSON errors with their status."""

    @functools.wraps(method)
    async def wrapper(self, *args, **kwargs):
        try:
            return await method(self, *args, **kwargs)
        except web.HTTPError:
            raise
        except Exception as exc:
            mapped = translate(exc)
            if mapped is None:
                raise
            raise mapped from exc

    return wrapper
