"""Who receives a broadcast, and sending it."""

from __future__ import annotations

from jupyterhub import orm

from .. import labnotify
from ..errors import BadRequest, Conflict
from .validation import Broadcast

CONCURRENCY = 32  # labs contacted at once; more hanging labs than this cost one more timeout each


CHUNK = 500  # values per IN (...) query: below every SQLite build's limit on bound variables


def running_labs(db, users, only=None) -> list[tuple]:
    """(user, spawner) of every server that is up and ready, named servers included, by user
    name then server name ('' first). ``users`` is the hub's UserDict; ``only``: user ids.
    Ids and server names only from the database: the hub already holds every user with a
    running server, so no user row (with its eagerly loaded roles and groups) is read again."""
    query = db.query(orm.Spawner.user_id, orm.Spawner.name).filter(orm.Spawner.server_id.isnot(None))
    if only is None:
        rows = query.all()
    else:
        only = list(dict.fromkeys(only))
        rows = [
            row
            for i in range(0, len(only), CHUNK)
            for row in query.filter(orm.Spawner.user_id.in_(only[i : i + CHUNK]))
        ]
    found = []
    for user_id, server_name in rows:
        user = users[user_id]
        spawner = user.spawners[server_name]
        if spawner.ready:
            found.append((user, spawner))
    return sorted(found, key=lambda lab: (lab[0].name, lab[1].name))


def user_ids(db, names) -> dict[str, int]:
    """name -> id of the users among ``names`` that exist, in one query per CHUNK names."""
    names = list(dict.fromkeys(names))
    found: dict[str, int] = {}
    for start in range(0, len(names), CHUNK):
        chunk = names[start : start + CHUNK]
        found.update(db.query(orm.User.name, orm.User.id).filter(orm.User.name.in_(chunk)).all())
    return found


def recipients(db, users, wanted: Broadcast) -> list:
    """The labs to contact, as (user, spawner): every running lab, or every running lab of the
    chosen users (unknown names: BadRequest; a chosen user with no server running stays in as
    their default server and fails as 'server not running')."""
    if wanted.recipients is None:
        chosen = running_labs(db, users)
        if not chosen:
            raise Conflict("no lab is running, so nobody would receive it; nothing was sent")
        return chosen
    ids = user_ids(db, wanted.recipients)  # one query, not one (with its eager loads) per name
    unknown = [name for name in wanted.recipients if name not in ids]
    if unknown:
        raise BadRequest("recipients: no user named " + ", ".join(repr(n) for n in unknown) + "; nothing was sent")
    running: dict[int, list[tuple]] = {}
    for user, spawner in running_labs(db, users, only=list(ids.values())):  # one query for all of them
        running.setdefault(user.id, []).append((user, spawner))
    chosen = []
    for name in wanted.recipients:
        user = users[ids[name]]
        chosen.extend(running.get(user.id) or [(user, user.spawner)])
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
