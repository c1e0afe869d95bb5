"""What scheduled backups add to the hub: scopes, API, admin page, nav entry, the scheduler."""

from __future__ import annotations

from ..feature import Feature
from . import scheduler
from .config import Backups
from .handlers import (
    READ_SCOPE,
    RESTORE_SCOPE,
    BackupsOverviewAPIHandler,
    BackupsPage,
    BackupsRunAPIHandler,
    RestoreAPIHandler,
    UserBackupsAPIHandler,
)
from .lifecycle import user_deleted, user_renamed

FEATURE = Feature(
    name="backups",
    config_classes=(Backups,),
    scopes={
        READ_SCOPE: {"description": "See backup results and generations (every user has it on themselves)"},
        RESTORE_SCOPE: {"description": "Restore a user's volume from a backup", "subscopes": [READ_SCOPE]},
    },
    user_scopes=(f"{READ_SCOPE}!user",),
    nav=({"id": "backups", "label": "Backups", "path": "backups", "admin": True, "order": 36},),
    handlers=(
        (r"/api/backups", BackupsOverviewAPIHandler),
        (r"/api/backups/run", BackupsRunAPIHandler),
        (r"/api/users/([^/]+)/backups", UserBackupsAPIHandler),
        (r"/api/users/([^/]+)/backups/restore", RestoreAPIHandler),
        (r"/backups", BackupsPage),
    ),
    background=(scheduler.run,),
    on_user_renamed=user_renamed,
    on_user_deleted=user_deleted,
    record_users=lambda platform: scheduler.scheduler_for(platform).store.user_names(),
)
