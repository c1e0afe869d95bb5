"""The session, activity and broadcast-history stores keep a row per server of a user (named
servers); files written before that are migrated in place, their rows becoming the default
server's."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from test_feature_stores import user_version

from stellars_hub.activity.store import SampleStore
from stellars_hub.notifications.history import HistoryStore
from stellars_hub.session.deadline import start_key
from stellars_hub.session.store import ExtensionStore

STARTED = datetime(2026, 11, 30, 8, 0, 0)
OTHER_START = datetime(2026, 11, 30, 8, 5, 0)


def old_file(path, migration_one, rows_sql: list[tuple[str, tuple]]):
    """A file as the previous release left it: its first migration applied, user_version 1."""
    conn = sqlite3.connect(str(path))
    statements = [migration_one] if isinstance(migration_one, str) else list(migration_one)
    for statement in statements:
        conn.execute(statement)
    for sql, args in rows_sql:
        conn.execute(sql, args)
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()


async def test_session_rows_per_server_and_old_rows_become_the_default_servers(tmp_path):
    path = tmp_path / "session.sqlite"
    old_file(
        path,
        ExtensionStore.MIGRATIONS[0],
        [
            (
                "INSERT INTO session_extensions (username, started, hours, warned_for) VALUES (?, ?, ?, ?)",
                ("ann", start_key(STARTED), 2, "2026-11-30T09:00:00Z"),
            ),
        ],
    )
    store = ExtensionStore(path)
    try:
        assert await store.hours("ann", STARTED) == 2  # the default server's, as before
        assert await store.warned_for("ann", STARTED) == "2026-11-30T09:00:00Z"
        assert await store.hours("ann", STARTED, "gpu") == 0  # a named server has its own
        assert await store.add("ann", OTHER_START, 3, 5, "gpu") == (3, 3)
        assert await store.add("ann", OTHER_START, 4, 5, "gpu") == (2, 5)  # its own allowance
        assert await store.hours("ann", STARTED) == 2  # the default server's is untouched
        await store.mark_warned("ann", OTHER_START, "x", "gpu")
        assert await store.warned_for("ann", OTHER_START, "gpu") == "x"
        assert await store.warned_for("ann", STARTED) == "2026-11-30T09:00:00Z"
        await store.rename_user("ann", "anna")  # every server of the user follows a rename
        assert await store.hours("anna", STARTED) == 2 and await store.hours("anna", OTHER_START, "gpu") == 5
        await store.delete_user("anna")
        assert await store.hours("anna", OTHER_START, "gpu") == 0
    finally:
        store.close()
    assert user_version(path) == len(ExtensionStore.MIGRATIONS) == 3  # 3: per-start culling limits


async def test_activity_samples_per_server_and_old_samples_become_the_default_servers(tmp_path):
    path = tmp_path / "activity.sqlite"
    old_file(
        path,
        SampleStore.MIGRATIONS[0],
        [
            ("INSERT INTO samples (username, ts, active) VALUES (?, ?, ?)", ("ann", 1000.0, 1)),
            ("INSERT INTO samples (username, ts, active) VALUES (?, ?, ?)", ("ann", 1600.0, 0)),
        ],
    )
    store = SampleStore(path)
    try:
        assert await store.samples("ann") == [(1000.0, True), (1600.0, False)]
        await store.record(2200.0, [("ann", "", True), ("ann", "gpu", False)], prune_before=0)
        assert await store.samples("ann", "gpu") == [(2200.0, False)]
        scores = await store.scores(1000.0)
        assert scores[("ann", "gpu")] == (0.0, 1) and scores[("ann", "")][1] == 3
        # a named server the hub no longer knows loses its samples; the default server keeps its own
        removed = await store.record(2800.0, [("ann", "", True)], prune_before=0, keep_only=[("ann", "")])
        assert removed == 1 and await store.samples("ann", "gpu") == []
        assert len(await store.samples("ann")) == 4
    finally:
        store.close()
    assert user_version(path) == 2


async def test_broadcast_deliveries_name_the_server_and_old_ones_the_default(tmp_path):
    path = tmp_path / "notifications.sqlite"
    old_file(
        path,
        HistoryStore.MIGRATIONS[0],
        [
            (
                "INSERT INTO broadcasts (sent_at, sender, message, type, auto_close, selected, total, successful, failed)"
                " VALUES ('2026-11-29T10:00:00Z', 'admin', 'old', 'info', 0, 0, 1, 1, 0)",
                (),
            ),
            ("INSERT INTO deliveries (broadcast_id, username, status, error) VALUES (1, 'ann', 'delivered', NULL)", ()),
        ],
    )
    store = HistoryStore(path)
    try:
        await store.add(
            "admin",
            "new",
            "info",
            False,
            False,
            [
                {"username": "ann", "server": "", "status": "delivered", "error": None},
                {"username": "ann", "server": "gpu", "status": "delivered", "error": None},
            ],
        )
        new, old = await store.list()
        assert old["details"] == [{"username": "ann", "server": "", "status": "delivered", "error": None}]
        assert [d["server"] for d in new["details"]] == ["", "gpu"]
        assert old["state"] == new["state"] == "sent"  # 3: broadcasts of earlier versions were sent
    finally:
        store.close()
    assert user_version(path) == len(HistoryStore.MIGRATIONS) == 3
