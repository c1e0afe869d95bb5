"""At hub start: the tool containers (pods) a killed hub left. A backup, a restore or a volume
copy runs in a tool the hub removes once it ended; a hub killed meanwhile never does, and the
ended tool keeps holding the user's volume (Manage Volumes, the next restore: 409 naming it).
A tool still running is waited for, never cut short (a restore stopped half-way would leave a
volume half emptied), then removed; one running longer than any tool may is removed then."""

from __future__ import annotations

import asyncio
import logging
import time

from ..runtime.base import EngineError

log = logging.getLogger("JupyterHub.stellars")

POLL = 5.0  # seconds between looks at a killed hub's tools still running
LONGEST = 3600.0  # a tool's own time limit (run_tool's timeout): one running longer is stuck


async def sweep(platform, app) -> list[str]:
    """Remove the tools an earlier run of this hub left, once each ended; their names."""
    runtime, hub_id = platform.runtime, platform.hub_id
    removed: list[str] = []
    deadline = time.monotonic() + LONGEST
    while True:
        try:
            tools = await runtime.earlier_tools(hub_id)
        except EngineError as exc:  # the engine may be down at hub start: the next start looks again
            log.warning("Tools of an earlier run not looked for: %s", exc)
            return removed
        waiting = [t.name for t in tools if t.running and time.monotonic() < deadline]
        for tool in tools:
            if tool.name not in waiting:
                await runtime.remove_tool(tool.name)
                removed.append(tool.name)
                log.warning("Removed tool %s, left by a hub that stopped while it ran", tool.name)
        if not waiting:
            return removed
        await asyncio.sleep(POLL)
