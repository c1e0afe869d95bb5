"""What the readiness endpoint checks on the hub's own files: the data disk's free space and
whether another program holds the write lock of the hub's database or of a store.

Both are looked at off the event loop: a lock is found by taking the write lock for an instant
on a connection of its own (``BEGIN IMMEDIATE``, then ``ROLLBACK``), waiting at most
``LOCK_WAIT`` seconds per file, never by the hub's own connections."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from .. import resourcefaults

# seconds per file: the hub's own writes take milliseconds, so a lock held this long is someone
# else's. The look is a SQLite connection of its own (SQLite keeps one process's connections to
# a file from dropping each other's locks; a plain open() and close() of the file would not)
LOCK_WAIT = 1.0


class NotOk(Exception):
    """The check's answer when it is not "ok" (CachedProbe shows the message)."""


def _locked(path: Path) -> bool:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=LOCK_WAIT, isolation_level=None)
    except sqlite3.Error:
        return False  # gone or unreadable: not this check's business
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
        return False
    except sqlite3.Error as exc:
        return resourcefaults.classify(exc) == resourcefaults.DATABASE_BUSY
    finally:
        conn.close()


def locked_files(files: list[Path]) -> list[str]:
    return [p.name for p in files if _locked(p)]


def database_files(data_dir: Path, hub_db: Path | None) -> list[Path]:
    """The hub's SQLite database (when it is one) and the platform's stores in the data directory."""
    found = [hub_db] if hub_db is not None else []
    found += sorted(p.resolve() for p in data_dir.glob("*.sqlite"))
    return list(dict.fromkeys(found))


async def check_locks(data_dir: Path, hub_db: Path | None) -> None:
    files = database_files(data_dir, hub_db)
    busy = await asyncio.get_running_loop().run_in_executor(None, locked_files, files)
    if busy:
        raise NotOk(
            f"busy: {', '.join(busy)} held locked by another program; writes wait a few seconds for it, then answer 503"
        )


async def check_disk(data_dir: Path) -> None:
    state = await asyncio.get_running_loop().run_in_executor(None, resourcefaults.describe_disk, data_dir)
    if state != "ok":
        raise NotOk(state)
