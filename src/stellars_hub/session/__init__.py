"""Idle culling that users can extend and that warns before it stops a lab.

Public to other features: ``seconds_until_stop`` (the same deadline the culler applies).
"""

from __future__ import annotations

import math
from datetime import datetime


async def seconds_until_stop(
    settings, username: str, last_activity, started, now: datetime, server: str = ""
) -> int | None:
    """Seconds until the culler stops this running server (0 = due), extensions included;
    None when culling is off, the server has not started or no limit applies to its start. ``settings``: the hub's
    (``platform.settings``). ``server``: '' for the default
    server, else a named server's name. The extension store is read on its file's own thread."""
    from ..hubsettings import StellarsHub
    from . import deadline as dl
    from .config import IdleCuller
    from .sessions import deadline_of
    from .store import store_for

    policy = dl.Policy.from_config(settings(IdleCuller))
    if not policy.enabled or started is None:
        return None
    d = await deadline_of(policy, store_for(settings(StellarsHub).data_dir), username, server, started, last_activity)
    return None if d.never else max(0, math.floor(d.remaining(now)))
