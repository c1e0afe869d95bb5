"""Named servers on a real hub and engine: two servers of one user, each with its own container
and volumes (jupyterlab-<name>--<server>_*), restarted and reset independently; the limit."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from harness import LAB_IMAGE, RUN_PREFIX, engine
from stellars_hub import naming

TARGET = Path(f"/tmp/stellars-backups-ns-{RUN_PREFIX}")
HUB_ENV = {"JUPYTERHUB_NAMED_SERVERS": "1", "JUPYTERHUB_NAMED_SERVERS_LIMIT": "2",
           "JUPYTERHUB_BACKUP_INTERVAL": "3", "JUPYTERHUB_BACKUP_TARGET": str(TARGET),
           "JUPYTERHUB_BACKUP_IMAGE": LAB_IMAGE}


@pytest.fixture(scope="module", autouse=True)
def target():
    TARGET.mkdir(parents=True, exist_ok=True)
    yield
    shutil.rmtree(TARGET, ignore_errors=True)


def start_named(hub, session, name, server, timeout=180):
    r = hub.api(session, "POST", f"users/{name}/servers/{server}")
    assert r.status_code in (201, 202), r.text
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        servers = hub.api(session, "GET", f"users/{name}").json().get("servers", {})
        if servers.get(server, {}).get("ready"):
            return servers[server]
        time.sleep(1)
    raise AssertionError(f"server {server} of {name} did not become ready")


def stop_named(hub, session, name, server, timeout=120):
    r = hub.api(session, "DELETE", f"users/{name}/servers/{server}")
    assert r.status_code in (202, 204), r.text
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server not in hub.api(session, "GET", f"users/{name}").json().get("servers", {}):
            return
        time.sleep(1)
    raise AssertionError(f"server {server} of {name} did not stop")


def inspect(name, server):
    return engine().api.inspect_container(naming.server_container_name(name, server))


def test_two_named_servers_with_their_own_volumes_restart_and_reset(hub):
    name, session = hub.new_user("ns")
    start_named(hub, session, name, "alpha")
    start_named(hub, session, name, "beta")
    esc = naming.escape_name(name)
    alpha, beta = inspect(name, "alpha"), inspect(name, "beta")
    assert alpha["Name"] == f"/jupyterlab-{esc}--alpha" and beta["Name"] == f"/jupyterlab-{esc}--beta"
    mounts = {c: {m["Destination"]: m["Name"] for m in info["Mounts"] if m["Type"] == "volume"}
              for c, info in (("alpha", alpha), ("beta", beta))}
    for server in ("alpha", "beta"):
        assert mounts[server]["/home"] == f"jupyterlab-{esc}--{server}_home"
        assert mounts[server]["/home/lab/workspace"] == f"jupyterlab-{esc}--{server}_workspace"
        assert mounts[server]["/mnt/shared"] == naming.SHARED_VOLUME
    # separate files
    for server in ("alpha", "beta"):
        code, _ = engine().containers.get(alpha["Id"] if server == "alpha" else beta["Id"]).exec_run(
            ["sh", "-c", f"echo {server} > /home/lab/workspace/which.txt"])
        assert code == 0
    code, out = engine().containers.get(beta["Id"]).exec_run(["cat", "/home/lab/workspace/which.txt"])
    assert out.decode().strip() == "beta"

    # scheduled backups cover each server's own volumes
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if all(list(TARGET.glob(f"jupyterlab-{esc}--{s}_workspace_*.tar.gz")) for s in ("alpha", "beta")):
            break
        time.sleep(1)
    mine = hub.api(session, "GET", f"users/{name}/backups?generations=0").json()
    keys = {v["key"]: v["outcome"] for v in mine["volumes"]}
    assert keys.get("alpha/workspace") in ("ok", "unchanged") and keys.get("beta/workspace") in ("ok", "unchanged")

    # restart alpha in place: same container, new start; beta untouched
    r = retry_while_backed_up(lambda: hub.api(session, "POST", f"users/{name}/servers/alpha/restart-server"))
    assert r.status_code == 200, r.text
    assert r.json()["container_id"] == alpha["Id"] and r.json()["url"].endswith(f"/user/{name}/alpha/")
    assert inspect(name, "alpha")["State"]["StartedAt"] != alpha["State"]["StartedAt"]
    assert inspect(name, "beta")["State"]["StartedAt"] == beta["State"]["StartedAt"]

    # reset alpha's workspace while alpha is stopped and beta runs
    r = retry_while_backed_up(
        lambda: hub.api(session, "DELETE", f"users/{name}/servers/alpha/manage-volumes", json={"volumes": ["workspace"]}))
    assert r.status_code == 409 and "server is running" in r.json()["message"], r.text  # alpha still runs
    stop_named(hub, session, name, "alpha")
    listing = hub.api(session, "GET", f"users/{name}/servers/alpha/manage-volumes").json()
    assert {v["key"]: v["name"] for v in listing["volumes"]}["workspace"] == f"jupyterlab-{esc}--alpha_workspace"
    r = retry_while_backed_up(lambda: hub.api(session, "DELETE", f"users/{name}/servers/alpha/manage-volumes", json={"volumes": ["workspace"]}))
    assert r.status_code == 200 and r.json()["complete"], r.text
    assert not engine().volumes.list(filters={"name": f"^jupyterlab-{esc}--alpha_workspace$"})
    code, out = engine().containers.get(beta["Id"]).exec_run(["cat", "/home/lab/workspace/which.txt"])
    assert out.decode().strip() == "beta"  # beta's files are untouched
    assert engine().volumes.list(filters={"name": f"^jupyterlab-{esc}--alpha_home$"})  # only what was chosen

    # limits and unknown servers
    assert hub.api(session, "POST", f"users/{name}/servers/gamma").status_code == 400  # at most 2
    assert hub.api(session, "POST", f"users/{name}/servers/nope/restart-server").status_code == 404
    stop_named(hub, session, name, "beta")


def retry_while_backed_up(request):
    """A restart or reset while a scheduled backup holds the user's lock is refused (409); the
    tests back up every few seconds, so they try again."""
    for _ in range(60):
        r = request()
        if r.status_code != 409 or "backup is already running" not in r.json()["message"]:
            return r
        time.sleep(0.5)
    return r
