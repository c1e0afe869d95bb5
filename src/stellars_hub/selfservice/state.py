"""Server state checks shared by restart and reset (409 messages that say what to do)."""

from __future__ import annotations

from ..web.errors import http_error


def require_running(user, spawner=None):
    spawner = spawner or user.spawner
    if spawner.pending:
        raise http_error(409, f"{user.name}'s server is {spawner.pending}ing; wait until it has finished, then try again")
    if not spawner.ready:
        raise http_error(409, f"{user.name}'s server is not running; start it from the home page instead")
    return spawner


def require_stopped(user, spawner=None):
    spawner = spawner or user.spawner
    if spawner.pending:
        raise http_error(409, f"{user.name}'s server is {spawner.pending}ing; wait until it has fully stopped, then try again")
    if spawner.active:
        raise http_error(409, f"{user.name}'s server is running; stop it first, then reset volumes")
    return spawner
