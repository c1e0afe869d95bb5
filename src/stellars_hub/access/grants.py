"""Roles that carry ``custom:labaccess:enter!user=<owner>`` to the admins granted access, made
with JupyterHub's own RBAC functions (jupyterhub.roles), and the spawner settings that make a
lab require that scope."""

from __future__ import annotations

import asyncio
import logging
import time

from jupyterhub import orm, roles

from .. import naming
from ..lab.mixin import ENTER_SCOPE
from .store import store_for

log = logging.getLogger("JupyterHub.access")

CONSENT_SCOPE = "custom:labaccess:consent"
SWEEP_EVERY = 15.0


def enter_scope(owner: str) -> str:
    return f"{ENTER_SCOPE}!user={owner}"


# -- spawner side: the lab requires the enter scope on its own server, and its OAuth client may
# grant nothing else (lab.mixin.lab_scopes, the spawners' defaults)


# -- hub side: roles -------------------------------------------------------------------------
def role_name(owner: str) -> str:
    return "labaccess-" + naming.escape_name(owner)


def grant_role(db, owner: str, admin_user) -> None:
    name = role_name(owner)
    if orm.Role.find(db, name) is None:
        roles.create_role(
            db,
            {
                "name": name,
                "scopes": [enter_scope(owner)],
                "description": f"Open {owner}'s lab (granted by the platform while allowed)",
            },
        )
    roles.grant_role(db, admin_user.orm_user if hasattr(admin_user, "orm_user") else admin_user, name)


def revoke(db, owner: str, admin_name: str) -> None:
    """Strip the role and end the admin's OAuth sessions with the owner's lab."""
    admin = orm.User.find(db, admin_name)
    role = orm.Role.find(db, role_name(owner))
    if admin is None:
        return
    if role is not None and role in admin.roles:
        roles.strip_role(db, admin, role.name)
    owner_user = orm.User.find(db, owner)
    if owner_user is not None:
        clients = [s.oauth_client_id for s in owner_user._orm_spawners if s.oauth_client_id]
        for token in db.query(orm.APIToken).filter(
            orm.APIToken.user_id == admin.id, orm.APIToken.client_id.in_(clients)
        ):
            db.delete(token)
        db.commit()


async def reconcile(db, store) -> None:
    """At start-up: a grant role is held only by admins with a grant in the store, and a role
    whose owner has none is gone (left by a user deleted or renamed before its hooks existed,
    it would open the lab of whoever took the name)."""
    now = time.time()
    for role in db.query(orm.Role).filter(orm.Role.name.like("labaccess-%")).all():
        owners = [s.split("!user=", 1)[1] for s in role.scopes or [] if s.startswith(f"{ENTER_SCOPE}!user=")]
        granted = {a for owner in owners for a, _until in await store.grants(owner, now)}
        for user in list(role.users):
            if user.name not in granted:
                roles.strip_role(db, user, role.name)
                log.warning("%s held %s without a grant: stripped", user.name, role.name)
        if not granted:
            roles.delete_role(db, role.name)


async def sweep(platform, app) -> None:
    """The access feature's background work: grant roles checked against the grants once, then
    ending grants whose time is up."""
    store = store_for(platform)
    try:
        await reconcile(app.db, store)
    except Exception:
        log.exception("lab access roles could not be checked against the grants")
    while True:
        try:
            for owner, admin in await store.expire(time.time()):
                revoke(app.db, owner, admin)
                log.info("lab access of %s to %s's lab ended", admin, owner)
        except Exception:
            log.exception("lab access sweep failed")
        await asyncio.sleep(SWEEP_EVERY)
