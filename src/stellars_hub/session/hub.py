"""Hub configuration of the feature: the culler as a managed service with least privilege, and
the store following user renames and deletions."""

from __future__ import annotations

import sys

from ..web import userevents
from .handlers import WARN_SCOPE
from .store import store_for

SERVICE = "idle-culler"
# list running servers, read their activity, stop them, ask the hub to warn: nothing more
SERVICE_SCOPES = ["list:users", "read:servers", "delete:servers", WARN_SCOPE]
# what the culler process needs to know (a managed service does not inherit the hub's environment)
PASSED_SETTINGS = (
    "JUPYTERHUB_DATA_DIR",
    "JUPYTERHUB_IDLE_CULLER_ENABLED",
    "JUPYTERHUB_IDLE_CULLER_TIMEOUT",
    "JUPYTERHUB_IDLE_CULLER_INTERVAL",
    "JUPYTERHUB_IDLE_CULLER_MAX_AGE",
    "JUPYTERHUB_IDLE_CULLER_MAX_EXTENSION",
    "JUPYTERHUB_IDLE_CULLER_WARNING",
    "JUPYTERHUB_IDLE_CULLER_HOUR_SECONDS",
)


def configure(c, s) -> None:
    store = store_for(s["JUPYTERHUB_DATA_DIR"])
    userevents.on_rename(store.rename_user)  # queued on the file's thread, not run on the loop
    userevents.on_delete(store.delete_user)
    if not s["JUPYTERHUB_IDLE_CULLER_ENABLED"]:
        return
    hub = c.JupyterHub
    hub.services = _configured(hub, "services") + [
        {
            "name": SERVICE,
            "command": [sys.executable, "-m", "stellars_hub.session.culler"],
            "environment": {name: s.raw[name] for name in PASSED_SETTINGS},
        }
    ]
    hub.load_roles = _configured(hub, "load_roles") + [
        {
            "name": SERVICE,
            "description": "Stops idle labs and asks the hub to warn their users first",
            "scopes": SERVICE_SCOPES,
            "services": [SERVICE],
        }
    ]


def _configured(section, name: str) -> list:
    """A list trait's configured value; unset traits read as lazy placeholders, not lists."""
    return list(section[name]) if name in section else []
