"""What follows a user's creation, rename and deletion in the hub (admin panel or REST API).

- creation: the new user's volume set (fresh when their name's volumes still belong to someone);
- rename: refused while a server runs or when a pending signup holds the new name; otherwise the
  login record and the volume set move with the user in the same transaction, and the cached
  generated password and failed-login count follow after the commit;
- deletion: the login record goes in the same transaction (whatever path deleted the user), the
  volume set stays claimed while the volumes exist, the cached password is dropped.
"""

from __future__ import annotations

import weakref

from jupyterhub import orm
from nativeauthenticator.orm import UserInfo
from sqlalchemy import event, select
from sqlalchemy.orm import object_session
from tornado import web

from ..web import userevents
from . import volumemap

_authenticator = lambda: None  # noqa: E731  (weak reference to the running authenticator)
_installed = False


def install(authenticator) -> None:
    """Subscribe once per process; the hooks act on the latest authenticator's caches."""
    global _authenticator, _installed
    _authenticator = weakref.ref(authenticator)
    if _installed:
        return
    event.listen(orm.User.name, "set", _refuse_unsafe_rename)
    userevents.on_create(volumemap.user_created)
    userevents.on_rename(_move_records, in_transaction=True)
    userevents.on_rename(_move_caches)
    userevents.on_delete(_delete_records, in_transaction=True)
    userevents.on_delete(_drop_caches)
    _installed = True


def _refuse_unsafe_rename(target, value, oldvalue, initiator):
    """Runs when JupyterHub assigns ``user.name``, before anything reaches the database.

    Raising here (not inside the flush) leaves the hub's shared session usable: the request
    ends with the JSON error and JupyterHub rolls back whatever else the request had changed.
    """
    session = object_session(target)
    if session is None or oldvalue in (None, value) or not isinstance(oldvalue, str):
        return  # construction, or not a rename
    with session.no_autoflush:
        if any(sp.server is not None for sp in target._orm_spawners):
            raise web.HTTPError(409, f"{oldvalue} has a running server: stop it first, then rename "
                                     f"(their files are kept either way)")
        pending = session.execute(select(UserInfo).where(UserInfo.username == value)).scalar_one_or_none()
    if pending is not None:
        raise web.HTTPError(409, f"a signup named {value} exists (not a hub user yet): choose another name, "
                                 "or un-authorise and discard it on the Authorize Users page first")


def _move_records(session, old: str, new: str) -> None:
    with session.no_autoflush:
        info = session.execute(select(UserInfo).where(UserInfo.username == old)).scalar_one_or_none()
    if info is not None:
        info.username = new
    volumemap.user_renamed(session, old, new)


def _delete_records(session, name: str) -> None:
    with session.no_autoflush:
        for info in session.execute(select(UserInfo).where(UserInfo.username == name)).scalars():
            session.delete(info)
    volumemap.user_deleted(session, name)


def _move_caches(old: str, new: str) -> None:
    auth = _authenticator()
    if auth is not None:
        auth.credentials.rename(old, new)
        auth.login_attempts.pop(old, None)


def _drop_caches(name: str) -> None:
    auth = _authenticator()
    if auth is not None:
        auth.credentials.drop(name)
        auth.login_attempts.pop(name, None)
