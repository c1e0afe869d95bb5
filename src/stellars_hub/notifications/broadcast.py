"""Who receives a broadcast, and sending it."""

from __future__ import annotations

from jupyterhub import orm

from .. import labnotify
from ..errors import BadRequest, Conflict
from .validation import Broadcast

CONCURRENCY = 32  # labs contacted at once; more hanging labs than this cost one more timeout each


def running_labs(db, users, only=None) -> list[tuple]:
    """(user, spawner) of every server that is up and ready, named servers included, by user
    name then server name ('' first). ``users`` is the hub's UserDict; ``only``: user ids."""
    query = db.query(orm.Spawner).filter(orm.Spawner.server_id.isnot(None))
    if only is not None:
        query = query.filter(orm.Spawner.user_id.in_(only))
    found = []
    for orm_spawner in query:
        user = users[orm_spawner.user]
        spawner = user.spawners[orm_spawner.name]
        if spawner.ready:
            found.append((user, spawner))
    return sorted(found, key=lambda lab: (lab[0].name, lab[1].name))


def recipients(db, users, wanted: Broadcast) -> list:
    """The labs to contact, as (user, spawner): every running lab, or every running lab of the
    chosen users (unknown names: BadRequest; a chosen user with no server running stays in as
    their default server and fails as 'server not running')."""
    if wanted.recipients is None:
        chosen = running_labs(db, users)
        if not chosen:
            raise Conflict("no lab is running, so nobody would receive it; nothing was sent")
        return chosen
    chosen, unknown = [], []
    for name in wanted.recipients:
        orm_user = orm.User.find(db, name)
        if orm_user is None:
            unknown.append(name)
            continue
        user = users[orm_user]
        chosen.extend(running_labs(db, users, only=[orm_user.id]) or [(user, user.spawner)])
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
