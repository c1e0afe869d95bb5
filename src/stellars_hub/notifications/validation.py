"""The broadcast request: every field checked, every error names its field."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import BadRequest
from ..labnotify import TYPES  # noqa: F401 (re-exported for the page)

MAX_LENGTH = 140
DEFAULT_TYPE = "info"
FIELDS = ("message", "type", "autoClose", "recipients")


@dataclass(frozen=True)
class Broadcast:
    message: str  # trimmed
    kind: str
    auto_close: bool
    recipients: tuple[str, ...] | None  # None: every running lab


def bad(field: str, why: str):
    return BadRequest(f"{field}: {why}")


def parse(body) -> Broadcast:
    if not isinstance(body, dict):
        raise BadRequest('the body must be a JSON object such as {"message": "...", "type": "info"}')
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise bad(unknown[0], f"unknown field; the fields are {', '.join(FIELDS)}")

    message = body.get("message")
    if not isinstance(message, str):
        raise bad("message", "required, a text of 1 to 140 characters")
    message = message.strip()
    if not 1 <= len(message) <= MAX_LENGTH:
        raise bad("message", f"must be 1 to {MAX_LENGTH} characters after trimming spaces (it has {len(message)})")

    kind = body.get("type", DEFAULT_TYPE)
    if kind not in TYPES:
        raise bad("type", f"{kind!r} is not a notification type; use one of {', '.join(TYPES)}")

    auto_close = body.get("autoClose", False)
    if not isinstance(auto_close, bool):
        raise bad("autoClose", "must be true (close after a few seconds) or false (stay until dismissed)")

    return Broadcast(message, kind, auto_close, _recipients(body.get("recipients")))


def _recipients(value) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise bad("recipients", "must be a list of user names (leave it out to reach every running lab)")
    if not value:
        raise bad("recipients", "choose at least one user, or leave recipients out to reach every running lab")
    return tuple(dict.fromkeys(v.strip() for v in value))  # order kept, duplicates once
