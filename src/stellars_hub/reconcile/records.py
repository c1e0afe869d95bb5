"""At hub start: every feature's records against the hub's users. A feature keeping records of
a name the hub has no user of (a delete whose feature hooks never ran, a store restored from
elsewhere) drops them the way it does when the hub deletes a user (its ``on_user_deleted``), so a
later user of that name inherits nothing. Interrupted renames and deletes are completed first
(the accounts feature's start-up step), so a rename's records under the old name are moved, not
dropped."""

from __future__ import annotations

import logging

from jupyterhub import orm

log = logging.getLogger("JupyterHub.stellars")


async def check(platform, app) -> dict[str, list[str]]:
    """feature name -> names whose records it dropped."""
    dropped: dict[str, list[str]] = {}
    for feature in platform.features:
        if feature.record_users is None or feature.on_user_deleted is None:
            continue
        kept = set(await feature.record_users(platform))
        users = {name for (name,) in app.db.query(orm.User.name)}  # read after: a user made meanwhile counts
        for name in sorted(kept - users):
            await platform.run_hook(feature, "on_user_deleted", name)
            dropped.setdefault(feature.name, []).append(name)
    for feature, names in dropped.items():
        log.warning("Feature %s kept records of users the hub does not have; dropped: %s", feature, ", ".join(names))
    return dropped
