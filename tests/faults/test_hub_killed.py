"""The hub killed (SIGKILL) in the middle of an operation, then started again on its data
directory, as a crash or the out-of-memory killer and a restart policy would. The kill comes
while a chosen engine request is held at the gate (or, for a rename, while a store the rename
writes after the hub's commit is held locked), so it lands exactly between two steps. Each
scenario ends with the hub's view matching the engine's, the user acting again and nothing lost."""

from __future__ import annotations

import json
import sqlite3

import docker
import pytest
from faultkit import (
    ISOLATED_LABS,
    assert_hub_matches_engine,
    hub_died_under,
    hub_labs,
    killed_during,
    killed_when,
    server_running,
    volume_exists,
    write_volume_file,
)
from harness import LAB_IMAGE, PASSWORD, RUN_PREFIX, engine, read_volume_file, unique_name, wait_for
from survival import survives

from stellars_hub import naming
from stellars_hub.runtime.base import HUB_LABEL

API = r"/v[0-9.]+"  # the engine API's version prefix
HUB_ENV = ISOLATED_LABS  # the hub of test_engine_faults.py: one hub start less


@pytest.fixture(scope="module")
def lab_user(hub):
    """(name, session) of a user whose lab runs: restarted under a killed hub, then batch-stopped."""
    name, session = hub.new_user("krs")
    hub.start_server(session, name)
    return name, session


def _volumes(name: str) -> dict[str, str]:
    return naming.user_volume_names(name)


@survives("kill-during-restart")
def test_killed_during_restart_the_lab_runs_on(hub, lab_user):
    name, session = lab_user
    token = hub.token_for(name)
    put = hub.lab(name, "PUT", "api/contents/kept.txt", token, json={"type": "file", "format": "text", "content": "x1"})
    assert put.status_code in (200, 201), put.text
    lab = naming.container_name(name)
    before = engine().api.inspect_container(lab)

    def restarted() -> bool:  # the engine finished what it was asked before the hub is back
        state = engine().api.inspect_container(lab)["State"]
        return state["Running"] and state["StartedAt"] != before["State"]["StartedAt"]

    outcome = killed_during(
        hub,
        rf"POST {API}/containers/{before['Id']}/restart",
        lambda: hub.api(session, "POST", f"users/{name}/restart-server"),
        settle=restarted,
    )
    assert hub_died_under(outcome)

    assert_hub_matches_engine(hub)
    assert server_running(hub, session, name)
    assert engine().api.inspect_container(lab)["Id"] == before["Id"]  # the same container, restarted
    assert hub.lab(name, "GET", "api/contents/kept.txt", token).json()["content"] == "x1"
    again = hub.api(session, "POST", f"users/{name}/restart-server")
    assert again.status_code == 200, again.text
    assert again.json()["container_id"] == before["Id"]


@survives("kill-during-reset")
def test_killed_during_reset_keeps_what_was_not_chosen(hub):
    name, session = hub.new_user("krv")
    vols = _volumes(name)
    for key in ("home", "workspace", "cache"):
        write_volume_file(vols[key], "kept.txt", f"{key} file")
    # what an earlier crash could have left too: a lab and a lab network of this hub that no
    # server owns, and records of a user the hub does not have (its delete's hooks never ran)
    stray = engine().containers.create(
        LAB_IMAGE,
        ["sleep", "600"],
        name=f"jupyterlab-{RUN_PREFIX}strayc",
        labels={HUB_LABEL: hub.hub_id},
        network_mode="none",
    )
    network = engine().networks.create(
        f"{RUN_PREFIX}straynet", driver="bridge", labels={HUB_LABEL: hub.hub_id, "stellars.lab-network": "gone"}
    )
    assert hub.api(session, "PUT", f"users/{name}/environment", json={"environment": {"V": "1"}}).status_code == 200
    ghost = f"{RUN_PREFIX}ghost"
    with sqlite3.connect(hub.data_dir / "environment.sqlite") as db:
        db.execute("INSERT INTO user_environment (username, env) VALUES (?, '{}')", (ghost,))

    # cache goes first, then the hub dies while the engine is asked to remove home
    outcome = killed_during(
        hub,
        rf"DELETE {API}/volumes/{vols['home']}",
        lambda: hub.api(session, "DELETE", f"users/{name}/manage-volumes", json={"volumes": ["cache", "home"]}),
        forward=False,
    )
    assert hub_died_under(outcome)
    assert not volume_exists(vols["cache"]) and volume_exists(vols["home"])
    assert read_volume_file(vols["workspace"], "kept.txt") == "workspace file"

    try:
        assert_hub_matches_engine(hub)  # the stray lab and network went at the start
    finally:
        for leftover in (stray, network):
            try:
                leftover.remove(force=True) if leftover is stray else leftover.remove()
            except docker.errors.NotFound:
                pass
    wait_for(
        lambda: (ghost,) not in hub.store_rows("environment.sqlite", "SELECT username FROM user_environment"),
        what="the records of a user the hub does not have dropped",
    )
    assert hub.api(session, "GET", f"users/{name}/environment").json()["environment"] == {"V": "1"}
    listed = hub.api(session, "GET", f"users/{name}/manage-volumes").json()
    assert {v["key"]: v["exists"] for v in listed["volumes"]} == {"home": True, "workspace": True, "cache": False}
    again = hub.api(session, "DELETE", f"users/{name}/manage-volumes", json={"volumes": ["home"]})
    assert again.status_code == 200 and again.json()["complete"], again.text
    assert read_volume_file(vols["workspace"], "kept.txt") == "workspace file"


def _records_of(hub, session, name: str) -> dict:
    admin = hub.admin_session()
    env = hub.api(session, "GET", f"users/{name}/environment").json()["environment"]
    consent = hub.api(session, "GET", f"users/{name}/lab-access").json()["consent"]
    history = hub.api(admin, "GET", "notifications/history").json()["broadcasts"]
    to_them = [d for b in history for d in b["details"] if d["username"] == name]
    return {"env": env, "consent": consent, "deliveries": len(to_them)}


@survives("kill-during-rename")
def test_killed_during_rename_completes_it_at_the_next_start(hub):
    name, session = hub.new_user("krn")
    new = unique_name("krm")
    admin = hub.admin_session()
    assert hub.api(session, "PUT", f"users/{name}/environment", json={"environment": {"KEPT": "1"}}).status_code == 200
    assert hub.api(session, "PUT", f"users/{name}/lab-access/consent", json={"hours": 2}).status_code == 200
    sent = hub.api(admin, "POST", "notifications/broadcast", json={"message": "to you", "recipients": [name]})
    assert sent.status_code == 200, sent.text
    write_volume_file(_volumes(name)["workspace"], "kept.txt", "renamed with me")
    assert _records_of(hub, session, name) == {"env": {"KEPT": "1"}, "consent": True, "deliveries": 1}

    # the policies' store (the user's variables), held locked by another program: the rename
    # waits there after the hub's commit, some features' records moved and others not, and dies
    locker = sqlite3.connect(hub.data_dir / "environment.sqlite", isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")
    try:
        committed = lambda: bool(hub.store_rows("jupyterhub.sqlite", "SELECT 1 FROM users WHERE name = ?", new))  # noqa: E731
        outcome = killed_when(
            hub, committed, lambda: hub.api(admin, "PATCH", f"users/{name}", json={"name": new}), restart=False
        )
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert hub_died_under(outcome)
    hub.restart()
    wait_for(lambda: not hub.store_rows("intents.sqlite", "SELECT * FROM intents"), what="the rename completed")

    assert hub.login_status(name) == 200  # the old name is gone
    renamed = hub.login(new, PASSWORD)
    assert _records_of(hub, renamed, new) == {"env": {"KEPT": "1"}, "consent": True, "deliveries": 1}
    for file, sql in (
        ("environment.sqlite", "SELECT username FROM user_environment"),
        ("access.sqlite", "SELECT username FROM consents"),
        ("notifications.sqlite", "SELECT username FROM deliveries"),
    ):
        assert (name,) not in hub.store_rows(file, sql), file  # nothing left under the old name
    volumes = hub.api(renamed, "GET", f"users/{new}/manage-volumes").json()["volumes"]
    workspace = next(v for v in volumes if v["key"] == "workspace")
    assert workspace["name"] == _volumes(name)["workspace"] and workspace["exists"]
    assert read_volume_file(workspace["name"], "kept.txt") == "renamed with me"
    assert_hub_matches_engine(hub)


@survives("kill-during-delete")
def test_killed_during_delete_with_volumes_completes_it_at_the_next_start(hub):
    name, session = hub.new_user("kdl")
    bystander, _ = hub.new_user("kdb")
    admin = hub.admin_session()
    assert hub.api(session, "PUT", f"users/{name}/environment", json={"environment": {"GONE": "1"}}).status_code == 200
    assert hub.api(session, "PUT", f"users/{name}/lab-access/consent", json={"hours": 2}).status_code == 200
    vols = _volumes(name)
    for key in ("home", "workspace", "cache"):
        write_volume_file(vols[key], "kept.txt", key)
    write_volume_file(_volumes(bystander)["workspace"], "kept.txt", "not theirs")

    # the policies' store held locked: the delete stops in the features' steps, after the login
    # record went and before the hub deleted the user and the volumes; the hub dies there
    locker = sqlite3.connect(hub.data_dir / "environment.sqlite", isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")
    try:

        def login_gone():
            return not hub.store_rows("jupyterhub.sqlite", "SELECT 1 FROM users_info WHERE username = ?", name)

        outcome = killed_when(
            hub,
            login_gone,
            lambda: hub.api(admin, "DELETE", f"admin/users/{name}", json={"remove_volumes": True}),
            restart=False,
        )
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert hub_died_under(outcome)
    assert hub.store_rows("jupyterhub.sqlite", "SELECT 1 FROM users WHERE name = ?", name)  # half done
    hub.restart()
    wait_for(lambda: not hub.store_rows("intents.sqlite", "SELECT * FROM intents"), what="the delete completed")

    admin = hub.admin_session()
    assert hub.api(admin, "GET", f"users/{name}").status_code == 404
    assert not any(volume_exists(v) for v in vols.values())
    assert hub.login_status(name) == 200
    kept = hub.api(admin, "GET", "admin/kept-volumes").json()["kept"]
    assert not [k for k in kept if k["deleted_name"] == name]
    assert (name,) not in hub.store_rows("environment.sqlite", "SELECT username FROM user_environment")
    assert (name,) not in hub.store_rows("access.sqlite", "SELECT username FROM consents")
    assert read_volume_file(_volumes(bystander)["workspace"], "kept.txt") == "not theirs"
    assert_hub_matches_engine(hub)


@survives("kill-during-batch")
def test_killed_during_batch_stop_leaves_each_lab_running_or_gone(hub, lab_user):
    (first, first_s), (second, second_s) = lab_user, hub.new_user("kbb")
    assert server_running(hub, first_s, first)  # since the restart scenario
    hub.start_server(second_s, second)
    token = hub.token_for(second)
    put = hub.lab(
        second, "PUT", "api/contents/kept.txt", token, json={"type": "file", "format": "text", "content": "b"}
    )
    assert put.status_code in (200, 201), put.text
    second_id = engine().api.inspect_container(naming.container_name(second))["Id"]

    def batch():
        with hub.api(
            hub.admin_session(), "POST", "batch", json={"action": "stop", "users": [first, second]}, stream=True
        ) as r:
            return [json.loads(line) for line in r.iter_lines() if line]

    # the engine stops the second lab after the hub died asking for it
    outcome = killed_during(hub, rf"POST {API}/containers/{second_id}/stop", batch)
    assert hub_died_under(outcome)

    assert_hub_matches_engine(hub)  # each lab running or gone, and the hub says which
    assert not server_running(hub, second_s, second) and naming.container_name(second) not in hub_labs(hub)
    hub.start_server(second_s, second)
    assert hub.lab(second, "GET", "api/contents/kept.txt", token).json()["content"] == "b"
    assert_hub_matches_engine(hub)
