"""The configured admin (``JUPYTERHUB_ADMIN``) stays the admin.

Its login never comes from open signup, and nobody can rename, delete, un-authorise or demote it
through the hub: losing it would leave the hub without an administrator, and its name would
become open to signup. Every refusal is a 409 that says why.
"""

from __future__ import annotations

from jupyterhub.apihandlers.users import UserAPIHandler
from tornado import web

from ..web.base import StellarsMixin
from ..web.permissions import allowed


def configured_admins(authenticator) -> set[str]:
    return set(authenticator.admin_users or ())


def is_protected(authenticator, name: str) -> bool:
    return name in configured_admins(authenticator)


def refusal(name: str, action: str) -> str:
    return (f"{name} is the hub's configured administrator (JUPYTERHUB_ADMIN) and cannot be {action}: "
            "the hub would be left without its administrator. Change JUPYTERHUB_ADMIN and restart the hub first.")


def refuse_if_protected(authenticator, name: str, action: str) -> None:
    if is_protected(authenticator, name):
        raise web.HTTPError(409, refusal(name, action))


def signup_refusal(authenticator, name: str) -> str | None:
    """Why ``name`` cannot be signed up for because an admin has it, or None."""
    if name in configured_admins(authenticator):
        return ("This user name belongs to the administrator of this hub and cannot be signed up for. "
                "The administrator logs in with JUPYTERHUB_ADMIN_PASSWORD, or with the password the hub "
                "generated into initial-admin-password in its data directory.")
    return None


class GuardedUserAPIHandler(StellarsMixin, UserAPIHandler):
    """JupyterHub's ``/hub/api/users/<name>``, refusing to rename, demote or delete the configured
    admin. Registered before JupyterHub's own handler for the same path (authenticator handlers
    come first), everything else is JupyterHub's code."""

    async def patch(self, user_name):
        try:
            body = self.get_json_body() or {}
        except web.HTTPError:
            body = {}
        # the refusal only for callers who could otherwise do it: JupyterHub answers the rest
        if isinstance(body, dict) and is_protected(self.authenticator, user_name) and allowed(self, "admin:users", user_name):
            if "name" in body and body["name"] != user_name:
                raise web.HTTPError(409, refusal(user_name, "renamed"))
            if "admin" in body and not body["admin"]:
                raise web.HTTPError(409, refusal(user_name, "demoted"))
        return await super().patch(user_name)

    async def delete(self, user_name):
        if allowed(self, "delete:users", user_name):
            refuse_if_protected(self.authenticator, user_name, "deleted")
        result = await super().delete(user_name)
        # JupyterHub deleted the user row: its sessions and tokens went with it
        self.audit(user_name, "delete-user", "ok", via="jupyterhub-api", remove_volumes=False)
        return result
