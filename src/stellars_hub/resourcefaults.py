"""A full data disk and a busy database: faults of the hub's machine, not of the request.

The request was fine and nothing it asked for was done, so the answer says what happened and
what to do instead of a bare 500: 507 "the hub's data disk is full" and 503 "the hub's database
is busy". ``classify`` recognises either in any exception (an ``OSError``, SQLite's own error,
SQLAlchemy's wrapper of it); the platform's routes answer through ``web.errors.translate``,
JupyterHub's own database errors through ``hubdb``, and ``/hub/readiness`` names both.

A disk is taken as full below ``MIN_FREE_BYTES``: the platform's write routes refuse before they
start rather than fail half-way (a store's transaction would roll back, but a broadcast already
delivered or a volume already removed cannot).
"""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path

DISK_FULL = "disk-full"
DATABASE_BUSY = "database-busy"

STATUS = {DISK_FULL: 507, DATABASE_BUSY: 503}
MESSAGES = {
    DISK_FULL: (
        "the hub's data disk is full: nothing was changed. Reading still works; "
        "ask your administrator to free space in the hub's data directory, then try again"
    ),
    DATABASE_BUSY: (
        "the hub's database is busy: another program holds its lock (a backup or a maintenance "
        "script, for example) and it did not let go in time. Nothing was changed; try again in a moment"
    ),
}
# below this the hub takes its data disk as full: enough for a broadcast's rows or a day's audit
# lines, well under what any real disk keeps back (a disk can also be full of inodes: statvfs)
MIN_FREE_BYTES = 2 * 1024 * 1024

# SQLite's primary result codes (an extended code carries one in its low byte)
_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_FULL = 5, 6, 13


def classify(exc: BaseException | None) -> str | None:
    """DISK_FULL, DATABASE_BUSY or None, for an exception or what it wraps (SQLAlchemy's
    ``orig``, an explicit ``raise ... from``), never for an unrelated error raised while one of
    these was being handled."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return DISK_FULL
        if isinstance(exc, sqlite3.Error):
            found = _sqlite_fault(exc)
            if found:
                return found
        orig = getattr(exc, "orig", None)  # sqlalchemy.exc.DBAPIError
        exc = orig if isinstance(orig, BaseException) else exc.__cause__
    return None


def _sqlite_fault(exc: sqlite3.Error) -> str | None:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        primary = code & 0xFF
        if primary == _SQLITE_FULL:
            return DISK_FULL
        if primary in (_SQLITE_BUSY, _SQLITE_LOCKED):
            return DATABASE_BUSY
    text = str(exc).lower()  # errors raised without a code (older Pythons, some wrappers)
    if "database or disk is full" in text:
        return DISK_FULL
    if "database is locked" in text or "database table is locked" in text:
        return DATABASE_BUSY
    return None


def answer(fault: str) -> tuple[int, str]:
    """(HTTP status, message) for a fault ``classify`` found."""
    return STATUS[fault], MESSAGES[fault]


def free_bytes(path: str | Path) -> int:
    """Bytes this process may still write on the file system of ``path`` (the fewer of the free
    bytes and of what the free inodes allow: with no inode left nothing new can be written)."""
    st = os.statvfs(path)
    privileged = os.geteuid() == 0  # root may use the blocks kept back for it
    blocks = st.f_bfree if privileged else st.f_bavail
    inodes = st.f_ffree if privileged else st.f_favail
    if st.f_files and not inodes:
        return 0
    return blocks * st.f_frsize


def disk_full(path: str | Path) -> bool:
    try:
        return free_bytes(path) < MIN_FREE_BYTES
    except OSError:
        return False  # a data directory that cannot be looked at fails its writes with their reason


def describe_disk(path: str | Path) -> str:
    """What the readiness endpoint says about the data disk: "ok" or why not."""
    free = free_bytes(path)
    if free >= MIN_FREE_BYTES:
        return "ok"
    return f"full: {free // 1024} KiB free in {path}; writes answer 507 until space is freed"
