"""The configured admin (``JUPYTERHUB_ADMIN``) stays the admin.

Its login never comes from open signup, and nobody can rename, delete, un-authorise or demote it
through the hub: losing it would leave the hub without an administrator, and its name would
become open to signup. Every refusal is a 409 that says why.
"""

from __future__ import annotations

from tornado import web


def configured_admins(authenticator) -> set[str]:
    return set(authenticator.admin_users or ())


def is_protected(authenticator, name: str) -> bool:
    return name in configured_admins(authenticator)


def refusal(name: str, action: str) -> str:
    return (
        f"{name} is the hub's configured administrator (JUPYTERHUB_ADMIN) and cannot be {action}: "
        "the hub would be left without its administrator. Change JUPYTERHUB_ADMIN and restart the hub first."
    )


def refuse_if_protected(authenticator, name: str, action: str) -> None:
    if is_protected(authenticator, name):
        raise web.HTTPError(409, refusal(name, action))


def signup_refusal(authenticator, name: str) -> str | None:
    """Why ``name`` cannot be signed up for because an admin has it, or None."""
    if name in configured_admins(authenticator):
        return (
            "This user name belongs to the administrator of this hub and cannot be signed up for. "
            "The administrator logs in with JUPYTERHUB_ADMIN_PASSWORD, or with the password the hub "
            "generated into initial-admin-password in its data directory."
        )
    return None
