"""A user signs up, logs in and starts a lab; what Docker reports is what the platform promises."""

from __future__ import annotations

from harness import engine

from stellars_hub import naming


def _inspect(name):
    return engine().api.inspect_container(naming.container_name(name))


def test_signup_login_start_inspect_stop_and_reuse_volumes(hub):
    name, session = hub.new_user("life.")  # a '.' in the name exercises the escaping
    hub.start_server(session, name)

    info = _inspect(name)
    escaped = naming.escape_name(name)
    assert info["Name"] == f"/jupyterlab-{escaped}"
    mounts = {m["Destination"]: m["Name"] for m in info["Mounts"]}
    assert mounts == {
        "/home": f"jupyterlab-{escaped}_home",
        "/home/lab/workspace": f"jupyterlab-{escaped}_workspace",
        "/home/lab/.cache": f"jupyterlab-{escaped}_cache",
        "/mnt/shared": "jupyterhub_shared",
    }
    env = dict(e.split("=", 1) for e in info["Config"]["Env"])
    for key, value in {
        "JUPYTERHUB_SERVICE_MLFLOW": "1",
        "JUPYTERHUB_SERVICE_TENSORBOARD": "1",
        "JUPYTERHUB_SERVICE_RESOURCES_MONITOR": "1",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "MLFLOW_PORT": "5000",
        "ENABLE_GPU_SUPPORT": "0",
        "JUPYTERHUB_USER": name,
    }.items():
        assert env.get(key) == value, key
    assert "TENSORBOARD_LOGDIR" in env and "MLFLOW_TRACKING_URI" in env
    assert info["HostConfig"]["NetworkMode"] == "host"

    # the lab answers through the hub's proxy
    token = hub.token_for(name)
    r = hub.lab(name, "GET", "api/status", token)
    assert r.status_code == 200 and "started" in r.json()

    # write a file into the workspace through the lab's own contents API
    r = hub.lab(name, "PUT", "api/contents/kept.txt", token,
                json={"type": "file", "format": "text", "content": "still here"})
    assert r.status_code in (200, 201), r.text

    hub.stop_server(session, name)
    assert not engine().containers.list(all=True, filters={"name": f"^/jupyterlab-{escaped}$"})
    volumes = {v.name for v in engine().volumes.list(filters={"name": f"jupyterlab-{escaped}_"})}
    assert volumes == {f"jupyterlab-{escaped}_{k}" for k in ("home", "workspace", "cache")}

    hub.start_server(session, name)
    out = engine().containers.get(f"jupyterlab-{escaped}").exec_run(["cat", "/home/lab/workspace/kept.txt"])
    assert out.output.decode() == "still here"


def test_lab_runs_as_non_root(hub):
    name, session = hub.new_user("nr")
    hub.start_server(session, name)
    out = engine().containers.get(naming.container_name(name)).exec_run(["id", "-u"])
    assert out.output.decode().strip() != "0"


def _spawn_outcome(hub, session, name) -> str:
    """The message a browser sees for a start: the API's answer, or its progress stream's end."""
    import json

    r = hub.api(session, "POST", f"users/{name}/server")
    if r.status_code >= 400:
        return r.text
    with hub.api(session, "GET", f"users/{name}/server/progress", stream=True,
                 headers={"Accept": "text/event-stream"}) as stream:
        for line in stream.iter_lines(decode_unicode=True):
            if line and line.startswith("data:"):
                event = json.loads(line[5:])
                if event.get("ready") or event.get("failed"):
                    return event.get("message", "")
    return ""


def test_lab_that_exits_at_start_fails_its_spawn_with_its_own_output(make_hub):
    hub = make_hub()
    name, session = hub.new_user("exits")
    hub.start_server(session, name)
    # a server config in the persistent home volume that makes the lab exit at its next start
    out = engine().containers.get(naming.container_name(name)).exec_run(
        ["sh", "-c", "mkdir -p /home/lab/.jupyter && "
         "echo 'raise SystemExit(\"lab refuses to start\")' > /home/lab/.jupyter/jupyter_server_config.py"])
    assert out.exit_code == 0
    hub.stop_server(session, name)

    message = _spawn_outcome(hub, session, name)
    assert "the lab container stopped before it answered" in message, message
    assert "lab refuses to start" in message, message
    model = hub.wait_server(session, name, ready=False, timeout=120)
    assert not model.get("pending"), model
