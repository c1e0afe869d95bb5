"""The last backup result of every user volume, in backups.sqlite (never the hub's database)."""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable

from ..storage import Store, transaction

FILE_NAME = "backups.sqlite"

# the schema as it was before the file had migrations (IF NOT EXISTS: older files already have it)
SCHEMA = (
    """CREATE TABLE IF NOT EXISTS volumes (
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
)""",
    "CREATE INDEX IF NOT EXISTS volumes_user ON volumes (username)",
)

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


def _get(db: sqlite3.Connection, volume: str) -> dict | None:
    row = db.execute(f"SELECT {', '.join(COLUMNS)} FROM volumes WHERE volume = ?", (volume,)).fetchone()
    return dict(zip(COLUMNS, row, strict=True)) if row else None


def _all(db: sqlite3.Connection) -> list[dict]:
    return [
        dict(zip(COLUMNS, r, strict=True))
        for r in db.execute(f"SELECT {', '.join(COLUMNS)} FROM volumes ORDER BY username, key")
    ]


def _of_user(db: sqlite3.Connection, username: str) -> list[dict]:
    return [
        dict(zip(COLUMNS, r, strict=True))
        for r in db.execute(f"SELECT {', '.join(COLUMNS)} FROM volumes WHERE username = ? ORDER BY key", (username,))
    ]


def _record(
    db: sqlite3.Connection,
    volume: str,
    username: str,
    key: str,
    ts: float,
    outcome: str,
    error: str | None,
    archive: str | None,
    size_bytes: int | None,
    fingerprint: str | None,
) -> None:
    ok = outcome in ("ok", "unchanged")
    db.execute(
        "INSERT INTO volumes (volume, username, key, last_run, outcome, error, archive, size_bytes, fingerprint, last_ok) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, CASE WHEN ?10 THEN ?4 END) "
        "ON CONFLICT (volume) DO UPDATE SET username = ?2, key = ?3, last_run = ?4, outcome = ?5, error = ?6, "
        "archive = COALESCE(?7, archive), size_bytes = COALESCE(?8, size_bytes), "
        "fingerprint = COALESCE(?9, fingerprint), last_ok = CASE WHEN ?10 THEN ?4 ELSE last_ok END",
        (volume, username, key, ts, outcome, error, archive, size_bytes, fingerprint, 1 if ok else 0),
    )


def _rename_user(db: sqlite3.Connection, old: str, new: str) -> None:
    with transaction(db):
        db.execute("DELETE FROM volumes WHERE username = ?", (new,))
        db.execute("UPDATE volumes SET username = ? WHERE username = ?", (new, old))


def _delete_user(db: sqlite3.Connection, username: str) -> None:
    db.execute("DELETE FROM volumes WHERE username = ?", (username,))


def _forget_volumes(db: sqlite3.Connection, volumes: list[str]) -> int:
    with transaction(db):
        return sum(db.execute("DELETE FROM volumes WHERE volume = ?", (v,)).rowcount for v in volumes)


class BackupStore(Store):
    """Each volume's last backup result. Every method queues its work on the file's thread when
    called and answers an awaitable."""

    FILE_NAME = FILE_NAME
    USER_COLUMNS = (("volumes", "username"),)
    MIGRATIONS = (SCHEMA,)

    def get(self, volume: str) -> Awaitable[dict | None]:
        return self.file.run(_get, volume)

    def all(self) -> Awaitable[list[dict]]:
        return self.file.run(_all)

    def of_user(self, username: str) -> Awaitable[list[dict]]:
        return self.file.run(_of_user, username)

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
    ) -> Awaitable[None]:
        return self.file.run(_record, volume, username, key, ts, outcome, error, archive, size_bytes, fingerprint)

    def rename_user(self, old: str, new: str) -> Awaitable[None]:
        return self.file.run(_rename_user, old, new)

    def delete_user(self, username: str) -> Awaitable[None]:
        """The user's results go (their kept volumes keep their archives, under the volumes'
        names, which a later user of the name never gets)."""
        return self.file.run(_delete_user, username)

    def forget_volumes(self, volumes: list[str]) -> Awaitable[int]:
        """Drop the results of removed volumes; how many there were."""
        return self.file.run(_forget_volumes, volumes)


def store_for(platform) -> BackupStore:
    """The hub's one store of this file, held by its platform."""
    return platform.stores.of(BackupStore, platform.data_dir)
