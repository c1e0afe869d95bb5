"""What the capacity feature adds to the hub: admission before every start, the lab networks'
check and tidying at hub start and after every stop, and their readiness warnings."""

from __future__ import annotations

import asyncio
import logging
import os
import socket

from .. import labnet
from ..feature import Feature
from ..platform import Labs, NamedServers
from .admission import ADMITTED, Admission

log = logging.getLogger("JupyterHub.stellars")
_tasks: set[asyncio.Task] = set()  # strong references: the loop keeps only weak ones


def admission_for(platform) -> Admission:
    def make() -> Admission:
        docker = platform.settings["JUPYTERHUB_BACKEND"] == "docker"
        return Admission(platform.settings_of(Labs).max_labs, platform.runtime, derive=docker)

    return platform.shared("admission", make)


def hub_users() -> list:
    """JupyterHub's users with their spawners (every user with a server is loaded)."""
    from jupyterhub.app import JupyterHub

    return list(JupyterHub.instance().users.values()) if JupyterHub.initialized() else []


def own_networks(platform) -> bool:
    labs = platform.settings_of(Labs)
    return (
        platform.settings["JUPYTERHUB_BACKEND"] == "docker"
        and labs.network_isolation
        and labs.network_name not in ("host", "bridge")
    )


async def _tidy_networks(platform) -> None:
    labs = platform.settings_of(Labs)
    pool = labnet.pool_from(labs, platform.settings_of(NamedServers))
    hub_container = socket.gethostname() if os.path.exists("/.dockerenv") else ""

    def busy(network: str) -> bool:  # a start or a running lab of this hub uses it
        return any(
            sp.active and getattr(sp, "network_name", None) == network
            for user in hub_users()
            for sp in user.spawners.values()
        )

    try:
        removed, overlaps = await platform.runtime.tidy_lab_networks(labs.network_name, pool, hub_container, busy)
    except Exception as exc:  # the engine may be down at hub start: the next start says so
        log.warning("Lab networks not checked at start: %s", exc)
        return
    if removed:
        log.info("Removed %d lab networks no running lab used: %s", len(removed), ", ".join(removed))
    status = labnet.hub_status()
    status.pool, status.overlaps = pool.describe(), overlaps
    if overlaps:
        log.warning("%s", status.warnings()["lab_networks"])
    log.info("Lab networks from JUPYTERHUB_LAB_SUBNET_POOL %s", pool.describe())


def _on_start(platform, app) -> None:
    if own_networks(platform):
        task = asyncio.get_running_loop().create_task(_tidy_networks(platform))
        _tasks.add(task)
        task.add_done_callback(_tasks.discard)


async def _pre_spawn(platform, spawner) -> None:
    await admission_for(platform).admit(spawner, hub_users())


async def _post_stop(platform, spawner) -> None:
    setattr(spawner, ADMITTED, False)
    # a lab that died is stopped without spawner.stop(): its network goes here
    if getattr(spawner, "owns_network", False):
        await spawner.remove_lab_network()


def _readiness(platform) -> dict[str, str]:
    found = admission_for(platform).warnings(hub_users())
    if own_networks(platform):
        found.update(labnet.hub_status().warnings())
    return found


FEATURE = Feature(
    name="capacity",
    pre_spawn=_pre_spawn,
    post_stop=_post_stop,
    on_start=_on_start,
    readiness=_readiness,
)
