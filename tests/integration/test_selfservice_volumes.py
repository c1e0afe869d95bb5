"""Manage Volumes on the real engine: only the user's own volumes, all-or-nothing checks (a reset of
chosen volumes is a scenario on both backends: tests/scenarios/test_running_labs.py)."""

from __future__ import annotations

import docker
import pytest
from harness import LAB_IMAGE, RUN_PREFIX, engine

from stellars_hub import naming


def _exec(name, *cmd, user=""):
    out = engine().containers.get(naming.container_name(name)).exec_run(list(cmd), user=user)
    assert out.exit_code == 0, out.output
    return out.output.decode()


def _volumes(name):
    return {v.name for v in engine().volumes.list(filters={"name": naming.container_name(name) + "_"})}


def test_missing_volume_reported_and_others_processed(hub):
    name, session = hub.new_user("vm")
    engine().volumes.create(naming.volume_name(name, "cache"))
    r = hub.api(session, "DELETE", f"users/{name}/manage-volumes", json={"volumes": ["home", "cache"]})
    assert r.status_code == 200
    assert {v["volume"]: v["status"] for v in r.json()["volumes"]} == {"home": "not_found", "cache": "removed"}
    assert not _volumes(name)


@pytest.mark.parametrize(
    "body,needle",
    [
        (b"not json", "not valid JSON"),
        (b'["home"]', "JSON object"),
        (b'{"volumes": "home"}', "must be a list"),
        (b'{"volumes": []}', "is empty"),
        (b'{"volumes": ["home", "shared"]}', "'shared' is not a volume you can reset"),
        (b'{"volumes": ["jupyterhub_shared"]}', "'jupyterhub_shared' is not a volume"),
        (b'{"volumes": [7]}', "7 is not a volume"),
        (b"{}", "JSON object like"),
    ],
)
def test_bad_bodies_400_and_nothing_removed(hub, body, needle):
    name, session = hub.new_user("bad")
    for key in ("home", "workspace", "cache"):
        engine().volumes.create(naming.volume_name(name, key))
    r = hub.api(
        session, "DELETE", f"users/{name}/manage-volumes", data=body, headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 400
    assert r.headers["Content-Type"].startswith("application/json")
    assert needle in r.json()["message"]
    assert len(_volumes(name)) == 3


def test_volume_held_by_orphan_container_409_and_nothing_removed(hub):
    name, session = hub.new_user("orph")
    for key in ("home", "workspace"):
        engine().volumes.create(naming.volume_name(name, key))
    orphan = engine().containers.create(
        LAB_IMAGE,
        ["sleep", "600"],
        name=f"jupyterlab-{RUN_PREFIX}-orphan-{name}",
        volumes={naming.volume_name(name, "workspace"): {"bind": "/data", "mode": "rw"}},
    )
    try:
        r = hub.api(session, "DELETE", f"users/{name}/manage-volumes", json={"volumes": ["home", "workspace"]})
        assert r.status_code == 409
        assert orphan.name in r.json()["message"] and "nothing was removed" in r.json()["message"]
        assert _volumes(name) == {naming.volume_name(name, k) for k in ("home", "workspace")}
    finally:
        orphan.remove(force=True)


def test_reset_refused_while_starting(hub, docker_engine):
    """A server that is still starting is not 'stopped': 409, nothing removed."""
    name, session = hub.new_user("pend")
    engine().volumes.create(naming.volume_name(name, "home"))
    r = hub.api(session, "POST", f"users/{name}/server")
    assert r.status_code in (201, 202)
    r = hub.api(session, "DELETE", f"users/{name}/manage-volumes", json={"volumes": ["home"]})
    if r.status_code == 409:
        assert "wait" in r.json()["message"] or "stop it first" in r.json()["message"]
    else:  # the start finished first; then the server runs and the reset must still be refused
        pytest.fail(f"reset during start answered {r.status_code}: {r.text}")
    hub.wait_server(session, name, ready=True)
    assert naming.volume_name(name, "home") in _volumes(name)


def test_shared_volume_cannot_be_named(hub):
    name, session = hub.new_user("sh")
    try:
        engine().volumes.get(naming.SHARED_VOLUME)
    except docker.errors.NotFound:
        engine().volumes.create(naming.SHARED_VOLUME)
    r = hub.api(session, "DELETE", f"users/{name}/manage-volumes", json={"volumes": ["../jupyterhub_shared"]})
    assert r.status_code == 400
    engine().volumes.get(naming.SHARED_VOLUME)  # still there
