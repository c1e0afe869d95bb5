"""What the reconcile feature adds to the hub: after every stop, the lab's leftovers removed
(leftovers.py); once the hub serves requests, the engine's labs compared with the hub's servers
(strays.py) and every feature's records with the hub's users (records.py), and the tools a
killed hub left removed once they ended, no lab starting on a volume one still works on
(tools.py). Interrupted renames and deletes are the
accounts feature's (its start-up step, which runs before this work)."""

from __future__ import annotations

import logging

from ..feature import Feature
from ..web import audit
from . import leftovers, records, strays, tools

log = logging.getLogger("JupyterHub.stellars")


async def _at_start(platform, app) -> None:
    removed = await strays.sweep(platform, app)
    dropped = await records.check(platform, app)
    if removed or dropped:
        audit.record_for(platform, "(hub start)", "hub", "reconcile", "ok", removed=removed, records_dropped=dropped)


async def _tools_at_start(platform, app) -> None:
    removed = await tools.sweep(platform, app)  # apart: it may wait for a killed hub's restore to end
    if removed:
        audit.record_for(platform, "(hub start)", "hub", "reconcile", "ok", tools_removed=removed)


FEATURE = Feature(
    name="reconcile",
    pre_spawn=tools.refuse_held,
    post_stop=leftovers.after_stop,
    background=(_at_start, _tools_at_start),
)
