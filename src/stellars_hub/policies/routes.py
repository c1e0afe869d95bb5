"""What the policies feature adds to the hub: custom scopes, routes and the admin nav entry."""

from __future__ import annotations

from . import hub

SCOPES: dict = {}
USER_SCOPES: list[str] = []
NAV: list[dict] = []


def handlers(settings):
    hub.current()
    return []
