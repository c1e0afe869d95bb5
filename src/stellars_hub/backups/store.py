"""The last backup result of every user volume, in backups.sqlite (never the hub's database)."""

from __future__ import annotations

import asyncio
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

FILE_NAME = "backups.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS volumes (
    volume TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    key TEXT NOT NULL,            -- home | workspace | cache
    last_run REAL,                -- epoch seconds of the last attempt
    outcome TEXT,                 -- ok | unchanged | failed | busy
    error TEXT,
    archive TEXT,                 -- newest archive written
    size_bytes INTEGER,
    fingerprint TEXT,             -- of the content in ``archive``
    last_ok REAL                  -- last time the volume was known to be backed up
);
CREATE INDEX IF NOT EXISTS volumes_user ON volumes (username);
"""

COLUMNS = (
    "volume",
    "username",
    "key",
    "last_run",
    "outcome",
    "error",
    "archive",
    "size_bytes",
    "fingerprint",
    "last_ok",
)


class BackupStore:
    def __init__(self, path: str | Path):
        self._db = sqlite3.connect(str(path), timeout=5, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

    def get(self, volume: str) -> dict | None:
        row = self._db.execute(f"SELECT {', '.join(COLUMNS)} FROM volumes WHERE volume = ?", (volume,)).fetchone()
        return dict(zip(COLUMNS, row, strict=True)) if row else None

    def all(self) -> list[dict]:
        return [
            dict(zip(COLUMNS, r, strict=True))
            for r in self._db.execute(f"SELECT {', '.join(COLUMNS)} FROM volumes ORDER BY username, key")
        ]

    def of_user(self, username: str) -> list[dict]:
        return [
            dict(zip(COLUMNS, r, strict=True))
            for r in self._db.execute(
                f"SELECT {', '.join(COLUMNS)} FROM volumes WHERE username = ? ORDER BY key", (username,)
            )
        ]

    def record(
        self,
        volume: str,
        username: str,
        key: str,
        ts: float,
        outcome: str,
        error: str | None = None,
        archive: str | None = None,
        size_bytes: int | None = None,
        fingerprint: str | None = None,
    ) -> None:
        ok = outcome in ("ok", "unchanged")
        self._db.execute(
            "INSERT INTO volumes (volume, username, key, last_run, outcome, error, archive, size_bytes, fingerprint, last_ok) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, CASE WHEN ?10 THEN ?4 END) "
            "ON CONFLICT (volume) DO UPDATE SET username = ?2, key = ?3, last_run = ?4, outcome = ?5, error = ?6, "
            "archive = COALESCE(?7, archive), size_bytes = COALESCE(?8, size_bytes), "
            "fingerprint = COALESCE(?9, fingerprint), last_ok = CASE WHEN ?10 THEN ?4 ELSE last_ok END",
            (volume, username, key, ts, outcome, error, archive, size_bytes, fingerprint, 1 if ok else 0),
        )


class AsyncBackupStore:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="stellars-backups-db")
        self._store: BackupStore | None = None

    async def call(self, method: str, *args, **kwargs):
        def job():
            if self._store is None:
                self._store = BackupStore(self.path)
            return getattr(self._store, method)(*args, **kwargs)

        return await asyncio.wrap_future(self._executor.submit(job))
