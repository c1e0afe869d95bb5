"""Docker Engine implementation of ContainerRuntime.

Every engine call runs in this runtime's own thread pools, never on the event loop and never in
DockerSpawner's single-thread executor (a 10 s graceful stop there would stall every spawn).
Calls go through lanes with pools of their own, so one kind of work cannot starve another:
``ops`` (restarts, volumes), ``stats`` (the activity monitor's statistics and sizes),
``probe`` (the readiness check and GPU detection) and ``tools`` (backups' short-lived
containers: a long backup never holds up a restart).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import tarfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import docker
from docker import errors as docker_errors
from requests import exceptions as requests_errors

from ...runtime.base import (
    HUB_LABEL,
    RUN_ID,
    TOOL_HUB_LABEL,
    TOOL_RUN_LABEL,
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
from . import labnet
from .cgroupstats import CgroupStats
from .labhost import LabHost

log = logging.getLogger("JupyterHub.stellars")
_UNREACHABLE = (requests_errors.ConnectionError, requests_errors.Timeout, FileNotFoundError, ConnectionError)


class DockerRuntime(ContainerRuntime):
    LANES = {"ops": 8, "stats": 8, "probe": 2, "tools": 2}  # threads per lane

    def __init__(self, base_url: str | None = None, timeout: int = 60):
        self._base_url = base_url
        self._timeout = timeout
        self._lanes = {
            lane: ThreadPoolExecutor(max_workers=n, thread_name_prefix=f"stellars-docker-{lane}")
            for lane, n in self.LANES.items()
        }
        self._local = threading.local()
        self.lab_host = LabHost()  # what the hub's spawners share
        self._cpus: int | None = None
        self._cgroups = CgroupStats()
        self._ids: dict[str, str] = {}  # running containers: name -> id

    # -- plumbing -------------------------------------------------------------------------
    def _client(self) -> docker.APIClient:
        # one client per worker thread: requests sessions are not shared across threads
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._new_client(self._timeout)
            self._local.client = client
        return client

    def _new_client(self, timeout: float) -> docker.APIClient:
        kwargs = {"timeout": timeout, "version": "auto"}
        if self._base_url:
            kwargs["base_url"] = self._base_url
        else:
            kwargs.update(docker.utils.kwargs_from_env())
        try:
            return docker.APIClient(**kwargs)
        except docker_errors.DockerException as exc:
            raise EngineUnavailable(f"the Docker engine is not reachable: {exc}") from exc

    async def _run(self, fn, *args, lane: str = "ops", **kwargs):
        def call():
            try:
                return fn(self._client(), *args, **kwargs)
            except docker_errors.NotFound as exc:
                raise NotFound(_explain(exc)) from exc
            except docker_errors.APIError as exc:
                if exc.status_code == 409:
                    raise RuntimeConflict(_explain(exc)) from exc
                raise
            except _UNREACHABLE as exc:
                self._local.client = None
                raise EngineUnavailable("the Docker engine is not reachable") from exc
            except docker_errors.DockerException as exc:
                if isinstance(exc.__cause__ or exc.__context__, _UNREACHABLE):
                    raise EngineUnavailable("the Docker engine is not reachable") from exc
                raise

        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._lanes[lane], functools.partial(call))

    # -- interface ------------------------------------------------------------------------
    async def ping(self) -> None:
        await self._run(lambda c: c.ping(), lane="probe")

    async def cpu_count(self) -> int | None:
        if self._cpus is None:
            try:
                self._cpus = int((await self._run(lambda c: c.info(), lane="probe"))["NCPU"])
            except Exception as exc:  # a start will report an engine that is down
                log.warning("Could not read the engine's CPU count: %s", exc)
        return self._cpus

    # -- reconcile ------------------------------------------------------------------------
    async def remove_leftovers(self, lab: str, network: str = "") -> list[str]:
        self.lab_host.host_ports.pop(lab, None)  # its loopback port (host networking) is free again
        removed = await self._run(_remove_container, lab)
        if network and await labnet.remove_unless_used(self._call, network):
            removed.append(network)
        return removed

    async def _call(self, method: str, *args, **kwargs):
        """One ``docker.APIClient`` method off the event loop (labnet's ``call``)."""
        return await self._run(lambda c: getattr(c, method)(*args, **kwargs))

    async def hub_labs(self, hub_id: str) -> list[LabObject]:
        def listed(c):
            found = c.containers(all=True, filters={"label": f"{HUB_LABEL}={hub_id}"})
            return [
                LabObject(ctr["Names"][0].lstrip("/"), ctr.get("State") in ("running", "restarting")) for ctr in found
            ]

        return await self._run(listed)

    async def remove_unused_networks(self, hub_id: str, keep: set[str]) -> list[str]:
        removed = []
        for net in await self._call("networks", filters={"label": f"{HUB_LABEL}={hub_id}"}):
            if net["Name"] not in keep and await labnet.remove_unless_used(self._call, net["Name"]):
                removed.append(net["Name"])
        return removed

    async def earlier_tools(self, hub_id: str) -> list[LabObject]:
        def listed(c):
            found = c.containers(all=True, filters={"label": f"{TOOL_HUB_LABEL}={hub_id}"})
            return [
                LabObject(
                    ctr["Names"][0].lstrip("/"),
                    ctr.get("State") in ("running", "restarting", "paused"),
                    tuple(m["Name"] for m in ctr.get("Mounts") or () if m.get("Type") == "volume"),
                    _exit_code(ctr.get("Status") or ""),
                )
                for ctr in found
                if (ctr.get("Labels") or {}).get(TOOL_RUN_LABEL) != RUN_ID
            ]

        return await self._run(listed)

    async def remove_tool(self, name: str) -> None:
        await self._run(_remove_quietly, name)

    async def inspect_container(self, name: str) -> dict | None:
        try:
            return await self._run(lambda c: c.inspect_container(name))
        except NotFound:
            return None

    async def restart_container(self, name: str, timeout: int) -> dict:
        def restart(c):
            c.restart(name, timeout=timeout)
            return c.inspect_container(name)

        return await self._run(restart)

    async def volumes(self, names: list[str], with_sizes: bool = False) -> dict[str, VolumeInfo]:
        def collect(c):
            wanted = set(names)
            existing = {v["Name"] for v in (c.volumes().get("Volumes") or []) if v["Name"] in wanted}
            users: dict[str, list[str]] = {n: [] for n in existing}
            for ctr in c.containers(all=True):
                for m in ctr.get("Mounts") or []:
                    if m.get("Type") == "volume" and m.get("Name") in users:
                        users[m["Name"]].append(ctr["Names"][0].lstrip("/"))
            sizes: dict[str, int] = {}
            if with_sizes and existing:
                for v in _disk_usage(c).get("Volumes") or []:
                    size = (v.get("UsageData") or {}).get("Size", -1)
                    if v["Name"] in existing and size is not None and size >= 0:
                        sizes[v["Name"]] = size
            return {n: VolumeInfo(n, n in existing, sizes.get(n), tuple(users.get(n, ()))) for n in names}

        return await self._run(collect, lane="stats" if with_sizes else "ops")

    async def volume_sizes(self) -> dict[str, int]:
        """Every volume's size from one ``system df`` (slow on big disks: callers cache it)."""

        def sizes(c):
            found = {}
            for v in _disk_usage(c).get("Volumes") or []:
                size = (v.get("UsageData") or {}).get("Size", -1)
                if size is not None and size >= 0:
                    found[v["Name"]] = size
            return found

        return await self._run(sizes, lane="stats")

    async def remove_volume(self, name: str) -> None:
        await self._run(lambda c: c.remove_volume(name))

    async def ensure_shared_volume(self, name: str) -> bool:
        def ensure(c):
            if any(v["Name"] == name for v in (c.volumes(filters={"name": name}).get("Volumes") or [])):
                return False
            c.create_volume(name, labels={"stellars.shared-volume": "1"})
            return True

        return await self._run(ensure)

    async def data_root(self) -> str | None:
        return (await self._run(lambda c: c.info())).get("DockerRootDir") or None

    async def volume_names(self, prefix: str) -> list[str]:
        def listed(c):  # the engine's name filter matches anywhere in the name
            return sorted(v["Name"] for v in (c.volumes(filters={"name": prefix}).get("Volumes") or []))

        return [n for n in await self._run(listed) if n.startswith(prefix)]

    # -- admin feature: GPU detection --------------------------------------------------------
    async def probe_gpu(
        self,
        image: str,
        container_name: str,
        timeout: float = 30.0,
        runtime: str = "nvidia",
        command: tuple[str, ...] = ("nvidia-smi", "-L"),
    ) -> GpuProbe:
        def probe(c):
            # a client of its own whose every call is bounded by the probe's timeout
            bounded = self._new_client(max(1, int(timeout)))
            try:
                return _probe_gpu(bounded, image, container_name, timeout, runtime, list(command))
            finally:
                bounded.close()

        try:
            # the probe bounds itself; this guards against a call that ignores its timeout
            return await asyncio.wait_for(self._run(probe, lane="probe"), timeout + 10)
        except asyncio.TimeoutError:
            return GpuProbe(False, f"timeout: no answer within {timeout:.0f} s")
        except EngineUnavailable as exc:
            return GpuProbe(False, f"engine unavailable: {exc}")

    # -- capacity feature -------------------------------------------------------------------
    async def engine_memory(self) -> int | None:
        return int((await self._run(lambda c: c.info(), lane="probe")).get("MemTotal") or 0) or None

    async def check_lab_networks(self, labs, named) -> list[str]:
        if not labnet.own_networks(labs):
            return []
        pool = labnet.pool_from(labs, named)
        overlaps = labnet.foreign_overlaps(pool, await self._call("networks"))
        status = self.lab_host.network_status
        status.pool, status.overlaps = pool.describe(), overlaps
        if overlaps:
            log.warning("%s", status.warnings()["lab_networks"])
        log.info("Lab networks from JUPYTERHUB_LAB_SUBNET_POOL %s", status.pool)
        return overlaps

    def readiness_warnings(self, detailed: bool) -> dict[str, str]:
        return self.lab_host.network_status.warnings(detailed)

    # -- activity monitor -------------------------------------------------------------------
    async def run_tool(
        self, image: str, command: list[str], mounts: dict[str, tuple[str, str]], timeout: float = 3600.0
    ) -> ToolResult:
        return await self._run(_run_tool, image, command, mounts, timeout, self.tool_labels(), lane="tools")

    async def run_tool_with_file(
        self,
        image: str,
        command: list[str],
        mounts: dict[str, tuple[str, str]],
        source: Path,
        at: str,
        timeout: float = 3600.0,
    ) -> ToolResult:
        return await self._run(
            _run_tool, image, command, mounts, timeout, self.tool_labels(), (source, at), lane="tools"
        )

    async def container_stats(self, names: list[str]) -> dict[str, ContainerStats | None]:
        """From the containers' cgroup files in one pass where this hub can read them (see
        cgroupstats.py); the engine's statistics, one call per container, for the others."""
        found: dict[str, ContainerStats | None] = {}
        rest = list(names)
        if self._cgroups.usable() and names:
            ids = await self._running_ids(names)
            read = await asyncio.get_running_loop().run_in_executor(
                self._lanes["stats"], self._cgroups.read, [ids[n] for n in names if n in ids]
            )
            for n in names:
                if n not in ids:
                    found[n] = None  # not running
                elif read.get(ids[n]) is not None:
                    found[n] = read[ids[n]]
            rest = [n for n in names if n in ids and found.get(n) is None]
            if rest:
                self._ids = {}  # a container recreated under the same name, or a cgroup not found
        if rest:
            found.update(await self._engine_stats(rest))
        return {n: found.get(n) for n in names}

    async def _running_ids(self, names: list[str]) -> dict[str, str]:
        """name -> id of the running ones, from one listing of the engine's running containers,
        listed again only when a name is not known yet."""
        if any(n not in self._ids for n in names):

            def listing(c):
                return {name.lstrip("/"): ctr["Id"] for ctr in c.containers() for name in ctr.get("Names") or []}

            self._ids = await self._run(listing, lane="stats")
        return {n: self._ids[n] for n in names if n in self._ids}

    async def _engine_stats(self, names: list[str]) -> dict[str, ContainerStats | None]:
        async def one(name: str) -> ContainerStats | None:
            try:
                # stream=False: the engine takes two readings about a second apart, so
                # precpu_stats is filled and CPU % can be computed; that second is why all labs
                # are measured concurrently (each call holds one of this runtime's threads)
                raw = await self._run(lambda c: c.stats(name, stream=False), lane="stats")
            except NotFound:
                return None
            return _parse_stats(raw)

        results = await asyncio.gather(*(one(n) for n in names))
        return dict(zip(names, results, strict=True))


def _remove_container(c: docker.APIClient, lab: str) -> list[str]:
    try:
        # v: the container's anonymous volumes, as DockerSpawner's own removal (named ones stay)
        c.remove_container(lab, force=True, v=True)
        return [lab]
    except docker_errors.NotFound:
        return []  # the spawner's stop removed it (the usual case)
    except docker_errors.APIError as exc:
        if "already in progress" not in str(exc.explanation or exc):
            raise
        return []


def _disk_usage(c: docker.APIClient, tries: int = 5) -> dict:
    """The engine's ``system df``; it runs one at a time engine-wide and refuses a second
    ("already running"), so wait for the running one instead of failing the request."""
    for attempt in range(tries):
        try:
            return c.df()
        except docker_errors.APIError as exc:
            if "already running" not in str(exc.explanation or exc) or attempt == tries - 1:
                raise
            time.sleep(0.5 * (attempt + 1))
    return {}


def _probe_gpu(
    c: docker.APIClient, image: str, name: str, timeout: float, runtime: str, command: list[str]
) -> GpuProbe:
    deadline = time.monotonic() + timeout
    runtimes = sorted((c.info().get("Runtimes") or {}).keys())
    if runtime not in runtimes:
        return GpuProbe(
            False, f"no runtime: the engine has no {runtime!r} runtime (it has {', '.join(runtimes) or 'none'})"
        )
    try:
        c.inspect_image(image)
    except docker_errors.NotFound:
        try:
            c.pull(image)
        except _UNREACHABLE:
            return GpuProbe(False, f"timeout: pulling {image} did not finish within {timeout:.0f} s")
        except docker_errors.DockerException as exc:
            return GpuProbe(
                False, f"image missing: {image} is not on the engine and could not be pulled ({_short(exc)})"
            )
    _remove_quietly(c, name)  # left over by a hub that died mid-probe
    try:
        try:
            c.create_container(image, command=command, name=name, host_config=c.create_host_config(runtime=runtime))
            c.start(name)
        except docker_errors.APIError as exc:
            return GpuProbe(False, f"command failed: {' '.join(command)} could not run ({_short(exc)})")
        try:
            status = c.wait(name, timeout=max(1.0, deadline - time.monotonic()))
        except _UNREACHABLE:
            return GpuProbe(False, f"timeout: {' '.join(command)} did not finish within {timeout:.0f} s")
        output = c.logs(name).decode(errors="replace").strip()
        code = status.get("StatusCode")
        if code != 0:
            return GpuProbe(
                False, f"command failed: {' '.join(command)} exited with {code} ({output[-200:] or 'no output'})"
            )
        gpus = [line for line in output.splitlines() if line.startswith("GPU ")]
        return GpuProbe(True, f"{' '.join(command)} found {len(gpus) or 'some'} GPU(s)")
    finally:
        _remove_quietly(c, name)


def _run_tool(
    c: docker.APIClient,
    image: str,
    command: list[str],
    mounts: dict[str, tuple[str, str]],
    timeout: float,
    labels: dict[str, str],
    upload: tuple[Path, str] | None = None,
) -> ToolResult:
    binds = {source: {"bind": target, "mode": mode} for source, (target, mode) in mounts.items()}
    created = c.create_container(
        image,
        command=command,
        entrypoint=[],
        network_disabled=True,
        user="0:0",
        labels={"stellars.tool": "1", **labels},
        host_config=c.create_host_config(binds=binds, network_mode="none"),
    )
    cid = created["Id"]
    try:
        if upload is not None:  # into the created container's own file system, streamed from disk
            source, at = upload
            folder, _, name = at.rpartition("/")
            c.put_archive(cid, folder or "/", _tar_of_one(source, name))
        c.start(cid)
        try:
            status = c.wait(cid, timeout=timeout)
        except _UNREACHABLE:
            return ToolResult(-1, f"did not finish within {timeout:.0f} s")
        output = c.logs(cid).decode(errors="replace")
        return ToolResult(int(status.get("StatusCode", -1)), output)
    finally:
        _remove_quietly(c, cid)


def _tar_of_one(source: Path, name: str, chunk: int = 1 << 20) -> Iterator[bytes]:
    """An uncompressed tar stream holding ``source`` as ``name`` (the engine's archive upload),
    read in chunks: a large file never sits in memory whole."""
    size = source.stat().st_size
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, 0o600, int(time.time())
    yield info.tobuf(format=tarfile.PAX_FORMAT)
    sent = 0
    with open(source, "rb") as f:
        while sent < size and (block := f.read(min(chunk, size - sent))):
            sent += len(block)
            yield block
    if sent != size:
        raise OSError(f"{source} changed while it was sent")
    yield b"\0" * ((-size) % tarfile.BLOCKSIZE) + b"\0" * (2 * tarfile.BLOCKSIZE)


def _remove_quietly(c: docker.APIClient, name: str) -> None:
    for attempt in range(3):
        try:
            c.remove_container(name, force=True)
            return
        except docker_errors.NotFound:
            return
        except (docker_errors.APIError, *_UNREACHABLE):
            time.sleep(0.5 * (attempt + 1))  # e.g. "removal already in progress"


def _short(exc: Exception) -> str:
    text = _explain(exc) if isinstance(exc, docker_errors.APIError) else str(exc)
    return text if len(text) <= 200 else text[:197] + "..."


def _explain(exc: docker_errors.APIError) -> str:
    return str(exc.explanation or exc)


# activity monitor
def _parse_stats(raw: dict) -> ContainerStats | None:
    cpu, pre, mem = raw.get("cpu_stats") or {}, raw.get("precpu_stats") or {}, raw.get("memory_stats") or {}
    if not cpu.get("system_cpu_usage") or "usage" not in mem:
        return None  # not running: the engine reports an empty document
    cpu_delta = cpu.get("cpu_usage", {}).get("total_usage", 0) - (pre.get("cpu_usage") or {}).get("total_usage", 0)
    system_delta = cpu.get("system_cpu_usage", 0) - (pre.get("system_cpu_usage") or 0)
    cores = cpu.get("online_cpus") or len(cpu.get("cpu_usage", {}).get("percpu_usage") or ()) or 1
    percent = cpu_delta / system_delta * cores * 100.0 if system_delta > 0 and cpu_delta > 0 else 0.0
    detail = mem.get("stats") or {}
    # page cache the kernel can reclaim is not "used" (cgroup v2: inactive_file, v1: total_inactive_file)
    reclaimable = detail.get("inactive_file", detail.get("total_inactive_file", 0))
    used = max(0, mem["usage"] - reclaimable)
    return ContainerStats(round(percent, 2), used, int(mem.get("limit") or 0))


def _exit_code(status: str) -> int | None:
    """The exit code in a listing's status ("Exited (0) 5 seconds ago"); None while it runs."""
    found = re.match(r"Exited \((-?\d+)\)", status)
    return int(found.group(1)) if found else None
