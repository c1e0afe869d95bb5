"""Roles for the platform's custom scopes.

JupyterHub refuses to change its ``admin`` role, so admin access to a custom-scoped action is
granted by accepting a built-in admin scope beside the custom one (see permissions.requires).
"""

from __future__ import annotations

from jupyterhub import roles as jh_roles


def _default_scopes(role_name: str) -> list[str]:
    for role in jh_roles.get_default_roles():
        if role["name"] == role_name:
            return list(role["scopes"])
    raise KeyError(role_name)


def roles(user_scopes: list[str]) -> list[dict]:
    """Extend JupyterHub's default ``user`` role with filtered scopes such as
    ``custom:volumes:reset!user`` (the user's own resources)."""
    return [{"name": "user", "scopes": _default_scopes("user") + list(user_scopes)}]
