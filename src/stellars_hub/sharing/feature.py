"""What sharing labs adds: its scope (every user holds it, and JupyterHub's ``shares``, on
themselves), JupyterHub's sharing routes with the platform's rules (registered ahead of
JupyterHub's own), the home page's summary route, the visitors' bookkeeping, and the end of
shares when either side is renamed or deleted."""

from __future__ import annotations

from ..access.config import LabAccess
from ..feature import Feature
from .config import LabSharing
from .handlers import (
    SHARE_SCOPE,
    LabAcceptShareHandler,
    LabShareAPIHandler,
    LabShareCodeAPIHandler,
    LabShareGroupLeaveAPIHandler,
    LabShareLeaveAPIHandler,
    SharingAPIHandler,
)
from .lifecycle import user_deleted, user_renamed
from .roles import sync
from .visitors import sweep


def _pre_spawn(platform, spawner) -> None:
    # the lab starts with exactly its share holders let in (never a stale role's)
    sync(spawner.user.db, spawner.orm_spawner)


FEATURE = Feature(
    name="sharing",
    config_classes=(LabSharing,),
    scopes={
        SHARE_SCOPE: {
            "description": "Share the user's labs so that they open for the people shared with (the owner only)"
        },
    },
    # JupyterHub's own scope to manage shares of one's servers, and the platform's to make them open
    user_scopes=("shares!user", f"{SHARE_SCOPE}!user"),
    handlers=((r"/api/users/([^/]+)/sharing", SharingAPIHandler),),
    priority_handlers=(
        (r"/api/shares/([^/]+)/([^/]*)", LabShareAPIHandler),
        (r"/api/share-codes/([^/]+)/([^/]*)", LabShareCodeAPIHandler),
        (r"/api/users/([^/]+)/shared/([^/]+)/([^/]*)", LabShareLeaveAPIHandler),
        (r"/api/groups/([^/]+)/shared/([^/]+)/([^/]*)", LabShareGroupLeaveAPIHandler),
        (r"/accept-share", LabAcceptShareHandler),
    ),
    template_vars=lambda s: {
        "stellars_sharing": s(LabSharing).enabled,
        "stellars_recheck_seconds": s(LabAccess).recheck_seconds,
    },
    pre_spawn=_pre_spawn,
    background=(sweep,),
    on_user_renamed=user_renamed,
    on_user_deleted=user_deleted,
)
