"""Activity samples in their own SQLite file (never the hub's database).

One ``SampleStore`` connection is used from one thread only (``AsyncSampleStore`` owns that
thread), so the monitor never waits on a lock of its own, and the hub's database is never
opened at all: the hub cannot see "database is locked" because of the monitor.
"""

from __future__ import annotations

import asyncio
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterable

from .score import score as python_score

FILE_NAME = "activity.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS samples (
    username TEXT NOT NULL,
    ts REAL NOT NULL,           -- seconds since the epoch (UTC)
    active INTEGER NOT NULL,    -- 1: the lab reported activity within the inactive-after window
    PRIMARY KEY (username, ts)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS samples_ts ON samples (ts);
"""


class SampleStore:
    """Synchronous access; use from a single thread."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(self.path), timeout=5, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def record(self, ts: float, rows: Iterable[tuple[str, bool]], prune_before: float,
               keep_only: Iterable[str] | None = None) -> int:
        """One pass: add a sample per user at ``ts``, drop samples older than ``prune_before``
        and (when ``keep_only`` is given) those of users no longer in the hub. Returns the
        number of samples removed."""
        db = self._db
        with db:
            db.execute("BEGIN IMMEDIATE")
            db.executemany("INSERT OR REPLACE INTO samples (username, ts, active) VALUES (?, ?, ?)",
                           ((name, ts, 1 if active else 0) for name, active in rows))
            removed = db.execute("DELETE FROM samples WHERE ts < ?", (prune_before,)).rowcount
            if keep_only is not None:
                db.execute("CREATE TEMP TABLE IF NOT EXISTS keep (username TEXT PRIMARY KEY)")
                db.execute("DELETE FROM temp.keep")
                db.executemany("INSERT OR IGNORE INTO temp.keep VALUES (?)", ((n,) for n in keep_only))
                removed += db.execute(
                    "DELETE FROM samples WHERE username NOT IN (SELECT username FROM temp.keep)").rowcount
        return removed

    def scores(self, half_life_hours: float) -> dict[str, tuple[float | None, int]]:
        """username -> (score 0..1, sample count) over every stored sample.

        Weights are taken relative to the newest sample (the common factor cancels, see
        score.py) and looked up from a small table of distinct pass times, so the whole
        aggregation runs inside SQLite without a per-row Python call."""
        db = self._db
        newest = db.execute("SELECT MAX(ts) FROM samples").fetchone()[0]
        if newest is None:
            return {}
        with db:
            db.execute("BEGIN")
            db.execute("CREATE TEMP TABLE IF NOT EXISTS weights (ts REAL PRIMARY KEY, w REAL NOT NULL)")
            db.execute("DELETE FROM temp.weights")
            times = [r[0] for r in db.execute("SELECT DISTINCT ts FROM samples")]
            db.executemany("INSERT INTO temp.weights VALUES (?, ?)",
                           ((t, 2.0 ** ((t - newest) / 3600.0 / half_life_hours)) for t in times))
            rows = db.execute(
                "SELECT s.username, SUM(w.w * s.active), SUM(w.w), COUNT(*) "
                "FROM samples s JOIN temp.weights w ON w.ts = s.ts GROUP BY s.username").fetchall()
        result: dict[str, tuple[float | None, int]] = {}
        for name, active, total, count in rows:
            if total > 0:
                result[name] = (active / total, count)
            else:  # every weight underflowed (samples > ~1000 half-lives older than the newest)
                own = self.samples(name)  # the common factor cancels: weigh from their own newest
                result[name] = python_score(own, own[-1][0], half_life_hours)
        return result

    def samples(self, username: str) -> list[tuple[float, bool]]:
        return [(ts, bool(a)) for ts, a in
                self._db.execute("SELECT ts, active FROM samples WHERE username = ? ORDER BY ts", (username,))]

    def count(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM samples").fetchone()[0]

    def rename(self, old: str, new: str) -> None:
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("DELETE FROM samples WHERE username = ?", (new,))
            self._db.execute("UPDATE samples SET username = ? WHERE username = ?", (new, old))

    def delete(self, username: str) -> None:
        self._db.execute("DELETE FROM samples WHERE username = ?", (username,))

    def reset(self) -> int:
        return self._db.execute("DELETE FROM samples").rowcount


class AsyncSampleStore:
    """The store behind one dedicated thread: calls are serialised in submission order, so a
    rename submitted before a pass is applied before that pass."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="stellars-activity-db")
        self._store: SampleStore | None = None

    def _call(self, method: str, *args):
        if self._store is None:
            self._store = SampleStore(self.path)
        return getattr(self._store, method)(*args)

    def submit(self, method: str, *args):
        """Queue a call without waiting (for synchronous callers such as ORM hooks)."""
        return self._executor.submit(self._call, method, *args)

    async def call(self, method: str, *args):
        return await asyncio.wrap_future(self.submit(method, *args))

    def close(self) -> None:
        if self._store is not None:
            self._executor.submit(self._store.close).result()
        self._executor.shutdown(wait=True)
