import sqlite3

from stellars_hub.notifications import history
from stellars_hub.notifications.history import HistoryStore

DETAILS = [
    {"username": "ann", "server": "", "status": "delivered", "error": None},
    {"username": "bob", "server": "gpu", "status": "failed", "error": "not responding"},
]


async def test_kept_across_instances_newest_first_with_details(tmp_path):
    path = tmp_path / "notifications.sqlite"
    store = HistoryStore(path)
    first = await store.add("admin", "one", "info", False, False, DETAILS)
    store.close()
    store = HistoryStore(path)
    await store.add("boss", "two", "error", True, True, DETAILS[:1])
    store.close()

    store = HistoryStore(path)  # a new instance, as after a hub restart
    rows = await store.list()
    assert [r["message"] for r in rows] == ["two", "one"]
    assert rows[1]["id"] == first["id"] and rows[1]["sent_at"] == first["sent_at"]
    assert (rows[1]["total"], rows[1]["successful"], rows[1]["failed"]) == (2, 1, 1)
    assert rows[1]["details"] == DETAILS and rows[1]["recipients"] == "all running"
    assert rows[0]["autoClose"] is True and rows[0]["recipients"] == "selected"
    assert (await store.list(limit=1))[0]["message"] == "two"
    store.close()


async def test_renames_follow_users_and_old_broadcasts_are_pruned(tmp_path, monkeypatch):
    store = HistoryStore(tmp_path / "h.sqlite")
    monkeypatch.setattr(history, "KEEP", 3)
    for i in range(5):
        await store.add("admin", f"m{i}", "info", False, False, DETAILS)
    await store.rename_user("ann", "anna")
    await store.rename_user("admin", "root")
    rows = await store.list()
    assert [r["message"] for r in rows] == ["m4", "m3", "m2"]
    assert {r["sender"] for r in rows} == {"root"}
    assert all(r["details"][0]["username"] == "anna" for r in rows)
    with sqlite3.connect(tmp_path / "h.sqlite") as db:  # deliveries of pruned broadcasts go too
        assert db.execute("SELECT count(*) FROM deliveries").fetchone()[0] == 3 * len(DETAILS)
    store.close()


async def test_one_store_object_per_file_for_the_hub_process(tmp_path):
    from stellars_hub.storage import Stores

    stores = Stores()
    a = stores.of(history.HistoryStore, tmp_path)
    assert stores.of(history.HistoryStore, str(tmp_path / "sub" / "..")) is a  # another spelling of the same file
    await a.add("admin", "one", "info", False, False, DETAILS)
    assert [r["message"] for r in await stores.of(history.HistoryStore, tmp_path).list()] == ["one"]
    stores.close()
    assert a.closed


async def test_a_broadcast_is_recorded_before_it_is_sent_and_an_interrupted_one_says_so(tmp_path):
    store = HistoryStore(tmp_path / "notifications.sqlite")
    try:
        sending = await store.begin("admin", "hello", "info", False, False, 2)
        (row,) = await store.list()  # in the history before any lab was contacted
        assert (row["id"], row["state"], row["total"], row["details"]) == (sending["id"], "sending", 2, [])
        await store.finish(sending["id"], DETAILS)
        (row,) = await store.list()
        assert (row["state"], row["successful"], row["failed"], row["details"]) == ("sent", 1, 1, DETAILS)

        cut = await store.begin("admin", "cut short", "info", False, False, 5)  # the hub dies now
        assert await store.mark_interrupted() == 1  # at the next start
        latest = (await store.list())[0]
        assert (latest["id"], latest["state"], latest["total"]) == (cut["id"], "interrupted", 5)
        assert await store.mark_interrupted() == 0
    finally:
        store.close()
