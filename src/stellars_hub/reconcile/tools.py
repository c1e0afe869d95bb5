"""At hub start: the tool containers (pods) a killed hub left. A backup, a restore or a volume
copy runs in a tool the hub removes once it ended; a hub killed meanwhile never does, and the
ended tool keeps holding the user's volume (Manage Volumes, the next restore: 409 naming it).
A tool still running is waited for, never cut short (a restore stopped half-way would leave a
volume half emptied), then removed; one running longer than any tool may is removed then.
Meanwhile no lab starts on a volume such a tool holds (``refuse_held``)."""

from __future__ import annotations

import asyncio
import logging
import time

from ..lab.refusal import refused
from ..runtime.base import EngineError

log = logging.getLogger("JupyterHub.stellars")

POLL = 5.0  # seconds between looks at a killed hub's tools still running
LONGEST = 3600.0  # a tool's own time limit (run_tool's timeout): one running longer is stuck
FIRST_LOOK = 10.0  # seconds a start waits for the hub's first look at them


class Held:
    """The volumes an earlier run's tools still running hold; ``looked``: the first look is done."""

    def __init__(self):
        self.volumes: frozenset[str] = frozenset()
        self.looked = asyncio.Event()


def held(platform) -> Held:
    return platform.shared("reconcile-held-volumes", Held)


async def sweep(platform, app) -> list[dict]:
    """Remove the tools an earlier run of this hub left, once each ended; what each was
    (``tool``, the ``volumes`` it worked on, how it ``ended``: ok, failed, unknown, or cut short
    when it ran past any tool's time limit), for the audit log: a restore the killed hub could not
    see to its end is recorded there."""
    runtime, hub_id, state = platform.runtime, platform.hub_id, held(platform)
    removed: list[dict] = []
    deadline = time.monotonic() + LONGEST
    try:
        while True:
            try:
                tools = await runtime.earlier_tools(hub_id)
            except EngineError as exc:  # the engine may be down at hub start: the next start looks again
                log.warning("Tools of an earlier run not looked for: %s", exc)
                return removed
            waiting = [t for t in tools if t.running and time.monotonic() < deadline]
            state.volumes = frozenset(v for t in waiting for v in t.volumes)
            state.looked.set()
            await _remove_ended(runtime, tools, {t.name for t in waiting}, removed)
            if not waiting:
                return removed
            await asyncio.sleep(POLL)
    finally:
        state.volumes = frozenset()
        state.looked.set()


async def _remove_ended(runtime, tools, waiting: set[str], removed: list[dict]) -> None:
    for tool in tools:
        if tool.name not in waiting:
            await runtime.remove_tool(tool.name)
            ended = _ending(tool)
            removed.append({"tool": tool.name, "volumes": list(tool.volumes), "ended": ended})
            log.warning(
                "Removed tool %s on %s (%s), left by a hub that stopped while it ran", tool.name, tool.volumes, ended
            )


def _ending(tool) -> str:
    if tool.running:
        return "cut short"  # past the longest a tool may run: stuck
    if tool.exit_code is None:
        return "unknown"
    return "ok" if tool.exit_code == 0 else f"failed (exit {tool.exit_code})"


async def refuse_held(platform, spawner) -> None:
    """Before a start: refused (503, retry later) while a tool an earlier run of the hub began (a
    restore, a backup, a volume copy) still works on one of the lab's volumes."""
    from ..lab.mixin import LabSpawnerMixin

    state = held(platform)
    try:
        await asyncio.wait_for(state.looked.wait(), FIRST_LOOK)
    except asyncio.TimeoutError:
        log.warning("Starting %s before the tools of an earlier run were looked at", spawner._log_name)
    if not state.volumes or not isinstance(spawner, LabSpawnerMixin):
        return
    busy = sorted(state.volumes & {m.source for m in spawner.lab_volumes(platform.volume_names)})
    if busy:
        log.warning("Refused to start %s: a tool of an earlier run still works on %s", spawner._log_name, busy)
        raise refused(
            "Your files are still being worked on: a restore, backup or copy that began before the hub "
            "restarted is running on them. Your lab can start once it ends; try again in a minute.",
            "volumes-busy",
            retry_after=30,
        )
