"""Who is in a shared lab, seen the one way every visitor gets in: an OAuth token of the lab's own
client (JupyterHub issues one at the OAuth exchange, whether the visitor followed a link from the
home page, an invitation or a bookmark). ``reconcile`` compares those tokens with the shares
that open each lab:

- a token of someone the lab is shared with, not seen before: they joined (one audit line
  ``lab-share-join``, and the owner's open lab says so, as it does for an administrator);
- a token of someone who had joined but no longer holds a share (revoked, a link's share
  deleted, their group left or deleted): their sessions with that lab end (tokens deleted, one
  audit line ``lab-share-revoke`` with outcome ``ended``, the owner told);
- a visitor without a token any more (the lab stopped, which deletes its client): forgotten,
  so their next visit is a new join.

This is bookkeeping, not the gate: the lab lets in only holders of its enter scope, which
JupyterHub resolves from the share records at every check (the lab asks again every
``JUPYTERHUB_LAB_AUTH_RECHECK_SECONDS``). Tokens of visitors who never came through a share
(an administrator with consent) are the access feature's.
"""

from __future__ import annotations

import asyncio
import logging
import time

from .. import labnotify
from ..web import audit
from . import records
from . import roles as labroles
from .store import Key, store_for

log = logging.getLogger("JupyterHub.sharing")

SWEEP_EVERY = 5.0
ROLES_EVERY = 6  # sweeps between checks of every lab's role against the share records (30 s)


def _lab_words(server: str) -> str:
    return f"your lab '{server}'" if server else "your lab"


class Visitors:
    """The hub's one bookkeeper of visits (``platform.shared``)."""

    def __init__(self, platform):
        self.platform = platform
        self.store = store_for(platform)
        self._lock = asyncio.Lock()

    async def reconcile(self, db, users) -> None:
        """``db``: the hub's ORM session; ``users``: its user wrappers (``app.users``)."""
        async with self._lock:  # the sweep and a revoking request never interleave
            await self._reconcile(db, users)

    async def _reconcile(self, db, users) -> None:
        tokens = records.visitor_tokens(db)
        held = records.holders(db, {t.spawner_id for t in tokens})
        known = await self.store.visits()
        seen: dict[Key, records.Visit] = {}
        for t in tokens:
            seen.setdefault((t.owner, t.server, t.visitor), t)
        now = time.time()
        for key, t in seen.items():
            via = held.get(t.spawner_id, {}).get(t.visitor_id)
            if via is not None and key not in known:
                await self.store.join(key, via, now)
                audit.record_for(
                    self.platform, t.visitor, t.owner, "lab-share-join", "joined", server=t.server, via=via
                )
                await self._tell_owner(users, t, f"{t.visitor} has joined {_lab_words(t.server)} (shared with them).")
            elif via is None and key in known:
                records.delete_tokens(db, t.visitor_id, t.spawner_id)
                await self.store.leave([key])
                audit.record_for(
                    self.platform,
                    "(hub)",
                    t.owner,
                    "lab-share-revoke",
                    "ended",
                    server=t.server,
                    user=t.visitor,
                    reason="no longer shared with them: their sessions with the lab were ended",
                )
                await self._tell_owner(users, t, f"{t.visitor} no longer has access to {_lab_words(t.server)}.")
        gone = [key for key in known if key not in seen]
        if gone:
            await self.store.leave(gone)

    async def _tell_owner(self, users, t: records.Visit, text: str) -> None:
        owner = users.get(t.owner)
        if owner is None:
            return
        spawner = owner.spawners.get(t.server)
        if spawner is None or not spawner.ready:
            return
        delivery = await labnotify.deliver(
            owner, labnotify.payload(text, "info"), note="shared lab visitor", spawner=spawner
        )
        if not delivery.ok:
            log.info("could not tell %s in their lab: %s", records.server_label(t.owner, t.server), delivery.error)

    async def in_the_lab(self, owner: str) -> list[dict]:
        return [
            {"server": server, "user": visitor, "via": via, "joined": joined}
            for server, visitor, via, joined in await self.store.of_owner(owner)
        ]


def visitors_for(platform) -> Visitors:
    return platform.shared("sharing-visitors", lambda: Visitors(platform))


async def sweep(platform, app) -> None:
    """The sharing feature's background work."""
    visitors = visitors_for(platform)
    passes = 0
    while True:
        try:
            if passes % ROLES_EVERY == 0:  # at start-up first: JupyterHub deleted the roles it was not configured with
                labroles.sync_all(app.db)
            await visitors.reconcile(app.db, app.users)
        except Exception:
            log.exception("shared-lab visitors could not be checked")
        passes += 1
        await asyncio.sleep(SWEEP_EVERY)
