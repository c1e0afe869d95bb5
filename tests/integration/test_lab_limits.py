"""Bounded labs by default, on the real engine: the settings' memory, CPU and process limits,
no-new-privileges and the dropped capabilities are on the container; a lab that runs out of
memory loses the process, a fork bomb stops at the process limit, and meanwhile the hub and the
other labs keep answering."""

from __future__ import annotations

import threading
import time

import requests
from harness import engine

from stellars_hub import naming

MEMORY_MB, CPUS, PIDS = 256, 0.5, 128
HUB_ENV = {
    "JUPYTERHUB_LAB_MEMORY_LIMIT": str(MEMORY_MB),
    "JUPYTERHUB_LAB_CPU_LIMIT": str(CPUS),
    "JUPYTERHUB_LAB_PIDS_LIMIT": str(PIDS),
}

FORK_BOMB = r"""
import os, time
children = []
try:
    while len(children) < 100000:
        pid = os.fork()
        if pid == 0:
            time.sleep(120)
            os._exit(0)
        children.append(pid)
except OSError as exc:
    print("stopped at", len(children), exc.errno, flush=True)
time.sleep(15)  # hold the limit while the test checks the hub and the other lab
for pid in children:
    os.kill(pid, 9)
for pid in children:
    os.waitpid(pid, 0)
"""

EAT_MEMORY = "blocks = []\nwhile True:\n    blocks.append(bytearray(16 * 1024 * 1024))\n"


def _container(name):
    return engine().containers.get(naming.container_name(name))


def _answers(hub, name, token) -> bool:
    return hub.lab(name, "GET", "api", token=token).status_code == 200


def test_default_limits_are_on_the_container_and_hold(hub):
    alice, alice_s = hub.new_user("lima")
    bob, bob_s = hub.new_user("limb")
    hub.start_server(alice_s, alice)
    hub.start_server(bob_s, bob)
    alice_token, bob_token = hub.token_for(alice), hub.token_for(bob)

    info = engine().api.inspect_container(naming.container_name(alice))
    host = info["HostConfig"]
    assert host["Memory"] == MEMORY_MB * 1024 * 1024
    assert host["MemorySwap"] == MEMORY_MB * 1024 * 1024  # no swap on top of the limit
    assert host["NanoCpus"] == int(CPUS * 1e9)
    assert host["PidsLimit"] == PIDS
    assert host["CpuShares"] == 256  # JUPYTERHUB_LAB_CPU_SHARES's default: below the hub's weight
    assert "no-new-privileges:true" in host["SecurityOpt"]
    assert "NET_RAW" in host["CapDrop"]
    assert host["Privileged"] is False
    env = dict(e.split("=", 1) for e in info["Config"]["Env"])
    assert env["MEM_LIMIT"] == str(MEMORY_MB * 1024 * 1024)
    assert info["Config"]["Labels"].get("stellars.lab-spec")

    lab = _container(alice)
    # even root inside the lab has no raw sockets, and cannot gain privileges through setuid
    raw = lab.exec_run(
        ["python3", "-c", "import socket; socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)"],
        user="root",
    )
    assert raw.exit_code != 0 and b"Operation not permitted" in raw.output, raw.output
    status = lab.exec_run(["grep", "NoNewPrivs", "/proc/self/status"]).output.decode()
    assert status.split()[-1] == "1", status

    # memory: the greedy process dies inside the lab; the lab's server, the hub and bob live on
    eat = lab.exec_run(["python3", "-c", EAT_MEMORY])
    assert eat.exit_code == 137, (eat.exit_code, eat.output[-300:])  # SIGKILL from the OOM killer
    lab.reload()
    assert lab.status == "running"  # the container (and its server) survived its process's death
    assert _answers(hub, alice, alice_token)
    assert _answers(hub, bob, bob_token)
    assert hub.api(hub.admin_session(), "GET", "users").status_code == 200

    # processes: a fork bomb stops at the limit; meanwhile the hub and bob's lab answer
    result = {}
    bomb = threading.Thread(target=lambda: result.update(r=lab.exec_run(["python3", "-c", FORK_BOMB])))
    bomb.start()
    time.sleep(6)
    try:
        top = lab.top(ps_args="-e -o pid")  # the engine's view of the lab's processes
        assert len(top["Processes"]) <= PIDS
        assert _answers(hub, bob, bob_token)
        assert requests.get(hub.hub_url + "api/", timeout=30).status_code == 200
    finally:
        bomb.join(180)
    out = result["r"].output.decode()
    assert "stopped at" in out, out
    forked = int(out.split("stopped at")[1].split()[0])
    assert 0 < forked < PIDS, out
    # the lab recovers once the bomb is gone
    deadline = time.monotonic() + 60
    while not _answers(hub, alice, alice_token):
        assert time.monotonic() < deadline, "alice's lab did not answer again after the fork bomb"
        time.sleep(1)
    hub.stop_server(alice_s, alice)
    hub.stop_server(bob_s, bob)
