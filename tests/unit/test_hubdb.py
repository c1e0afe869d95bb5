"""The hub's SQLite database in WAL mode (JUPYTERHUB_DB_SQLITE_WAL), with JupyterHub's own
session factory, and only that file: another SQLite database keeps SQLite's defaults."""

from __future__ import annotations

from jupyterhub import orm
from sqlalchemy import text

from stellars_hub import hubdb


def pragmas(db) -> tuple[str, int]:
    return (db.execute(text("PRAGMA journal_mode")).scalar(), db.execute(text("PRAGMA synchronous")).scalar())


def test_only_the_hub_database_gets_a_write_ahead_log(tmp_path):
    hub_url, other_url = f"sqlite:///{tmp_path / 'jupyterhub.sqlite'}", f"sqlite:///{tmp_path / 'other.sqlite'}"
    assert hubdb.use_wal(hub_url)
    hub, other = orm.new_session_factory(hub_url)(), orm.new_session_factory(other_url)()
    hub.add(orm.User(name="ann"))
    hub.commit()
    assert pragmas(hub) == ("wal", 1)  # 1 = NORMAL: the disk is flushed at checkpoints
    assert pragmas(other) == ("delete", 2)  # SQLite's defaults (2 = FULL)
    assert (tmp_path / "jupyterhub.sqlite-wal").exists()
    hub.close()
    again = orm.new_session_factory(hub_url)()  # every new connection is tuned, the data is there
    assert pragmas(again) == ("wal", 1) and again.query(orm.User).one().name == "ann"


def test_other_databases_are_left_alone():
    assert hubdb.sqlite_file("sqlite://") is None and hubdb.sqlite_file("sqlite:///:memory:") is None
    assert hubdb.sqlite_file("postgresql://hub@db/jupyterhub") is None
    assert not hubdb.use_wal("mysql+pymysql://hub@db/jupyterhub")
