"""What the activity monitor adds to the hub: scopes, the API, the admin page and its nav entry.
The sampler, hooks and metrics are installed by ``background.install`` from hubconfig.apply."""

from __future__ import annotations

from .background import install  # noqa: F401 (hubconfig.apply calls routes.install)
from .handlers import READ_SCOPE, RESET_SCOPE, ActivityAPIHandler, ActivityPage, ActivityResetAPIHandler

SCOPES = {
    READ_SCOPE: {"description": "See every user's lab status, resource use and activity score"},
    RESET_SCOPE: {"description": "Clear the whole activity history", "subscopes": [READ_SCOPE]},
}
USER_SCOPES: list[str] = []
NAV = [{"id": "activity", "label": "Activity", "path": "activity", "admin": True, "order": 20}]


def handlers(settings):
    return [
        (r"/api/activity", ActivityAPIHandler),
        (r"/api/activity/reset", ActivityResetAPIHandler),
        (r"/activity", ActivityPage),
    ]
