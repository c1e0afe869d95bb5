"""What the usage report adds to the hub: its scope, API, page, nav entry, and the recorder of
samples and server starts and stops."""

from __future__ import annotations

from ..feature import Feature
from . import sampler
from .config import Usage
from .handlers import READ_SCOPE, UsageAPIHandler, UsagePage
from .sampler import recorder_for

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
)
