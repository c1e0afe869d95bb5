"""What the capacity feature adds to the hub: admission before every start, the lab networks'
check at hub start (the runtime's, on the engines that give labs networks of their
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


async def _check_networks(platform, app) -> None:
    """Once, at hub start: networks that take the pool's addresses are named in a readiness
    warning (lab networks no lab uses any more are removed by the reconcile feature)."""
    labs, named = platform.settings(Labs), platform.settings(NamedServers)
    try:
        await platform.runtime.check_lab_networks(labs, named)
    except Exception as exc:  # the engine may be down at hub start
        log.warning("Lab networks not checked at start: %s", exc)


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
    background=(_check_networks,),
    readiness=_readiness,
    config_classes=(Capacity,),
)
