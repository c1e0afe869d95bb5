"""Domain errors: what the platform's logic modules raise when they refuse a request.

They carry a message written for the person who asked, and no HTTP status: the web layer
(``web/errors.py``) decides the status in one place, so logic stays usable outside a request.
The engine's own errors live in ``runtime.base`` and are re-exported here for one import.
"""

from __future__ import annotations

from .runtime.base import EngineUnavailable, NotFound, RuntimeConflict

__all__ = [
    "StellarsError",
    "BadRequest",
    "Conflict",
    "TimedOut",
    "Failed",
    "EngineUnavailable",
    "NotFound",
    "RuntimeConflict",
]


class StellarsError(Exception):
    """A refusal the caller can act on; ``str(exc)`` is the message shown as is."""


class BadRequest(StellarsError):
    """The request itself is wrong: a field is missing, of the wrong kind or out of range."""


class Conflict(StellarsError):
    """The request is fine but the current state forbids it (e.g. the server is running)."""


class TimedOut(StellarsError):
    """The work was done but what should follow it did not happen in time."""


class Failed(StellarsError):
    """The work went wrong on the platform's side, and the message says what the user can do."""
