"""What follows a user's creation, rename and deletion, through JupyterHub's own hooks.

- creation: ``Authenticator.add_user`` gives the new user their volume set (a fresh one when their
  name's volumes still belong to someone else);
- rename: JupyterHub has no rename hook, so the user API's PATCH is served by
  :class:`RenameUserAPIHandler`, JupyterHub's own handler with the checks and records around it,
  registered through the authenticator (whose routes JupyterHub puts ahead of its own). The login
  record and the volume set move in the same commit as the rename;
- deletion: ``Authenticator.delete_user`` removes the login record and keeps the volume set claimed.
After the hub's commit, every feature's hook keeps its own records in step (``Platform``).
"""

from __future__ import annotations

from jupyterhub.apihandlers.users import UserAPIHandler
from jupyterhub.scopes import has_scope
from nativeauthenticator.orm import UserInfo
from sqlalchemy import select
from tornado import web

from ..platform import Platform
from . import volumemap


def rename_problem(db, user, new: str) -> str | None:
    """Why ``user`` cannot become ``new`` now (None: it can)."""
    if any(sp.server is not None for sp in user.orm_user._orm_spawners):
        return f"{user.name} has a running server: stop it first, then rename (their files are kept either way)"
    with db.no_autoflush:
        pending = db.execute(select(UserInfo).where(UserInfo.username == new)).scalar_one_or_none()
    if pending is not None:
        return (f"a signup named {new} exists (not a hub user yet): choose another name, "
                "or un-authorise and discard it on the Authorize Users page first")
    return None


def move_records(db, old: str, new: str) -> None:
    """The login record and the volume set follow the rename (not committed here)."""
    with db.no_autoflush:
        info = db.execute(select(UserInfo).where(UserInfo.username == old)).scalar_one_or_none()
    if info is not None:
        info.username = new
    volumemap.user_renamed(db, old, new)


class RenameUserAPIHandler(UserAPIHandler):
    """JupyterHub's ``/hub/api/users/<name>``; a PATCH that renames is checked first and carries
    the platform's records with it."""

    async def patch(self, user_name):
        user = self.find_user(user_name)
        new = self._new_name(user)
        if new is None:  # not a rename, or not allowed: JupyterHub answers as it always does
            return await super().patch(user_name)
        problem = rename_problem(self.db, user, new)
        if problem:
            raise web.HTTPError(409, problem)
        self.authenticator.validate_username(new)  # the reason as a 400 before anything moves
        move_records(self.db, user_name, new)
        try:
            await super().patch(user_name)
        except BaseException:
            self.db.rollback()
            raise
        self.authenticator.user_renamed(user_name, new)
        await Platform.current().user_renamed(user_name, new)

    def _new_name(self, user) -> str | None:
        if user is None or not has_scope(f"admin:users!user={user.name}", self.parsed_scopes, db=self.db):
            return None
        try:
            body = self.get_json_body()
        except web.HTTPError:
            return None
        name = body.get("name") if isinstance(body, dict) else None
        if not isinstance(name, str) or name == user.name:
            return None
        new = self.authenticator.normalize_username(name)
        return None if new == user.name else new
