import sqlite3

from stellars_hub.notifications import history
from stellars_hub.notifications.history import HistoryStore

DETAILS = [
    {"username": "ann", "status": "delivered", "error": None},
    {"username": "bob", "status": "failed", "error": "not responding"},
]


def test_kept_across_instances_newest_first_with_details(tmp_path):
    path = tmp_path / "notifications.sqlite"
    first = HistoryStore(path).add_sync("admin", "one", "info", False, False, DETAILS)
    HistoryStore(path).add_sync("boss", "two", "error", True, True, DETAILS[:1])

    rows = HistoryStore(path).list_sync()  # a new instance, as after a hub restart
    assert [r["message"] for r in rows] == ["two", "one"]
    assert rows[1]["id"] == first["id"] and rows[1]["sent_at"] == first["sent_at"]
    assert (rows[1]["total"], rows[1]["successful"], rows[1]["failed"]) == (2, 1, 1)
    assert rows[1]["details"] == DETAILS and rows[1]["recipients"] == "all running"
    assert rows[0]["autoClose"] is True and rows[0]["recipients"] == "selected"
    assert HistoryStore(path).list_sync(limit=1)[0]["message"] == "two"


def test_renames_follow_users_and_old_broadcasts_are_pruned(tmp_path, monkeypatch):
    store = HistoryStore(tmp_path / "h.sqlite")
    monkeypatch.setattr(history, "KEEP", 3)
    for i in range(5):
        store.add_sync("admin", f"m{i}", "info", False, False, DETAILS)
    store.rename_user("ann", "anna")
    store.rename_user("admin", "root")
    rows = store.list_sync()
    assert [r["message"] for r in rows] == ["m4", "m3", "m2"]
    assert {r["sender"] for r in rows} == {"root"}
    assert all(r["details"][0]["username"] == "anna" for r in rows)
    with sqlite3.connect(tmp_path / "h.sqlite") as db:  # deliveries of pruned broadcasts go too
        assert db.execute("SELECT count(*) FROM deliveries").fetchone()[0] == 3 * len(DETAILS)
