"""What the notifications feature adds to the hub: a custom scope, routes, an admin nav entry,
and keeping its history's user names in step with renames."""

from __future__ import annotations

from ..web import userevents
from .handlers import (
    BROADCAST_SCOPE,
    ActiveServersAPIHandler,
    BroadcastAPIHandler,
    HistoryAPIHandler,
    NotificationsPage,
)
from .history import store_for

SCOPES = {
    BROADCAST_SCOPE: {"description": "Send a notification into running JupyterLab sessions and read past broadcasts"},
}
USER_SCOPES: list[str] = []
NAV = [{"id": "notifications", "label": "Notifications", "path": "notifications", "admin": True, "order": 30}]


def handlers(settings):
    return [
        (r"/api/notifications/active-servers", ActiveServersAPIHandler),
        (r"/api/notifications/broadcast", BroadcastAPIHandler),
        (r"/api/notifications/history", HistoryAPIHandler),
        (r"/notifications", NotificationsPage),
    ]


def setup(settings) -> None:
    """Called from hubconfig.apply: renamed users keep their broadcast history."""
    # the same store object the handlers use; the rename is queued on the file's thread
    userevents.on_rename(store_for(settings["JUPYTERHUB_DATA_DIR"]).rename_user)
