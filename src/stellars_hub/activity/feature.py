"""What the activity monitor adds to the hub: scopes, the API, the admin page and its nav entry,
the gauges on /hub/metrics, and the sampler, started once the hub serves requests.

The sampler is a task on the hub's own event loop that reads the hub's ORM session read-only and
writes samples to its own SQLite file through its own thread. It is not a JupyterHub service: a
service reads the hub over its REST API, and every such request makes JupyterHub record the
token's activity in the hub's database.
"""

from __future__ import annotations

from ..feature import Feature
from . import metrics
from .config import ActivityMonitor
from .handlers import READ_SCOPE, RESET_SCOPE, ActivityAPIHandler, ActivityPage, ActivityResetAPIHandler
from .monitor import monitor_for


async def _sample(platform, app) -> None:
    monitor = monitor_for(platform)
    metrics.register(monitor)
    monitor.attach(app.db)
    await monitor.run()


FEATURE = Feature(
    name="activity",
    config_classes=(ActivityMonitor,),
    scopes={
        READ_SCOPE: {"description": "See every user's lab status, resource use and activity score"},
        RESET_SCOPE: {"description": "Clear the whole activity history", "subscopes": [READ_SCOPE]},
    },
    nav=({"id": "activity", "label": "Activity", "path": "activity", "admin": True, "order": 20},),
    handlers=(
        (r"/api/activity", ActivityAPIHandler),
        (r"/api/activity/reset", ActivityResetAPIHandler),
        (r"/activity", ActivityPage),
    ),
    background=(_sample,),
    on_user_renamed=lambda platform, old, new: monitor_for(platform).user_renamed(old, new),
    on_user_deleted=lambda platform, name: monitor_for(platform).user_deleted(name),
    record_users=lambda platform: monitor_for(platform).store.user_names(),
)
