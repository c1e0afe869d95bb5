"""Who receives a broadcast, and sending it."""

from __future__ import annotations

from jupyterhub import orm

from .. import labnotify
from ..errors import BadRequest, Conflict
from .validation import Broadcast

CONCURRENCY = 32  # labs contacted at once; more hanging labs than this cost one more timeout each


def running_users(db, users) -> list:
    """Users whose default server is up and ready, by name. ``users`` is the hub's UserDict."""
    found = []
    for orm_spawner in db.query(orm.Spawner).filter(orm.Spawner.server_id.isnot(None), orm.Spawner.name == ""):
        user = users[orm_spawner.user]
        if user.spawner.ready:
            found.append(user)
    return sorted(found, key=lambda u: u.name)


def recipients(db, users, wanted: Broadcast) -> list:
    """The users to contact: every running lab, or the chosen users (unknown names: BadRequest;
    known users whose server is not running stay in and fail as 'server not running')."""
    if wanted.recipients is None:
        chosen = running_users(db, users)
        if not chosen:
            raise Conflict("no lab is running, so nobody would receive it; nothing was sent")
        return chosen
    chosen, unknown = [], []
    for name in wanted.recipients:
        orm_user = orm.User.find(db, name)
        if orm_user is None:
            unknown.append(name)
        else:
            chosen.append(users[orm_user])
    if unknown:
        raise BadRequest("recipients: no user named " + ", ".join(repr(n) for n in unknown) + "; nothing was sent")
    return chosen


async def send(targets: list, wanted: Broadcast, timeout: float) -> dict:
    body = labnotify.payload(wanted.message, wanted.kind, wanted.auto_close)
    results = await labnotify.deliver_many(
        targets, body, timeout=timeout, concurrency=CONCURRENCY, note="admin broadcast"
    )
    ok = sum(1 for r in results if r.ok)
    return {
        "total": len(results),
        "successful": ok,
        "failed": len(results) - ok,
        "details": [r.as_dict() for r in results],
    }
