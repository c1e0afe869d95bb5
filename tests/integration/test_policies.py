"""Group policies on the real engine: GPU device ids requested from Docker, refused policies change
nothing, scopes are enforced and every change is audited (the merge in the lab is a scenario on
both backends: tests/scenarios/test_group_policies.py)."""

from __future__ import annotations

import tempfile
import time

import docker
import pytest
from enginegate import EngineGate, held_at_start
from harness import RUN_PREFIX, engine

from stellars_hub import naming

HOST_DIR = tempfile.mkdtemp(prefix=f"{RUN_PREFIX}-policy-")
HUB_ENV = {"JUPYTERHUB_POLICY_HOST_PATHS": HOST_DIR}


def _group(hub, label) -> str:
    name = f"{RUN_PREFIX}{label}"
    r = hub.api(hub.admin_session(), "POST", f"groups/{name}")
    assert r.status_code == 201, r.text
    return name


def _join(hub, group, user):
    r = hub.api(hub.admin_session(), "POST", f"groups/{group}/users", json={"users": [user]})
    assert r.status_code == 200, r.text


def _put(hub, group, policy, session=None, token=None):
    return hub.api(
        None if token else (session or hub.admin_session()), "PUT", f"groups/{group}/policy", token=token, json=policy
    )


def _inspect(name) -> dict:
    return engine().api.inspect_container(naming.container_name(name))


def _env(info) -> dict:
    return dict(e.split("=", 1) for e in info["Config"]["Env"])


@pytest.fixture(scope="module")
def volumes():
    client = engine()
    names = [f"{RUN_PREFIX}-data-a", f"{RUN_PREFIX}-data-b"]
    for n in names:
        client.volumes.create(n)
    yield names
    for n in names:
        try:
            client.volumes.get(n).remove(force=True)
        except docker.errors.APIError:
            pass


def test_gpu_device_ids_are_requested_from_the_engine(make_hub, tmp_path):
    """The engine has no GPU, so the lab cannot start: the container the hub created for it shows
    the device request the hub made (seen while its start waits at a gate), and the failed start
    leaves no container behind."""
    gate = EngineGate(str(tmp_path / "engine.sock")).open()
    try:
        hub = make_hub(DOCKER_HOST=gate.docker_host)
        gpu = _group(hub, "gpu")
        assert _put(hub, gpu, {"gpus": ["0", "2"]}).status_code == 200
        name, session = hub.new_user("gpu")
        _join(hub, gpu, name)
        info, r = held_at_start(
            gate, lambda: hub.api(session, "POST", f"users/{name}/server", timeout=120), lambda: _inspect(name)
        )
        assert r.status_code in (201, 202, 500), r.text
        model = hub.wait_server(session, name, ready=False, timeout=120)
        assert not model["servers"]
        deadline = time.monotonic() + 60
        while engine().containers.list(all=True, filters={"name": f"^/{naming.container_name(name)}$"}):
            assert time.monotonic() < deadline, "the failed lab's container is still there"
            time.sleep(0.5)
        assert "GPU" in hub.log_text()
    finally:
        gate.close()
    assert info["State"]["Running"] is False
    requests_ = info["HostConfig"]["DeviceRequests"]
    assert requests_ == [
        {"Driver": "nvidia", "Count": 0, "DeviceIDs": ["0", "2"], "Capabilities": [["gpu"]], "Options": {}}
    ]
    env = _env(info)
    assert env["NVIDIA_VISIBLE_DEVICES"] == "0,2" and env["ENABLE_GPU_SUPPORT"] == "1"


REFUSED = [
    ({"env": {"JUPYTERHUB_API_TOKEN": "x"}}, "env.JUPYTERHUB_API_TOKEN"),
    ({"env": {"JPY_COOKIE": "x"}}, "env.JPY_COOKIE"),
    ({"env": {"MLFLOW_HOST": "0.0.0.0"}}, "env.MLFLOW_HOST"),
    ({"env": {"9BAD": "x"}}, "env.9BAD"),
    ({"memory_mb": "lots"}, "memory_mb"),
    ({"cpus": -1}, "cpus"),
    ({"gpus": "some"}, "gpus"),
    ({"mounts": [{"source": "/etc", "target": "/mnt/etc"}]}, "mounts[0].source"),
    ({"mounts": [{"source": "jupyterhub_data", "target": "/mnt/x"}]}, "mounts[0].source"),
    ({"mounts": [{"source": "vol", "target": "/home"}]}, "mounts[0].target"),
    ({"mounts": [{"source": "vol", "target": "/mnt/x", "mode": "rx"}]}, "mounts[0].mode"),
    ({"docker_sock": "yes"}, "docker_sock"),
    ({"shell": "/bin/zsh"}, "shell"),
]


def test_refused_policies_change_nothing(hub):
    group = _group(hub, "strict")
    good = {"memory_mb": 2048, "env": {"SHARED_NAME": "one"}}
    assert _put(hub, group, good).status_code == 200
    for body, field in REFUSED:
        r = _put(hub, group, {**good, **body})
        assert r.status_code == 400, (body, r.text)
        assert r.json()["message"].startswith(field + ":"), (field, r.json())
        assert "nothing was saved" in r.json()["message"]
    assert hub.api(hub.admin_session(), "GET", f"groups/{group}/policy").json()["policy"] == good

    # two groups giving one variable different values: refused at save time, naming both
    other = _group(hub, "other")
    r = _put(hub, other, {"env": {"SHARED_NAME": "two"}, "memory_mb": 4096})
    assert r.status_code == 400
    assert group in r.json()["message"] and other in r.json()["message"]
    assert hub.api(hub.admin_session(), "GET", f"groups/{other}/policy").json()["policy"] == {}
    assert _put(hub, other, {"env": {"SHARED_NAME": "one"}}).status_code == 200  # the same value is fine

    assert hub.api(hub.admin_session(), "PUT", "groups/no-such-group-x/policy", json={}).status_code == 404
    r = hub.api(hub.admin_session(), "PUT", f"groups/{group}/policy", data=b"{not json")
    assert r.status_code == 400
    audit = (hub.data_dir / "audit.log").read_text()
    assert '"outcome": "refused 400"' in audit and "env.JUPYTERHUB_API_TOKEN" in audit


def test_policy_scopes(hub):
    group = _group(hub, "scoped")
    name, session = hub.new_user("nopol")
    assert _put(hub, group, {"memory_mb": 99999}, session=session).status_code == 403
    assert hub.api(session, "GET", f"groups/{group}/policy").status_code == 403
    assert hub.api(session, "GET", "policies").status_code == 403
    assert session.get(hub.hub_url + "policies").status_code == 403
    # tokens are checked with has_scope semantics: only an unfiltered admin:groups (or the
    # custom policy scopes, which JupyterHub's admin role cannot hold) grants the action
    admin = hub.admin_session()
    narrow = hub.token_for(hub.admin, ["read:users"])
    filtered = hub.token_for(hub.admin, [f"admin:groups!group={group}"])
    full = hub.token_for(hub.admin, ["admin:groups"])
    assert hub.api(None, "GET", f"groups/{group}/policy", token=narrow).status_code == 403
    r = _put(hub, group, {"memory_mb": 99999}, token=filtered)
    assert r.status_code == 403 and "custom:policies:write" in r.json()["message"]
    assert hub.api(admin, "GET", f"groups/{group}/policy").json()["policy"] == {}
    r = _put(hub, group, {"memory_mb": 3000}, token=full)
    assert r.status_code == 200, r.text
    assert hub.api(None, "GET", f"groups/{group}/policy", token=full).json()["policy"] == {"memory_mb": 3000}
