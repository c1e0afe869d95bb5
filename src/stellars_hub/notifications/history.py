"""Past broadcasts in their own small SQLite file in the data directory (not the hub's
database): when, who, what, and each recipient's outcome. Survives hub restarts."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

FILE_NAME = "notifications.sqlite"
KEEP = 1000  # newest broadcasts kept; older ones are pruned on every insert

_SCHEMA = """
CREATE TABLE IF NOT EXISTS broadcasts (
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
);
CREATE TABLE IF NOT EXISTS deliveries (
    broadcast_id INTEGER NOT NULL REFERENCES broadcasts(id) ON DELETE CASCADE,
    username TEXT NOT NULL,
    status TEXT NOT NULL,
    error TEXT
);
CREATE INDEX IF NOT EXISTS deliveries_by_broadcast ON deliveries(broadcast_id);
"""


class HistoryStore:
    def __init__(self, path: str | Path):
        self.path = str(path)
        self._lock = threading.Lock()  # one writer at a time from the hub's threads
        with self._connect() as db:
            db.executescript(_SCHEMA)

    @contextmanager
    def _connect(self):
        db = sqlite3.connect(self.path, timeout=10)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA foreign_keys = ON")
        try:
            with db:  # commit or roll back
                yield db
        finally:
            db.close()

    # -- synchronous core (run in a thread by the async wrappers) ----------------------------
    def add_sync(self, sender: str, message: str, kind: str, auto_close: bool, selected: bool,
                 details: list[dict]) -> dict:
        sent_at = datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
        ok = sum(1 for d in details if d["status"] == "delivered")
        with self._lock, self._connect() as db:
            cur = db.execute(
                "INSERT INTO broadcasts (sent_at, sender, message, type, auto_close, selected, total,"
                " successful, failed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (sent_at, sender, message, kind, int(auto_close), int(selected), len(details), ok,
                 len(details) - ok),
            )
            bid = cur.lastrowid
            db.executemany(
                "INSERT INTO deliveries (broadcast_id, username, status, error) VALUES (?, ?, ?, ?)",
                [(bid, d["username"], d["status"], d["error"]) for d in details],
            )
            db.execute("DELETE FROM broadcasts WHERE id <= ?", (bid - KEEP,))
        return {"id": bid, "sent_at": sent_at}

    def list_sync(self, limit: int = 50) -> list[dict]:
        with self._connect() as db:
            rows = db.execute("SELECT * FROM broadcasts ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
            ids = [r["id"] for r in rows]
            details: dict[int, list] = {i: [] for i in ids}
            if ids:
                marks = ",".join("?" * len(ids))
                for d in db.execute(f"SELECT * FROM deliveries WHERE broadcast_id IN ({marks}) ORDER BY rowid", ids):
                    details[d["broadcast_id"]].append({"username": d["username"], "status": d["status"], "error": d["error"]})
        return [
            {
                "id": r["id"], "sent_at": r["sent_at"], "sender": r["sender"], "message": r["message"],
                "type": r["type"], "autoClose": bool(r["auto_close"]),
                "recipients": "selected" if r["selected"] else "all running",
                "total": r["total"], "successful": r["successful"], "failed": r["failed"],
                "details": details[r["id"]],
            }
            for r in rows
        ]

    def rename_user(self, old: str, new: str) -> None:
        with self._lock, self._connect() as db:
            db.execute("UPDATE broadcasts SET sender = ? WHERE sender = ?", (new, old))
            db.execute("UPDATE deliveries SET username = ? WHERE username = ?", (new, old))

    # -- for handlers: never block the event loop on the file ---------------------------------
    async def add(self, *args, **kwargs) -> dict:
        return await asyncio.to_thread(self.add_sync, *args, **kwargs)

    async def list(self, limit: int = 50) -> list[dict]:
        return await asyncio.to_thread(self.list_sync, limit)
