"""Start the sampler with the hub, independent of page views.

Design: a task on the hub's own event loop, scheduled while JupyterHub executes the config file
(``hubconfig.apply`` runs inside ``JupyterHub.initialize``, on the running loop). It waits until
the hub has finished initialising, then reads users and their servers' last activity from the
hub's ORM session, read-only, and writes samples to its own SQLite file through its own thread.

Why not a JupyterHub-managed service (the other public route, used by the idle culler): a
service reads the hub over its REST API with a token, and every such request makes JupyterHub
record the token's activity in the hub's database; the in-process task writes to the hub's
database never, needs no token or role, follows renames and deletions through ORM hooks in the
same process, and shares the cached engine statistics with the page and /hub/metrics.
"""

from __future__ import annotations

import asyncio
import logging

from . import metrics
from .monitor import Monitor, get_monitor

# a child of JupyterHub's own logger, so messages land in the hub's log with its format
log = logging.getLogger("JupyterHub.activity")

_tasks: set[asyncio.Task] = set()  # strong references: the loop keeps only weak ones


def install(settings) -> Monitor:
    """Called from hubconfig.apply: hooks, metrics and (inside a running hub) the sampler."""
    monitor = get_monitor(settings)
    metrics.register(monitor)
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return monitor  # not inside a starting hub (configuration checks, unit tests)
    if monitor.sampler_started:  # the configuration was applied twice in this process
        return monitor
    monitor.sampler_started = True
    task = loop.create_task(_sample_when_hub_ready(monitor))
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)
    return monitor


async def _sample_when_hub_ready(monitor: Monitor) -> None:
    from jupyterhub.app import JupyterHub

    if not JupyterHub.initialized():
        log.warning("activity sampler not started: no JupyterHub application in this process")
        return
    app = JupyterHub.instance()
    # the web application is created last in JupyterHub.initialize: by then the database,
    # users and their servers are loaded
    while getattr(app, "tornado_application", None) is None:
        await asyncio.sleep(0.2)
    monitor.attach(app.db)
    await monitor.run()
