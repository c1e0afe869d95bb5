"""The activity monitor on a real hub: sampling, its files, rename and delete, reset, permissions (a
running lab's figures are a scenario on both backends: tests/scenarios/test_running_labs.py)."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import time

import pytest
from harness import ARTIFACTS, TEST_ENV, Hub, remove_test_objects, wait_for

ENV = {
    **TEST_ENV,
    # short thresholds so the states change within a test
    "JUPYTERHUB_ACTIVITYMON_SAMPLE_INTERVAL": "1",
    "JUPYTERHUB_ACTIVITYMON_INACTIVE_AFTER": "1",
    "JUPYTERHUB_IDLE_CULLER_ENABLED": "1",
    "JUPYTERHUB_IDLE_CULLER_TIMEOUT": "3600",
}


@pytest.fixture(scope="module")
def ahub(docker_engine, tmp_path_factory):
    h = Hub(data_dir=tmp_path_factory.mktemp("activity-hub"), env=dict(ENV)).start()
    yield h
    h.stop()
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(h.log_path, ARTIFACTS / f"hub-activity-{h.port}.log")
    remove_test_objects()


def samples_file(hub: Hub):
    return hub.data_dir / "activity.sqlite"


def stored(hub: Hub, name: str | None = None) -> int:
    with sqlite3.connect(f"file:{samples_file(hub)}?mode=ro", uri=True) as db:
        if name is None:
            return db.execute("SELECT COUNT(*) FROM samples").fetchone()[0]
        return db.execute("SELECT COUNT(*) FROM samples WHERE username = ?", (name,)).fetchone()[0]


def row(hub: Hub, name: str, session=None, token=None) -> dict:
    r = hub.api(session if token is None else None, "GET", "activity", token=token)
    assert r.status_code == 200, r.text
    return {u["username"]: u for u in r.json()["users"]}[name]


def metrics(hub: Hub) -> str:
    r = hub.admin_session().get(hub.hub_url + "metrics")
    assert r.status_code == 200
    return r.text


def test_sampler_runs_without_page_views_and_never_writes_the_hub_database(ahub):
    ahub.admin_session()
    time.sleep(2)  # let the requests above settle
    before = hub_database_digest(ahub)
    count = stored(ahub)
    time.sleep(4)  # about four sampler passes, no request to the hub at all
    assert stored(ahub) >= count + 2 * 2  # at least two passes over at least two users
    assert hub_database_digest(ahub) == before
    assert "database is locked" not in ahub.log_text()


def hub_database_digest(hub: Hub) -> str:
    """Digest of the hub's SQLite database with its journal/WAL files, whichever exist."""
    digest = hashlib.sha256()
    for suffix in ("", "-journal", "-wal"):
        path = hub.data_dir / f"jupyterhub.sqlite{suffix}"
        digest.update(suffix.encode() + (path.read_bytes() if path.exists() else b"(none)"))
    return digest.hexdigest()


def test_samples_follow_rename_and_vanish_with_delete(ahub):
    admin = ahub.admin_session()
    old = f"{naming_prefix()}ren"
    r = ahub.api(admin, "POST", f"users/{old}")
    assert r.status_code == 201, r.text
    wait_for(lambda: stored(ahub, old) >= 2, 20, "samples of the new user")

    new = old + "x"
    r = ahub.api(admin, "PATCH", f"users/{old}", json={"name": new})
    assert r.status_code == 200, r.text
    wait_for(lambda: stored(ahub, old) == 0, 10, "old name's samples gone")
    assert stored(ahub, new) >= 2
    assert row(ahub, new, admin)["sample_count"] >= 2

    r = ahub.api(admin, "DELETE", f"users/{new}")
    assert r.status_code == 204, r.text
    wait_for(lambda: stored(ahub, new) == 0, 10, "deleted user's samples gone")
    r = ahub.api(admin, "GET", "activity")
    users = [u["username"] for u in r.json()["users"]]
    assert new not in users and old not in users
    # the report travels gzipped to a client that accepts it, plain to one that does not
    assert r.headers["Content-Encoding"] == "gzip"
    plain = admin.get(ahub.hub_url + "api/activity", headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers and [u["username"] for u in plain.json()["users"]] == users


def naming_prefix() -> str:
    from harness import unique_name

    return unique_name("")


def test_reset_clears_history_and_needs_xsrf(ahub):
    admin = ahub.admin_session()
    wait_for(lambda: stored(ahub) > 0, 10, "samples")
    # a cookie-authenticated POST without the XSRF header is refused
    r = admin.post(ahub.hub_url + "api/activity/reset")
    assert r.status_code == 403 and r.json()["status"] == 403
    assert stored(ahub) > 0
    r = ahub.api(admin, "POST", "activity/reset")
    assert r.status_code == 200 and r.json()["samples_removed"] > 0
    # the sampler goes on; right after a reset every user rests on very few samples
    assert max(u["sample_count"] for u in ahub.api(admin, "GET", "activity").json()["users"]) <= 2


def test_permission_matrix(ahub):
    admin = ahub.admin_session()
    name, session = ahub.new_user("perm")
    cases = [
        ("anonymous", None, None, 403, 403),
        ("user session", session, None, 403, 403),
        ("user token", None, ahub.token_for(name), 403, 403),
        ("admin session", admin, None, 200, 200),
        ("admin token", None, ahub.token_for(ahub.admin), 200, 200),
        ("admin token read:users only", None, ahub.token_for(ahub.admin, ["read:users"]), 403, 403),
        ("admin token admin:users", None, ahub.token_for(ahub.admin, ["admin:users"]), 200, 200),
    ]
    for label, sess, token, get_status, reset_status in cases:
        r = ahub.api(sess, "GET", "activity", token=token)
        assert r.status_code == get_status, label
        assert r.headers["Content-Type"].startswith("application/json"), label
        if get_status == 403:
            assert r.json()["status"] == 403 and "activity" in r.json()["message"], label
        r = ahub.api(sess, "POST", "activity/reset", token=token)
        assert r.status_code == reset_status, label

    # the page and its navigation entry: admins only
    assert session.get(ahub.hub_url + "activity").status_code == 403
    assert 'id="nav-activity"' not in session.get(ahub.hub_url + "home").text
    assert admin.get(ahub.hub_url + "activity").status_code == 200
    assert 'id="nav-activity"' in admin.get(ahub.hub_url + "home").text


def test_samples_survive_a_hub_restart(ahub):
    admin = ahub.admin_session()
    # at least three samples, so that a history lost in the restart (one fresh sample) shows
    before = wait_for(lambda: (n := row(ahub, ahub.admin, admin)["sample_count"]) >= 3 and n, 15, "samples")
    ahub.stop()
    ahub.start()
    assert row(ahub, ahub.admin, admin)["sample_count"] >= before
