"""Faults around the hub rather than in it: a lab killed from outside, the engine restarted under
running labs, the proxy killed. Labs run on their own bridge networks here (network isolation,
as in the compose stack), so what a dead lab leaves behind includes its network.

The engine restart is played at the gate: the engine is shared by every test run and the
Kubernetes test cluster runs on it, so the real one is never restarted. What the hub meets is
what a restart does to it: the engine's socket goes away, the engine stops every lab (as its
shutdown does: the stop signal, then a kill), and the socket comes back with the labs exited.
A second dockerd of our own would restart for real, but it needs its own containerd and the
500 MB lab image loaded into it on every run, to show the hub nothing more than this."""

from __future__ import annotations

import os
import signal
import socket
import time

from faultkit import assert_hub_matches_engine, hub_labs, hub_networks, server_running
from harness import RUN_PREFIX, engine
from survival import survives

from stellars_hub import naming

NET = f"{RUN_PREFIX}faultnet"
# the hub runs on the host: labs reach it by this machine's name, mapped to their network's gateway
HUB_ENV = {"JUPYTERHUB_NETWORK_NAME": NET, "JUPYTERHUB_HUB_HOST": socket.gethostname(),
           "JUPYTERHUB_LAB_NETWORK_ISOLATION": "1"}


def _put_file(hub, name, token, text):
    r = hub.lab(name, "PUT", "api/contents/kept.txt", token, json={"type": "file", "format": "text", "content": text})
    assert r.status_code in (200, 201), r.text


def _wait_stopped(hub, session, name, timeout=60):
    """Until the hub says the server is stopped and done stopping (its post-stop step ran)."""
    deadline = time.monotonic() + timeout
    while True:
        model = hub.api(session, "GET", f"users/{name}").json()
        if not model.get("servers") and not model.get("pending"):
            return
        assert time.monotonic() < deadline, f"the hub still says {name}'s server runs: {model}"
        time.sleep(0.5)


@survives("lab-killed")
def test_lab_killed_from_outside_leaves_nothing_behind(hub):
    name, session = hub.new_user("lk")
    hub.start_server(session, name, timeout=180)
    token = hub.token_for(name)
    _put_file(hub, name, token, "kept")
    lab = naming.container_name(name)
    network = f"{NET}-{naming.escape_name(name)}"
    assert network in hub_networks(hub)

    engine().containers.get(lab).kill()  # as the OOM killer ending the lab's main process would
    _wait_stopped(hub, session, name)
    assert_hub_matches_engine(hub)
    assert lab not in hub_labs(hub) and network not in hub_networks(hub)
    # the user's own dead container does not hold the volumes: reset works at once
    r = hub.api(session, "DELETE", f"users/{name}/manage-volumes", json={"volumes": ["cache"]})
    assert r.status_code == 200 and r.json()["complete"], r.text

    hub.start_server(session, name, timeout=180)
    assert hub.lab(name, "GET", "api/contents/kept.txt", token).json()["content"] == "kept"
    assert_hub_matches_engine(hub)


@survives("engine-restart")
def test_engine_restarted_under_running_labs(hub):
    users = [hub.new_user("er"), hub.new_user("es")]
    tokens = {}
    for name, session in users:
        hub.start_server(session, name, timeout=180)
        tokens[name] = hub.token_for(name)
        _put_file(hub, name, tokens[name], f"{name}'s")
    labs = [engine().containers.get(naming.container_name(name)) for name, _ in users]

    hub.gate.close()  # the engine goes away ...
    try:
        for lab in labs:  # ... stopping its labs on the way, as a shutting-down engine does
            lab.stop(timeout=10)
        time.sleep(5)  # the hub polls its labs meanwhile and cannot reach the engine
        for name, session in users:  # a lab the hub cannot look at is not taken for dead
            assert server_running(hub, session, name)
    finally:
        hub.gate.open()  # ... and is back, with the labs exited

    for name, session in users:
        _wait_stopped(hub, session, name)
    assert_hub_matches_engine(hub)
    assert not {f"{NET}-{naming.escape_name(name)}" for name, _ in users} & set(hub_networks(hub))

    name, session = users[0]
    hub.start_server(session, name, timeout=180)
    assert hub.lab(name, "GET", "api/contents/kept.txt", tokens[name]).json()["content"] == f"{name}'s"
    assert_hub_matches_engine(hub)


@survives("proxy-killed")
def test_proxy_killed_routes_are_restored(hub):
    name, session = hub.new_user("px")
    hub.start_server(session, name, timeout=180)
    token = hub.token_for(name)
    assert hub.lab(name, "GET", "api/status", token).status_code == 200
    pid = int((hub.data_dir / "jupyterhub-proxy.pid").read_text())

    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while True:
        try:
            if hub.lab(name, "GET", "api/status", token).status_code == 200:
                break
        except OSError:
            pass  # nothing listens until the hub started its proxy again
        assert time.monotonic() < deadline, "the lab did not answer through a new proxy"
        time.sleep(0.5)
    assert int((hub.data_dir / "jupyterhub-proxy.pid").read_text()) != pid
    assert hub.api(session, "GET", f"users/{name}").status_code == 200  # the hub through the proxy too
    assert_hub_matches_engine(hub)
