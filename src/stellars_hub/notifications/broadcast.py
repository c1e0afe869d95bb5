"""Who receives a broadcast, and sending it."""

from __future__ import annotations

from jupyterhub import orm

from .. import labnotify
from ..errors import BadRequest, Conflict
from .validation import Broadcast

CONCURRENCY = 32  # labs contacted at once; more hanging labs than this cost one more timeout each


CHUNK = 500  # names per IN (...) query: below every SQLite build's limit on bound variables


def running_users(db, users) -> list:
    """Users whose default server is up and ready, by name. ``users`` is the hub's UserDict.
    Ids only from the database: the hub already holds every user with a running server, so no
    user row (and none of its eagerly loaded roles and groups) is read again."""
    found = []
    query = db.query(orm.Spawner.user_id).filter(orm.Spawner.server_id.isnot(None), orm.Spawner.name == "")
    for (user_id,) in query:
        user = users[user_id]
        if user.spawner.ready:
            found.append(user)
    return sorted(found, key=lambda u: u.name)


def user_ids(db, names) -> dict[str, int]:
    """name -> id of the users among ``names`` that exist, in one query per CHUNK names."""
    names = list(dict.fromkeys(names))
    found: dict[str, int] = {}
    for start in range(0, len(names), CHUNK):
        chunk = names[start : start + CHUNK]
        found.update(db.query(orm.User.name, orm.User.id).filter(orm.User.name.in_(chunk)).all())
    return found


def recipients(db, users, wanted: Broadcast) -> list:
    """The users to contact: every running lab, or the chosen users (unknown names: BadRequest;
    known users whose server is not running stay in and fail as 'server not running')."""
    if wanted.recipients is None:
        chosen = running_users(db, users)
        if not chosen:
            raise Conflict("no lab is running, so nobody would receive it; nothing was sent")
        return chosen
    chosen, unknown = [], []
    ids = user_ids(db, wanted.recipients)  # one query, not one (with its eager loads) per name
    for name in wanted.recipients:
        if name in ids:
            chosen.append(users[ids[name]])
        else:
            unknown.append(name)
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
