"""What the usage report adds to the hub: its scope, API, page, nav entry, and the recorder of
samples and server starts and stops."""

from __future__ import annotations

from ..feature import Feature
from .handlers import READ_SCOPE, UsageAPIHandler, UsagePage
from .sampler import install, recorder_for


def _on_start(platform, app) -> None:
    install(platform)


FEATURE = Feature(
    name="usage",
    scopes={READ_SCOPE: {"description": "Read the usage report of every user (lab hours, CPU, memory, storage)"}},
    nav=({"id": "usage", "label": "Usage", "path": "usage", "admin": True, "order": 25},),
    handlers=((r"/api/usage", UsageAPIHandler), (r"/usage", UsagePage)),
    pre_spawn=lambda platform, spawner: recorder_for(platform).server_starting(spawner),
    post_stop=lambda platform, spawner: recorder_for(platform).server_stopped(spawner),
    on_start=_on_start,
    on_user_renamed=lambda platform, old, new: recorder_for(platform).store.rename(old, new),
)
