"""What self-service adds to the hub: custom scopes and routes."""

from __future__ import annotations

from ..feature import Feature
from .config import SelfService
from .handlers import READ_SCOPE, RESET_SCOPE, ManageVolumesAPIHandler, RestartServerAPIHandler, UserControlPage

FEATURE = Feature(
    name="selfservice",
    config_classes=(SelfService,),
    scopes={
        READ_SCOPE: {"description": "List a user's lab volumes with their sizes"},
        RESET_SCOPE: {
            "description": "Remove (reset) a user's own lab volumes while the server is stopped",
            "subscopes": [READ_SCOPE],
        },
    },
    user_scopes=(f"{RESET_SCOPE}!user",),  # everyone may reset their own volumes
    handlers=(
        (r"/api/users/([^/]+)/restart-server", RestartServerAPIHandler),
        (r"/api/users/([^/]+)/manage-volumes", ManageVolumesAPIHandler),
        # a named server's own (JUPYTERHUB_NAMED_SERVERS)
        (r"/api/users/([^/]+)/servers/([^/]+)/restart-server", RestartServerAPIHandler),
        (r"/api/users/([^/]+)/servers/([^/]+)/manage-volumes", ManageVolumesAPIHandler),
        (r"/manage/([^/]+)", UserControlPage),
    ),
)
