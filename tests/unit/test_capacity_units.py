"""The pure parts of capacity: the lab network pool (parsing, free subnets, overlaps, the
removal of a network no lab is on), admission's count and derived limit, and what a pod asks of the Kubernetes scheduler."""

from __future__ import annotations

import asyncio
from ipaddress import IPv4Network
from types import SimpleNamespace

import pytest

from stellars_hub import settings
from stellars_hub.backends.docker import labnet
from stellars_hub.capacity import admission
from stellars_hub.features import configurables
from stellars_hub.lab.config import Labs
from stellars_hub.lab.spec import SPEC_LABEL
from stellars_hub.runtime.base import NotFound
from stellars_hub.settings import ConfigError


def load(env):
    return settings.load(configurables(), env)


def test_pool_parsing_and_the_setting():
    assert labnet.parse_pool("10.213.0.0/16") == (IPv4Network("10.213.0.0/16"),)
    assert labnet.parse_pool(" 10.1.0.0/24 , 10.2.0.0/20") == (IPv4Network("10.1.0.0/24"), IPv4Network("10.2.0.0/20"))
    for bad, said in [
        ("10.213.0.1/16", "host bits"),
        ("fd00::/64", "not an IPv4"),
        ("10.0.0.0/29", "smaller"),
        ("10.0.0.0/16,10.0.1.0/24", "overlap"),
        ("", "no network"),
        ("banana", "CIDR"),
    ]:
        with pytest.raises(ValueError, match=said):
            labnet.parse_pool(bad)
    assert load({}).values["JUPYTERHUB_LAB_SUBNET_POOL"] == "10.213.0.0/16"
    assert (
        load({"JUPYTERHUB_LAB_SUBNET_POOL": " 10.1.0.0/24 , 10.2.0.0/20"})(Labs).subnet_pool
        == "10.1.0.0/24,10.2.0.0/20"
    )
    with pytest.raises(ConfigError) as err:
        load({"JUPYTERHUB_LAB_SUBNET_POOL": "10.0.0.0/30"})
    assert err.value.problems == [
        "JUPYTERHUB_LAB_SUBNET_POOL: 10.0.0.0/30 is smaller than one lab network (/28); "
        "allowed: IPv4 networks in CIDR form, comma-separated, each /28 or larger"
    ]


def test_default_pool_is_clear_of_the_engines_defaults_and_holds_thousands():
    pool = labnet.Pool.parse(load({}).values["JUPYTERHUB_LAB_SUBNET_POOL"])
    docker_defaults = [IPv4Network(f"172.{n}.0.0/16") for n in range(17, 32)] + [IPv4Network("192.168.0.0/16")]
    assert not any(pool.overlaps(d) for d in docker_defaults)
    assert pool.size == 4096 and pool.prefix == 28


@pytest.mark.parametrize(
    "enabled,limit,prefix",
    [(False, 3, 28), (True, 3, 28), (True, 11, 28), (True, 12, 27), (True, 100, 25), (True, 0, 24)],
)
def test_subnet_size_holds_every_lab_of_a_user(enabled, limit, prefix):
    assert labnet.subnet_prefix(enabled, limit) == prefix


def test_free_subnets_skip_every_used_range():
    pool = labnet.Pool.parse("10.9.0.0/26")  # four /28s
    used = [IPv4Network("10.9.0.0/28"), IPv4Network("10.9.0.36/30"), IPv4Network("192.168.1.0/24")]
    assert [str(n) for n in pool.free(used)] == ["10.9.0.16/28", "10.9.0.48/28"]
    assert list(pool.free([IPv4Network("10.0.0.0/8")])) == []
    assert pool.describe() == "10.9.0.0/26 (4 networks of /28)"


def _net(name, subnet, lab=True):
    return {"Name": name, "Labels": {labnet.LABEL: "x"} if lab else {}, "IPAM": {"Config": [{"Subnet": subnet}]}}


def test_overlaps_name_only_networks_that_are_no_lab_networks():
    pool = labnet.Pool.parse("10.9.0.0/24")
    nets = [
        _net("lab-a", "10.9.0.0/28"),
        _net("vpn", "10.9.0.128/25", lab=False),
        _net("bridge", "172.17.0.0/16", False),
    ]
    assert labnet.foreign_overlaps(pool, nets) == ["vpn (10.9.0.128/25)"]


class _Engine:
    """Networks and containers as the runtime's ``call`` shows them (404: its NotFound)."""

    def __init__(self, networks: dict[str, list[str]], labels: dict[str, dict]):
        self.networks, self.labels = networks, labels
        self.calls: list = []

    async def __call__(self, method, *args, **kwargs):
        self.calls.append((method, *args))
        if method == "inspect_network":
            if args[0] not in self.networks:
                raise NotFound(args[0])
            return {"Containers": {c: {} for c in self.networks[args[0]]}}
        if method == "inspect_container":
            return {"Config": {"Labels": self.labels[args[0]]}}
        if method == "disconnect_container_from_network":
            self.networks[args[1]].remove(args[0])
        elif method == "remove_network":
            del self.networks[args[0]]


def test_a_lab_network_goes_once_no_lab_is_on_it_the_hub_taken_off_first():
    engine = _Engine({"n": ["hub", "lab2"]}, {"hub": {}, "lab2": {SPEC_LABEL: "x"}})
    assert asyncio.run(labnet.remove_unless_used(engine, "n")) is False  # a user's other lab is on it
    assert "n" in engine.networks and engine.networks["n"] == ["hub", "lab2"]
    engine.networks["n"].remove("lab2")
    assert asyncio.run(labnet.remove_unless_used(engine, "n")) is True
    assert engine.calls[-2:] == [("disconnect_container_from_network", "hub", "n"), ("remove_network", "n")]
    assert asyncio.run(labnet.remove_unless_used(engine, "n")) is False  # gone already


def _spawner(active=True, ready=False, pending=None, admitted=False):
    sp = SimpleNamespace(active=active, ready=ready, pending=pending)
    if admitted:
        setattr(sp, admission.ADMITTED, True)
    return sp


def test_a_place_is_held_by_running_stopping_and_admitted_starts_only():
    me = _spawner(pending="spawn", admitted=True)
    users = [
        SimpleNamespace(name="a", spawners={"": _spawner(ready=True), "x": _spawner(pending="stop")}),
        SimpleNamespace(
            name="b", spawners={"": _spawner(pending="spawn"), "y": _spawner(pending="spawn", admitted=True)}
        ),
        SimpleNamespace(name="c", spawners={"": _spawner(active=False, admitted=True), "z": me}),
    ]
    assert admission.labs_in_use(users, exclude=me) == 3  # a's two, b's admitted named server
    assert admission.labs_in_use(users) == 4


def test_derived_limit_keeps_a_reserve_and_follows_the_labs_use():
    GiB, MiB = admission.GiB, admission.MiB
    assert admission.derived_limit(24 * GiB, 108 * MiB) == int((24 - 2.4) * 1024 // 108)
    assert admission.derived_limit(4 * GiB, 512 * MiB) == 6  # reserve of at least 1 GiB
    assert admission.derived_limit(1 * GiB, 512 * MiB) == 1  # never below one lab
    gate = admission.Admission(0, runtime=None)
    gate.memory_total = 24 * GiB
    assert gate.limit() == admission.derived_limit(24 * GiB, admission.ASSUMED_LAB_BYTES)
    gate.per_lab = 200 * MiB
    assert gate.limit() == admission.derived_limit(24 * GiB, 200 * MiB)
    assert admission.Admission(7, runtime=None).limit() == 7
    gate.memory_total = 0  # a runtime that knows no one host's memory (Kubernetes: the scheduler)
    assert gate.limit() is None


def _write(root, rel, files):
    d = root / rel
    d.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (d / name).write_text(text)


def test_cgroup_figures_in_both_layouts(tmp_path):
    """The cgroup v2 layout (systemd driver) and v1 (cgroupfs driver) as the kernel writes
    them; this machine's engine runs one of them, the integration test reads the real files."""
    from harness import open_files_naming

    from stellars_hub.backends.docker import cgroupstats

    v2, v1 = "a" * 64, "b" * 64
    _write(
        tmp_path,
        f"system.slice/docker-{v2}.scope",
        {
            "cpu.stat": "usage_usec 1000000\nuser_usec 1\n",
            "memory.current": str(300 * 2**20),
            "memory.stat": "anon 1\ninactive_file 104857600\nactive_file 2\n",
            "memory.max": "max\n",
        },
    )
    _write(tmp_path, f"cpuacct/docker/{v1}", {"cpuacct.usage": "2000000000\n"})
    _write(
        tmp_path,
        f"memory/docker/{v1}",
        {
            "memory.usage_in_bytes": str(200 * 2**20),
            "memory.limit_in_bytes": str(256 * 2**20),
            "memory.stat": "cache 5\ninactive_file 7\ntotal_inactive_file 52428800\n",
        },
    )
    now = [100.0]
    reader = cgroupstats.CgroupStats(
        roots=(str(tmp_path),), clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s)
    )
    first = reader.read([v2, v1, "c" * 64])
    assert first["c" * 64] is None
    assert first[v2].memory_bytes == 200 * 2**20 and first[v1].memory_bytes == 150 * 2**20
    assert first[v1].memory_limit_bytes == 256 * 2**20 and first[v2].memory_limit_bytes == cgroupstats.host_memory()
    (tmp_path / f"system.slice/docker-{v2}.scope/cpu.stat").write_text("usage_usec 3000000\n")  # 2 s of CPU
    (tmp_path / f"cpuacct/docker/{v1}/cpuacct.usage").write_text("2500000000\n")  # 0.5 s
    now[0] += 4.0
    second = reader.read([v2, v1])
    assert second[v2].cpu_percent == pytest.approx(50.0) and second[v1].cpu_percent == pytest.approx(12.5)

    # each container's files stay open between rounds, until nobody asked about it for a minute
    assert open_files_naming(v1) == open_files_naming(v2) == cgroupstats.KEPT_PER_LAB
    now[0] += cgroupstats.LET_GO_AFTER + 1
    reader.read([v2])
    assert open_files_naming(v1) == 0 and open_files_naming(v2) == cgroupstats.KEPT_PER_LAB


def test_what_a_pod_asks_and_which_asks_no_node_can_ever_hold():
    from stellars_hub.backends.kubernetes import scheduling

    pod = {
        "spec": {
            "containers": [
                {"resources": {"requests": {"memory": "3Gi", "cpu": "500m"}}},
                {"resources": {"requests": {"memory": "1Gi"}}},
                {"resources": {}},
            ],
            "initContainers": [{"resources": {"requests": {"cpu": "2", "memory": "1Gi"}}}],
        }
    }
    asks = scheduling.pod_requests(pod)  # containers add up; an init container counts by its largest
    assert asks == {"memory": 4 * 2**30, "cpu": 2.0}
    nodes = [{"memory": 3 * 2**30, "cpu": 8.0}, {"memory": 3.5 * 2**30, "cpu": 1.0}]
    assert scheduling.beyond_every_node(asks, nodes) == {"memory": (4 * 2**30, 3.5 * 2**30)}
    assert scheduling.beyond_every_node(asks, [*nodes, {"memory": 8 * 2**30, "cpu": 2.0}]) == {}
    assert scheduling.beyond_every_node({"nvidia.com/gpu": 1.0}, nodes) == {"nvidia.com/gpu": (1.0, 0.0)}
