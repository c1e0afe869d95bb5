"""What follows a user's creation, rename and deletion, through JupyterHub's own hooks.

- creation: ``Authenticator.add_user`` gives the new user their volume set (a fresh one when their
  name's volumes still belong to someone else);
- rename: JupyterHub has no rename hook, so the user API's PATCH is served by
  ``api.PlatformUserAPIHandler``, JupyterHub's own handler with the checks and records around it,
  registered through the authenticator (whose routes JupyterHub puts ahead of its own). The login
  record and the volume set move in the same commit as the rename;
- deletion: ``Authenticator.delete_user`` removes the login record and keeps the volume set claimed.
After the hub's commit, every feature's hook keeps its own records in step (``Platform``).
"""

from __future__ import annotations

from nativeauthenticator.orm import UserInfo
from sqlalchemy import select

from . import volumemap


def rename_problem(db, user, new: str) -> str | None:
    """Why ``user`` cannot become ``new`` now (None: it can)."""
    if any(sp.server is not None for sp in user.orm_user._orm_spawners):
        return f"{user.name} has a running server: stop it first, then rename (their files are kept either way)"
    with db.no_autoflush:
        pending = db.execute(select(UserInfo).where(UserInfo.username == new)).scalar_one_or_none()
    if pending is not None:
        return (
            f"a signup named {new} exists (not a hub user yet): choose another name, "
            "or un-authorise and discard it on the Authorize Users page first"
        )
    return None


def move_records(db, old: str, new: str) -> None:
    """The login record and the volume set follow the rename (not committed here)."""
    with db.no_autoflush:
        info = db.execute(select(UserInfo).where(UserInfo.username == old)).scalar_one_or_none()
    if info is not None:
        info.username = new
    volumemap.user_renamed(db, old, new)
