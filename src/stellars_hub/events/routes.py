"""What the events feature adds to the hub: the audit page, its API and scope, a nav entry."""

from __future__ import annotations

from .handlers import READ_SCOPE, EventsAPIHandler, EventsPage

SCOPES = {READ_SCOPE: {"description": "Read the hub's audit log (who did what to whom, and the outcome)"}}
USER_SCOPES: list[str] = []
NAV = [{"id": "events", "label": "Events", "path": "events", "admin": True, "order": 35}]


def handlers(settings):
    return [
        (r"/events", EventsPage),
        (r"/api/events", EventsAPIHandler),
    ]
