"""The usage, backups and access stores on the platform's SQLite helper: one object per file,
their records kept through the file's thread, the schema recorded as the first migration."""

from __future__ import annotations

import sqlite3
from types import SimpleNamespace

from stellars_hub.access import store as access_store
from stellars_hub.backups import store as backups_store
from stellars_hub.storage import Stores
from stellars_hub.usage import store as usage_store
from stellars_hub.usage.store import ServerSample, UsageRecords


def user_version(path) -> int:
    conn = sqlite3.connect(str(path))
    try:
        return conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()


async def test_one_store_per_file(tmp_path):
    stores = Stores()
    try:
        for module in (usage_store, backups_store, access_store):
            a = module.store_for(SimpleNamespace(stores=stores, data_dir=tmp_path))  # what a platform holds
            assert module.store_for(SimpleNamespace(stores=stores, data_dir=str(tmp_path / "x" / ".."))) is a
            assert a.path.name == module.FILE_NAME
    finally:
        stores.close()


async def test_usage_store_records(tmp_path):
    stores = Stores()
    store = usage_store.store_for(SimpleNamespace(stores=stores, data_dir=tmp_path))
    assert await store.last_pass() is None
    await store.record_pass(1000.0, 600.0, [ServerSample("ann", "", True, 50.0, 10)])
    store.record_event("ann", "", "start", 500.0)  # queued now, in order
    await store.record_storage(1000.0, [("ann", 42)])
    await store.rename("ann", "anna")
    assert await store.last_pass() == 1000.0
    assert await store.known_seconds(0.0, 2000.0) == 600.0
    figures = (await store.window(0.0, 2000.0))["anna"]
    assert (figures.lab_seconds, figures.starts, figures.storage_bytes) == (600.0, 1, 42)
    assert await store.run(lambda records, a, b: records.known_seconds(a, b), 0.0, 700.0) == 300.0
    stores.close()
    assert user_version(tmp_path / "usage.sqlite") == 1
    records = UsageRecords.open(tmp_path / "usage.sqlite")  # an older file or a tool's connection
    try:
        assert records.last_pass() == 1000.0
    finally:
        records.close()


async def test_backups_store_records(tmp_path):
    stores = Stores()
    store = backups_store.store_for(SimpleNamespace(stores=stores, data_dir=tmp_path))
    await store.record("v1", "ann", "home", 10.0, "ok", archive="a1", size_bytes=5, fingerprint="f")
    await store.record("v1", "ann", "home", 20.0, "failed", error="boom")
    row = await store.get("v1")
    assert (row["last_run"], row["outcome"], row["archive"], row["last_ok"], row["error"]) == (
        20.0,
        "failed",
        "a1",
        10.0,
        "boom",
    )
    assert [r["volume"] for r in await store.all()] == ["v1"]
    assert await store.of_user("bob") == []
    assert await store.get("v2") is None
    stores.close()
    assert user_version(tmp_path / "backups.sqlite") == 1


async def test_access_store_records(tmp_path):
    stores = Stores()
    store = access_store.store_for(SimpleNamespace(stores=stores, data_dir=tmp_path))
    await store.give_consent("ann", 100.0, 1.0)
    await store.grant("ann", "root", 50.0, 1.0)
    assert await store.consent_until("ann", 10.0) == 100.0
    assert await store.grants("ann", 10.0) == [("root", 50.0)]
    assert await store.expire(60.0) == [("ann", "root")]
    await store.grant("ann", "root", 90.0, 61.0)
    assert await store.withdraw_consent("ann") == ["root"]
    assert await store.consent_until("ann", 10.0) is None
    stores.close()
    assert user_version(tmp_path / "access.sqlite") == 1
