"""What the notifications feature adds to the hub: a custom scope, routes, an admin nav entry,
and its history's user names following renames."""

from __future__ import annotations

from ..feature import Feature
from .config import Notifications
from .handlers import (
    BROADCAST_SCOPE,
    ActiveServersAPIHandler,
    BroadcastAPIHandler,
    HistoryAPIHandler,
    NotificationsPage,
    history_store,
)

FEATURE = Feature(
    name="notifications",
    config_classes=(Notifications,),
    scopes={
        BROADCAST_SCOPE: {
            "description": "Send a notification into running JupyterLab sessions and read past broadcasts"
        },
    },
    nav=({"id": "notifications", "label": "Notifications", "path": "notifications", "admin": True, "order": 30},),
    handlers=(
        (r"/api/notifications/active-servers", ActiveServersAPIHandler),
        (r"/api/notifications/broadcast", BroadcastAPIHandler),
        (r"/api/notifications/history", HistoryAPIHandler),
        (r"/notifications", NotificationsPage),
    ),
    on_user_renamed=lambda platform, old, new: history_store(platform).rename_user(old, new),
)
