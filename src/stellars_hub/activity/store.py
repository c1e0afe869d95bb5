"""Activity samples in their own SQLite file (never the hub's database).

The file is kept by ``storage.SQLiteFile``: one connection on one dedicated thread, so the
monitor never waits on a lock of its own, calls run in the order they were made (a rename made
before a pass is applied before that pass), and the hub's database is never opened at all: the
hub cannot see "database is locked" because of the monitor.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Iterable
from pathlib import Path

from ..storage import Store, Stores, process_stores, transaction
from .score import score as python_score

FILE_NAME = "activity.sqlite"


def _record(
    db: sqlite3.Connection, ts: float, rows: list[tuple[str, bool]], prune_before: float, keep_only: list[str] | None
) -> int:
    with transaction(db):
        db.executemany(
            "INSERT OR REPLACE INTO samples (username, ts, active) VALUES (?, ?, ?)",
            ((name, ts, 1 if active else 0) for name, active in rows),
        )
        removed = db.execute("DELETE FROM samples WHERE ts < ?", (prune_before,)).rowcount
        if keep_only is not None:
            db.execute("CREATE TEMP TABLE IF NOT EXISTS keep (username TEXT PRIMARY KEY)")
            db.execute("DELETE FROM temp.keep")
            db.executemany("INSERT OR IGNORE INTO temp.keep VALUES (?)", ((n,) for n in keep_only))
            removed += db.execute("DELETE FROM samples WHERE username NOT IN (SELECT username FROM temp.keep)").rowcount
    return removed


def _scores(db: sqlite3.Connection, half_life_hours: float) -> dict[str, tuple[float | None, int]]:
    newest = db.execute("SELECT MAX(ts) FROM samples").fetchone()[0]
    if newest is None:
        return {}
    with transaction(db, immediate=False):
        db.execute("CREATE TEMP TABLE IF NOT EXISTS weights (ts REAL PRIMARY KEY, w REAL NOT NULL)")
        db.execute("DELETE FROM temp.weights")
        times = [r[0] for r in db.execute("SELECT DISTINCT ts FROM samples")]
        db.executemany(
            "INSERT INTO temp.weights VALUES (?, ?)",
            ((t, 2.0 ** ((t - newest) / 3600.0 / half_life_hours)) for t in times),
        )
        rows = db.execute(
            "SELECT s.username, SUM(w.w * s.active), SUM(w.w), COUNT(*) "
            "FROM samples s JOIN temp.weights w ON w.ts = s.ts GROUP BY s.username"
        ).fetchall()
    result: dict[str, tuple[float | None, int]] = {}
    for name, active, total, count in rows:
        if total > 0:
            result[name] = (active / total, count)
        else:  # every weight underflowed (samples > ~1000 half-lives older than the newest)
            own = _samples(db, name)  # the common factor cancels: weigh from their own newest
            result[name] = python_score(own, own[-1][0], half_life_hours)
    return result


def _samples(db: sqlite3.Connection, username: str) -> list[tuple[float, bool]]:
    return [
        (ts, bool(a))
        for ts, a in db.execute("SELECT ts, active FROM samples WHERE username = ? ORDER BY ts", (username,))
    ]


def _count(db: sqlite3.Connection) -> int:
    return db.execute("SELECT COUNT(*) FROM samples").fetchone()[0]


def _rename(db: sqlite3.Connection, old: str, new: str) -> None:
    with transaction(db):
        db.execute("DELETE FROM samples WHERE username = ?", (new,))
        db.execute("UPDATE samples SET username = ? WHERE username = ?", (new, old))


def _delete(db: sqlite3.Connection, username: str) -> None:
    db.execute("DELETE FROM samples WHERE username = ?", (username,))


def _reset(db: sqlite3.Connection) -> int:
    return db.execute("DELETE FROM samples").rowcount


class SampleStore(Store):
    """Every method queues its work on the file's thread when called and answers an awaitable."""

    FILE_NAME = FILE_NAME
    MIGRATIONS = (
        (
            """CREATE TABLE IF NOT EXISTS samples (
                username TEXT NOT NULL,
                ts REAL NOT NULL,           -- seconds since the epoch (UTC)
                active INTEGER NOT NULL,    -- 1: the lab reported activity within the inactive-after window
                PRIMARY KEY (username, ts)
            ) WITHOUT ROWID""",
            "CREATE INDEX IF NOT EXISTS samples_ts ON samples (ts)",
        ),
    )

    def record(
        self, ts: float, rows: Iterable[tuple[str, bool]], prune_before: float, keep_only: Iterable[str] | None = None
    ) -> Awaitable[int]:
        """One pass: add a sample per user at ``ts``, drop samples older than ``prune_before``
        and (when ``keep_only`` is given) those of users no longer in the hub. Answers the
        number of samples removed."""
        return self.file.run(_record, ts, list(rows), prune_before, None if keep_only is None else list(keep_only))

    def scores(self, half_life_hours: float) -> Awaitable[dict[str, tuple[float | None, int]]]:
        """username -> (score 0..1, sample count) over every stored sample.

        Weights are taken relative to the newest sample (the common factor cancels, see
        score.py) and looked up from a small table of distinct pass times, so the whole
        aggregation runs inside SQLite without a per-row Python call."""
        return self.file.run(_scores, half_life_hours)

    def samples(self, username: str) -> Awaitable[list[tuple[float, bool]]]:
        return self.file.run(_samples, username)

    def count(self) -> Awaitable[int]:
        return self.file.run(_count)

    def rename_user(self, old: str, new: str) -> Awaitable[None]:
        return self.file.run(_rename, old, new)

    def delete_user(self, username: str) -> Awaitable[None]:
        return self.file.run(_delete, username)

    def reset(self) -> Awaitable[int]:
        return self.file.run(_reset)


def store_for(data_dir: str | Path, stores: Stores | None = None) -> SampleStore:
    """The process's store in the platform's data directory."""
    return (stores or process_stores()).open(SampleStore, Path(data_dir) / FILE_NAME)
