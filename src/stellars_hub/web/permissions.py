"""Scope checks through JupyterHub's RBAC, evaluated per request.

JupyterHub's ``needs_scope`` decorator validates scope names at import time, before custom
scopes are registered, so the platform checks with JupyterHub's own ``has_scope`` at request
time instead: same rules for browser sessions, API tokens and services.
"""

from __future__ import annotations

import functools

from jupyterhub.scopes import has_scope

from .errors import http_error


def allowed(handler, scope: str, user_name: str) -> bool:
    return has_scope(f"{scope}!user={user_name}", handler.parsed_scopes, db=handler.db)


def allowed_on_group(handler, scope: str, group_name: str) -> bool:
    """``scope`` on a whole group: held unfiltered or filtered to that group (a group's members
    are not looked up, so a refusal says nothing about who they are)."""
    return has_scope(f"{scope}!group={group_name}", handler.parsed_scopes, db=handler.db)


def allowed_on_server(handler, scope: str, user_name: str, server_name: str = "") -> bool:
    """``scope`` on one server of a user. A named server is checked as JupyterHub does
    (``scope!server=user/name``: held through the user, the server itself, or a group); the
    default server ('') keeps the user check."""
    if not server_name:
        return allowed(handler, scope, user_name)
    return has_scope(f"{scope}!server={user_name}/{server_name}", handler.parsed_scopes, db=handler.db)


def holds_globally(handler, *scopes: str) -> bool:
    """Whether any one of ``scopes`` is held without a filter: ``admin:users!user=bob`` never
    grants an action on everyone (a report of all users, a reset, a broadcast, the settings)."""
    return any(has_scope(s, handler.parsed_scopes, db=handler.db) for s in scopes)


def requires(*scopes: str):
    """Handler-method decorator: the first argument is the target user's name; any one of
    ``scopes`` on that user grants access, otherwise 403."""

    def decorate(method):
        @functools.wraps(method)
        async def wrapper(self, user_name, *args, **kwargs):
            if not any(allowed(self, s, user_name) for s in scopes):
                who = self.current_user.name if self.current_user else "anonymous requests"
                raise http_error(403, f"{who} may not do this for {user_name} (needs scope {' or '.join(scopes)})")
            return await method(self, user_name, *args, **kwargs)

        return wrapper

    return decorate


def requires_server(*scopes: str):
    """Like ``requires`` for a route on one server: the arguments are the user's name and the
    server's ('' or absent = the default server); any one of ``scopes`` on that server grants."""

    def decorate(method):
        @functools.wraps(method)
        async def wrapper(self, user_name, server_name="", *args, **kwargs):
            if not any(allowed_on_server(self, s, user_name, server_name) for s in scopes):
                who = self.current_user.name if self.current_user else "anonymous requests"
                target = f"{user_name}/{server_name}" if server_name else user_name
                raise http_error(403, f"{who} may not do this for {target} (needs scope {' or '.join(scopes)})")
            return await method(self, user_name, server_name, *args, **kwargs)

        return wrapper

    return decorate


def requires_global(*scopes: str):
    """Handler-method decorator for actions on no particular user (a broadcast, a settings
    page): any one of ``scopes`` held without a filter grants access, otherwise 403."""

    def decorate(method):
        @functools.wraps(method)
        async def wrapper(self, *args, **kwargs):
            if not holds_globally(self, *scopes):
                who = self.current_user.name if self.current_user else "anonymous requests"
                raise http_error(403, f"{who} may not do this (needs scope {' or '.join(scopes)})")
            return await method(self, *args, **kwargs)

        return wrapper

    return decorate
