"""Activity samples in their own SQLite file (never the hub's database).

The file is kept by ``storage.SQLiteFile``: one connection on one dedicated thread, so the
monitor never waits on a lock of its own, calls run in the order they were made (a rename made
before a pass is applied before that pass), and the hub's database is never opened at all: the
hub cannot see "database is locked" because of the monitor.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Iterable

from ..storage import Store, transaction
from .score import score as python_score

FILE_NAME = "activity.sqlite"


# A sampled lab: (user name, server name, active); the server is '' for the default server.
Row = tuple[str, str, bool]


def _record(
    db: sqlite3.Connection,
    ts: float,
    rows: list[Row],
    prune_before: float,
    keep_only: list[tuple[str, str]] | None,
) -> int:
    with transaction(db):
        db.executemany(
            "INSERT OR REPLACE INTO samples (username, server, ts, active) VALUES (?, ?, ?, ?)",
            ((name, server, ts, 1 if active else 0) for name, server, active in rows),
        )
        removed = db.execute("DELETE FROM samples WHERE ts < ?", (prune_before,)).rowcount
        if keep_only is not None:
            db.execute(
                "CREATE TEMP TABLE IF NOT EXISTS keep_servers (username TEXT, server TEXT, PRIMARY KEY (username, server))"
            )
            db.execute("DELETE FROM temp.keep_servers")
            db.executemany("INSERT OR IGNORE INTO temp.keep_servers VALUES (?, ?)", keep_only)
            removed += db.execute(
                "DELETE FROM samples WHERE NOT EXISTS (SELECT 1 FROM temp.keep_servers k "
                "WHERE k.username = samples.username AND k.server = samples.server)"
            ).rowcount
    return removed


Key = tuple[str, str]  # (user name, server name)


def _scores(db: sqlite3.Connection, half_life_hours: float) -> dict[Key, tuple[float | None, int]]:
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
            "SELECT s.username, s.server, SUM(w.w * s.active), SUM(w.w), COUNT(*) "
            "FROM samples s JOIN temp.weights w ON w.ts = s.ts GROUP BY s.username, s.server"
        ).fetchall()
    result: dict[Key, tuple[float | None, int]] = {}
    for name, server, active, total, count in rows:
        if total > 0:
            result[(name, server)] = (active / total, count)
        else:  # every weight underflowed (samples > ~1000 half-lives older than the newest)
            own = _samples(db, name, server)  # the common factor cancels: weigh from their own newest
            result[(name, server)] = python_score(own, own[-1][0], half_life_hours)
    return result


def _samples(db: sqlite3.Connection, username: str, server: str = "") -> list[tuple[float, bool]]:
    return [
        (ts, bool(a))
        for ts, a in db.execute(
            "SELECT ts, active FROM samples WHERE username = ? AND server = ? ORDER BY ts", (username, server)
        )
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
    USER_COLUMNS = (("samples", "username"),)
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
        # 2: samples per server of a user (named servers); the samples so far are default servers'
        (
            """CREATE TABLE samples_by_server (
                username TEXT NOT NULL,
                server TEXT NOT NULL DEFAULT '',  -- '' = the default server
                ts REAL NOT NULL,
                active INTEGER NOT NULL,
                PRIMARY KEY (username, server, ts)
            ) WITHOUT ROWID""",
            "INSERT INTO samples_by_server (username, server, ts, active) SELECT username, '', ts, active FROM samples",
            "DROP TABLE samples",
            "ALTER TABLE samples_by_server RENAME TO samples",
            "CREATE INDEX IF NOT EXISTS samples_ts ON samples (ts)",
        ),
    )

    def record(
        self,
        ts: float,
        rows: Iterable[Row],
        prune_before: float,
        keep_only: Iterable[tuple[str, str]] | None = None,
    ) -> Awaitable[int]:
        """One pass: add a sample per server (user, server, active) at ``ts``, drop samples older
        than ``prune_before`` and (when ``keep_only`` is given) those of servers no longer in the
        hub. Answers the number of samples removed."""
        return self.file.run(_record, ts, list(rows), prune_before, None if keep_only is None else list(keep_only))

    def scores(self, half_life_hours: float) -> Awaitable[dict[Key, tuple[float | None, int]]]:
        """(user name, server name) -> (score 0..1, sample count) over every stored sample.

        Weights are taken relative to the newest sample (the common factor cancels, see
        score.py) and looked up from a small table of distinct pass times, so the whole
        aggregation runs inside SQLite without a per-row Python call."""
        return self.file.run(_scores, half_life_hours)

    def samples(self, username: str, server: str = "") -> Awaitable[list[tuple[float, bool]]]:
        return self.file.run(_samples, username, server)

    def count(self) -> Awaitable[int]:
        return self.file.run(_count)

    def rename_user(self, old: str, new: str) -> Awaitable[None]:
        return self.file.run(_rename, old, new)

    def delete_user(self, username: str) -> Awaitable[None]:
        return self.file.run(_delete, username)

    def reset(self) -> Awaitable[int]:
        return self.file.run(_reset)


def store_for(platform) -> SampleStore:
    """The hub's one store of this file, held by its platform."""
    return platform.stores.of(SampleStore, platform.data_dir)
