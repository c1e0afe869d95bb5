"""What the events feature adds to the hub: the audit page, its API and scope, a nav entry."""

from __future__ import annotations

from ..feature import Feature
from .handlers import READ_SCOPE, EventsAPIHandler, EventsPage

FEATURE = Feature(
    name="events",
    scopes={READ_SCOPE: {"description": "Read the hub's audit log (who did what to whom, and the outcome)"}},
    nav=({"id": "events", "label": "Events", "path": "events", "admin": True, "order": 35},),
    handlers=(
        (r"/events", EventsPage),
        (r"/api/events", EventsAPIHandler),
    ),
)
