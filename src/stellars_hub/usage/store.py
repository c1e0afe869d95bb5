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

import sqlite3
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from ..storage import Store, transaction

T = TypeVar("T")

FILE_NAME = "usage.sqlite"

# the schema as it was before the file had migrations (IF NOT EXISTS: older files already have it)
SCHEMA = (
    """CREATE TABLE IF NOT EXISTS passes (
    ts REAL PRIMARY KEY,        -- end of the span, seconds since the epoch (UTC)
    span REAL NOT NULL          -- seconds the pass stands for: (ts - span, ts]
) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS samples (
    username TEXT NOT NULL,
    server TEXT NOT NULL,       -- '' for the default server
    ts REAL NOT NULL,           -- the pass
    active INTEGER NOT NULL,    -- 1: the lab reported activity within the inactive-after window
    cpu_percent REAL,           -- 100 = one full core; NULL when the engine gave no figure
    memory_bytes INTEGER,
    PRIMARY KEY (username, server, ts)
) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS samples_ts ON samples (ts)",
    """CREATE TABLE IF NOT EXISTS events (
    username TEXT NOT NULL,
    server TEXT NOT NULL,
    kind TEXT NOT NULL,         -- start | stop
    ts REAL NOT NULL
)""",
    "CREATE INDEX IF NOT EXISTS events_ts ON events (ts)",
    """CREATE TABLE IF NOT EXISTS storage (
    username TEXT NOT NULL,
    ts REAL NOT NULL,
    bytes INTEGER NOT NULL,
    PRIMARY KEY (username, ts)
) WITHOUT ROWID""",
)


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


class UsageRecords:
    """The queries over one connection, synchronous: on the store's thread (``UsageStore``), or
    with a connection of its own (``UsageRecords.open``: tests and tools)."""

    def __init__(self, db: sqlite3.Connection):
        self._db = db

    @classmethod
    def open(cls, path: str | Path) -> UsageRecords:
        """Records with a connection of their own to the file at ``path`` (its schema made)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(str(path), timeout=5, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        for statement in SCHEMA:
            db.execute(statement)
        return cls(db)

    def close(self) -> None:
        self._db.close()

    # -- writing ------------------------------------------------------------------------------
    def last_pass(self) -> float | None:
        return self._db.execute("SELECT MAX(ts) FROM passes").fetchone()[0]

    def record_pass(
        self, ts: float, span: float, samples: Iterable[ServerSample], prune_before: float | None = None
    ) -> None:
        db = self._db
        with transaction(db):
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
        with transaction(self._db):
            self._db.executemany(
                "INSERT OR REPLACE INTO storage (username, ts, bytes) VALUES (?, ?, ?)",
                ((name, ts, size) for name, size in sizes),
            )

    def rename(self, old: str, new: str) -> None:
        with transaction(self._db):
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


def _records(db: sqlite3.Connection, method: str, *args):
    return getattr(UsageRecords(db), method)(*args)


def _with_records(db: sqlite3.Connection, fn: Callable[..., T], *args) -> T:
    return fn(UsageRecords(db), *args)


class UsageStore(Store):
    """usage.sqlite behind its one thread: the hub's event loop never waits on SQLite. Every
    method queues its work when called and answers an awaitable."""

    FILE_NAME = FILE_NAME
    USER_COLUMNS = (("samples", "username"), ("events", "username"), ("storage", "username"))
    MIGRATIONS = (SCHEMA,)

    def last_pass(self) -> Awaitable[float | None]:
        return self.file.run(_records, "last_pass")

    def record_pass(
        self, ts: float, span: float, samples: Iterable[ServerSample], prune_before: float | None = None
    ) -> Awaitable[None]:
        return self.file.run(_records, "record_pass", ts, span, list(samples), prune_before)

    def record_event(self, username: str, server: str, kind: str, ts: float) -> Awaitable[None]:
        return self.file.run(_records, "record_event", username, server, kind, ts)

    def record_storage(self, ts: float, sizes: Iterable[tuple[str, int]]) -> Awaitable[None]:
        return self.file.run(_records, "record_storage", ts, list(sizes))

    def rename(self, old: str, new: str) -> Awaitable[None]:
        return self.file.run(_records, "rename", old, new)

    def known_seconds(self, start: float, end: float) -> Awaitable[float]:
        return self.file.run(_records, "known_seconds", start, end)

    def window(self, start: float, end: float, server: str | None = None) -> Awaitable[dict[str, Figures]]:
        return self.file.run(_records, "window", start, end, server)

    def run(self, fn: Callable[..., T], *args) -> Awaitable[T]:
        """Run ``fn(records, *args)`` on the store's thread (a report reads many windows at once)."""
        return self.file.run(_with_records, fn, *args)


def store_for(platform) -> UsageStore:
    """The hub's one store of this file, held by its platform."""
    return platform.stores.of(UsageStore, platform.data_dir)
