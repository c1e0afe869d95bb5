"""A container engine kept in memory, behind the platform's ``ContainerRuntime`` interface, and a lab
spawner whose engine work goes to it: for the tests that need a hub but promise nothing about an
engine (who may call what, handlers' answers to bad input). What an engine does is tested on the
real one (tests/integration, tests/kubernetes).

The engine's state is plain data the tests read and change: ``containers`` (inspect documents by
name), ``volumes_by_name`` (name -> size in bytes), ``calls`` (how often each interface method was
called, for tests that bound the engine work of a request), ``down`` (every call fails as an
unreachable engine would).

Every lab answers HTTP on one shared loopback port (``FakeLabServer``): JupyterHub waits for a
started server to answer and routes its proxy to it.
"""

from __future__ import annotations

import asyncio
import collections
import copy
import secrets
from datetime import datetime, timezone

from jupyterhub.spawner import Spawner
from tornado import web
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets
from traitlets import Unicode

from stellars_hub.lab.mixin import LabSpawnerMixin
from stellars_hub.lab.spec import LabSpec
from stellars_hub.platform import Platform
from stellars_hub.runtime.base import (
    HUB_LABEL,
    ContainerRuntime,
    ContainerStats,
    EngineUnavailable,
    GpuProbe,
    LabObject,
    NotFound,
    RuntimeConflict,
    ToolResult,
    VolumeInfo,
)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


class FakeRuntime(ContainerRuntime):
    """The in-memory engine. One per hub (the platform makes it from ``runtime_class``)."""

    cpus = 4
    memory = 24 * 2**30  # the host's memory (bytes): what admission's derived limit starts from
    lab_memory = 100 * 2**20  # what each running lab uses, as container_stats reports it

    def __init__(self):
        self.containers: dict[str, dict] = {}
        self.volumes_by_name: dict[str, int] = {}
        self.calls: collections.Counter[str] = collections.Counter()
        self.down = False
        self.tool = lambda image, command, mounts: ToolResult(0, "")  # what run_tool answers
        self.lab_server = FakeLabServer()

    # -- helpers for tests and the fake spawner ------------------------------------------------
    def _count(self, method: str) -> None:
        self.calls[method] += 1
        if self.down:
            raise EngineUnavailable("the fake engine is down")

    def find(self, name_or_id: str) -> dict | None:
        if name_or_id in self.containers:
            return self.containers[name_or_id]
        return next((c for c in self.containers.values() if c["Id"] == name_or_id), None)

    def create_volume(self, name: str, size: int = 0) -> None:
        self.volumes_by_name.setdefault(name, size)

    def run_lab(self, name: str, *, image: str, env: dict, labels: dict, binds: dict, host_config: dict) -> dict:
        """Create and start a lab container (its named volumes appear as the engine makes them)."""
        self._count("run_lab")
        mounts = []
        for source, target in binds.items():
            bind = target if isinstance(target, dict) else {"bind": target, "mode": "rw"}
            volume = not source.startswith("/")
            if volume:
                self.create_volume(source)
            mounts.append(
                {
                    "Type": "volume" if volume else "bind",
                    "Name": source if volume else "",
                    "Source": source,
                    "Destination": bind["bind"],
                    "RW": bind.get("mode", "rw") == "rw",
                }
            )
        self.containers[name] = {
            "Id": secrets.token_hex(32),
            "Name": "/" + name,
            "Image": image,
            "State": {"Running": True, "Status": "running", "StartedAt": _now(), "ExitCode": 0},
            "Config": {"Image": image, "Labels": dict(labels), "Env": [f"{k}={v}" for k, v in env.items()]},
            "HostConfig": copy.deepcopy(host_config),
            "Mounts": mounts,
            "NetworkSettings": {"Networks": {"host": {"IPAddress": ""}}},
        }
        return copy.deepcopy(self.containers[name])

    def remove_lab(self, name: str) -> None:
        self._count("remove_lab")
        self.containers.pop(name, None)

    # -- the interface --------------------------------------------------------------------------
    async def ping(self) -> None:
        self._count("ping")

    async def remove_leftovers(self, lab: str, network: str = "") -> list[str]:
        self._count("remove_leftovers")
        return [lab] if self.containers.pop(lab, None) is not None else []

    async def hub_labs(self, hub_id: str) -> list[LabObject]:
        self._count("hub_labs")
        return [
            LabObject(name, doc["State"]["Running"])
            for name, doc in self.containers.items()
            if doc["Config"]["Labels"].get(HUB_LABEL) == hub_id
        ]

    async def earlier_tools(self, hub_id: str) -> list[LabObject]:
        self._count("earlier_tools")
        return []  # the fake runs no tool containers

    async def remove_tool(self, name: str) -> None:
        self._count("remove_tool")

    async def cpu_count(self) -> int | None:
        if "cpu_count" not in self.calls:  # read once, as the real runtimes do
            self._count("cpu_count")
        return self.cpus

    async def inspect_container(self, name: str) -> dict | None:
        self._count("inspect_container")
        found = self.find(name)
        return copy.deepcopy(found) if found is not None else None

    async def restart_container(self, name: str, timeout: int) -> dict:
        self._count("restart_container")
        found = self.find(name)
        if found is None:
            raise NotFound(f"no such container: {name}")
        found["State"].update({"Running": True, "Status": "running", "StartedAt": _now()})
        return copy.deepcopy(found)

    def _users_of(self, volume: str) -> tuple[str, ...]:
        return tuple(
            c["Name"].lstrip("/") for c in self.containers.values() if any(m["Name"] == volume for m in c["Mounts"])
        )

    async def volumes(self, names: list[str], with_sizes: bool = False) -> dict[str, VolumeInfo]:
        self._count("volumes_with_sizes" if with_sizes else "volumes")
        return {
            n: VolumeInfo(
                n, n in self.volumes_by_name, self.volumes_by_name.get(n) if with_sizes else None, self._users_of(n)
            )
            for n in names
        }

    async def remove_volume(self, name: str) -> None:
        self._count("remove_volume")
        if name not in self.volumes_by_name:
            raise NotFound(f"no such volume: {name}")
        if self._users_of(name):
            raise RuntimeConflict(f"volume {name} is in use")
        del self.volumes_by_name[name]

    async def ensure_shared_volume(self, name: str) -> bool:
        self._count("ensure_shared_volume")
        made = name not in self.volumes_by_name
        self.create_volume(name)
        return made

    async def volume_sizes(self) -> dict[str, int]:
        self._count("volume_sizes")
        return dict(self.volumes_by_name)

    async def probe_gpu(
        self, image, container_name, timeout=30.0, runtime="nvidia", command=("nvidia-smi", "-L")
    ) -> GpuProbe:
        self._count("probe_gpu")
        return GpuProbe(False, "the fake engine has no GPU")

    async def run_tool(self, image, command, mounts, timeout=3600.0) -> ToolResult:
        self._count("run_tool")
        return self.tool(image, command, mounts)

    async def engine_memory(self) -> int | None:
        self._count("engine_memory")
        return self.memory

    async def check_lab_networks(self, labs, named) -> list[str]:
        self._count("check_lab_networks")
        return []  # fake labs run on the hub's loopback: no networks of their own

    async def container_stats(self, names: list[str]) -> dict[str, ContainerStats | None]:
        self._count("container_stats")
        return {
            n: ContainerStats(1.0, self.lab_memory, 8 * 2**30)
            if (c := self.find(n)) is not None and c["State"]["Running"]
            else None
            for n in names
        }


class _AnyLabRequest(web.RequestHandler):
    def prepare(self):
        self.set_header("Content-Type", "application/json")
        self.finish("{}")


class FakeLabServer:
    """One loopback HTTP server that answers for every fake lab (200 with an empty JSON object)."""

    def __init__(self):
        self.port: int | None = None
        self._server: HTTPServer | None = None

    def ensure_started(self) -> int:
        if self._server is None:
            sockets = bind_sockets(0, "127.0.0.1")
            self.port = sockets[0].getsockname()[1]
            self._server = HTTPServer(web.Application([(r".*", _AnyLabRequest)]))
            self._server.add_sockets(sockets)
        assert self.port is not None
        return self.port


class FakeLabSpawner(LabSpawnerMixin, Spawner):
    """A lab spawner of the platform whose engine is the hub's ``FakeRuntime``: everything a lab
    *is* (volumes, names, this start's spec from the policies' pre-spawn step, the consent scope
    its OAuth client requires) comes from the platform's ``LabSpawnerMixin``, as on both real
    backends; only creating, polling and removing the container go to the fake engine."""

    container_id = Unicode("")  # the fake engine's id of this server's container
    image = Unicode(config=True, help="The lab image (default: c.Labs.image, as the real spawners)")

    @property
    def container_name(self) -> str:
        return self.lab_name

    @property
    def host_network(self) -> bool:
        return True  # every fake lab answers on the hub's loopback (FakeLabServer)

    @property
    def fake(self) -> FakeRuntime:
        runtime = Platform.current().runtime
        assert isinstance(runtime, FakeRuntime), "FakeLabSpawner needs c.Platform.runtime_class = FakeRuntime"
        return runtime

    def spec_environment(self, spec: LabSpec) -> dict[str, str]:
        return spec.environment(engine_names_devices=False)

    def load_state(self, state):
        super().load_state(state)
        self.container_id = state.get("container_id", "")

    def get_state(self):
        state = super().get_state()
        if self.container_id:
            state["container_id"] = self.container_id
        return state

    def clear_state(self):
        super().clear_state()
        self.container_id = ""

    async def start(self):
        spec = self.spec()
        doc = self.fake.run_lab(
            self.container_name,
            image=spec.image or self.image,  # a chosen profile's, as both real backends render it
            env=self.get_env(),
            labels={**spec.labels, HUB_LABEL: Platform.current().hub_id},
            binds={m.source: {"bind": m.target, "mode": "ro" if m.read_only else "rw"} for m in spec.mounts},
            host_config={"privileged": spec.privileged, "memory": spec.memory_bytes, "cpus": spec.cpus},
        )
        self.container_id = doc["Id"]
        await asyncio.sleep(0)
        return "127.0.0.1", self.fake.lab_server.ensure_started()

    async def poll(self):
        if self.restarting_in_place:
            return None
        found = self.fake.find(self.container_name)
        if found is None:
            return 0
        return None if found["State"]["Running"] else found["State"].get("ExitCode", 0)

    async def stop(self, now=False):
        self.fake.remove_lab(self.container_name)
