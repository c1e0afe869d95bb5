"""A full data disk and a busy database are told apart from every other error, wherever they
surface (an OSError, SQLite's own error, SQLAlchemy's wrapper of it), and answered 507 / 503
with the reason: by the platform's routes (translate) and inside JupyterHub's own handlers
(hubdb's HubDatabaseFault, raised from the hub database's own statements)."""

from __future__ import annotations

import errno
import sqlite3

import pytest
from jupyterhub import orm
from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from tornado import web

from stellars_hub import hubdb, resourcefaults
from stellars_hub.resourcefaults import DATABASE_BUSY, DISK_FULL, classify
from stellars_hub.web.errors import translate


def _locked(tmp_path):
    path = tmp_path / "s.sqlite"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN IMMEDIATE")
    other = sqlite3.connect(path, timeout=0.05, isolation_level=None)
    try:
        other.execute("INSERT INTO t VALUES (1)")
    except sqlite3.Error as exc:
        return exc
    finally:
        holder.execute("ROLLBACK")
    raise AssertionError("not locked")


def test_a_locked_sqlite_file_is_busy_and_other_errors_are_not(tmp_path):
    exc = _locked(tmp_path)
    assert classify(exc) == DATABASE_BUSY
    answered = translate(exc)
    assert answered.status_code == 503 and "database is busy" in answered.log_message
    with sqlite3.connect(tmp_path / "x.sqlite") as db:
        with pytest.raises(sqlite3.Error) as caught:
            db.execute("SELECT * FROM missing")
    assert classify(caught.value) is None and translate(caught.value) is None


def test_no_space_is_a_full_disk_also_behind_a_wrapper():
    full = OSError(errno.ENOSPC, "No space left on device")
    assert classify(full) == DISK_FULL
    answered = translate(full)
    assert answered.status_code == 507 and answered.log_message.startswith("the hub's data disk is full")
    try:
        try:
            raise full
        except OSError as inner:
            raise RuntimeError("could not write the archive list") from inner
    except RuntimeError as outer:
        assert classify(outer) == DISK_FULL  # raise ... from: what it wraps
    try:
        try:
            raise full
        except OSError:
            raise KeyError("unrelated") from None
    except KeyError as unrelated:
        assert classify(unrelated) is None  # a bug while handling one is still a bug
    assert classify(OSError(errno.EACCES, "Permission denied")) is None


def test_free_space_of_the_data_directory(tmp_path, monkeypatch):
    assert resourcefaults.free_bytes(tmp_path) > 0
    assert not resourcefaults.disk_full(tmp_path) and resourcefaults.describe_disk(tmp_path) == "ok"
    monkeypatch.setattr(resourcefaults, "MIN_FREE_BYTES", resourcefaults.free_bytes(tmp_path) * 2 + 1)
    assert resourcefaults.disk_full(tmp_path)
    assert resourcefaults.describe_disk(tmp_path).startswith("full: ")


def test_the_hub_database_waits_then_answers_503_and_recovers(tmp_path, monkeypatch):
    monkeypatch.setattr(hubdb, "BUSY_TIMEOUT_MS", 200)  # the bound, short for the test
    url = f"sqlite:///{tmp_path / 'jupyterhub.sqlite'}"
    other_url = f"sqlite:///{tmp_path / 'other.sqlite'}"
    assert hubdb.guard(url) and not hubdb.guard("postgresql://hub@db/jupyterhub")
    db = orm.new_session_factory(url)()
    db.add(orm.User(name="ann"))
    db.commit()
    assert db.connection().exec_driver_sql("PRAGMA busy_timeout").scalar() == hubdb.BUSY_TIMEOUT_MS

    holder = sqlite3.connect(tmp_path / "jupyterhub.sqlite", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another program holds the write lock
    db.add(orm.User(name="bob"))
    with pytest.raises(hubdb.HubDatabaseFault) as caught:
        db.commit()
    fault = caught.value
    # JupyterHub's handlers: an HTTPError's status and message, and a database error to roll back
    assert isinstance(fault, web.HTTPError) and isinstance(fault, OperationalError)
    assert isinstance(fault, SQLAlchemyError) and fault.status_code == 503
    assert fault.get_message() == resourcefaults.MESSAGES[DATABASE_BUSY]
    db.rollback()
    holder.execute("ROLLBACK")
    db.add(orm.User(name="cy"))
    db.commit()
    assert sorted(u.name for u in db.query(orm.User)) == ["ann", "cy"]

    # another database is not the hub's: its errors stay SQLAlchemy's own
    other = create_engine(other_url, connect_args={"timeout": 0.2})
    with other.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x)")
    lock = sqlite3.connect(tmp_path / "other.sqlite", isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")
    with pytest.raises(OperationalError) as plain:
        with other.begin() as conn:
            conn.exec_driver_sql("INSERT INTO t VALUES (1)")
    assert not isinstance(plain.value, web.HTTPError)
    lock.execute("ROLLBACK")
