"""GPU: the probe on the real engine (no NVIDIA runtime here) and both hub modes.

This engine has no NVIDIA runtime, so mode 2 must decide "off" with that reason and start no
probe container; mode 1 must put the GPU request into the lab's container configuration, and
the spawn must then fail with a clear error instead of hanging."""

from __future__ import annotations

import json
import time

import pytest
import requests
from enginegate import EngineGate, held_at_start
from harness import LAB_IMAGE, RUN_PREFIX, engine

from stellars_hub import naming
from stellars_hub.backends.docker.runtime import DockerRuntime

PROBE = naming.GPU_PROBE_CONTAINER


def _probe_containers(name_prefix: str) -> list[str]:
    return [c.name for c in engine().containers.list(all=True, filters={"name": name_prefix})]


def _created_since(since: float, name_prefix: str) -> list[str]:
    events = engine().api.events(
        since=int(since) - 1, until=int(time.time()) + 1, decode=True, filters={"type": "container", "event": "create"}
    )
    return [
        e["Actor"]["Attributes"].get("name", "")
        for e in events
        if e["Actor"]["Attributes"].get("name", "").startswith(name_prefix)
    ]


# -- the probe itself, on the real engine ----------------------------------------------------
@pytest.mark.parametrize("case", ["no-runtime", "image-missing", "command-failed", "timeout"])
async def test_probe_reports_each_reason_and_leaves_no_container(case):
    name = f"{PROBE}-{RUN_PREFIX}-{case}"
    args = {
        # the real configuration: this engine has no "nvidia" runtime
        "no-runtime": dict(image=LAB_IMAGE, runtime="nvidia", command=("nvidia-smi", "-L"), timeout=30),
        # runc stands in for a runtime the engine has, to reach the later steps
        "image-missing": dict(
            image=f"stellars-no-such-image-{RUN_PREFIX}:none", runtime="runc", command=("nvidia-smi", "-L"), timeout=20
        ),
        "command-failed": dict(image=LAB_IMAGE, runtime="runc", command=("nvidia-smi", "-L"), timeout=30),
        "timeout": dict(image=LAB_IMAGE, runtime="runc", command=("sleep", "120"), timeout=3),
    }[case]
    since = time.time()
    result = await DockerRuntime().probe_gpu(container_name=name, **args)
    assert result.available is False
    assert result.reason.startswith(case.replace("-", " ")), result.reason
    assert _probe_containers(name) == []
    created = _created_since(since, name)
    assert created == ([] if case in ("no-runtime", "image-missing") else [name])


async def test_probe_succeeds_when_the_command_does():
    # the success path, with a command that exists in the lab image standing in for nvidia-smi
    name = f"{PROBE}-{RUN_PREFIX}-ok"
    result = await DockerRuntime().probe_gpu(
        LAB_IMAGE, name, timeout=30, runtime="runc", command=("sh", "-c", "echo 'GPU 0: Test (UUID: x)'")
    )
    assert result.available is True and "1 GPU" in result.reason
    assert _probe_containers(name) == []


# -- the hub's two modes ---------------------------------------------------------------------
def _decision_line(hub, timeout=60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = [line for line in hub.log_text().splitlines() if "GPU detection" in line]
        if lines:
            return "\n".join(lines)
        time.sleep(0.3)
    raise AssertionError("no GPU detection line in the hub log")


def test_mode_2_decides_off_without_probe_container_and_labs_get_no_gpu(make_hub):
    since = time.time()
    hub = make_hub(JUPYTERHUB_GPU_ENABLED="2")
    line = _decision_line(hub)
    assert line.count("\n") == 0  # one line
    assert "off - no runtime" in line and "'nvidia'" in line
    # the hub's probe container has exactly this name (the probe tests above use suffixes)
    assert PROBE not in _probe_containers(PROBE) and PROBE not in _created_since(since, PROBE)

    name, session = hub.new_user("gpu2")
    hub.start_server(session, name)
    info = engine().api.inspect_container(naming.container_name(name))
    assert not info["HostConfig"].get("DeviceRequests")
    env = dict(e.split("=", 1) for e in info["Config"]["Env"])
    # "none" also hides GPUs on an engine whose default runtime is NVIDIA's (the same on both backends)
    assert env["ENABLE_GPU_SUPPORT"] == "0" and env["NVIDIA_VISIBLE_DEVICES"] == "none"


def test_mode_1_requests_all_gpus_and_the_failed_spawn_says_why(make_hub, tmp_path):
    gate = EngineGate(str(tmp_path / "engine.sock")).open()
    try:
        hub = make_hub(JUPYTERHUB_GPU_ENABLED="1", DOCKER_HOST=gate.docker_host)
        assert "GPU detection" not in hub.log_text()  # nothing probed in mode 1
        name, session = hub.new_user("gpu1")
        # the container as the hub created it, its start held back (a failed start removes it)
        info, r = held_at_start(
            gate,
            lambda: hub.api(session, "POST", f"users/{name}/server", timeout=120),
            lambda: engine().api.inspect_container(naming.container_name(name)),
        )
        assert r.status_code in (202, 500), r.text  # fails fast (500) or after the slow-spawn answer (202)

        # the spawn ends (no hang) and JupyterHub reports the reason on the progress stream
        with hub.api(session, "GET", f"users/{name}/server/progress", stream=True, timeout=120) as progress:
            events = [json.loads(line[len(b"data:") :]) for line in progress.iter_lines() if line.startswith(b"data:")]
        failure = events[-1]
        assert failure.get("failed") is True, events
        assert "could not start with a GPU" in failure["message"]
        assert "JUPYTERHUB_GPU_ENABLED" in failure["message"]
        assert not hub.api(session, "GET", f"users/{name}").json()["servers"]
        # the failed start left no container behind
        deadline = time.monotonic() + 60
        while engine().containers.list(all=True, filters={"name": f"^/{naming.container_name(name)}$"}):
            assert time.monotonic() < deadline, "the failed lab's container is still there"
            time.sleep(0.5)
        assert requests.get(hub.hub_url + "health", timeout=10).status_code == 200  # the hub is fine
    finally:
        gate.close()

    # the container was created with the GPU request (it could not start without a GPU)
    assert info["State"]["Status"] == "created"
    requests_ = info["HostConfig"]["DeviceRequests"]
    assert len(requests_) == 1
    assert {k: requests_[0][k] for k in ("Driver", "Count", "Capabilities")} == {
        "Driver": "nvidia",
        "Count": -1,
        "Capabilities": [["gpu"]],
    }  # all GPUs
    env = dict(e.split("=", 1) for e in info["Config"]["Env"])
    assert env["ENABLE_GPU_SUPPORT"] == "1" and env["NVIDIA_VISIBLE_DEVICES"] == "all"
