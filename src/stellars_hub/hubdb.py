"""The hub's own SQLite database: write-ahead log, no disk flush at every commit, a bounded wait
for a lock another program holds, and clear answers when that wait or the disk runs out.

JupyterHub commits on its event loop: every OAuth token, cookie login, activity report and
spawn step. With SQLite's defaults each commit waits for the disk twice (journal, then file),
and while a class starts its labs those waits hold up every other user's request. In WAL mode
with ``synchronous=NORMAL`` a commit is an append to the log, and the disk is flushed at
checkpoints; the file is never corrupted, a crashed hub loses nothing, a power cut at most the
last commits. WAL needs shared memory between connections, so it is off on network file
systems (``JUPYTERHUB_DB_SQLITE_WAL=0``).

Another program may hold the database's write lock (a backup, ``sqlite3`` in a shell). A
statement waits for it at most ``BUSY_TIMEOUT_MS``: JupyterHub's database calls run on its event
loop, so the whole hub waits that long, and a longer wait would freeze every user for it. After
the wait, or when the disk is full, the error JupyterHub's handlers see is ``HubDatabaseFault``:
still SQLAlchemy's ``OperationalError`` (JupyterHub rolls its session back as for any database
error) and also tornado's ``HTTPError`` with 503 or 507 and a message saying what happened, which
JupyterHub's handlers answer as it is instead of a bare 500.

Both go through SQLAlchemy's public engine events (``connect``: the same hook JupyterHub uses
to turn on SQLite's foreign keys; ``handle_error``: SQLAlchemy's documented way to re-write a
driver's exception) and touch only connections to the hub's database file.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError
from tornado import web

from . import resourcefaults

BUSY_TIMEOUT_MS = 5000  # Python's own default for sqlite3, said here: it stops the hub's loop

_wal: set[str] = set()  # hub database files kept in WAL mode
_guarded: set[str] = set()  # hub database files whose lock waits and errors are the platform's


def sqlite_file(db_url: str) -> Path | None:
    """The database file of a SQLite URL (None for other databases and in-memory ones)."""
    url = make_url(db_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database).resolve()


def use_wal(db_url: str) -> bool:
    """Tune every new connection to ``db_url``'s file; False when it is not a SQLite file."""
    path = sqlite_file(db_url)
    if path is None:
        return False
    _wal.add(str(path))
    _listen()
    return True


def guard(db_url: str) -> bool:
    """Bound the lock wait of ``db_url``'s file and answer its disk-full and busy errors as
    ``HubDatabaseFault``; False when it is not a SQLite file (other databases keep their own)."""
    path = sqlite_file(db_url)
    if path is None:
        return False
    _guarded.add(str(path))
    _listen()
    return True


def _listen() -> None:
    if not event.contains(Engine, "connect", _on_connect):
        event.listen(Engine, "connect", _on_connect)
    if not event.contains(Engine, "handle_error", _on_error):
        event.listen(Engine, "handle_error", _on_error)


def _main_file(dbapi_connection: sqlite3.Connection) -> str:
    main = next((row[2] for row in dbapi_connection.execute("PRAGMA database_list") if row[1] == "main"), "")
    return str(Path(main).resolve()) if main else ""


def _on_connect(dbapi_connection, connection_record) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection) or not (_wal or _guarded):
        return
    main = _main_file(dbapi_connection)
    if main in _guarded:
        dbapi_connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    if main in _wal:
        dbapi_connection.execute("PRAGMA journal_mode=WAL")  # kept in the file; answered with a row
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")  # per connection


class HubDatabaseFault(web.HTTPError, OperationalError):  # type: ignore[misc]
    """A statement of the hub's database failed for a fault of the hub's machine: both
    SQLAlchemy's OperationalError (rolled back like any) and the HTTP answer (503 or 507)."""

    def __init__(self, fault: str, wrapped: OperationalError):
        OperationalError.__init__(self, wrapped.statement, wrapped.params, wrapped.orig)  # type: ignore[arg-type]
        status, message = resourcefaults.answer(fault)
        web.HTTPError.__init__(self, status, message)
        self.fault = fault

    def __str__(self) -> str:
        return f"{self.get_message()} ({self.orig})"

    def __reduce__(self):  # the two bases pickle differently; this one is never sent anywhere
        return (OperationalError, (self.statement, self.params, self.orig))


def _on_error(context) -> None:
    engine = context.engine
    wrapped = context.sqlalchemy_exception
    if engine is None or not _guarded or not isinstance(wrapped, OperationalError):
        return
    database = engine.url.database
    if not database or str(Path(database).resolve()) not in _guarded:
        return
    fault = resourcefaults.classify(context.original_exception)
    if fault is not None:
        raise HubDatabaseFault(fault, wrapped) from context.original_exception
