"""Extensions and warnings per server start, in the platform's own SQLite file (never the hub's
database). One row per user, tagged with the start it belongs to: a row from an earlier start
counts as nothing, so the allowance starts afresh at every server start without a clean-up step,
and survives hub restarts because the lab keeps its start time.

The hub writes; the culler service (another process) only reads.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing, contextmanager
from pathlib import Path

from .deadline import start_key

STORE_FILE = "session.sqlite"

SCHEMA = """
CREATE TABLE IF NOT EXISTS session_extensions (
    username   TEXT PRIMARY KEY,
    started    TEXT NOT NULL,      -- start_key() of the server start the row belongs to
    hours      INTEGER NOT NULL DEFAULT 0,
    warned_for TEXT                -- deadline the last warning announced
)
"""


class ExtensionStore:
    def __init__(self, path: str | Path):
        self.path = str(path)
        self._ready = False

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        if not self._ready:
            conn.execute(SCHEMA)
            self._ready = True
        return conn

    @contextmanager
    def _transaction(self):
        """One connection, one write transaction (taken at once, so read-modify-write is safe)."""
        with closing(self._connect()) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    _UPSERT = (
        "INSERT INTO session_extensions (username, started, hours, warned_for) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(username) DO UPDATE SET started = excluded.started, hours = excluded.hours, "
        "warned_for = excluded.warned_for"
    )

    def _row(self, conn, username: str, started):
        row = conn.execute(
            "SELECT hours, warned_for FROM session_extensions WHERE username = ? AND started = ?",
            (username, start_key(started)),
        ).fetchone()
        return row or (0, None)

    def hours(self, username: str, started) -> int:
        """Hours granted to this server start (0 for a start that has none)."""
        if started is None:
            return 0
        if not self._ready and not Path(self.path).exists():
            return 0  # nothing was ever extended; do not create the file from a reader
        with closing(self._connect()) as conn:
            return self._row(conn, username, started)[0]

    def add(self, username: str, started, hours: int, limit: int) -> tuple[int, int]:
        """Grant up to ``hours`` within ``limit`` for this start; returns (granted, total)."""
        with self._transaction() as conn:
            used, warned = self._row(conn, username, started)
            granted = max(0, min(hours, limit - used))
            conn.execute(self._UPSERT, (username, start_key(started), used + granted, warned))
        return granted, used + granted

    def warned_for(self, username: str, started) -> str | None:
        with closing(self._connect()) as conn:
            return self._row(conn, username, started)[1]

    def mark_warned(self, username: str, started, deadline_key: str) -> None:
        with self._transaction() as conn:
            used, _ = self._row(conn, username, started)
            conn.execute(self._UPSERT, (username, start_key(started), used, deadline_key))

    def rename(self, old: str, new: str) -> None:
        with self._transaction() as conn:
            conn.execute("DELETE FROM session_extensions WHERE username = ?", (new,))
            conn.execute("UPDATE session_extensions SET username = ? WHERE username = ?", (new, old))

    def delete(self, username: str) -> None:
        with self._transaction() as conn:
            conn.execute("DELETE FROM session_extensions WHERE username = ?", (username,))


def store_for(data_dir) -> ExtensionStore:
    """The store in the platform's data directory."""
    return ExtensionStore(Path(data_dir) / STORE_FILE)
