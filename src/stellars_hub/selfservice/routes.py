"""What this feature adds to the hub: custom scopes and routes."""

from __future__ import annotations

from .handlers import (
    READ_SCOPE,
    RESET_SCOPE,
    ManageVolumesAPIHandler,
    RestartServerAPIHandler,
    UserControlPage,
)

SCOPES = {
    READ_SCOPE: {"description": "List a user's lab volumes with their sizes"},
    RESET_SCOPE: {
        "description": "Remove (reset) a user's own lab volumes while the server is stopped",
        "subscopes": [READ_SCOPE],
    },
}
USER_SCOPES = [f"{RESET_SCOPE}!user"]  # everyone may reset their own volumes
NAV: list[dict] = []


def handlers(settings):
    return [
        (r"/api/users/([^/]+)/restart-server", RestartServerAPIHandler),
        (r"/api/users/([^/]+)/manage-volumes", ManageVolumesAPIHandler),
        # named servers (JUPYTERHUB_NAMED_SERVERS=1): the same actions on one server
        (r"/api/users/([^/]+)/servers/([^/]+)/restart-server", RestartServerAPIHandler),
        (r"/api/users/([^/]+)/servers/([^/]+)/manage-volumes", ManageVolumesAPIHandler),
        (r"/manage/([^/]+)", UserControlPage),
    ]
