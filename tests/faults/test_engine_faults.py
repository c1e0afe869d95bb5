"""Faults around the hub rather than in it: a lab killed from outside, the engine restarted under
running labs, the proxy killed. Labs run on their own bridge networks here (network isolation,
as in the compose stack), so what a dead lab leaves behind includes its network. One lab is
started for the module and goes through every fault in turn.

The engine restart is played at the gate: the engine is shared by every test run and the
Kubernetes test cluster runs on it, so the real one is never restarted. What the hub meets is
what a restart does to it: the engine's socket goes away, the engine stops every lab (as its
shutdown does: the stop signal, then a kill), and the socket comes back with the labs exited.
A second dockerd of our own would restart for real, but it needs its own containerd and the
500 MB lab image loaded into it on every run, to show the hub nothing more than this."""

from __future__ import annotations

import os
import signal
import time

import pytest
from faultkit import ISOLATED_LABS, NET, assert_hub_matches_engine, hub_labs, hub_networks, server_running
from harness import engine
from survival import survives

from stellars_hub import naming

HUB_ENV = ISOLATED_LABS


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


@pytest.fixture(scope="module")
def lab_user(hub):
    """(name, session, token) of a user whose lab runs, with a file in it."""
    name, session = hub.new_user("lk")
    hub.start_server(session, name, timeout=180)
    token = hub.token_for(name)
    _put_file(hub, name, token, f"{name}'s")
    return name, session, token


@survives("proxy-killed")
def test_proxy_killed_routes_are_restored(hub, lab_user):
    name, session, token = lab_user
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


@survives("lab-killed")
def test_lab_killed_from_outside_leaves_nothing_behind(hub, lab_user):
    name, session, token = lab_user
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
    assert hub.lab(name, "GET", "api/contents/kept.txt", token).json()["content"] == f"{name}'s"
    assert_hub_matches_engine(hub)


@survives("engine-restart")
def test_engine_restarted_under_running_labs(hub, lab_user):
    other, other_session = hub.new_user("er")
    hub.start_server(other_session, other, timeout=180)
    tokens = {lab_user[0]: lab_user[2], other: hub.token_for(other)}
    _put_file(hub, other, tokens[other], f"{other}'s")
    users = [lab_user[:2], (other, other_session)]
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
