"""Restart Server applies what changed: a lab whose effective policy changed since its container
was created is recreated (stop + start), so leaving docker-sock takes the engine socket away at
once; an unchanged lab is still restarted in place (same container)."""

from __future__ import annotations

import json

from harness import engine

from stellars_hub import naming

SOCK = "/var/run/docker.sock"


def _info(name):
    return engine().api.inspect_container(naming.container_name(name))


def _has_socket(info) -> bool:
    return any(m["Destination"] == SOCK for m in info["Mounts"])


def test_leaving_docker_sock_removes_the_socket_at_restart(hub):
    admin = hub.admin_session()
    name, session = hub.new_user("rsk")
    assert hub.api(admin, "POST", "groups/docker-sock/users", json={"users": [name]}).status_code == 200
    hub.start_server(session, name)
    before = _info(name)
    assert _has_socket(before)
    assert hub.api(session, "GET", f"users/{name}/restart-server").json()["recreate"] is None

    # the admin takes the privilege away while the lab runs: the running container still has it
    assert hub.api(admin, "DELETE", "groups/docker-sock/users", json={"users": [name]}).status_code == 200
    assert _has_socket(_info(name))
    reason = hub.api(session, "GET", f"users/{name}/restart-server").json()["recreate"]
    assert reason and "changed" in reason

    r = hub.api(session, "POST", f"users/{name}/restart-server", timeout=300)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "recreated" and body["reason"] == reason
    after = _info(name)
    assert after["Id"] != before["Id"] and body["container_id"] == after["Id"]
    assert not _has_socket(after)
    assert after["State"]["Running"] is True
    assert hub.lab(name, "GET", "api").status_code == 200  # the new lab answers through the proxy
    audit = [json.loads(x) for x in (hub.data_dir / "audit.log").read_text().splitlines()]
    assert any(
        a["action"] == "restart-server" and a["target"] == name and a.get("how") == "recreated" and a["outcome"] == "ok"
        for a in audit
    )

    # nothing changed since: restart in place, same container
    assert hub.api(session, "GET", f"users/{name}/restart-server").json()["recreate"] is None
    r = hub.api(session, "POST", f"users/{name}/restart-server", timeout=300)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "restarted" and _info(name)["Id"] == after["Id"]

    # the user's own variable is a change too
    r = hub.api(session, "PUT", f"users/{name}/environment", json={"environment": {"MY_SETTING": "on"}})
    assert r.status_code == 200, r.text
    r = hub.api(session, "POST", f"users/{name}/restart-server", timeout=300)
    assert r.json()["status"] == "recreated"
    env = dict(e.split("=", 1) for e in _info(name)["Config"]["Env"])
    assert env["MY_SETTING"] == "on"
    hub.stop_server(session, name)
