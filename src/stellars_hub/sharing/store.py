"""Who is in a shared lab: one row per visitor who opened someone's lab through a share, kept in
sharing.sqlite (never the hub's database) while they hold a way in. The shares themselves are
JupyterHub's records."""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable

from ..storage import Store, transaction

FILE_NAME = "sharing.sqlite"

SCHEMA = """CREATE TABLE visits (
    owner TEXT NOT NULL, server TEXT NOT NULL, visitor TEXT NOT NULL,
    via TEXT NOT NULL,      -- "user" or "group <name>": which share let them in
    joined REAL NOT NULL,   -- when the hub first saw their way in (an OAuth token of the lab)
    PRIMARY KEY (owner, server, visitor)
)"""

Key = tuple[str, str, str]  # (owner, server, visitor)


def _all(db: sqlite3.Connection) -> dict[Key, tuple[str, float]]:
    return {(o, s, v): (via, joined) for o, s, v, via, joined in db.execute("SELECT * FROM visits")}


def _join(db: sqlite3.Connection, key: Key, via: str, when: float) -> None:
    db.execute("INSERT OR REPLACE INTO visits VALUES (?, ?, ?, ?, ?)", (*key, via, when))


def _leave(db: sqlite3.Connection, keys: list[Key]) -> None:
    with transaction(db):
        db.executemany("DELETE FROM visits WHERE owner = ? AND server = ? AND visitor = ?", keys)


def _of_owner(db: sqlite3.Connection, owner: str) -> list[tuple[str, str, str, float]]:
    return list(db.execute("SELECT server, visitor, via, joined FROM visits WHERE owner = ? ORDER BY joined", (owner,)))


def _forget_user(db: sqlite3.Connection, name: str) -> None:
    db.execute("DELETE FROM visits WHERE owner = ? OR visitor = ?", (name, name))


class SharingStore(Store):
    """Every method queues its work on the file's thread when called and answers an awaitable."""

    FILE_NAME = FILE_NAME
    MIGRATIONS = (SCHEMA,)

    def visits(self) -> Awaitable[dict[Key, tuple[str, float]]]:
        return self.file.run(_all)

    def join(self, key: Key, via: str, when: float) -> Awaitable[None]:
        return self.file.run(_join, key, via, when)

    def leave(self, keys: list[Key]) -> Awaitable[None]:
        return self.file.run(_leave, keys)

    def of_owner(self, owner: str) -> Awaitable[list[tuple[str, str, str, float]]]:
        """(server, visitor, via, joined) of everyone in the owner's labs."""
        return self.file.run(_of_owner, owner)

    def forget_user(self, name: str) -> Awaitable[None]:
        """A renamed or deleted user's visits, as owner and as visitor (their shares end too)."""
        return self.file.run(_forget_user, name)


def store_for(platform) -> SharingStore:
    """The hub's one store of this file, held by its platform."""
    return platform.stores.of(SharingStore, platform.data_dir)
