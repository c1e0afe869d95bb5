"""What every fault scenario shares: a real hub that can be SIGKILLed and started again on its
data directory, a gate in front of the engine that holds one engine request back (so the hub is
killed exactly in the middle of an operation), and the checks every scenario ends with: the
hub's view matches the engine's, the user can act again, no file or record is lost.

A scenario is a test marked ``@survives("key")`` with its row in ``survival.SCENARIOS`` (the
README's "what survives what" table is generated from them). Adding one, e.g. a restore killed
half-way: a row, then a test that sets the state up, calls ``killed_during(hub, "<engine
request>", action)`` and ends with ``assert_hub_matches_engine``.
"""

from __future__ import annotations

import io
import os
import signal
import socket
import tarfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import docker
import requests
from enginegate import EngineGate
from harness import LAB_IMAGE, RUN_PREFIX, Hub, engine

from stellars_hub import naming
from stellars_hub.runtime.base import HUB_LABEL

# the settings of the hub the modules with no settings of their own share (conftest.py): labs on
# their own bridge networks (network isolation, as in the compose stack), so what a dead lab
# leaves behind includes its network; the hub runs on the host and labs reach it by this
# machine's name, mapped to their network's gateway
NET = f"{RUN_PREFIX}faultnet"
ISOLATED_LABS = {
    "JUPYTERHUB_NETWORK_NAME": NET,
    "JUPYTERHUB_HUB_HOST": socket.gethostname(),
    "JUPYTERHUB_LAB_NETWORK_ISOLATION": "1",
}


@dataclass
class FaultHub(Hub):
    gate: EngineGate | None = None
    _groups: list = field(default_factory=list)  # process groups of killed hubs (their proxy lives on)

    @property
    def hub_id(self) -> str:
        return (self.data_dir / "hub-id").read_text().strip()

    def kill(self) -> None:
        """SIGKILL the hub process alone, as a crash or the OOM killer would: its proxy lives on."""
        assert self.proc is not None and self.proc.poll() is None, "the hub is not running"
        self._groups.append(self.proc.pid)
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(30)
        self._admin_session = None  # its cookie is still good, but a fresh login proves the hub's state

    def restart(self) -> FaultHub:
        self.start(timeout=120)
        return self

    def stop(self) -> None:
        super().stop()
        for group in self._groups:  # a proxy a killed hub left, if its successor did not end it
            try:
                os.killpg(group, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _send(action, outcome: dict) -> None:
    try:
        outcome["response"] = action()
    except requests.RequestException as exc:  # the hub died under it
        outcome["error"] = exc


def killed_during(
    hub: FaultHub, engine_request: str, action, forward: bool = True, settle=None, timeout: float = 120
) -> dict:
    """Send ``action`` (a request to the hub) and SIGKILL the hub while the engine request
    matching ``engine_request`` ("METHOD /path" regular expression) is held at the gate; the
    held request then reaches the engine (``forward``: the engine finishes what it was asked)
    or is dropped; once ``settle()`` (if given) says the engine is done, the hub is started
    again. What the action's caller got."""
    assert hub.gate is not None
    held = hub.gate.hold(engine_request)
    outcome: dict = {}
    sender = threading.Thread(target=_send, args=(action, outcome), daemon=True)
    sender.start()
    if not held.wait(timeout):
        hub.gate.release()
        raise AssertionError(f"the hub never sent {engine_request!r} to the engine: {outcome}")
    hub.kill()
    hub.gate.release(forward)
    sender.join(30)
    deadline = time.monotonic() + timeout
    while settle is not None and not settle():
        assert time.monotonic() < deadline, "the engine did not finish what it was asked"
        time.sleep(0.2)
    hub.restart()
    return outcome


def killed_when(hub: FaultHub, happened, action, restart: bool = True, timeout: float = 60) -> dict:
    """Send ``action`` and SIGKILL the hub as soon as ``happened()`` (a look at the hub's files
    or the engine) is true, then (``restart``) start it again."""
    outcome: dict = {}
    sender = threading.Thread(target=_send, args=(action, outcome), daemon=True)
    sender.start()
    deadline = time.monotonic() + timeout
    while not happened():
        assert time.monotonic() < deadline, f"what the kill waits for did not happen: {outcome}"
        assert sender.is_alive() or not outcome, f"the request ended before the kill: {outcome}"
        time.sleep(0.05)
    hub.kill()
    sender.join(30)
    if restart:
        hub.restart()
    return outcome


def hub_died_under(outcome: dict) -> bool:
    """The caller of the interrupted request got no answer from the hub: its connection broke,
    or the proxy (which outlives the hub) said the hub is gone."""
    response = outcome.get("response")
    return response is None or response.status_code in (502, 503)


# -- the state scenarios check --------------------------------------------------------------
def server_running(hub: Hub, session, name: str, server: str = "") -> bool:
    """The hub's view: the user's server is up (ready) according to its API."""
    model = hub.api(session, "GET", f"users/{name}").json()
    found = model.get("servers", {}).get(server)
    return bool(found and found.get("ready"))


def hub_labs(hub: FaultHub) -> dict[str, str]:
    """The engine's view: this hub's lab containers (name -> state), whatever their state."""
    found = engine().containers.list(all=True, filters={"label": f"{HUB_LABEL}={hub.hub_id}"})
    return {c.name: c.status for c in found}


def hub_networks(hub: FaultHub) -> list[str]:
    return [n.name for n in engine().networks.list(filters={"label": f"{HUB_LABEL}={hub.hub_id}"})]


def hub_servers(hub: Hub) -> set[str]:
    """The hub's view: the labs (container names) of every server its API says is up."""
    users = hub.api(hub.admin_session(), "GET", "users", params={"limit": 1000}).json()
    return {
        naming.server_container_name(u["name"], server)
        for u in users
        for server, model in (u.get("servers") or {}).items()
        if model.get("ready")
    }


def assert_hub_matches_engine(hub: FaultHub, timeout: float = 60) -> None:
    """Every server the hub says is up has its lab running on the engine, and the engine has no
    other lab of this hub (running or exited) and no lab network of it that no lab is on. The
    hub settles things in the background after a start (its servers' check, the start-up
    sweep, a dead lab's stop): wait for that, not longer."""
    deadline = time.monotonic() + timeout
    while True:
        running, labs, networks = hub_servers(hub), hub_labs(hub), hub_networks(hub)
        on_networks = {net for name in labs for net in _networks_of(name)}
        problems = []
        if set(labs) != running or any(state != "running" for state in labs.values()):
            problems.append(f"the hub says {sorted(running)} run, the engine has {labs}")
        if set(networks) - on_networks:
            problems.append(f"lab networks no lab is on: {sorted(set(networks) - on_networks)}")
        if not problems:
            return
        if time.monotonic() > deadline:
            raise AssertionError("; ".join(problems))
        time.sleep(0.5)


def _networks_of(container: str) -> list[str]:
    try:
        return list(engine().api.inspect_container(container)["NetworkSettings"]["Networks"])
    except docker.errors.NotFound:
        return []


# -- files in volumes, without a lab ----------------------------------------------------------
def write_volume_file(volume: str, path: str, text: str) -> None:
    """Put a file into a (new or existing) volume through the engine's archive API: no container
    runs, so no lab start is spent on setting a scenario up."""
    client = engine()
    client.volumes.create(volume)
    holder = client.containers.create(
        LAB_IMAGE, ["true"], entrypoint=[], network_mode="none", volumes={volume: {"bind": "/v", "mode": "rw"}}
    )
    try:
        data = text.encode()
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            info = tarfile.TarInfo(path)
            info.size, info.uid, info.gid, info.mode = len(data), 1000, 1000, 0o644
            tar.addfile(info, io.BytesIO(data))
        holder.put_archive("/v", buf.getvalue())
    finally:
        holder.remove(force=True)


def volume_exists(volume: str) -> bool:
    try:
        engine().volumes.get(volume)
        return True
    except docker.errors.NotFound:
        return False


def data_file(hub: Hub, name: str) -> Path:
    return hub.data_dir / name
