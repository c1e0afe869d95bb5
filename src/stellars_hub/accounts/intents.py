"""Renames and deletes that a crash of the hub cannot leave half done.

A rename commits in the hub's database, then every feature moves its own records in its own
store; a delete stops the user's servers, drops the login and every feature's records, deletes
the user and (when asked) the volumes. A hub killed between two of those steps would leave the
stores split. So each is written down in ``intents.sqlite`` (data directory) before its first
step and crossed out after its last; at the next start, what is still written down is
completed from what the hub's database says happened:

- rename ``old`` -> ``new``: the hub has ``new`` (the commit happened): every feature's records
  follow again (each step is idempotent); the hub still has ``old``: nothing had moved (the login
  record and the volume set move in that same commit), nothing to do;
- delete ``name``: the user still exists: the delete is done now (servers stopped, login, the
  features' records, the user); else the features' part is done again; then the volumes, when
  the admin asked for them to go.

A request that fails while the hub runs (refused, 409) crosses its intent out: the caller was
told, and nothing is completed behind their back.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import cast

from jupyterhub import orm
from jupyterhub.utils import maybe_future

from ..storage import Store, transaction
from ..web import audit

FILE_NAME = "intents.sqlite"
RENAME, DELETE = "rename", "delete"
log = logging.getLogger("JupyterHub.stellars")


def _add(db: sqlite3.Connection, kind: str, args: str, when: float) -> int:
    with transaction(db):
        cur = db.execute("INSERT INTO intents (kind, args, created) VALUES (?, ?, ?)", (kind, args, when))
        return cast(int, cur.lastrowid)


def _remove(db: sqlite3.Connection, intent_id: int) -> None:
    db.execute("DELETE FROM intents WHERE id = ?", (intent_id,))


def _pending(db: sqlite3.Connection) -> list[tuple[int, str, dict]]:
    return [
        (i, kind, json.loads(args)) for i, kind, args in db.execute("SELECT id, kind, args FROM intents ORDER BY id")
    ]


class IntentStore(Store):
    FILE_NAME = FILE_NAME
    MIGRATIONS = (
        "CREATE TABLE IF NOT EXISTS intents (id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, "
        "args TEXT NOT NULL, created REAL NOT NULL)",
    )

    def add(self, kind: str, args: dict) -> Awaitable[int]:
        return self.file.run(_add, kind, json.dumps(args, sort_keys=True), time.time())

    def remove(self, intent_id: int) -> Awaitable[None]:
        return self.file.run(_remove, intent_id)

    def pending(self) -> Awaitable[list[tuple[int, str, dict]]]:
        return self.file.read(_pending, default=[])


def store_for(platform) -> IntentStore:
    """The hub's one store of this file, held by its platform."""
    return platform.stores.of(IntentStore, platform.data_dir)


class Intent:
    def __init__(self) -> None:
        self.unfinished: list[str] = []

    def left_undone(self, steps: list[str]) -> None:
        """Steps that failed (features whose records did not follow): the intent stays written
        down, and the next start does it again."""
        self.unfinished += steps


@asynccontextmanager
async def intent(platform, kind: str, **args) -> AsyncIterator[Intent]:
    """Written down before the block (a store that cannot be written refuses the operation
    before anything happened), crossed out after it, whether it succeeded or was refused,
    unless a step was ``left_undone``."""
    store = store_for(platform)
    intent_id = await store.add(kind, args)
    handle = Intent()
    try:
        yield handle
    finally:
        if handle.unfinished:
            log.warning("%s of %s: %s left undone, done again at the next start", kind, args, handle.unfinished)
        else:
            try:
                await store.remove(intent_id)
            except Exception as exc:  # completed again at the next start: every step is idempotent
                log.error("%s of %s done, but its intent could not be crossed out: %s", kind, args, exc)


async def complete_interrupted(platform, app, remove_volume_set) -> list[str]:
    """At hub start: finish every rename and delete a dead hub left written down; what was done.
    ``remove_volume_set``: the delete-with-volumes route's own removal (api.remove_volume_set)."""
    store = store_for(platform)
    done = []
    for intent_id, kind, args in await store.pending():
        try:
            if kind == RENAME:
                outcome = await _rename(platform, app, **args)
            else:
                outcome = await _delete(platform, app, remove_volume_set, **args)
        except Exception:  # kept: tried again at the next start
            app.db.rollback()  # the hub's session stays usable for everyone else
            log.exception("Could not complete the interrupted %s of %s", kind, args)
            continue
        await store.remove(intent_id)
        audit.record_for(
            platform, "(hub start)", args.get("name") or args.get("new", ""), f"{kind}-user", outcome, **args
        )
        log.warning("Interrupted %s of %s: %s", kind, args, outcome)
        done.append(f"{kind} {args}: {outcome}")
    return done


async def _rename(platform, app, old: str, new: str) -> str:
    db = app.db
    has_old, has_new = orm.User.find(db, old) is not None, orm.User.find(db, new) is not None
    if has_new and not has_old:
        failed = await platform.user_renamed(old, new)
        if failed:
            raise RuntimeError(f"the records of {', '.join(failed)} did not follow")
        return "completed after a restart"
    if has_old and not has_new:
        return "not begun (the hub had not renamed the user)"
    return "left alone (the hub has both or neither name)"


async def _delete(
    platform,
    app,
    remove_volume_set,
    name: str,
    remove_volumes: bool = False,
    volumes: dict | None = None,
    base: str = "",
) -> str:
    row = orm.User.find(app.db, name)
    if row is not None:
        await stop_and_delete(app, app.users[row])
    else:
        failed = await platform.user_deleted(name)  # the features' part again; each step is idempotent
        if failed:
            raise RuntimeError(f"the records of {', '.join(failed)} were not dropped")
    if remove_volumes and volumes:
        results = await remove_volume_set(platform.runtime, app.db, volumes, base)
        left = [r["name"] for r in results if r["status"] not in ("removed", "not_found")]
        if left:
            raise RuntimeError(f"volumes not removed: {', '.join(left)}")
    return "completed after a restart"


async def stop_and_delete(app, user) -> None:
    """JupyterHub's own steps of deleting a user (its user API's DELETE), outside a request."""
    for server_name, spawner in list(user.spawners.items()):
        if spawner.active:
            await app.proxy.delete_user(user, server_name)
            await user.stop(server_name)
    await maybe_future(app.authenticator.delete_user(user))
    await user.delete_spawners()
    app.users.delete(user)
