"""Consent and grants follow JupyterHub's users. The grant role names its owner in its scope
(``custom:labaccess:enter!user=<owner>``): left behind, it would let the admins holding it into
the lab of whoever takes the name next. A rename moves consent and grants to the new name (a new
role, the old one deleted); a delete drops them with the role."""

from __future__ import annotations

from jupyterhub import orm, roles

from .grants import grant_role, revoke, role_name
from .store import store_for


def _hub_db():
    from jupyterhub.app import JupyterHub

    return JupyterHub.instance().db


def _drop_role(db, owner: str) -> None:
    if orm.Role.find(db, role_name(owner)) is not None:
        roles.delete_role(db, role_name(owner))


async def user_renamed(platform, old: str, new: str) -> None:
    admins = await store_for(platform).rename_user(old, new)
    db = _hub_db()
    for admin_name in admins:
        revoke(db, old, admin_name)
        admin = orm.User.find(db, admin_name)
        if admin is not None:
            grant_role(db, new, admin)
    _drop_role(db, old)


async def user_deleted(platform, name: str) -> None:
    db = _hub_db()
    for admin_name in await store_for(platform).delete_user(name):
        revoke(db, name, admin_name)
    _drop_role(db, name)
