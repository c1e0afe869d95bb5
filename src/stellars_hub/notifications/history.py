"""Past broadcasts in their own small SQLite file in the data directory (not the hub's
database): when, who, what, and each recipient's outcome. Survives hub restarts. Every call runs
on the file's one thread (storage.py), never on the event loop.

A broadcast is recorded before it is sent (``begin``: state ``sending``) and its results after
(``finish``: ``sent``), so one that reached the labs is always in the history: when its results
cannot be written (a full disk) it stays ``sending``, and one the hub died in the middle of is
marked ``interrupted`` at the next start. An admin reading the history never sends it twice."""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable
from datetime import datetime, timezone
from typing import cast

from ..storage import Store, transaction

FILE_NAME = "notifications.sqlite"
KEEP = 1000  # newest broadcasts kept; older ones are pruned on every insert

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS broadcasts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        sent_at TEXT NOT NULL,
        sender TEXT NOT NULL,
        message TEXT NOT NULL,
        type TEXT NOT NULL,
        auto_close INTEGER NOT NULL,
        selected INTEGER NOT NULL,
        total INTEGER NOT NULL,
        successful INTEGER NOT NULL,
        failed INTEGER NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS deliveries (
        broadcast_id INTEGER NOT NULL REFERENCES broadcasts(id) ON DELETE CASCADE,
        username TEXT NOT NULL,
        status TEXT NOT NULL,
        error TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS deliveries_by_broadcast ON deliveries(broadcast_id)",
)


SENDING, SENT, INTERRUPTED = "sending", "sent", "interrupted"


def _begin(
    db: sqlite3.Connection, sender: str, message: str, kind: str, auto_close: bool, selected: bool, total: int
) -> dict:
    sent_at = datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
    with transaction(db):
        cur = db.execute(
            "INSERT INTO broadcasts (sent_at, sender, message, type, auto_close, selected, total,"
            " successful, failed, state) VALUES (?, ?, ?, ?, ?, ?, ?, 0, 0, ?)",
            (sent_at, sender, message, kind, int(auto_close), int(selected), total, SENDING),
        )
        bid = cast(int, cur.lastrowid)  # set by the INSERT
        db.execute("DELETE FROM broadcasts WHERE id <= ?", (bid - KEEP,))
    return {"id": bid, "sent_at": sent_at}


def _finish(db: sqlite3.Connection, bid: int, details: list[dict]) -> None:
    ok = sum(1 for d in details if d["status"] == "delivered")
    with transaction(db):
        db.executemany(
            "INSERT INTO deliveries (broadcast_id, username, server, status, error) VALUES (?, ?, ?, ?, ?)",
            [(bid, d["username"], d.get("server", ""), d["status"], d["error"]) for d in details],
        )
        db.execute(
            "UPDATE broadcasts SET total = ?, successful = ?, failed = ?, state = ? WHERE id = ?",
            (len(details), ok, len(details) - ok, SENT, bid),
        )


def _add(
    db: sqlite3.Connection, sender: str, message: str, kind: str, auto_close: bool, selected: bool, details: list[dict]
) -> dict:
    saved = _begin(db, sender, message, kind, auto_close, selected, len(details))
    _finish(db, saved["id"], details)
    return saved


def _interrupted(db: sqlite3.Connection) -> int:
    with transaction(db):
        return db.execute("UPDATE broadcasts SET state = ? WHERE state = ?", (INTERRUPTED, SENDING)).rowcount


def _list(db: sqlite3.Connection, limit: int) -> list[dict]:
    with transaction(db, immediate=False):  # one snapshot for both queries
        rows = db.execute("SELECT * FROM broadcasts ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        ids = [r["id"] for r in rows]
        details: dict[int, list] = {i: [] for i in ids}
        if ids:
            marks = ",".join("?" * len(ids))
            for d in db.execute(f"SELECT * FROM deliveries WHERE broadcast_id IN ({marks}) ORDER BY rowid", ids):
                details[d["broadcast_id"]].append(
                    {"username": d["username"], "server": d["server"], "status": d["status"], "error": d["error"]}
                )
    return [
        {
            "id": r["id"],
            "sent_at": r["sent_at"],
            "sender": r["sender"],
            "message": r["message"],
            "type": r["type"],
            "autoClose": bool(r["auto_close"]),
            "recipients": "selected" if r["selected"] else "all running",
            "state": r["state"],
            "total": r["total"],
            "successful": r["successful"],
            "failed": r["failed"],
            "details": details[r["id"]],
        }
        for r in rows
    ]


def _rename(db: sqlite3.Connection, old: str, new: str) -> None:
    with transaction(db):
        db.execute("UPDATE broadcasts SET sender = ? WHERE sender = ?", (new, old))
        db.execute("UPDATE deliveries SET username = ? WHERE username = ?", (new, old))


class HistoryStore(Store):
    """Every method queues its work on the file's thread when called and answers an awaitable.
    A deleted user's entries stay: the history records what was sent to whom."""

    FILE_NAME = FILE_NAME
    MIGRATIONS = (
        _SCHEMA,
        # 2: which server of the user a delivery went to (named servers); earlier ones: the default
        "ALTER TABLE deliveries ADD COLUMN server TEXT NOT NULL DEFAULT ''",
        # 3: recorded before it is sent (sending), with its results (sent), or cut short (interrupted)
        f"ALTER TABLE broadcasts ADD COLUMN state TEXT NOT NULL DEFAULT '{SENT}'",
    )

    def on_open(self, conn: sqlite3.Connection) -> None:
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys = ON")  # pruned broadcasts take their deliveries along

    def add(
        self, sender: str, message: str, kind: str, auto_close: bool, selected: bool, details: list[dict]
    ) -> Awaitable[dict]:
        """Record one broadcast with its results; answers {"id", "sent_at"}."""
        return self.file.run(_add, sender, message, kind, auto_close, selected, details)

    def begin(
        self, sender: str, message: str, kind: str, auto_close: bool, selected: bool, total: int
    ) -> Awaitable[dict]:
        """Record a broadcast about to be sent to ``total`` labs; answers {"id", "sent_at"}."""
        return self.file.run(_begin, sender, message, kind, auto_close, selected, total)

    def finish(self, broadcast_id: int, details: list[dict]) -> Awaitable[None]:
        """The results of a broadcast ``begin`` recorded."""
        return self.file.run(_finish, broadcast_id, details)

    def mark_interrupted(self) -> Awaitable[int]:
        """At hub start: broadcasts still being sent when the hub stopped; how many."""
        return self.file.run(_interrupted)

    def list(self, limit: int = 50) -> Awaitable[list[dict]]:
        """The newest ``limit`` broadcasts, newest first, each with its deliveries."""
        return self.file.run(_list, limit)

    def rename_user(self, old: str, new: str) -> Awaitable[None]:
        return self.file.run(_rename, old, new)


def store_for(platform) -> HistoryStore:
    """The hub's one store of this file, held by its platform."""
    return platform.stores.of(HistoryStore, platform.data_dir)
