"""The SQLite helper every platform store uses: WAL, one thread, order, errors, migrations."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import threading
from asyncio.subprocess import PIPE

import pytest

from stellars_hub.storage import SQLiteFile, Store, Stores, transaction

SCHEMA = ("CREATE TABLE log (n INTEGER NOT NULL, thread INTEGER NOT NULL)",)


def append(db, n):
    """A read-modify-write that loses updates unless calls are serialised."""
    with transaction(db):
        db.execute("INSERT INTO log VALUES (?, ?)", (n, threading.get_ident()))
    return threading.get_ident()


def count(db):
    return db.execute("SELECT count(*) FROM log").fetchone()[0]


@pytest.fixture
def file(tmp_path):
    f = SQLiteFile(tmp_path / "x.sqlite", SCHEMA)
    yield f
    f.close()


async def test_wal_on_and_schema_created(file):
    assert await file.run(lambda db: db.execute("PRAGMA journal_mode").fetchone()[0]) == "wal"
    assert await file.run(lambda db: db.execute("PRAGMA user_version").fetchone()[0]) == 1
    assert await file.run(count) == 0


async def test_one_thread_never_the_loop_and_calls_in_order(file):
    loop_thread = threading.get_ident()
    threads = await asyncio.gather(*(file.run(append, i) for i in range(200)))
    assert len(set(threads)) == 1 and threads[0] != loop_thread
    assert file.thread_id == threads[0]
    # callers from other threads too: still the one thread
    others = [threading.Thread(target=lambda i=i: file.submit(append, 1000 + i).result()) for i in range(5)]
    for t in others:
        t.start()
    for t in others:
        t.join()
    rows = await file.run(lambda db: db.execute("SELECT n, thread FROM log ORDER BY rowid").fetchall())
    assert [n for n, _ in rows[:200]] == list(range(200))  # queued when called, run in that order
    assert len(rows) == 205 and {t for _, t in rows} == {threads[0]}


async def test_a_call_is_queued_when_made_not_when_awaited(file):
    later = file.run(append, 1)  # not awaited yet
    assert await file.run(count) == 1  # ran before the count made after it
    await later


async def test_errors_reach_the_caller_and_roll_back(file):
    def broken(db):
        with transaction(db):
            db.execute("INSERT INTO log VALUES (1, 1)")
            raise ValueError("half done")

    with pytest.raises(ValueError, match="half done"):
        await file.run(broken)
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        await file.run(lambda db: db.execute("SELECT * FROM nowhere"))
    assert await file.run(count) == 0  # nothing of the failed transaction stayed
    assert await file.run(append, 2)  # the file still works after errors


def test_run_outside_an_event_loop_refuses_and_queues_nothing(file):
    with pytest.raises(RuntimeError, match="no running event loop"):
        file.run(append, 1)
    assert file.submit(count).result(timeout=60) == 0  # sync callers (other threads) use submit


async def test_read_does_not_create_the_file(tmp_path):
    f = SQLiteFile(tmp_path / "later.sqlite", SCHEMA)
    assert await f.read(count, default=-1) == -1
    assert not (tmp_path / "later.sqlite").exists()
    await f.run(append, 1)
    assert await f.read(count, default=-1) == 1
    f.close()


async def test_migrations_run_once_in_order_and_resume(tmp_path):
    path = tmp_path / "m.sqlite"
    f = SQLiteFile(path, SCHEMA)
    await f.run(append, 1)
    f.close()

    def backfill(db):
        db.execute("UPDATE log SET note = 'old'")

    steps = SCHEMA + (("ALTER TABLE log ADD COLUMN note TEXT",), backfill)
    f = SQLiteFile(path, steps)
    assert await f.run(lambda db: db.execute("SELECT n, note FROM log").fetchall()) == [(1, "old")]
    assert await f.run(lambda db: db.execute("PRAGMA user_version").fetchone()[0]) == 3
    f.close()
    f = SQLiteFile(path, steps)  # opening again applies nothing twice (ALTER would fail)
    assert await f.run(count) == 1
    f.close()


async def test_a_failed_migration_leaves_the_file_as_it_was(tmp_path):
    path = tmp_path / "bad.sqlite"
    f = SQLiteFile(path, SCHEMA + ("ALTER TABLE log ADD COLUMN a TEXT", "THIS IS NOT SQL"))
    with pytest.raises(sqlite3.OperationalError):
        await f.run(count)
    f.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 0
        assert db.execute("SELECT name FROM sqlite_master WHERE name = 'log'").fetchone() is None


async def test_the_writer_commits_while_another_process_reads(tmp_path):
    # the idle culler is another process reading the hub's session file: with WAL the hub's
    # commit does not wait for the culler's open read (a rollback journal would need the
    # readers gone first and fail with "database is locked")
    f = SQLiteFile(tmp_path / "s.sqlite", SCHEMA)
    await f.run(append, 1)
    reader = (
        "import sqlite3, sys\n"
        "db = sqlite3.connect(sys.argv[1], timeout=0, isolation_level=None)\n"
        "db.execute('BEGIN')\n"
        "print(db.execute('SELECT count(*) FROM log').fetchone()[0], flush=True)\n"
        "sys.stdin.readline()\n"
        "print(db.execute('SELECT count(*) FROM log').fetchone()[0], flush=True)\n"
        "db.execute('COMMIT')\n"
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", reader, str(f.path), stdin=PIPE, stdout=PIPE, stderr=PIPE
    )
    try:
        assert (await proc.stdout.readline()).strip() == b"1"  # its read transaction is open
        await f.run(append, 2)  # committed meanwhile
        assert await f.run(count) == 2
        proc.stdin.write(b"go\n")
        await proc.stdin.drain()
        assert (await proc.stdout.readline()).strip() == b"1"  # the reader kept its snapshot
        assert await proc.wait() == 0, (await proc.stderr.read()).decode()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        f.close()


async def test_closed_file_refuses_calls_and_finishes_queued_ones(file):
    queued = [file.run(append, i) for i in range(20)]
    await asyncio.to_thread(file.close)
    assert len(await asyncio.gather(*queued)) == 20
    with pytest.raises(RuntimeError, match="closed"):
        file.run(count)


class Notes(Store):
    FILE_NAME = "notes.sqlite"
    MIGRATIONS = SCHEMA


class Other(Store):
    FILE_NAME = "other.sqlite"


async def test_registry_one_object_per_file(tmp_path):
    stores = Stores()
    a = stores.open(Notes, tmp_path / "notes.sqlite")
    assert stores.open(Notes, tmp_path / "x" / ".." / "notes.sqlite") is a
    assert stores.open(Notes, tmp_path / "two.sqlite") is not a
    with pytest.raises(TypeError, match="already open as a Notes"):
        stores.open(Other, tmp_path / "notes.sqlite")
    a.close()
    b = stores.open(Notes, tmp_path / "notes.sqlite")  # a closed store is replaced, not handed out
    assert b is not a and not b.closed
    await b.file.run(append, 1)
    stores.close()
    assert b.closed


async def test_the_features_hooks_and_handlers_share_one_store_per_file(tmp_path, monkeypatch):
    from stellars_hub.activity import store as activity_store
    from stellars_hub.activity.monitor import monitor_for
    from stellars_hub.features import FEATURES, configurables
    from stellars_hub.notifications import history
    from stellars_hub.notifications.handlers import history_store
    from stellars_hub.platform import Platform
    from stellars_hub.session import store as session_store

    monkeypatch.setenv("JUPYTERHUB_DATA_DIR", str(tmp_path))
    platform = Platform(features=list(FEATURES), config_classes=configurables())
    # what the handlers and the monitor open is the very object the rename/delete hooks write to
    assert history_store(platform) is history.store_for(platform)
    assert monitor_for(platform).store is activity_store.store_for(platform)
    await platform.user_renamed("ann", "anna")  # every feature's hook, on the file's own thread
    await platform.user_deleted("anna")
    assert session_store.store_for(platform) in platform.stores.opened()
    assert {s.path.name for s in platform.stores.opened()} >= {
        "notifications.sqlite",
        "activity.sqlite",
        "session.sqlite",
    }
    await platform.stop()
    assert not platform.stores.opened()  # the platform closes what it holds


async def test_user_names_of_a_store_skip_what_is_no_user_name(tmp_path):
    class Kept(Store):
        MIGRATIONS = ("CREATE TABLE a (username TEXT); CREATE TABLE b (owner TEXT, admin TEXT)".split("; "),)
        USER_COLUMNS = (("a", "username"), ("b", "owner"), ("b", "admin"))

    store = Kept(tmp_path / "kept.sqlite")
    try:
        assert await store.user_names() == set()  # a file not made yet is not made by the look
        assert not (tmp_path / "kept.sqlite").exists()

        def fill(db):
            db.executemany("INSERT INTO a VALUES (?)", [("ann",), ("ann",), ("bob (deleted 2026-01-01 10:00:00)",)])
            db.execute("INSERT INTO b VALUES ('cy', 'dan')")

        await store.file.run(fill)
        assert await store.user_names() == {"ann", "cy", "dan"}
    finally:
        store.close()
