"""What the notifications feature adds to the hub: a custom scope, routes, an admin nav entry,
its history's user names following renames, and broadcasts the hub stopped in the middle of
marked as such at the next start."""

from __future__ import annotations

import logging

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

log = logging.getLogger("JupyterHub.stellars")


async def _mark_interrupted(platform, app) -> None:
    count = await history_store(platform).mark_interrupted()
    if count:
        log.warning("%d broadcast(s) were being sent when the hub stopped: marked interrupted in the history", count)


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
    on_start=_mark_interrupted,
    on_user_renamed=lambda platform, old, new: history_store(platform).rename_user(old, new),
)
