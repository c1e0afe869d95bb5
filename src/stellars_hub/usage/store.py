"""What the usage report needs, in its own SQLite file (never the hub's database).

The activity monitor keeps a week of samples for its score and prunes them; usage keeps its own
record for ``JUPYTERHUB_USAGE_RETENTION_DAYS``:

- ``passes``: every sampler pass with the span of time it stands for. A pass right after the
  previous one stands for the time since it; after a gap (the hub was down) it stands for one
  interval only, so the rest of the gap stays *unknown* rather than counted as idle.
- ``samples``: per pass, one row per running server (what it used during the pass's span).
- ``events``: server starts and stops the hub reported (spawner hooks).
- ``storage``: total size of a user's volumes when measured.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

FILE_NAME = "usage.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS passes (
    ts REAL PRIMARY KEY,        -- end of the span, seconds since the epoch (UTC)
    span REAL NOT NULL          -- seconds the pass stands for: (ts - span, ts]
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS samples (
    username TEXT NOT NULL,
    server TEXT NOT NULL,       -- '' for the default server
    ts REAL NOT NULL,           -- the pass
    active INTEGER NOT NULL,    -- 1: the lab reported activity within the inactive-after window
    cpu_percent REAL,           -- 100 = one full core; NULL when the engine gave no figure
    memory_bytes INTEGER,
    PRIMARY KEY (username, server, ts)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS samples_ts ON samples (ts);
CREATE TABLE IF NOT EXISTS events (
    username TEXT NOT NULL,
    server TEXT NOT NULL,
    kind TEXT NOT NULL,         -- start | stop
    ts REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS events_ts ON events (ts);
CREATE TABLE IF NOT EXISTS storage (
    username TEXT NOT NULL,
    ts REAL NOT NULL,
    bytes INTEGER NOT NULL,
    PRIMARY KEY (username, ts)
) WITHOUT ROWID;
"""


@dataclass(frozen=True)
class ServerSample:
    username: str
    server: str
    active: bool
    cpu_percent: float | None = None
    memory_bytes: int | None = None


@dataclass
class Figures:
    """One user's usage in one window."""

    lab_seconds: float = 0.0
    active_seconds: float = 0.0
    cpu_seconds: float = 0.0  # core-seconds
    peak_memory_bytes: int | None = None
    starts: int = 0
    storage_bytes: int | None = None


class UsageStore:
    """Synchronous access; use from a single thread (``AsyncUsageStore`` owns that thread)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(self.path), timeout=5, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    # -- writing ------------------------------------------------------------------------------
    def last_pass(self) -> float | None:
        return self._db.execute("SELECT MAX(ts) FROM passes").fetchone()[0]

    def record_pass(
        self, ts: float, span: float, samples: Iterable[ServerSample], prune_before: float | None = None
    ) -> None:
        db = self._db
        with db:
            db.execute("BEGIN IMMEDIATE")
            db.execute("INSERT OR REPLACE INTO passes (ts, span) VALUES (?, ?)", (ts, span))
            db.executemany(
                "INSERT OR REPLACE INTO samples (username, server, ts, active, cpu_percent, memory_bytes) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                ((s.username, s.server, ts, 1 if s.active else 0, s.cpu_percent, s.memory_bytes) for s in samples),
            )
            if prune_before is not None:
                for table in ("passes", "samples", "events"):
                    db.execute(f"DELETE FROM {table} WHERE ts < ?", (prune_before,))
                # keep each user's newest storage figure before the cut: it is the storage at the
                # end of any period that starts later and has no newer measurement
                db.execute(
                    "DELETE FROM storage WHERE ts < ? AND ts < "
                    "(SELECT MAX(s2.ts) FROM storage s2 WHERE s2.username = storage.username)",
                    (prune_before,),
                )

    def record_event(self, username: str, server: str, kind: str, ts: float) -> None:
        self._db.execute(
            "INSERT INTO events (username, server, kind, ts) VALUES (?, ?, ?, ?)", (username, server, kind, ts)
        )

    def record_storage(self, ts: float, sizes: Iterable[tuple[str, int]]) -> None:
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany(
                "INSERT OR REPLACE INTO storage (username, ts, bytes) VALUES (?, ?, ?)",
                ((name, ts, size) for name, size in sizes),
            )

    def rename(self, old: str, new: str) -> None:
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            for table in ("samples", "events", "storage"):
                self._db.execute(f"DELETE FROM {table} WHERE username = ?", (new,))
                self._db.execute(f"UPDATE {table} SET username = ? WHERE username = ?", (new, old))

    # -- reading ------------------------------------------------------------------------------
    def known_seconds(self, start: float, end: float) -> float:
        """Seconds of [start, end) that some pass stands for (the hub was up and sampling)."""
        row = self._db.execute(
            "SELECT SUM(MIN(ts, ?2) - MAX(ts - span, ?1)) FROM passes WHERE ts > ?1 AND ts - span < ?2", (start, end)
        ).fetchone()
        return float(row[0] or 0.0)

    def window(self, start: float, end: float, server: str | None = None) -> dict[str, Figures]:
        """username -> Figures over [start, end); ``server`` limits to one server name."""
        db = self._db
        where_server = "" if server is None else " AND s.server = ?3"
        args = (start, end) if server is None else (start, end, server)
        result: dict[str, Figures] = {}
        # the overlap of each sample's span with the window, weighted per measure
        for name, lab, active, cpu, peak in db.execute(
            "SELECT s.username, SUM(ov), SUM(ov * s.active), SUM(ov * COALESCE(s.cpu_percent, 0)) / 100.0, "
            "MAX(s.memory_bytes) FROM (SELECT s.*, MIN(p.ts, ?2) - MAX(p.ts - p.span, ?1) AS ov "
            "FROM samples s JOIN passes p ON p.ts = s.ts WHERE p.ts > ?1 AND p.ts - p.span < ?2) s "
            "WHERE 1" + where_server + " GROUP BY s.username",
            args,
        ):
            result[name] = Figures(
                lab_seconds=lab or 0.0, active_seconds=active or 0.0, cpu_seconds=cpu or 0.0, peak_memory_bytes=peak
            )
        for name, starts in db.execute(
            "SELECT username, COUNT(*) FROM events s WHERE kind = 'start' AND ts >= ?1 AND ts < ?2"
            + where_server
            + " GROUP BY username",
            args,
        ):
            result.setdefault(name, Figures()).starts = starts
        for name, size in db.execute(
            "SELECT username, bytes FROM storage s WHERE ts = "
            "(SELECT MAX(ts) FROM storage s2 WHERE s2.username = s.username AND s2.ts < ?2)",
            (start, end),
        ):
            result.setdefault(name, Figures()).storage_bytes = size
        return result


class AsyncUsageStore:
    """The store behind one dedicated thread: the hub's event loop never waits on SQLite."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="stellars-usage-db")
        self._store: UsageStore | None = None

    def _call(self, method: str, *args):
        if self._store is None:
            self._store = UsageStore(self.path)
        return getattr(self._store, method)(*args)

    def submit(self, method: str, *args):
        """Queue a call without waiting (spawner hooks, rename hooks)."""
        return self._executor.submit(self._call, method, *args)

    async def call(self, method: str, *args):
        return await asyncio.wrap_future(self.submit(method, *args))

    async def run(self, fn, *args):
        """Run ``fn(store, *args)`` on the store's thread (a report reads many windows at once)."""

        def job():
            if self._store is None:
                self._store = UsageStore(self.path)
            return fn(self._store, *args)

        return await asyncio.wrap_future(self._executor.submit(job))
