"""What the usage report adds to the hub: its scope, API, page, nav entry and recorder."""

from __future__ import annotations

from .handlers import READ_SCOPE, UsageAPIHandler, UsagePage
from .sampler import get_recorder, install  # noqa: F401 (hubconfig.apply calls routes.install)

SCOPES = {READ_SCOPE: {"description": "Read the usage report of every user (lab hours, CPU, memory, storage)"}}
USER_SCOPES: list[str] = []
NAV = [{"id": "usage", "label": "Usage", "path": "usage", "admin": True, "order": 25}]


def handlers(settings):
    return [(r"/api/usage", UsageAPIHandler), (r"/usage", UsagePage)]


# plain functions, not bound methods: traitlets deep-copies configured values, and a copy of
# the recorder (with its thread pool) can be neither made nor wanted
def spawn_step(settings):
    """A pre-spawn step recording the server's start (for hubconfig.run_before_spawn)."""

    def record_start(spawner):
        get_recorder(settings).server_starting(spawner)

    return record_start


def post_stop_hook(settings):
    def record_stop(spawner):
        get_recorder(settings).server_stopped(spawner)

    return record_stop
