"""The one place where a share becomes a way into a lab: a JupyterHub role per shared lab,
``labshare-<owner>[--<server>]``, carrying the lab's enter scope, held by exactly the users and
groups whose shares of that lab open it.

Why a role and not the share alone: JupyterHub resolves a share's scopes for its API, but the
token a visitor's OAuth login gets for a lab is cut to the visitor's *role* scopes (plus
JupyterHub's access scope on that server), so the enter scope must come from a role. The share
records stay the truth; ``sync`` makes the role match them and is called on every path that
changes them or could let a stale role matter: after every share, link acceptance and
revocation through the hub's routes, before every start of a lab (a named server deleted and
made again under its old name starts with no visitors), at start-up (JupyterHub deletes roles it
was not configured with) and by the visitors' sweep. A group's share is given to the group, so
leaving the group ends it at once. Stripping the role is enough to end access: the lab asks the
hub about a visitor's token every ``JUPYTERHUB_LAB_AUTH_RECHECK_SECONDS``, and the hub answers
with the token's scopes cut to what its owner holds now.
"""

from __future__ import annotations

import logging

from jupyterhub import orm, roles

from .. import naming
from ..lab.mixin import lab_scope
from . import records

log = logging.getLogger("JupyterHub.sharing")

PREFIX = "labshare-"


def role_name(owner: str, server: str) -> str:
    """``labshare-<escaped owner>[--<escaped server>]``: an escaped name never holds ``--``."""
    return PREFIX + naming.server_container_name(owner, server)[len(naming.CONTAINER_PREFIX) :]


def _wanted(db, spawner: orm.Spawner) -> tuple[set[int], set[int]]:
    """(user ids, group ids) whose unexpired shares of this server carry its enter scope."""
    users: set[int] = set()
    groups: set[int] = set()
    for share in db.query(orm.Share).filter(orm.Share.spawner_id == spawner.id):
        if share.expired or not records.carries_enter(share.scopes):
            continue
        if share.user_id is not None:
            users.add(share.user_id)
        elif share.group_id is not None:
            groups.add(share.group_id)
    return users, groups


def sync(db, spawner: orm.Spawner) -> None:
    """Make the lab's role held by exactly its share holders (created when first needed,
    deleted when nobody holds it)."""
    owner, server = spawner.user.name, spawner.name or ""
    name = role_name(owner, server)
    users, groups = _wanted(db, spawner)
    role = orm.Role.find(db, name)
    if role is None and not (users or groups):
        return
    if role is None:
        role = roles.create_role(
            db,
            {
                "name": name,
                "scopes": [lab_scope(owner, server)],
                "description": f"Open {records.server_label(owner, server)}: shared by its owner (kept by the platform)",
            },
        )
    elif role.scopes != [lab_scope(owner, server)]:
        role.scopes = [lab_scope(owner, server)]  # a role of this name is only ever this lab's
    for user in list(role.users):
        if user.id not in users:
            roles.strip_role(db, user, name, commit=False)
    for group in list(role.groups):
        if group.id not in groups:
            roles.strip_role(db, group, name, commit=False)
    held_users = {u.id for u in role.users}
    held_groups = {g.id for g in role.groups}
    for uid in users - held_users:
        roles.grant_role(db, db.get(orm.User, uid), name, commit=False)
    for gid in groups - held_groups:
        roles.grant_role(db, db.get(orm.Group, gid), name, commit=False)
    for other in list(role.services):
        roles.strip_role(db, other, name, commit=False)  # nothing else ever holds it
    if not (users or groups):
        db.delete(role)
    db.commit()


def sync_all(db) -> None:
    """Every lab's role against its share records: roles of labs that no longer exist (a
    deleted user or named server) go, labs with shares that open them get theirs."""
    spawner_ids = {sid for (sid,) in db.query(orm.Share.spawner_id).distinct() if sid is not None}
    for role in db.query(orm.Role).filter(orm.Role.name.like(PREFIX + "%")).all():
        spawner = _spawner_of(db, role)
        if spawner is None:
            log.info("role %s: its lab no longer exists, deleted", role.name)
            db.delete(role)
            db.commit()
        else:
            spawner_ids.add(spawner.id)
    for sid in spawner_ids:
        spawner = db.get(orm.Spawner, sid)
        if spawner is not None and spawner.user is not None:
            sync(db, spawner)


def _spawner_of(db, role: orm.Role) -> orm.Spawner | None:
    """The server a lab role is for, read from its scope; None when that server does not exist
    or the role is not what its name says."""
    for scope in role.scopes or ():
        base, _, target = scope.partition("!server=")
        if base != records.ENTER or "/" not in target:
            continue
        owner, server = target.split("/", 1)
        user = orm.User.find(db, owner)
        if user is None or role.name != role_name(owner, server):
            return None
        return user.orm_spawners.get(server)
    return None


def drop_for_owner(db, owner: str) -> None:
    """The roles of a user's labs (the user is being renamed or deleted: a later user of the
    name must not inherit them)."""
    user = orm.User.find(db, owner)
    names = {role_name(owner, s) for s in (user.orm_spawners if user is not None else {})} | {role_name(owner, "")}
    for role in db.query(orm.Role).filter(orm.Role.name.like(PREFIX + "%")).all():
        if role.name in names or any(s.startswith(f"{records.ENTER}!server={owner}/") for s in role.scopes or ()):
            db.delete(role)
    db.commit()
