"""The hub's state archive (backups/hubstate.py) and the data directory's layout (datadir.py):
what a snapshot holds, that a store the hub has open is copied through its own connection, that
a copy is the file as of one moment while another thread writes, and every way a restore or a
start refuses (non-empty directory, damaged or tampered archive, a newer release's data)."""

from __future__ import annotations

import io
import json
import sqlite3
import subprocess
import sys
import tarfile
import threading
from contextlib import closing
from pathlib import Path
from types import SimpleNamespace

import pytest
from traitlets.config import Config

from stellars_hub import datadir
from stellars_hub.backends.docker.spawner import StellarsSpawner
from stellars_hub.backups import hubstate
from stellars_hub.backups.scheduler import configured_shared_volume
from stellars_hub.backups.store import BackupStore
from stellars_hub.storage import NewerSchema, SQLiteFile, Stores


def make_data_dir(path: Path) -> Path:
    path.mkdir()
    with closing(sqlite3.connect(path / "jupyterhub.sqlite")) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE users (name TEXT)")
        conn.execute("INSERT INTO users VALUES ('ann')")
        conn.commit()
        # the committed row stays in the write-ahead log while this connection is open
        (path / "jupyterhub_cookie_secret").write_bytes(b"\x01" * 32)
        (path / "jupyterhub_cookie_secret").chmod(0o600)
        (path / "audit.log").write_text('{"action": "x"}\n')
        (path / "jupyterhub-proxy.pid").write_text("123")
        (path / "certs").mkdir()
        (path / "certs" / "server.key").write_text("key")
        assert (path / "jupyterhub.sqlite-wal").exists()
        snap_dir = path.parent / "staging"
        snap = hubstate.snapshot(path, snap_dir)
    return snap.path


def members(archive: Path) -> set[str]:
    with tarfile.open(archive) as tar:
        return set(tar.getnames())


def test_a_snapshot_holds_the_state_files_and_nothing_else(tmp_path):
    archive = make_data_dir(tmp_path / "data")
    assert members(archive) == {
        "manifest.json",
        "data/jupyterhub.sqlite",
        "data/jupyterhub_cookie_secret",
        "data/audit.log",
    }
    restored = tmp_path / "restored"
    manifest = hubstate.restore(archive, restored)
    assert manifest["hub_database"] == {"kind": "sqlite", "included": True}
    assert {n: f["kind"] for n, f in manifest["files"].items()} == {
        "jupyterhub.sqlite": "sqlite",
        "jupyterhub_cookie_secret": "file",
        "audit.log": "file",
    }
    with closing(sqlite3.connect(restored / "jupyterhub.sqlite")) as conn:  # the row from the WAL is in the copy
        assert conn.execute("SELECT name FROM users").fetchall() == [("ann",)]
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # self-contained
    assert (restored / "jupyterhub_cookie_secret").stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in restored.iterdir()) == ["audit.log", "jupyterhub.sqlite", "jupyterhub_cookie_secret"]


def test_the_fingerprint_follows_the_content(tmp_path):
    data = tmp_path / "data"
    make_data_dir(data)
    first = hubstate.snapshot(data, tmp_path / "s1")
    assert hubstate.snapshot(data, tmp_path / "s2").fingerprint == first.fingerprint
    with closing(sqlite3.connect(data / "jupyterhub.sqlite")) as conn:
        conn.execute("INSERT INTO users VALUES ('bob')")
        conn.commit()
    changed = hubstate.snapshot(data, tmp_path / "s3")
    assert changed.fingerprint != first.fingerprint
    # the backups' own results change every round: not a change; a new archive of a volume is
    with closing(sqlite3.connect(data / "backups.sqlite")) as conn:
        conn.execute("CREATE TABLE volumes (volume TEXT, last_run REAL)")
        conn.commit()
    assert hubstate.snapshot(data, tmp_path / "s4").fingerprint == changed.fingerprint
    moved = hubstate.snapshot(data, tmp_path / "s5", volumes={"v_home": "v_home_20260101-000000.tar.gz"})
    assert moved.fingerprint != changed.fingerprint


async def test_an_open_store_is_copied_on_its_own_thread(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    stores = Stores()
    store = stores.of(BackupStore, data)
    await store.record("vol_home", "ann", "home", 1.0, "ok", archive="vol_home_1.tar.gz")
    seen = []
    real = hubstate._sqlite_copy

    def spy(source, dest):
        seen.append(threading.get_ident())
        real(source, dest)

    hubstate._sqlite_copy = spy
    try:
        snap = hubstate.snapshot(data, tmp_path / "s", stores.opened())
    finally:
        hubstate._sqlite_copy = real
        stores.close()
    assert seen == [store.file.thread_id]
    restored = tmp_path / "restored"
    hubstate.restore(snap.path, restored)
    with closing(sqlite3.connect(restored / "backups.sqlite")) as conn:
        assert conn.execute("SELECT volume, archive FROM volumes").fetchall() == [("vol_home", "vol_home_1.tar.gz")]


async def test_the_hub_s_own_connections_keep_their_locks(tmp_path):
    """A snapshot must not open a live database file itself: closing that descriptor would drop
    the locks of the hub's connection to it, another process could then reset the write-ahead log
    and the hub's next commits would never be seen (they were: the backups' results of a rename)."""
    data = tmp_path / "data"
    data.mkdir()
    stores = Stores()
    store = stores.of(BackupStore, data)
    await store.record("v_home", "ann", "home", 1.0, "ok", archive="a1")

    def seen_by_another_process() -> str:  # which opens the file, reads and closes it
        return subprocess.run(
            [
                sys.executable,
                "-c",
                "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("
                "'SELECT archive FROM volumes').fetchall())",
                str(data / BackupStore.FILE_NAME),
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()

    hubstate.snapshot(data, data / ".backup-staging", stores.opened())
    assert seen_by_another_process() == "[('a1',)]"
    await store.record("v_home", "ann", "home", 2.0, "ok", archive="a2")
    seen = seen_by_another_process()
    stores.close()
    assert seen == "[('a2',)]"


def test_a_copy_is_one_moment_while_another_thread_writes(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    path = data / "busy.sqlite"
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE t (a INTEGER, b INTEGER)")
        conn.commit()
    stop = threading.Event()

    def writer():  # every transaction writes two rows that belong together
        with closing(sqlite3.connect(path, timeout=30)) as conn:
            n = 0
            while not stop.is_set():
                conn.execute("INSERT INTO t VALUES (?, 1)", (n,))
                conn.execute("INSERT INTO t VALUES (?, 2)", (n,))
                conn.commit()
                n += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        copies = [hubstate.snapshot(data, tmp_path / f"s{i}") for i in range(5)]
    finally:
        stop.set()
        thread.join()
    for i, snap in enumerate(copies):
        restored = tmp_path / f"r{i}"
        hubstate.restore(snap.path, restored)
        with closing(sqlite3.connect(restored / "busy.sqlite")) as conn:
            halves = conn.execute("SELECT COUNT(*) FROM t GROUP BY a HAVING COUNT(*) != 2").fetchall()
        assert halves == []


def test_restore_refuses_a_directory_that_holds_files(tmp_path):
    archive = make_data_dir(tmp_path / "data")
    target = tmp_path / "target"
    (target / "certs").mkdir(parents=True)  # an empty mount point is fine
    (target / "jupyterhub.sqlite").write_text("someone's")
    with pytest.raises(hubstate.StateError, match="not empty.*jupyterhub.sqlite"):
        hubstate.restore(archive, target)
    assert (target / "jupyterhub.sqlite").read_text() == "someone's"
    (target / "jupyterhub.sqlite").unlink()
    hubstate.restore(archive, target)
    assert (target / "jupyterhub_cookie_secret").exists()


def rewrite(archive: Path, dest: Path, change) -> Path:
    """A copy of ``archive`` with ``change(name, bytes) -> (name, bytes) | None`` applied to each member."""
    with tarfile.open(archive) as src, tarfile.open(dest, "w:gz") as out:
        for m in src.getmembers():
            content = src.extractfile(m)
            assert content is not None
            found = change(m.name, content.read())
            if found is None:
                continue
            name, content = found
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(content), m.mode
            out.addfile(info, io.BytesIO(content))
    return dest


@pytest.mark.parametrize("case", ["truncated", "tampered", "traversal", "newer", "not-an-archive"])
def test_restore_refuses_a_bad_archive_and_leaves_the_directory_empty(tmp_path, case):
    archive = make_data_dir(tmp_path / "data")
    bad = tmp_path / "bad.tar.gz"
    if case == "truncated":
        bad.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    elif case == "tampered":
        rewrite(archive, bad, lambda n, c: (n, b"\x02" * 32) if n.endswith("cookie_secret") else (n, c))
    elif case == "traversal":
        rewrite(archive, bad, lambda n, c: ("data/../../escaped", c) if n.endswith("audit.log") else (n, c))
    elif case == "newer":

        def newer(n, c):
            if n == "manifest.json":
                return n, json.dumps({**json.loads(c), "layout": datadir.LAYOUT + 1, "release": "9.9"}).encode()
            return n, c

        rewrite(archive, bad, newer)
    else:
        bad.write_bytes(b"not a tar")
    target = tmp_path / "target"
    with pytest.raises(hubstate.StateError) as exc:
        hubstate.restore(bad, target)
    assert {
        "truncated": "damaged",
        "tampered": "checksum",
        "traversal": "unexpected entry",
        "newer": "newer release",
        "not-an-archive": "damaged or not a hub state archive",
    }[case] in str(exc.value)
    assert list(target.iterdir()) == [] and not (tmp_path / "escaped").exists()


def test_describe_database_never_carries_the_url():
    pg = hubstate.describe_database("postgresql://hub:s3cret@db:5432/jupyterhub", Path("/data"))
    assert pg["kind"] == "postgresql" and pg["included"] is False and "s3cret" not in json.dumps(pg)
    assert hubstate.describe_database("sqlite:////data/jupyterhub.sqlite", Path("/data"))["included"] is True
    assert hubstate.describe_database("sqlite:////elsewhere/hub.sqlite", Path("/data"))["included"] is False


# -- the data directory's layout -------------------------------------------------------------------
def test_a_new_directory_gets_this_release_s_layout(tmp_path):
    assert datadir.open_for_hub(tmp_path) == datadir.LAYOUT
    record = datadir.read_layout(tmp_path)
    assert record["layout"] == datadir.LAYOUT and "upgraded_from" not in record


def test_an_old_release_s_directory_is_upgraded_and_recorded(tmp_path):
    with closing(sqlite3.connect(tmp_path / "jupyterhub.sqlite")) as conn:
        conn.execute("CREATE TABLE users (name TEXT)")
    assert datadir.open_for_hub(tmp_path) == datadir.UNVERSIONED
    assert datadir.read_layout(tmp_path)["upgraded_from"] == datadir.UNVERSIONED
    assert datadir.open_for_hub(tmp_path) == datadir.LAYOUT  # once


def test_a_newer_layout_is_refused(tmp_path):
    (tmp_path / datadir.FILE_NAME).write_text(json.dumps({"layout": datadir.LAYOUT + 1, "release": "9.9"}))
    with pytest.raises(datadir.NewerData, match="newer release.*9.9"):
        datadir.open_for_hub(tmp_path)
    assert json.loads((tmp_path / datadir.FILE_NAME).read_text())["layout"] == datadir.LAYOUT + 1  # untouched


async def test_a_store_from_a_newer_release_is_refused(tmp_path):
    path = tmp_path / BackupStore.FILE_NAME
    with closing(sqlite3.connect(path)) as conn:
        conn.execute(f"PRAGMA user_version = {len(BackupStore.MIGRATIONS) + 1}")
    with pytest.raises(datadir.NewerData, match="backups.sqlite was written by a newer release"):
        datadir.check(tmp_path, [BackupStore])
    f = SQLiteFile(path, BackupStore.MIGRATIONS)
    with pytest.raises(NewerSchema):
        await f.run(lambda db: None)
    f.close()


def test_every_feature_store_is_known_to_the_start_check():
    import stellars_hub.features  # noqa: F401  (the hub imports every feature before it starts)

    names = {cls.FILE_NAME for cls in datadir.store_classes()}
    assert {
        "activity.sqlite",
        "session.sqlite",
        "notifications.sqlite",
        "environment.sqlite",
        "usage.sqlite",
        "backups.sqlite",
        "access.sqlite",
    } <= names


# -- the shared volume a round backs up ------------------------------------------------------------
@pytest.mark.parametrize(
    "section,expected",
    [(None, "jupyterhub_shared"), ("LabSpawnerMixin", "team_x"), ("StellarsSpawner", "team_y"), ("Spawner", "team_z")],
)
def test_the_shared_volume_is_read_as_the_spawner_would(section, expected):
    config = Config()
    if section:
        config[section]["shared_volume"] = expected
    app = SimpleNamespace(spawner_class=StellarsSpawner, config=config)
    assert configured_shared_volume(app) == expected
    assert configured_shared_volume(SimpleNamespace(spawner_class=object, config=config)) is None


async def test_a_round_takes_the_shared_volume_and_what_features_declare():
    from stellars_hub import settings as settings_mod
    from stellars_hub.backups.scheduler import BackupScheduler
    from stellars_hub.feature import BackupVolume, Feature
    from stellars_hub.features import configurables

    async def projects(platform):
        return [BackupVolume("jupyterhub-group-a_project", "project:a", "(group a)"), BackupVolume("team_x", "dup")]

    def broken(platform):
        raise RuntimeError("no list today")

    platform = SimpleNamespace(
        features=[Feature("one", backup_volumes=projects), Feature("two", backup_volumes=broken), Feature("three")]
    )
    settings = settings_mod.load(configurables(), env={})
    scheduler = BackupScheduler(settings, store=None, runtime=object(), platform=platform)
    config = Config()
    config.LabSpawnerMixin.shared_volume = "team_x"
    scheduler.app = SimpleNamespace(spawner_class=StellarsSpawner, config=config)
    found = await scheduler.hub_volumes()
    assert [(v.volume, v.key, v.lock) for v in found] == [
        ("team_x", "shared", "(shared volumes)"),
        ("jupyterhub-group-a_project", "project:a", "(group a)"),
    ]
