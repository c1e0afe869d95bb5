"""Built-in groups docker-sock / docker-privileged on the real engine: membership read at every
spawn, privileges gone after removal (the spawner object is reused), groups re-created when
deleted (before a spawn and at start-up)."""

from __future__ import annotations

from harness import engine

from stellars_hub import naming

SOCK = "/var/run/docker.sock"
GROUPS = ("docker-sock", "docker-privileged")


def _lab(name) -> dict:
    return engine().api.inspect_container(naming.container_name(name))


def _socket_mounts(info) -> list[dict]:
    return [m for m in info["Mounts"] if m["Destination"] == SOCK]


def _group_names(hub) -> set[str]:
    r = hub.api(hub.admin_session(), "GET", "groups")
    assert r.status_code == 200, r.text
    return {g["name"] for g in r.json()}


def test_groups_grant_socket_and_privileged_and_removal_takes_them_back(hub):
    admin = hub.admin_session()
    assert set(GROUPS) <= _group_names(hub)  # present from the first start
    name, session = hub.new_user("grp")
    for group in GROUPS:
        r = hub.api(admin, "POST", f"groups/{group}/users", json={"users": [name]})
        assert r.status_code == 200, r.text

    hub.start_server(session, name)
    info = _lab(name)
    mounts = _socket_mounts(info)
    assert len(mounts) == 1 and mounts[0]["Type"] == "bind" and mounts[0]["Source"] == SOCK
    assert mounts[0]["RW"] is True
    assert info["HostConfig"]["Privileged"] is True
    # the lab really reaches the engine through the socket
    out = engine().containers.get(naming.container_name(name)).exec_run(["test", "-S", SOCK])
    assert out.exit_code == 0
    # the volumes and the spawner's own host config are still there
    assert {m["Destination"] for m in info["Mounts"]} >= {"/home", "/home/lab/workspace", "/mnt/shared"}
    assert info["HostConfig"]["AutoRemove"] is False
    hub.stop_server(session, name)

    for group in GROUPS:
        r = hub.api(admin, "DELETE", f"groups/{group}/users", json={"users": [name]})
        assert r.status_code == 200, r.text
    # an admin also deletes one group: the next spawn brings it back (empty)
    r = hub.api(admin, "DELETE", "groups/docker-sock")
    assert r.status_code == 204, r.text
    assert "docker-sock" not in _group_names(hub)

    hub.start_server(session, name)  # same user, same (reused) spawner object
    info = _lab(name)
    assert _socket_mounts(info) == []
    assert info["HostConfig"]["Privileged"] is False
    assert {m["Destination"] for m in info["Mounts"]} >= {"/home", "/home/lab/workspace", "/mnt/shared"}
    assert "docker-sock" in _group_names(hub)
    assert hub.api(admin, "GET", "groups/docker-sock").json()["users"] == []
    assert "docker-sock were missing" in hub.log_text()
    hub.stop_server(session, name)


def test_deleted_group_is_back_after_a_hub_restart(make_hub):
    h = make_hub()
    r = h.api(h.admin_session(), "DELETE", "groups/docker-privileged")
    assert r.status_code == 204, r.text
    h.stop()
    h._admin_session = None
    h.start()
    assert set(GROUPS) <= _group_names(h)
