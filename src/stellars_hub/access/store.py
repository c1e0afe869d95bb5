"""Consents and grants in access.sqlite (never the hub's database)."""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable

from ..storage import Store, transaction

FILE_NAME = "access.sqlite"

# the schema as it was before the file had migrations (IF NOT EXISTS: older files already have it)
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS consents (username TEXT PRIMARY KEY, until REAL NOT NULL, given REAL NOT NULL)",
    """CREATE TABLE IF NOT EXISTS grants (
    username TEXT NOT NULL, admin TEXT NOT NULL, until REAL NOT NULL, given REAL NOT NULL,
    PRIMARY KEY (username, admin)
)""",
)


def _consent_until(db: sqlite3.Connection, username: str, now: float) -> float | None:
    row = db.execute("SELECT until FROM consents WHERE username = ? AND until > ?", (username, now)).fetchone()
    return row[0] if row else None


def _give_consent(db: sqlite3.Connection, username: str, until: float, now: float) -> None:
    db.execute("INSERT OR REPLACE INTO consents VALUES (?, ?, ?)", (username, until, now))


def _withdraw_consent(db: sqlite3.Connection, username: str) -> list[str]:
    with transaction(db):
        admins = [a for (a,) in db.execute("SELECT admin FROM grants WHERE username = ?", (username,))]
        db.execute("DELETE FROM consents WHERE username = ?", (username,))
        db.execute("DELETE FROM grants WHERE username = ?", (username,))
    return admins


def _grant(db: sqlite3.Connection, username: str, admin: str, until: float, now: float) -> None:
    db.execute("INSERT OR REPLACE INTO grants VALUES (?, ?, ?, ?)", (username, admin, until, now))


def _grants(db: sqlite3.Connection, username: str, now: float) -> list[tuple[str, float]]:
    return list(
        db.execute("SELECT admin, until FROM grants WHERE username = ? AND until > ? ORDER BY admin", (username, now))
    )


def _expire(db: sqlite3.Connection, now: float) -> list[tuple[str, str]]:
    with transaction(db):
        ended = list(db.execute("SELECT username, admin FROM grants WHERE until <= ?", (now,)))
        db.execute("DELETE FROM grants WHERE until <= ?", (now,))
        db.execute("DELETE FROM consents WHERE until <= ?", (now,))
    return ended


def _rename_user(db: sqlite3.Connection, old: str, new: str) -> list[str]:
    with transaction(db):
        for table in ("consents", "grants"):
            db.execute(f"DELETE FROM {table} WHERE username = ?", (new,))
            db.execute(f"UPDATE {table} SET username = ? WHERE username = ?", (new, old))
        db.execute("UPDATE OR REPLACE grants SET admin = ? WHERE admin = ?", (new, old))
        return [a for (a,) in db.execute("SELECT admin FROM grants WHERE username = ?", (new,))]


def _delete_user(db: sqlite3.Connection, username: str) -> list[str]:
    with transaction(db):
        admins = [a for (a,) in db.execute("SELECT admin FROM grants WHERE username = ?", (username,))]
        db.execute("DELETE FROM consents WHERE username = ?", (username,))
        db.execute("DELETE FROM grants WHERE username = ? OR admin = ?", (username, username))
    return admins


class AccessStore(Store):
    """Users' consents and admins' grants. Every method queues its work on the file's thread when
    called and answers an awaitable."""

    FILE_NAME = FILE_NAME
    USER_COLUMNS = (("consents", "username"), ("grants", "username"), ("grants", "admin"))
    MIGRATIONS = (SCHEMA,)

    def consent_until(self, username: str, now: float) -> Awaitable[float | None]:
        return self.file.run(_consent_until, username, now)

    def give_consent(self, username: str, until: float, now: float) -> Awaitable[None]:
        return self.file.run(_give_consent, username, until, now)

    def withdraw_consent(self, username: str) -> Awaitable[list[str]]:
        """Remove the consent and every grant on the user; the admins who lose access."""
        return self.file.run(_withdraw_consent, username)

    def grant(self, username: str, admin: str, until: float, now: float) -> Awaitable[None]:
        return self.file.run(_grant, username, admin, until, now)

    def grants(self, username: str, now: float) -> Awaitable[list[tuple[str, float]]]:
        return self.file.run(_grants, username, now)

    def expire(self, now: float) -> Awaitable[list[tuple[str, str]]]:
        """Drop ended grants and consents; the (user, admin) grants that ended."""
        return self.file.run(_expire, now)

    def rename_user(self, old: str, new: str) -> Awaitable[list[str]]:
        """Consent and grants follow the user (and an admin's grants follow the admin); the
        admins holding a grant on the renamed user."""
        return self.file.run(_rename_user, old, new)

    def delete_user(self, username: str) -> Awaitable[list[str]]:
        """Drop the user's consent and every grant on or to them; the admins who held one."""
        return self.file.run(_delete_user, username)


def store_for(platform) -> AccessStore:
    """The hub's one store of this file, held by its platform."""
    return platform.stores.of(AccessStore, platform.data_dir)
