"""Admission: at most ``JUPYTERHUB_MAX_LABS`` labs run at once, checked before every start.

Every way to start a lab (home page, API, batch start, named servers, Restart Server when it
recreates the lab) passes JupyterHub's pre-spawn hook, so the check lives there, before any
container exists. It counts the servers of every user, default and named, that run, start or
stop (a stopping lab still holds its memory), and admits a start only while that count is below
the limit. Admitted starts count at once: two starts checked in the same instant cannot both
take the last place.

With ``JUPYTERHUB_MAX_LABS=0`` the limit follows the engine's memory where the runtime knows it
(Docker; on Kubernetes the scheduler decides and there is no such limit): its total, less
a reserve for the hub, its proxy, the engine and the system (a tenth, at least 1 GiB), divided
by what the labs running now use on average (the engine's own figures, at most a minute old;
512 MiB until a lab has been measured). Labs are idle most of the time, so their limits
(``JUPYTERHUB_LAB_MEMORY_LIMIT``) would admit a handful of labs on a host that holds a hundred;
their actual use admits what the host holds, and as labs grow, fewer new ones are admitted
rather than the host running out of memory.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable

from .. import naming
from ..lab.refusal import refused

log = logging.getLogger("JupyterHub.stellars")

GiB = 2**30
MiB = 2**20
RESERVE_FRACTION = 0.10
RESERVE_MIN = 1 * GiB
ASSUMED_LAB_BYTES = 512 * MiB  # until a running lab has been measured
MEASURE_EVERY = 60.0  # seconds between measurements of the running labs
NEAR = 0.8  # of the limit: from here on, starts go by fresh figures
FRESH_NEAR_LIMIT = 5.0  # seconds
ADMITTED = "_stellars_admitted"  # set on a spawner whose start passed admission


def counted(spawner) -> bool:
    """A server that holds (or is about to hold) a place: running, stopping, or starting past
    admission. A start still before its admission does not count yet."""
    return bool(spawner.active and (spawner.ready or spawner.pending == "stop" or getattr(spawner, ADMITTED, False)))


def labs_in_use(users: Iterable, exclude=None) -> int:
    """Servers of every user holding a place (``users``: JupyterHub's users, with their spawners)."""
    return sum(1 for user in users for sp in user.spawners.values() if sp is not exclude and counted(sp))


def running_servers(users: Iterable) -> list[tuple[str, str]]:
    return [(user.name, name) for user in users for name, sp in user.spawners.items() if sp.ready]


def derived_limit(memory_total: int, per_lab: float) -> int:
    reserve = max(RESERVE_MIN, memory_total * RESERVE_FRACTION)
    return max(1, int((memory_total - reserve) // max(per_lab, MiB)))


class Admission:
    def __init__(self, max_labs: int, runtime, clock=time.monotonic):
        self.max_labs = max_labs  # 0: derived from the engine's memory, or none where it is unknown
        self.runtime = runtime
        self.clock = clock
        self.memory_total: int | None = None  # the engine's (0: not one host's, or unknown)
        self.per_lab: float | None = None  # measured average of the running labs
        self.measured_at: float | None = None
        self._measuring: asyncio.Task | None = None

    # -- the limit --------------------------------------------------------------------------
    def limit(self) -> int | None:
        """The most labs at once now (None: no limit)."""
        if self.max_labs:
            return self.max_labs
        if not self.memory_total:
            return None
        return derived_limit(self.memory_total, self.per_lab or ASSUMED_LAB_BYTES)

    def explain(self) -> str:
        if self.max_labs:
            return f"JUPYTERHUB_MAX_LABS={self.max_labs}"
        per_lab = self.per_lab or ASSUMED_LAB_BYTES
        how = "measured on the running labs" if self.per_lab else "assumed until labs are measured"
        return (
            f"JUPYTERHUB_MAX_LABS=0: the engine's {(self.memory_total or 0) / GiB:.1f} GiB of memory less a reserve, "
            f"at {per_lab / MiB:.0f} MiB per lab ({how})"
        )

    async def refresh(self, users: list, in_use: int) -> None:
        """Read the engine's memory once, and the running labs' memory at most every
        MEASURE_EVERY seconds in the background; near the limit (NEAR of it) a start waits for
        figures at most FRESH_NEAR_LIMIT seconds old, so the last places go by what labs use now."""
        if self.max_labs:
            return
        if self.memory_total is None:
            self.memory_total = await self.runtime.engine_memory() or 0
        if not self.memory_total:
            return  # no limit of the hub's own: nothing to measure for it
        age = None if self.measured_at is None else self.clock() - self.measured_at
        limit = self.limit()
        near = limit is not None and in_use >= NEAR * limit
        if self._measuring is None or self._measuring.done():
            if age is None or age > MEASURE_EVERY or (near and age > FRESH_NEAR_LIMIT):
                self._measuring = asyncio.ensure_future(self._measure(running_servers(users)))
        if near and self._measuring is not None:
            await asyncio.shield(self._measuring)

    async def _measure(self, servers: list[tuple[str, str]]) -> None:
        self.measured_at = self.clock()
        if not servers:
            return
        names = [naming.server_container_name(user, server) for user, server in servers]
        try:
            stats = await self.runtime.container_stats(names)
        except Exception as exc:  # the last figure (or the assumption) stands
            log.warning("admission: could not measure the running labs' memory: %s", exc)
            return
        used = [s.memory_bytes for s in stats.values() if s is not None and s.memory_bytes > 0]
        if used:
            self.per_lab = sum(used) / len(used)

    # -- the check --------------------------------------------------------------------------
    async def admit(self, spawner, users: list) -> None:
        """Admit this start or refuse it with a message for the user (503, before any
        container is created)."""
        setattr(spawner, ADMITTED, False)
        try:
            await asyncio.wait_for(self.refresh(users, labs_in_use(users, exclude=spawner)), 5)
        except Exception as exc:  # an engine that does not answer fails the start itself, later
            log.warning("admission: no memory figures (%s); deciding on what is known", exc)
        limit = self.limit()
        in_use = labs_in_use(users, exclude=spawner)  # no await from here to the mark below
        if limit is not None and in_use >= limit:
            log.warning(
                "Refused to start %s: %d labs run or start, the most at once is %d (%s)",
                spawner._log_name,
                in_use,
                limit,
                self.explain(),
            )
            raise refused(
                f"This host already runs as many labs as it can hold ({limit}), so yours cannot start now. "
                "Try again when another lab has stopped, or ask your administrator to raise the limit "
                "(JUPYTERHUB_MAX_LABS).",
                "capacity",
                retry_after=60,
            )
        setattr(spawner, ADMITTED, True)

    def warnings(self, users: list) -> dict[str, str]:
        limit = self.limit()
        if limit is not None and labs_in_use(users) >= limit:
            return {"labs": f"at capacity: new labs are refused until one stops ({self.explain()})"}
        return {}
