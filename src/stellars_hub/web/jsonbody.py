"""Checks shared by the platform's JSON bodies."""

from __future__ import annotations

from ..errors import BadRequest


def reject_unknown(body, fields: tuple[str, ...]) -> None:
    """400 naming the first field the route does not know (a typo must not pass silently)."""
    if isinstance(body, dict):
        unknown = sorted(set(body) - set(fields))
        if unknown:
            raise BadRequest(f"{unknown[0]}: unknown field; the fields are {', '.join(fields)}")
