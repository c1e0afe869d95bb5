"""One server of a user, by the name a route carries ('' = the default server)."""

from __future__ import annotations

from .errors import http_error


def server_spawner(user, server_name: str):
    """The spawner of the user's default server ('') or of one of their named servers (404 for
    a name the user has no server under)."""
    if server_name and server_name not in user.orm_spawners:
        raise http_error(404, f"{user.name} has no server named {server_name!r}")
    return user.spawners[server_name]
