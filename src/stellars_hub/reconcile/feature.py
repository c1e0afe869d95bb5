"""What the reconcile feature adds to the hub: after every stop, the lab's leftovers removed
(leftovers.py); once the hub serves requests, the engine's labs compared with the hub's servers
(strays.py) and every feature's records with the hub's users (records.py). Interrupted renames
and deletes are the accounts feature's (its start-up step, which runs before this work)."""

from __future__ import annotations

import logging

from ..feature import Feature
from ..web import audit
from . import leftovers, records, strays

log = logging.getLogger("JupyterHub.stellars")


async def _at_start(platform, app) -> None:
    removed = await strays.sweep(platform, app)
    dropped = await records.check(platform, app)
    if removed or dropped:
        audit.record_for(platform, "(hub start)", "hub", "reconcile", "ok", removed=removed, records_dropped=dropped)


FEATURE = Feature(
    name="reconcile",
    post_stop=leftovers.after_stop,
    background=(_at_start,),
)
