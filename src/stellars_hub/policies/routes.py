"""What the policies feature adds to the hub: custom scopes, routes and the admin nav entry."""

from __future__ import annotations

from ..web import userevents
from . import hub
from .handlers import (
    ENV_SCOPE,
    READ_SCOPE,
    WRITE_SCOPE,
    EffectiveLabAPIHandler,
    EnvironmentAPIHandler,
    GroupPolicyAPIHandler,
    PoliciesPage,
    PolicyListAPIHandler,
    StorageListAPIHandler,
    UserStorageAPIHandler,
)
from .quota import start_warnings

SCOPES = {
    READ_SCOPE: {"description": "Read group policies (lab resources and privileges per group)"},
    WRITE_SCOPE: {"description": "Change group policies, including granting the Docker socket or privileged mode",
                  "subscopes": [READ_SCOPE]},
    ENV_SCOPE: {"description": "Read and set a user's own lab environment variables"},
}
USER_SCOPES = [f"{ENV_SCOPE}!user"]  # everyone sets their own variables
# after Settings (40), before Change Password (90)
NAV = [{"id": "policies", "label": "Policies", "path": "policies", "admin": True, "order": 45}]


def handlers(settings):
    env_store = hub.current().env_store
    userevents.on_rename(env_store.rename)
    userevents.on_delete(env_store.delete)
    start_warnings(hub.current(), settings["JUPYTERHUB_QUOTA_CHECK_INTERVAL"])
    return [
        (r"/api/storage", StorageListAPIHandler),
        (r"/api/users/([^/]+)/storage", UserStorageAPIHandler),
        (r"/api/policies", PolicyListAPIHandler),
        (r"/api/groups/([^/]+)/policy", GroupPolicyAPIHandler),
        (r"/api/users/([^/]+)/lab", EffectiveLabAPIHandler),
        (r"/api/users/([^/]+)/environment", EnvironmentAPIHandler),
        (r"/policies", PoliciesPage),
    ]
