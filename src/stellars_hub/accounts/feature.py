"""What the accounts feature adds to the hub: navigation to the account pages, its API, the
user API's rename that carries login records and volumes along (see lifecycle.py), and renames
and deletes a dead hub left half done, completed at the next start (intents.py)."""

from __future__ import annotations

from ..feature import Feature
from . import intents, volumemap
from .api import (
    CredentialsAPIHandler,
    DeleteUserAPIHandler,
    KeptVolumesAPIHandler,
    PlatformUserAPIHandler,
    remove_volume_set,
)
from .config import Accounts


async def _on_start(platform, app) -> None:
    # the hub's volume names follow the records of renamed and deleted users (volumemap.py)
    platform.volume_names.lookup = lambda name: volumemap.base_for(app.db, name)
    await intents.complete_interrupted(platform, app, remove_volume_set)


FEATURE = Feature(
    name="accounts",
    config_classes=(Accounts,),
    # admin entries first (they follow JupyterHub's Admin link), then everyone's
    nav=(
        {"id": "authorize", "label": "Authorize Users", "path": "authorize", "admin": True, "order": 10},
        {"id": "change-password", "label": "Change Password", "path": "change-password", "admin": False, "order": 90},
    ),
    handlers=(
        (r"/api/admin/credentials", CredentialsAPIHandler),
        (r"/api/admin/users/([^/]+)", DeleteUserAPIHandler),
        (r"/api/admin/kept-volumes", KeptVolumesAPIHandler),
        (r"/api/admin/kept-volumes/([^/]+)", KeptVolumesAPIHandler),
    ),
    priority_handlers=((r"/api/users/([^/]+)", PlatformUserAPIHandler),),
    on_start=_on_start,
)
