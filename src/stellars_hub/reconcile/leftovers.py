"""After every stop of a lab, however it stopped, nothing of it is left behind.

JupyterHub's ``User.stop`` calls the spawner's ``stop`` only while ``poll`` says the lab runs: a
lab killed from outside, by the out-of-memory killer ending its main process or by an engine
restart, is stopped without it, and its exited container (and network) would stay, holding the
user's volumes (Manage Volumes would answer 409 naming the user's own dead container). The
post-stop step runs for every stop (JupyterHub's ``Spawner.post_stop_hook``), so the removal is
here, on both backends, through the runtime."""

from __future__ import annotations

import logging

log = logging.getLogger("JupyterHub.stellars")


async def after_stop(platform, spawner) -> None:
    lab = getattr(spawner, "lab_name", None)
    if lab is None:
        return  # a spawner of a site's own kind: not a lab of the platform's
    removed = await platform.runtime.remove_leftovers(lab, getattr(spawner, "lab_network", ""))
    if removed:
        log.info("%s stopped without removing what it left: removed %s", spawner._log_name, ", ".join(removed))
