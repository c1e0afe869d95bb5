"""Shares end with a rename or delete of either side. JupyterHub deletes a deleted user's share
records with the user, and keeps them across a rename (their scopes' filters follow the new
name); the platform ends them in both cases, audited, before a later user of either name could
inherit a way into a lab: the shares of the user's labs, the shares made to them, their labs'
invitation links, and their sessions in other people's labs."""

from __future__ import annotations

from jupyterhub import orm

from ..web import audit
from . import records
from . import roles as labroles
from .store import store_for


def _hub_db():
    from jupyterhub.app import JupyterHub

    return JupyterHub.instance().db


def end_shares(platform, db, user: orm.User, reason: str, old_name: str | None = None) -> None:
    shares, codes = records.shares_touching(db, user)
    touched = {share.spawner_id for share in shares if share.owner_id != user.id}
    for share in shares:
        row = records.row_of(share)
        if share.owner_id != user.id and share.spawner is not None:
            records.delete_tokens(db, user.id, share.spawner_id)  # their way into someone's lab
        audit.record_for(
            platform, "(hub)", row.owner, "lab-share-revoke", "ended", server=row.server, reason=reason, **row.recipient
        )
        db.delete(share)
    for code in codes:
        audit.record_for(
            platform,
            "(hub)",
            code.owner.name,
            "lab-share",
            "link-deleted",
            server=code.spawner.name,
            link=f"sc_{code.id}",
            reason=reason,
        )
        db.delete(code)
    db.commit()
    labroles.drop_for_owner(db, old_name or user.name)  # a later user of the name inherits no visitors
    for spawner_id in touched:  # the labs the user could enter: their role without the user
        spawner = db.get(orm.Spawner, spawner_id)
        if spawner is not None:
            labroles.sync(db, spawner)


async def user_renamed(platform, old: str, new: str) -> None:
    db = _hub_db()
    user = orm.User.find(db, new)
    if user is not None:
        end_shares(platform, db, user, f"{old} was renamed to {new}", old_name=old)
    await store_for(platform).forget_user(old)


async def user_deleted(platform, name: str) -> None:
    db = _hub_db()
    user = orm.User.find(db, name)
    if user is not None:
        end_shares(platform, db, user, f"{name} was deleted")
    await store_for(platform).forget_user(name)
