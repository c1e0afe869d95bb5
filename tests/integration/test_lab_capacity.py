"""Capacity on the real engine: lab networks take small subnets of the platform's own pool (a
pool of two here), a start past the pool or past JUPYTERHUB_MAX_LABS is refused with a message
the user reads and a readiness warning the admin reads, before any container exists, and lab
networks nobody uses are removed (at hub start, at stop, when a lab dies)."""

from __future__ import annotations

import ipaddress
import json
import random
import secrets
import socket
import threading

import docker
import pytest
import requests
from docker.types import IPAMConfig, IPAMPool
from harness import RUN_PREFIX, engine, wait_for

from stellars_hub import naming
from stellars_hub.runtime.base import HUB_LABEL


def readiness(hub, session=None) -> dict:
    """The readiness answer, as an admin's ``session`` reads it (anonymous without one)."""
    r = (session or requests).get(hub.hub_url + "readiness", timeout=20)
    assert r.status_code == 200, r.text  # a full host or pool is a warning: the hub itself works
    return r.json()


def no_lab(name: str, server: str = "") -> bool:
    return not engine().containers.list(all=True, filters={"name": f"^{naming.server_container_name(name, server)}$"})


def network(name: str):
    try:
        return engine().networks.get(name)
    except docker.errors.NotFound:
        return None


def free_pool() -> ipaddress.IPv4Network:
    """A /27 (two lab networks) that no network of the engine touches, for this run alone."""
    used = [
        ipaddress.ip_network(c["Subnet"])
        for n in engine().api.networks()
        for c in (n.get("IPAM") or {}).get("Config") or []
        if ":" not in c.get("Subnet", ":")
    ]
    for _ in range(100):
        pool = ipaddress.IPv4Network(f"10.214.{random.randrange(256)}.{32 * random.randrange(8)}/27")
        if not any(pool.overlaps(u) for u in used):
            return pool
    raise AssertionError("no free /27 in 10.214.0.0/16")


NET = f"{RUN_PREFIX}cap"


@pytest.fixture
def pool_hub(make_hub):
    pool = free_pool()
    first, second = list(pool.subnets(new_prefix=28))
    client = engine()
    hub_id = secrets.token_hex(8)
    # a network that is no lab network inside the pool, a lab network of this hub nobody uses any
    # more (left by its earlier run), and another hub's lab network (never this hub's to remove)
    foreign = client.networks.create(
        f"{RUN_PREFIX}foreign", driver="bridge", ipam=IPAMConfig(pool_configs=[IPAMPool(subnet=str(first))])
    )
    ghost = client.networks.create(
        f"{NET}-ghost",
        driver="bridge",
        labels={"stellars.lab-network": "ghost", HUB_LABEL: hub_id},
        ipam=IPAMConfig(pool_configs=[IPAMPool(subnet=str(second))]),
    )
    others = client.networks.create(
        f"{NET}-others", driver="bridge", labels={"stellars.lab-network": "others", HUB_LABEL: "anotherhub"}
    )
    try:
        hub = make_hub(
            JUPYTERHUB_NETWORK_NAME=NET,
            JUPYTERHUB_HUB_HOST=socket.gethostname(),
            JUPYTERHUB_LAB_NETWORK_ISOLATION="1",
            JUPYTERHUB_LAB_SUBNET_POOL=str(pool),
            extra_args=["--Spawner.poll_interval=2"],  # a lab that dies is noticed within seconds
            hub_id=hub_id,
        )
        yield hub, pool, first, second, foreign.name, ghost.name, others.name
    finally:
        for n in (foreign, ghost, others):
            try:
                n.remove()
            except docker.errors.APIError:
                pass


def test_lab_networks_come_from_the_pool_and_a_start_past_it_says_so(pool_hub):
    hub, pool, first, second, foreign, ghost, others = pool_hub
    admin = hub.admin_session()
    # at start: the hub's stale lab network is gone, the foreign one is named in a readiness
    # warning (a matter of the configuration: anonymous probes, such as make up's, read it too)
    wait_for(lambda: network(ghost) is None, what="the unused lab network removed at hub start")
    warning = wait_for(lambda: readiness(hub).get("warnings", {}).get("lab_networks"), what="the overlap warning")
    assert foreign in warning and str(first) in warning and "JUPYTERHUB_LAB_SUBNET_POOL" in warning
    assert network(others) is not None  # another hub's

    alice, alice_s = hub.new_user("pa")
    bob, bob_s = hub.new_user("pb")
    hub.start_server(alice_s, alice, timeout=180)
    alice_net = network(f"{NET}-{naming.escape_name(alice)}")
    assert [c["Subnet"] for c in alice_net.attrs["IPAM"]["Config"]] == [str(second)]  # the free /28 of the pool
    assert hub.lab(alice, "GET", "api").status_code == 200

    # the pool is used up: bob's start is refused with a message, and nothing of his is left
    r = hub.api(bob_s, "POST", f"users/{bob}/server")
    assert r.status_code == 503, r.text
    message = r.json()["message"]
    assert "no network is free for a new lab" in message and str(pool) in message, message
    assert no_lab(bob) and network(f"{NET}-{naming.escape_name(bob)}") is None
    assert hub.api(bob_s, "GET", f"users/{bob}").json()["server"] is None
    warning = readiness(hub, admin)["warnings"]["lab_networks"]
    assert warning.startswith("a lab could not start") and "used up" in warning
    # a used-up pool tells how many labs run: an anonymous caller reads the overlap only
    assert readiness(hub)["warnings"]["lab_networks"].startswith("JUPYTERHUB_LAB_SUBNET_POOL")
    # the spawn page says the same
    page = bob_s.get(hub.hub_url + f"spawn/{bob}", timeout=60)
    assert "no network is free for a new lab" in page.text

    # alice stops: her network goes, and bob gets its subnet
    hub.stop_server(alice_s, alice)
    assert network(f"{NET}-{naming.escape_name(alice)}") is None
    hub.start_server(bob_s, bob, timeout=180)
    bob_net = f"{NET}-{naming.escape_name(bob)}"
    assert [c["Subnet"] for c in network(bob_net).attrs["IPAM"]["Config"]] == [str(second)]
    assert readiness(hub, admin)["warnings"]["lab_networks"].startswith(
        "JUPYTERHUB_LAB_SUBNET_POOL"
    )  # the overlap only

    # bob's lab dies: JupyterHub stops it without the spawner's stop, the network still goes
    engine().containers.get(naming.container_name(bob)).kill()
    wait_for(lambda: hub.api(bob_s, "GET", f"users/{bob}").json()["server"] is None, what="the dead lab noticed")
    wait_for(lambda: network(bob_net) is None, what="the dead lab's network removed")


@pytest.fixture
def capped_hub(make_hub):
    return make_hub(JUPYTERHUB_MAX_LABS="2", JUPYTERHUB_NAMED_SERVERS="1")


def start_named(hub, session, name, server):
    r = hub.api(session, "POST", f"users/{name}/servers/{server}")
    assert r.status_code in (201, 202), r.text
    wait_for(
        lambda: hub.api(session, "GET", f"users/{name}").json()["servers"].get(server, {}).get("ready"),
        what=f"{name}/{server} ready",
        timeout=180,
    )


REFUSED = "This host already runs as many labs as it can hold (2)"


def test_a_start_past_the_most_labs_at_once_is_refused_on_every_path(capped_hub):
    hub = capped_hub
    admin = hub.admin_session()
    alice, alice_s = hub.new_user("ca")
    bob, bob_s = hub.new_user("cb")
    hub.start_server(alice_s, alice)
    start_named(hub, alice_s, alice, "x")  # a named server holds a place too
    assert "at capacity" in readiness(hub, admin)["warnings"]["labs"]
    assert "warnings" not in readiness(hub)  # how many labs run is nobody's business without a login

    # the API: 503 with the message and a Retry-After
    r = hub.api(bob_s, "POST", f"users/{bob}/server")
    assert r.status_code == 503 and r.json()["message"].startswith(REFUSED), r.text
    assert r.headers.get("Retry-After") == "60"
    # a named server of his, the spawn page and a batch start: the same refusal
    r = hub.api(bob_s, "POST", f"users/{bob}/servers/y")
    assert r.status_code == 503 and r.json()["message"].startswith(REFUSED), r.text
    page = bob_s.get(hub.hub_url + f"spawn/{bob}", timeout=60)
    assert REFUSED in page.text
    batch = hub.api(admin, "POST", "batch", json={"action": "start", "users": [bob]}, stream=True, timeout=300)
    result = [e for e in map(json.loads, filter(None, batch.iter_lines())) if e["event"] == "result"][0]
    assert result["outcome"] == "failed" and REFUSED in json.dumps(result), result
    # nothing of bob's was created
    assert no_lab(bob) and no_lab(bob, "y")
    assert "Refused to start" in hub.log_text()

    # a place frees up: bob starts
    r = hub.api(alice_s, "DELETE", f"users/{alice}/servers/x")
    assert r.status_code in (202, 204), r.text
    wait_for(lambda: "x" not in hub.api(alice_s, "GET", f"users/{alice}").json()["servers"], what="alice/x stopped")
    assert "labs" not in readiness(hub, admin).get("warnings", {})
    hub.start_server(bob_s, bob)

    # one place left, two starts at the same moment: exactly one gets it
    hub.stop_server(alice_s, alice)
    carol, carol_s = hub.new_user("cc")
    dave, dave_s = hub.new_user("cd")
    answers = {}
    go = threading.Barrier(2)

    def start(name, session):
        go.wait()
        answers[name] = hub.api(session, "POST", f"users/{name}/server")

    threads = [threading.Thread(target=start, args=p) for p in ((carol, carol_s), (dave, dave_s))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(a.status_code for a in answers.values())
    assert codes[0] in (201, 202) and codes[1] == 503, {n: a.text for n, a in answers.items()}
