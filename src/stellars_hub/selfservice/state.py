"""Server state checks shared by restart and reset (conflicts whose messages say what to do)."""

from __future__ import annotations

from ..errors import Conflict


def require_running(user, spawner=None):
    spawner = spawner or user.spawner
    if spawner.pending:
        raise Conflict(f"{user.name}'s server is {spawner.pending}ing; wait until it has finished, then try again")
    if not spawner.ready:
        raise Conflict(f"{user.name}'s server is not running; start it from the home page instead")
    return spawner


def require_stopped(user, spawner=None):
    spawner = spawner or user.spawner
    if spawner.pending:
        raise Conflict(f"{user.name}'s server is {spawner.pending}ing; wait until it has fully stopped, then try again")
    if spawner.active:
        raise Conflict(f"{user.name}'s server is running; stop it first, then reset volumes")
    return spawner
