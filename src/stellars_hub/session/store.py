"""Extensions, warnings and culling limits per server start, in the platform's own SQLite file
(never the hub's database). One row per server of a user ('' = the default server, a name for a named server),
tagged with the start it belongs to: a row from an earlier start
counts as nothing, so the allowance starts afresh at every server start without a clean-up step,
and survives hub restarts because the lab keeps its start time.

The hub writes; the culler service (another process) only reads, through a store of its own on
the same file (WAL: its reads never wait for the hub's writes, nor the hub's for its reads).
Every call runs on the file's one thread (storage.py), never on an event loop.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable

from ..storage import Store, transaction
from .deadline import start_key

STORE_FILE = "session.sqlite"

_UPSERT = (
    "INSERT INTO session_extensions (username, server, started, hours, warned_for) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT(username, server) DO UPDATE SET started = excluded.started, hours = excluded.hours, "
    "warned_for = excluded.warned_for"
)


def _row(db: sqlite3.Connection, username: str, server: str, started) -> tuple[int, str | None]:
    row = db.execute(
        "SELECT hours, warned_for FROM session_extensions WHERE username = ? AND server = ? AND started = ?",
        (username, server, start_key(started)),
    ).fetchone()
    return row or (0, None)


def _hours(db: sqlite3.Connection, username: str, server: str, started) -> int:
    if started is None:  # no server start, no extension
        return 0
    return _row(db, username, server, started)[0]


def _warned_for(db: sqlite3.Connection, username: str, server: str, started) -> str | None:
    return _row(db, username, server, started)[1]


def _add(db: sqlite3.Connection, username: str, server: str, started, hours: int, limit: int) -> tuple[int, int]:
    with transaction(db):  # the write lock first: read-modify-write across processes
        used, warned = _row(db, username, server, started)
        granted = max(0, min(hours, limit - used))
        db.execute(_UPSERT, (username, server, start_key(started), used + granted, warned))
    return granted, used + granted


def _mark_warned(db: sqlite3.Connection, username: str, server: str, started, deadline_key: str) -> None:
    with transaction(db):
        used, _ = _row(db, username, server, started)
        db.execute(_UPSERT, (username, server, start_key(started), used, deadline_key))


def _limits(db: sqlite3.Connection, username: str, server: str, started) -> tuple[int, int, str] | None:
    if started is None:
        return None
    row = db.execute(
        "SELECT timeout, max_age, source FROM session_limits WHERE username = ? AND server = ? AND started = ?",
        (username, server, start_key(started)),
    ).fetchone()
    return tuple(row) if row else None  # type: ignore[return-value]


def _set_limits(db: sqlite3.Connection, username: str, server: str, started, timeout: int, max_age: int, source: str):
    db.execute(
        "INSERT OR REPLACE INTO session_limits (username, server, started, timeout, max_age, source) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (username, server, start_key(started), timeout, max_age, source),
    )


TABLES = ("session_extensions", "session_limits")


def _rename(db: sqlite3.Connection, old: str, new: str) -> None:
    with transaction(db):
        for table in TABLES:
            db.execute(f"DELETE FROM {table} WHERE username = ?", (new,))
            db.execute(f"UPDATE {table} SET username = ? WHERE username = ?", (new, old))


def _delete(db: sqlite3.Connection, username: str) -> None:
    with transaction(db):
        for table in TABLES:
            db.execute(f"DELETE FROM {table} WHERE username = ?", (username,))


class ExtensionStore(Store):
    """Every method queues its work on the file's thread when called and answers an awaitable.
    Reads never create the file (the culler reads before anyone extended anything)."""

    FILE_NAME = STORE_FILE
    USER_COLUMNS = (("session_extensions", "username"),)
    MIGRATIONS = (
        """CREATE TABLE IF NOT EXISTS session_extensions (
            username   TEXT PRIMARY KEY,
            started    TEXT NOT NULL,      -- start_key() of the server start the row belongs to
            hours      INTEGER NOT NULL DEFAULT 0,
            warned_for TEXT                -- deadline the last warning announced
        )""",
        # 2: a row per server of a user (named servers); the rows so far are default servers'
        (
            """CREATE TABLE session_servers (
                username   TEXT NOT NULL,
                server     TEXT NOT NULL DEFAULT '',  -- '' = the default server
                started    TEXT NOT NULL,
                hours      INTEGER NOT NULL DEFAULT 0,
                warned_for TEXT,
                PRIMARY KEY (username, server)
            )""",
            "INSERT INTO session_servers (username, server, started, hours, warned_for) "
            "SELECT username, '', started, hours, warned_for FROM session_extensions",
            "DROP TABLE session_extensions",
            "ALTER TABLE session_servers RENAME TO session_extensions",
        ),
        # 3: each start's own idle timeout and maximum age (group policies, GPU defaults)
        """CREATE TABLE session_limits (
            username TEXT NOT NULL,
            server   TEXT NOT NULL DEFAULT '',
            started  TEXT NOT NULL,       -- start_key() of the start they belong to
            timeout  INTEGER NOT NULL,    -- seconds idle before a stop; 0: never for idleness
            max_age  INTEGER NOT NULL,    -- seconds; 0: no age limit
            source   TEXT NOT NULL,       -- where they came from, as the session card says it
            PRIMARY KEY (username, server)
        )""",
    )

    # ``server``: '' for the user's default server, the name of one of their named servers
    def hours(self, username: str, started, server: str = "") -> Awaitable[int]:
        """Hours granted to this server start (0 for a start that has none)."""
        return self.file.read(_hours, username, server, started, default=0)

    def add(self, username: str, started, hours: int, limit: int, server: str = "") -> Awaitable[tuple[int, int]]:
        """Grant up to ``hours`` within ``limit`` for this start; answers (granted, total)."""
        return self.file.run(_add, username, server, started, hours, limit)

    def warned_for(self, username: str, started, server: str = "") -> Awaitable[str | None]:
        return self.file.read(_warned_for, username, server, started, default=None)

    def mark_warned(self, username: str, started, deadline_key: str, server: str = "") -> Awaitable[None]:
        return self.file.run(_mark_warned, username, server, started, deadline_key)

    def limits(self, username: str, started, server: str = "") -> Awaitable[tuple[int, int, str] | None]:
        """(timeout, max age, source) recorded for this server start; None for a start that has
        none (started before they were recorded: the site's settings apply)."""
        return self.file.read(_limits, username, server, started, default=None)

    def set_limits(
        self, username: str, started, timeout: int, max_age: int, source: str, server: str = ""
    ) -> Awaitable[None]:
        return self.file.run(_set_limits, username, server, started, timeout, max_age, source)

    def rename_user(self, old: str, new: str) -> Awaitable[None]:
        return self.file.run(_rename, old, new)

    def delete_user(self, username: str) -> Awaitable[None]:
        return self.file.run(_delete, username)


def store_for(platform) -> ExtensionStore:
    """The hub's one store of this file, held by its platform."""
    return platform.stores.of(ExtensionStore, platform.data_dir)
