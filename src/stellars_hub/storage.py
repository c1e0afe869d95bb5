"""One way to keep the platform's own SQLite files (never the hub's database).

``SQLiteFile`` owns one file: one connection, used only by one dedicated thread (a single-worker
executor), WAL journal (readers in other processes, such as the idle culler, never wait for the
hub's writes), the file's schema brought up to date on open (``PRAGMA user_version`` counts the
migrations applied). Every read and write goes through that thread, in the order the calls were
made, so the event loop never touches the file and nothing needs a lock of its own.

``Store`` is the base of the feature stores (one subclass per file); ``Stores`` hands out one
store object per file (keyed by the file's resolved path): the hub's platform holds one.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

# A migration: one SQL statement, several statements, or a function of the connection. Each
# runs once per file, in order, inside the transaction that records it in user_version.
Migration = str | Sequence[str] | Callable[[sqlite3.Connection], None]

T = TypeVar("T")
S = TypeVar("S", bound="Store")

BUSY_TIMEOUT = 10  # seconds a statement waits for another process's write lock


@contextmanager
def transaction(conn: sqlite3.Connection, immediate: bool = True) -> Iterator[sqlite3.Connection]:
    """One transaction; IMMEDIATE takes the write lock at once, so read-modify-write is safe
    against other processes too. Rolled back on any error."""
    conn.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


class NewerSchema(sqlite3.DatabaseError):
    """The file counts more migrations than this release knows: a newer release wrote it."""


class SQLiteFile:
    """One SQLite file behind one thread. Calls are queued when made (not when awaited)."""

    def __init__(
        self,
        path: str | Path,
        migrations: Sequence[Migration] = (),
        on_open: Callable[[sqlite3.Connection], None] | None = None,
    ):
        self.path = Path(path)
        self.migrations = tuple(migrations)
        self._on_open = on_open
        self._conn: sqlite3.Connection | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"sqlite-{self.path.name}")
        self._thread_id: int | None = None  # the writer thread, known once it ran something
        self.closed = False

    # -- the writer thread's side ---------------------------------------------------------------
    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(self.path), timeout=BUSY_TIMEOUT, isolation_level=None)
            try:
                mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
                if mode.lower() != "wal":
                    raise sqlite3.OperationalError(f"{self.path}: journal mode is {mode}, WAL is needed")
                conn.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; safe with WAL
                if self._on_open is not None:
                    self._on_open(conn)
                self._migrate(conn)
            except BaseException:
                conn.close()
                raise
            self._conn = conn
        return self._conn

    def _migrate(self, conn: sqlite3.Connection) -> None:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > len(self.migrations):  # a newer release's file: its meaning is unknown here
            raise NewerSchema(
                f"{self.path} was written by a newer release (schema step {version}; this release knows "
                f"{len(self.migrations)})"
            )
        if version == len(self.migrations):
            return  # the common case: no write lock taken (readers in other processes open too)
        with transaction(conn):
            done = conn.execute("PRAGMA user_version").fetchone()[0]  # another process may have won
            for step in self.migrations[done:]:
                if callable(step):
                    step(conn)
                else:
                    for statement in [step] if isinstance(step, str) else step:
                        conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {max(done, len(self.migrations))}")

    def _call(self, fn: Callable[..., T], args: tuple, kwargs: dict) -> T:
        self._thread_id = threading.get_ident()
        return fn(self._connection(), *args, **kwargs)

    def _call_if_exists(self, default: Any, fn: Callable[..., T], args: tuple, kwargs: dict) -> T:
        if self._conn is None and not self.path.exists():
            return default
        return self._call(fn, args, kwargs)

    # -- callers' side --------------------------------------------------------------------------
    def submit(self, fn: Callable[..., T], *args, **kwargs) -> Future:
        """Queue ``fn(connection, *args, **kwargs)`` on the file's thread; a concurrent future."""
        if self.closed:
            raise RuntimeError(f"{self.path} is closed")
        return self._executor.submit(self._call, fn, args, kwargs)

    def run(self, fn: Callable[..., T], *args, **kwargs) -> asyncio.Future:
        """Queue ``fn(connection, *args, **kwargs)`` now and answer an awaitable for its result
        (its exception is raised by the await). Call from a running event loop."""
        loop = asyncio.get_running_loop()  # first: without a loop nothing is queued
        return asyncio.wrap_future(self.submit(fn, *args, **kwargs), loop=loop)

    def read(self, fn: Callable[..., T], *args, default: Any = None, **kwargs) -> asyncio.Future:
        """Like ``run``, but a file that does not exist yet is not created: ``default`` instead."""
        loop = asyncio.get_running_loop()
        if self.closed:
            raise RuntimeError(f"{self.path} is closed")
        future = self._executor.submit(self._call_if_exists, default, fn, args, kwargs)
        return asyncio.wrap_future(future, loop=loop)

    @property
    def thread_id(self) -> int | None:
        return self._thread_id

    def close(self) -> None:
        """Finish the queued calls, close the connection, end the thread."""
        if self.closed:
            return
        self.closed = True

        def close_connection():
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        self._executor.submit(close_connection).result()
        self._executor.shutdown(wait=True)


def _user_names(conn: sqlite3.Connection, columns: Sequence[tuple[str, str]]) -> set[str]:
    found: set[str] = set()
    for table, column in columns:
        found.update(name for (name,) in conn.execute(f"SELECT DISTINCT {column} FROM {table}"))
    # records filed under what can never be a user name (a deleted user's usage) are kept on purpose
    return {name for name in found if name and not any(ch.isspace() for ch in name)}


class Store:
    """Base of a feature's store: one file, its migrations, its connection set-up."""

    FILE_NAME: str = ""
    MIGRATIONS: Sequence[Migration] = ()
    # (table, column) pairs that hold user names: the hub's start-up check of every feature's
    # records against its users reads them (``user_names``)
    USER_COLUMNS: Sequence[tuple[str, str]] = ()

    def __init__(self, path: str | Path):
        self.file = SQLiteFile(path, self.MIGRATIONS, on_open=self.on_open)

    @property
    def path(self) -> Path:
        return self.file.path

    @property
    def closed(self) -> bool:
        return self.file.closed

    def on_open(self, conn: sqlite3.Connection) -> None:
        """Per-connection settings (pragmas, row factory); runs on the file's thread."""

    def user_names(self) -> asyncio.Future:
        """Every user name the store keeps records of (a file not made yet: none)."""
        return self.file.read(_user_names, self.USER_COLUMNS, default=set())

    def close(self) -> None:
        self.file.close()


class Stores:
    """The stores of one hub process: one object per file, whoever asks for it."""

    def __init__(self) -> None:
        self._open: dict[str, Store] = {}  # resolved path -> store
        self._keys: dict[str, str] = {}  # path as asked for -> resolved path
        self._lock = threading.Lock()  # config time and the loop may both ask

    def open(self, store_class: type[S], path: str | Path) -> S:
        """The store of the file at ``path``, created on first use, the same object after."""
        with self._lock:
            key = self._keys.get(str(path))
            if key is None:  # resolve once per spelling: symlinks and ".." name one file
                key = self._keys[str(path)] = str(Path(path).resolve())
            store = self._open.get(key)
            if store is None or store.closed:
                store = self._open[key] = store_class(key)
            elif type(store) is not store_class:
                raise TypeError(f"{key} is already open as a {type(store).__name__}, not a {store_class.__name__}")
            return store  # type: ignore[return-value]

    def of(self, store_class: type[S], data_dir: str | Path) -> S:
        """The store of ``store_class``'s file (its ``FILE_NAME``) in ``data_dir``."""
        return self.open(store_class, Path(data_dir) / store_class.FILE_NAME)

    def opened(self) -> list[Store]:
        """The stores open now (a snapshot of every store, e.g. for a backup of the hub)."""
        with self._lock:
            return [s for s in self._open.values() if not s.closed]

    def close(self) -> None:
        with self._lock:
            stores, self._open = list(self._open.values()), {}
        for store in stores:
            store.close()
