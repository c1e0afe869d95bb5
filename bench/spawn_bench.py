"""Hub spawn (the lab answering through the proxy) against a bare `docker run` of the image,
with the breakdown of both (bench/phases.py: hub log, engine record, lab log)."""

from __future__ import annotations

import json
import time

import requests

from .common import median, running_hub, wait_answering  # first: puts tests/ on the path

from harness import LAB_IMAGE, engine, free_port  # noqa: E402  (isort: skip)

from stellars_hub import naming

from .phases import bare_breakdown, hub_events, lab_marks, median_phases, spawn_breakdown

ROUNDS = 3
_LAB_CONFIG: dict = {}  # the hub-spawned lab's container config, run bare for comparison


def _bare_run() -> tuple[float, dict]:
    port = free_port()
    t0 = time.time()
    c = engine().containers.run(
        LAB_IMAGE,
        ["jupyter", "server", "--ip=127.0.0.1", f"--port={port}", "--IdentityProvider.token="],
        network_mode="host",
        detach=True,
    )
    try:
        wait_answering(lambda: requests.get(f"http://127.0.0.1:{port}/api", timeout=2))
        t1 = time.time()
        return t1 - t0, bare_breakdown(lab_marks(c), t0, t1)
    finally:
        c.remove(force=True)


def _bare_singleuser(config: dict) -> tuple[float, dict]:
    """The hub's own lab command and environment (``jupyterhub-singleuser``), started bare on a
    new port while the hub runs: what the lab itself costs, with its check-in but no hub step."""
    port = free_port()
    env = [e for e in config["Env"] if not e.startswith("JUPYTERHUB_SERVICE_URL=")]
    old_url = next(e for e in config["Env"] if e.startswith("JUPYTERHUB_SERVICE_URL=")).split("=", 1)[1]
    prefix = next(e for e in config["Env"] if e.startswith("JUPYTERHUB_SERVICE_PREFIX=")).split("=", 1)[1]
    env.append("JUPYTERHUB_SERVICE_URL=" + old_url.rsplit(":", 1)[0] + f":{port}{prefix}")
    t0 = time.time()
    c = engine().containers.run(LAB_IMAGE, config["Cmd"], environment=env, network_mode="host", detach=True)
    try:
        wait_answering(lambda: requests.get(f"http://127.0.0.1:{port}{prefix}api", timeout=2))
        t1 = time.time()
        return t1 - t0, bare_breakdown(lab_marks(c), t0, t1)
    finally:
        c.remove(force=True)


def follow_progress(hub, session, name, timeout: float = 300) -> None:
    """Read the spawn's progress event stream until it reports ready, as the spawn page does
    (polling the lab's URL instead would send every look through the proxy to the hub)."""
    headers = {"Accept": "text/event-stream"}
    with hub.api(session, "GET", f"users/{name}/server/progress", headers=headers, stream=True, timeout=timeout) as r:
        assert r.status_code == 200, r.text
        for line in r.iter_lines(decode_unicode=True):
            if line and line.startswith("data:"):
                event = json.loads(line[5:])
                if event.get("ready"):
                    return
                if event.get("failed"):
                    raise AssertionError(f"spawn of {name} failed: {event.get('message')}")
    raise AssertionError(f"progress stream of {name} ended without ready")


def hub_spawn(hub, session, name, token) -> tuple[float, dict]:
    """POST the spawn as the home page does, follow its progress stream while it is pending,
    then check that the lab answers through the proxy."""
    t0 = time.time()
    r = hub.api(session, "POST", f"users/{name}/server")
    assert r.status_code in (201, 202), r.text
    if r.status_code == 202:
        follow_progress(hub, session, name)
    wait_answering(lambda: hub.lab(name, "GET", "api/status", token), deadline_s=300)
    t1 = time.time()
    container = engine().containers.get(naming.container_name(name))
    _LAB_CONFIG.update(container.attrs["Config"])
    return t1 - t0, spawn_breakdown(hub_events(hub.log_text(), t0), name, lab_marks(container), t0, t1)


def run():
    with running_hub(extra_args=["--debug"]) as hub:
        name, session = hub.new_user("bench")
        token = hub.token_for(name)
        hub_times, bare_times, hub_phases, bare_phases, su_times, su_phases = [], [], [], [], [], []
        for _ in range(ROUNDS):
            elapsed, phases = hub_spawn(hub, session, name, token)
            hub_times.append(elapsed)
            hub_phases.append(phases)
            hub.stop_server(session, name)
            elapsed, phases = _bare_run()
            bare_times.append(elapsed)
            bare_phases.append(phases)
            elapsed, phases = _bare_singleuser(_LAB_CONFIG)
            su_times.append(elapsed)
            su_phases.append(phases)
    hub_s, bare_s, su_s = median(hub_times), median(bare_times), median(su_times)
    return [
        (
            "hub spawn / bare docker run",
            hub_s / bare_s,
            f"median of {ROUNDS}: hub {hub_s:.2f} s, bare {bare_s:.2f} s; 1.0 = no hub overhead",
            "<= 1.3",
            {
                "hub spawn (median per phase)": median_phases(hub_phases),
                "bare docker run, jupyter server (median per phase)": median_phases(bare_phases),
                f"bare docker run of the hub's own lab command, jupyterhub-singleuser ({su_s:.2f} s; "
                f"hub spawn / this = {hub_s / su_s:.2f})": median_phases(su_phases),
                "what the ratio can reach (medians)": {
                    "hub's own share (hub spawn - bare run of the lab's own command)": hub_s - su_s,
                    "the lab command's own extra (jupyterhub-singleuser - jupyter server)": su_s - bare_s,
                    "the lab command alone: bare jupyterhub-singleuser / bare jupyter server": f"{su_s / bare_s:.2f}",
                },
            },
        )
    ]
