"""What the capacity feature adds to the hub: admission before every start, the lab networks'
check and tidying at hub start (the runtime's, on the engines that give labs networks of their
own), and their readiness warnings."""

from __future__ import annotations

import logging

from ..feature import Feature
from ..lab.config import Labs, NamedServers
from .admission import ADMITTED, Admission
from .config import Capacity

log = logging.getLogger("JupyterHub.stellars")


def admission_for(platform) -> Admission:
    # derived from the engine's memory where the runtime knows it (Docker); none where a
    # scheduler decides (Kubernetes: the runtime knows no one host's memory)
    return platform.shared("admission", lambda: Admission(platform.settings(Capacity).max_labs, platform.runtime))


def hub_users() -> list:
    """JupyterHub's users with their spawners (every user with a server is loaded)."""
    from jupyterhub.app import JupyterHub

    return list(JupyterHub.instance().users.values()) if JupyterHub.initialized() else []


def active_spawners() -> list:
    """The hub's spawners that start or run (or stop) now."""
    return [sp for user in hub_users() for sp in user.spawners.values() if sp.active]


async def _tidy_networks(platform, app) -> None:
    """Once, at hub start: lab networks no lab uses any more go (left by a hub or a lab that
    died); networks that take the pool's addresses are named in a readiness warning."""
    labs, named = platform.settings(Labs), platform.settings(NamedServers)
    try:
        removed, _ = await platform.runtime.tidy_lab_networks(labs, named, active_spawners)
    except Exception as exc:  # the engine may be down at hub start: the next start says so
        log.warning("Lab networks not checked at start: %s", exc)
        return
    if removed:
        log.info("Removed %d lab networks no running lab used: %s", len(removed), ", ".join(removed))


async def _pre_spawn(platform, spawner) -> None:
    await admission_for(platform).admit(spawner, hub_users())


def _post_stop(platform, spawner) -> None:
    setattr(spawner, ADMITTED, False)


def _readiness(platform, detailed: bool) -> dict[str, str]:
    found = admission_for(platform).warnings(hub_users()) if detailed else {}
    found.update(platform.runtime.readiness_warnings(detailed))
    return found


FEATURE = Feature(
    name="capacity",
    pre_spawn=_pre_spawn,
    post_stop=_post_stop,
    background=(_tidy_networks,),
    readiness=_readiness,
    config_classes=(Capacity,),
)
