"""What the accounts feature adds to the hub: navigation to the account pages, its API, and the
user API's rename that carries login records and volumes along (see lifecycle.py)."""

from __future__ import annotations

from ..feature import Feature
from . import volumemap
from .api import CredentialsAPIHandler, DeleteUserAPIHandler, KeptVolumesAPIHandler, PlatformUserAPIHandler
from .config import Accounts

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
    # the hub's volume names follow the records of renamed and deleted users (volumemap.py)
    on_start=lambda platform, app: setattr(
        platform.volume_names, "lookup", lambda name: volumemap.base_for(app.db, name)
    ),
)
