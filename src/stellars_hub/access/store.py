"""Consents and grants in access.sqlite (never the hub's database)."""

from __future__ import annotations

import asyncio
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

FILE_NAME = "access.sqlite"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS consents (username TEXT PRIMARY KEY, until REAL NOT NULL, given REAL NOT NULL);
CREATE TABLE IF NOT EXISTS grants (
    username TEXT NOT NULL, admin TEXT NOT NULL, until REAL NOT NULL, given REAL NOT NULL,
    PRIMARY KEY (username, admin)
);
"""


class AccessStore:
    def __init__(self, path):
        self._db = sqlite3.connect(str(path), timeout=5, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

    def consent_until(self, username: str, now: float) -> float | None:
        row = self._db.execute(
            "SELECT until FROM consents WHERE username = ? AND until > ?", (username, now)
        ).fetchone()
        return row[0] if row else None

    def give_consent(self, username: str, until: float, now: float) -> None:
        self._db.execute("INSERT OR REPLACE INTO consents VALUES (?, ?, ?)", (username, until, now))

    def withdraw_consent(self, username: str) -> list[str]:
        """Remove the consent and every grant on the user; the admins who lose access."""
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            admins = [a for (a,) in self._db.execute("SELECT admin FROM grants WHERE username = ?", (username,))]
            self._db.execute("DELETE FROM consents WHERE username = ?", (username,))
            self._db.execute("DELETE FROM grants WHERE username = ?", (username,))
        return admins

    def grant(self, username: str, admin: str, until: float, now: float) -> None:
        self._db.execute("INSERT OR REPLACE INTO grants VALUES (?, ?, ?, ?)", (username, admin, until, now))

    def grants(self, username: str, now: float) -> list[tuple[str, float]]:
        return list(
            self._db.execute(
                "SELECT admin, until FROM grants WHERE username = ? AND until > ? ORDER BY admin", (username, now)
            )
        )

    def expire(self, now: float) -> list[tuple[str, str]]:
        """Drop ended grants and consents; the (user, admin) grants that ended."""
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            ended = list(self._db.execute("SELECT username, admin FROM grants WHERE until <= ?", (now,)))
            self._db.execute("DELETE FROM grants WHERE until <= ?", (now,))
            self._db.execute("DELETE FROM consents WHERE until <= ?", (now,))
        return ended


class AsyncAccessStore:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="stellars-access-db")
        self._store: AccessStore | None = None

    async def call(self, method: str, *args):
        def job():
            if self._store is None:
                self._store = AccessStore(self.path)
            return getattr(self._store, method)(*args)

        return await asyncio.wrap_future(self._executor.submit(job))
