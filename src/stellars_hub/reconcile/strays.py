"""At hub start: the engine's labs against the hub's servers. A lab (container, pod) this hub
made whose server the hub does not have running is a stray, left by a hub that died between
the engine's step and its own commit, or by a stop whose post-step never ran: it is removed,
and so is every lab network of this hub that no lab is on. Only what carries this hub's id
(``HUB_LABEL``) is looked at: other hubs on the same engine keep theirs."""

from __future__ import annotations

import logging

from jupyterhub import orm

from .. import naming
from ..runtime.base import EngineError

log = logging.getLogger("JupyterHub.stellars")


def servers_of_the_hub(db) -> set[str]:
    """Labs (container or pod names) of every server the hub's database says is running."""
    rows = (
        db.query(orm.User.name, orm.Spawner.name)
        .join(orm.Spawner, orm.Spawner.user_id == orm.User.id)
        .filter(orm.Spawner.server_id.isnot(None))
    )
    return {naming.server_container_name(user, server) for user, server in rows}


def in_use(app) -> tuple[set[str], set[str]]:
    """(labs, networks) of the spawners the hub holds that are running, starting or stopping."""
    labs, networks = set(), set()
    for user in list(app.users.values()):
        for spawner in list(user.spawners.values()):
            if spawner.active or spawner.pending:
                labs.add(getattr(spawner, "lab_name", ""))
                networks.add(getattr(spawner, "lab_network", ""))
    return labs, networks


async def sweep(platform, app) -> list[str]:
    """Remove this hub's strays; the names of what went."""
    runtime, hub_id = platform.runtime, platform.hub_id
    try:
        found = await runtime.hub_labs(hub_id)
    except EngineError as exc:  # the engine may be down at hub start: the next start looks again
        log.warning("Labs not compared with the engine at start-up: %s", exc)
        return []
    removed: list[str] = []
    for lab in found:
        running = servers_of_the_hub(app.db)  # read again before each: a start may have begun
        labs, _ = in_use(app)
        if lab.name in running or lab.name in labs:
            continue
        removed += await runtime.remove_leftovers(lab.name)
        log.warning(
            "Removed lab %s (%s): the hub has no server running for it",
            lab.name,
            "running" if lab.running else "stopped",
        )
    _, networks = in_use(app)
    removed += await runtime.remove_unused_networks(hub_id, {n for n in networks if n})
    return removed
