"""What the usage report adds to the hub: its scope, API, page, nav entry, and the recorder of
samples and server starts and stops."""

from __future__ import annotations

import time
from datetime import datetime, timezone

from ..feature import Feature
from . import sampler
from .config import Usage
from .handlers import READ_SCOPE, UsageAPIHandler, UsagePage
from .sampler import recorder_for


def deleted_name(name: str, when: float) -> str:
    """What a deleted user's records are filed under: never a user name (user names have no
    blanks), so a later user of the name does not take over their usage."""
    return f"{name} (deleted {datetime.fromtimestamp(when, timezone.utc):%Y-%m-%d %H:%M:%S})"


def _user_deleted(platform, name: str):
    return recorder_for(platform).store.rename(name, deleted_name(name, time.time()))


FEATURE = Feature(
    name="usage",
    config_classes=(Usage,),
    scopes={READ_SCOPE: {"description": "Read the usage report of every user (lab hours, CPU, memory, storage)"}},
    nav=({"id": "usage", "label": "Usage", "path": "usage", "admin": True, "order": 25},),
    handlers=((r"/api/usage", UsageAPIHandler), (r"/usage", UsagePage)),
    pre_spawn=lambda platform, spawner: recorder_for(platform).server_starting(spawner),
    post_stop=lambda platform, spawner: recorder_for(platform).server_stopped(spawner),
    background=(sampler.run,),
    on_user_renamed=lambda platform, old, new: recorder_for(platform).store.rename(old, new),
    on_user_deleted=_user_deleted,
    record_users=lambda platform: recorder_for(platform).store.user_names(),
)
