"""Time left before idle culling, computed from what the hub knows.

The idle culler belongs to the session feature, which this feature may not import. Until the
two are joined, the monitor estimates the deadline the way a culler without extensions would:
the lab is stopped ``JUPYTERHUB_IDLE_CULLER_TIMEOUT`` seconds after the server's own last
activity. This function is the single place to point at the session feature's real deadline
(which also honours extensions) once both have landed.
"""

from __future__ import annotations

from datetime import datetime


def seconds_until_cull(settings, running: bool, last_activity: datetime | None, now: datetime) -> int | None:
    """Seconds until the culler may stop this lab (0 = due now); None when culling is off, the
    lab is not running or its last activity is unknown. Both datetimes are naive UTC, the way
    JupyterHub stores them."""
    if not settings["JUPYTERHUB_IDLE_CULLER_ENABLED"] or not running or last_activity is None:
        return None
    idle = (now - last_activity).total_seconds()
    return max(0, int(settings["JUPYTERHUB_IDLE_CULLER_TIMEOUT"] - idle))
