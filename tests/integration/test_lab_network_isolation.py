"""Labs cannot reach each other: each lab is on its own bridge network, so from alice's lab
bob's lab port is unreachable, while the hub (here on the host, as in the test stack) reaches
both through the proxy. Lab services listen on the lab's loopback."""

from __future__ import annotations

import socket

import docker
from harness import RUN_PREFIX, engine

from stellars_hub import naming

NET = f"{RUN_PREFIX}labnet"
# The test hub runs on the host: its proxy finds it by this machine's own name (which resolves to
# loopback here), and the labs by the same name mapped to their network's gateway.
HUB_ENV = {
    "JUPYTERHUB_NETWORK_NAME": NET,
    "JUPYTERHUB_HUB_HOST": socket.gethostname(),
    "JUPYTERHUB_LAB_NETWORK_ISOLATION": "1",
}

CONNECT = """
import socket, sys
s = socket.socket()
s.settimeout(5)
try:
    s.connect((sys.argv[1], int(sys.argv[2])))
    print("connected")
except OSError as exc:
    print("refused:", exc)
"""


def _address(name) -> tuple[str, dict]:
    info = engine().api.inspect_container(naming.container_name(name))
    networks = info["NetworkSettings"]["Networks"]
    return networks, info


def test_labs_cannot_reach_each_other_but_the_hub_reaches_both(hub):
    alice, alice_s = hub.new_user("neta")
    bob, bob_s = hub.new_user("netb")
    try:
        hub.start_server(alice_s, alice, timeout=180)
        hub.start_server(bob_s, bob, timeout=180)
        a_nets, a_info = _address(alice)
        b_nets, b_info = _address(bob)
        a_net, b_net = naming.escape_name(alice), naming.escape_name(bob)
        assert list(a_nets) == [f"{NET}-{a_net}"] and list(b_nets) == [f"{NET}-{b_net}"]
        bob_ip = b_nets[f"{NET}-{b_net}"]["IPAddress"]
        bob_port = 8888  # the lab server port on a bridge network (DockerSpawner default)

        # the hub reaches both labs (through its proxy, which runs beside it)
        assert hub.lab(alice, "GET", "api").status_code == 200
        assert hub.lab(bob, "GET", "api").status_code == 200

        lab = engine().containers.get(naming.container_name(alice))
        out = lab.exec_run(["python3", "-c", CONNECT, bob_ip, str(bob_port)]).output.decode()
        assert out.startswith("refused"), out
        # the same probe run on bob's own network does connect: the port is open, only alice is cut off
        probe = engine().containers.run(
            a_info["Config"]["Image"],
            ["python3", "-c", CONNECT, bob_ip, str(bob_port)],
            network=f"{NET}-{b_net}",
            remove=True,
            name=f"jupyterlab-{RUN_PREFIX}probe",
        )
        assert probe.decode().startswith("connected"), probe

        env = dict(e.split("=", 1) for e in a_info["Config"]["Env"])
        assert env["MLFLOW_HOST"] == "127.0.0.1"
    finally:
        for name, session in ((alice, alice_s), (bob, bob_s)):
            try:
                hub.stop_server(session, name)
            except AssertionError:
                pass
    # the lab networks go with the labs
    for name in (alice, bob):
        try:
            engine().networks.get(f"{NET}-{naming.escape_name(name)}")
            raise AssertionError(f"network of {name} left behind")
        except docker.errors.NotFound:
            pass
