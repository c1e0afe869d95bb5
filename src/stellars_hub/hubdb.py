"""The hub's own SQLite database: write-ahead log, and no disk flush at every commit.

JupyterHub commits on its event loop: every OAuth token, cookie login, activity report and
spawn step. With SQLite's defaults each commit waits for the disk twice (journal, then file),
and while a class starts its labs those waits hold up every other user's request. In WAL mode
with ``synchronous=NORMAL`` a commit is an append to the log, and the disk is flushed at
checkpoints; the file is never corrupted, a crashed hub loses nothing, a power cut at most the
last commits. WAL needs shared memory between connections, so it is off on network file
systems (``JUPYTERHUB_DB_SQLITE_WAL=0``).

SQLAlchemy's engine ``connect`` event is the same public hook JupyterHub uses to turn on
SQLite's foreign keys; the listener touches only connections to the hub's database file.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url

_files: set[str] = set()  # the hub database files whose connections are tuned


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
    _files.add(str(path))
    if not event.contains(Engine, "connect", _on_connect):
        event.listen(Engine, "connect", _on_connect)
    return True


def _on_connect(dbapi_connection, connection_record) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection) or not _files:
        return
    main = next((row[2] for row in dbapi_connection.execute("PRAGMA database_list") if row[1] == "main"), "")
    if main and str(Path(main).resolve()) in _files:
        dbapi_connection.execute("PRAGMA journal_mode=WAL")  # kept in the file; answered with a row
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")  # per connection
