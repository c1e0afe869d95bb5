"""What the session feature adds to the hub: custom scopes, routes, the idle culler as a managed
service with least privilege, and the extension store following user renames and deletions."""

from __future__ import annotations

import sys

from ..feature import Feature
from ..hubsettings import StellarsHub
from .config import IdleCuller
from .handlers import (
    ACTIVITY_SCOPE,
    EXTEND_SCOPE,
    WARN_SCOPE,
    ExtendSessionAPIHandler,
    SessionActivityAPIHandler,
    SessionInfoAPIHandler,
    SessionPage,
    SessionWarningAPIHandler,
)
from .limits import record_for_start
from .store import store_for

SERVICE = "idle-culler"
# list running servers, read their activity, stop them, ask the hub to warn and to ask a lab
# whether it is busy: nothing more
SERVICE_SCOPES = ["list:users", "read:servers", "delete:servers", WARN_SCOPE, ACTIVITY_SCOPE]


def _configure(c, s, setdefault) -> None:
    if not s(IdleCuller).enabled:
        return
    hub = c.JupyterHub
    services = list(hub.services) if "services" in hub else []
    if any(svc.get("name") == SERVICE for svc in services):
        return  # configured already (by the site, or an earlier apply)
    hub.services = services + [
        {
            "name": SERVICE,
            "command": [sys.executable, "-m", "stellars_hub.session.culler"],
            # what the culler process needs to know, as variables (a managed service does not
            # inherit the hub's environment): effective values, from the environment or a config file
            "environment": {**s.variables(StellarsHub, "data_dir"), **s.variables(IdleCuller)},
        }
    ]
    roles = list(hub.load_roles) if "load_roles" in hub else []
    hub.load_roles = roles + [
        {
            "name": SERVICE,
            "description": "Stops idle labs and asks the hub to warn their users first",
            "scopes": SERVICE_SCOPES,
            "services": [SERVICE],
        }
    ]


async def _record_limits(platform, spawner) -> None:
    await record_for_start(platform, spawner)  # this start's idle timeout and maximum age (group policy, GPUs)


FEATURE = Feature(
    name="session",
    config_classes=(IdleCuller,),
    scopes={
        EXTEND_SCOPE: {"description": "Extend the idle-culling deadline of a user's running server"},
        WARN_SCOPE: {"description": "Warn a user inside their lab that idle culling will stop it soon"},
        ACTIVITY_SCOPE: {
            "description": "Ask a user's running lab whether it is busy (kernels running code, terminals in use) "
            "and record its activity"
        },
    },
    user_scopes=(f"{EXTEND_SCOPE}!user",),  # everyone may extend their own session
    handlers=(
        (r"/api/users/([^/]+)/session-info", SessionInfoAPIHandler),
        (r"/api/users/([^/]+)/extend-session", ExtendSessionAPIHandler),
        (r"/api/users/([^/]+)/session-warning", SessionWarningAPIHandler),
        (r"/api/users/([^/]+)/session-activity", SessionActivityAPIHandler),
        # a named server's own (JUPYTERHUB_NAMED_SERVERS): its own deadline and allowance
        (r"/api/users/([^/]+)/servers/([^/]+)/session-info", SessionInfoAPIHandler),
        (r"/api/users/([^/]+)/servers/([^/]+)/extend-session", ExtendSessionAPIHandler),
        (r"/api/users/([^/]+)/servers/([^/]+)/session-warning", SessionWarningAPIHandler),
        (r"/api/users/([^/]+)/servers/([^/]+)/session-activity", SessionActivityAPIHandler),
        (r"/session", SessionPage),
    ),
    configure=_configure,
    pre_spawn=_record_limits,
    # queued on the store file's own thread, never run on the loop
    on_user_renamed=lambda platform, old, new: store_for(platform).rename_user(old, new),
    on_user_deleted=lambda platform, name: store_for(platform).delete_user(name),
    record_users=lambda platform: store_for(platform).user_names(),
)
