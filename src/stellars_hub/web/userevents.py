"""Rename and delete of hub users, seen from the hub's ORM.

JupyterHub's own user API (admin panel rename/delete) cannot be wrapped by extra handlers, so
features that keep per-user records subscribe here:

- ``on_rename(fn, in_transaction=True)``: ``fn(session, old, new)`` runs inside the hub's flush,
  so records in the hub's database change atomically with the rename;
- ``on_rename(fn)`` / ``on_delete(fn)``: ``fn(old, new)`` / ``fn(name)`` run after the hub's
  commit succeeded, for records kept elsewhere (their own files or databases);
- ``on_create(fn)``: ``fn(session, name)`` runs inside the flush that inserts a new user.
"""

from __future__ import annotations

import logging

from jupyterhub import orm
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import instance_state

log = logging.getLogger(__name__)

_renames_in_tx: list = []
_renames_after: list = []
_deletes_in_tx: list = []
_deletes_after: list = []
_creates_in_tx: list = []
_installed = False


def on_rename(fn, in_transaction: bool = False):
    (_renames_in_tx if in_transaction else _renames_after).append(fn)
    _install()
    return fn


def on_delete(fn, in_transaction: bool = False):
    (_deletes_in_tx if in_transaction else _deletes_after).append(fn)
    _install()
    return fn


def on_create(fn):
    _creates_in_tx.append(fn)
    _install()
    return fn


def _install() -> None:
    global _installed
    if not _installed:
        event.listen(Session, "before_flush", _before_flush)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)
        _installed = True


def _before_flush(session, flush_context, instances) -> None:
    pending = session.info.setdefault("stellars_user_events", [])
    for obj in list(session.new):
        if isinstance(obj, orm.User):
            for fn in _creates_in_tx:
                fn(session, obj.name)
    for obj in list(session.dirty):
        if isinstance(obj, orm.User):
            history = inspect(obj).attrs.name.history
            if history.deleted and history.added and history.deleted[0] != history.added[0]:
                old, new = history.deleted[0], history.added[0]
                for fn in _renames_in_tx:
                    fn(session, old, new)
                pending.append(("rename", old, new))
    for obj in list(session.deleted):
        # JupyterHub deletes users through its User wrapper (UserDict.delete passes the wrapper
        # to session.delete), and the session lists what was passed: look at the ORM object
        obj = instance_state(obj).obj()
        if isinstance(obj, orm.User):
            for fn in _deletes_in_tx:
                fn(session, obj.name)
            pending.append(("delete", obj.name, None))


def _after_commit(session) -> None:
    for kind, a, b in session.info.pop("stellars_user_events", []):
        for fn in _renames_after if kind == "rename" else _deletes_after:
            try:
                fn(a, b) if kind == "rename" else fn(a)
            except Exception:  # one subscriber's failure must not hide the others'
                log.exception("user %s hook %s failed for %s", kind, getattr(fn, "__name__", fn), a)


def _after_rollback(session) -> None:
    session.info.pop("stellars_user_events", None)
