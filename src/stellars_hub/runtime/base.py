"""What the features need from a container engine, as async calls that never block the loop."""

from __future__ import annotations

import secrets
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..lab.config import Labs, NamedServers

# on every lab (container or pod) and lab network a hub makes: the hub's id (its data directory's
# ``hub-id``), so a hub's start-up sweep removes only what it made, never another hub's labs
HUB_LABEL = "stellars.hub"
# on every tool container (pod) a hub runs (backups, restores, volume copies): the hub's id and
# this process's run, so that the hub's next start removes the tools a killed hub left behind
# (holding a user's volume) and never one it runs itself. Not HUB_LABEL: a tool is no lab.
TOOL_HUB_LABEL, TOOL_RUN_LABEL = "stellars.tool-hub", "stellars.tool-run"
RUN_ID = secrets.token_hex(8)  # this process's run: a valid Kubernetes label value


class EngineError(Exception):
    """Base of the engine errors the web layer maps to HTTP statuses."""


class EngineUnavailable(EngineError):
    """The engine does not answer (503)."""


class NotFound(EngineError):
    """No such container or volume (404)."""


class RuntimeConflict(EngineError):
    """The engine refused because of the object's state, e.g. a volume in use (409)."""


@dataclass(frozen=True)
class LabObject:
    name: str  # the container (pod)
    running: bool  # not ended: running or about to (a pod pending), or paused
    volumes: tuple[str, ...] = ()  # the platform's volumes it mounts (tools: earlier_tools)
    exit_code: int | None = None  # how it ended (tools: earlier_tools); None: not ended, or unknown


@dataclass(frozen=True)
class VolumeInfo:
    name: str
    exists: bool
    size_bytes: int | None = None  # None: unknown (engine does not report it yet)
    used_by: tuple[str, ...] = ()  # names of containers that mount it


class ContainerRuntime(ABC):
    @classmethod
    def for_settings(cls, settings) -> ContainerRuntime:
        """The hub's runtime, built from its settings (``Platform.runtime_class``)."""
        return cls()

    @abstractmethod
    async def ping(self) -> None: ...

    async def cpu_count(self) -> int | None:
        """CPUs a lab can be given at most (None: no such bound, e.g. a cluster's scheduler
        decides), read once."""
        return None

    # -- reconcile: what a stopped lab leaves behind, what the hub does not know -------------
    @abstractmethod
    async def remove_leftovers(self, lab: str, network: str = "") -> list[str]:
        """After a lab stopped, however it stopped: its container (pod) ``lab`` in whatever state,
        and its network ``network`` once no lab is on it; the names of what was removed. The
        platform's post-stop step calls it for every stop: JupyterHub does not call the
        spawner's stop for a lab that already died."""

    @abstractmethod
    async def hub_labs(self, hub_id: str) -> list[LabObject]:
        """Every lab this hub made (``HUB_LABEL`` = ``hub_id``), running or not."""

    async def remove_unused_networks(self, hub_id: str, keep: set[str]) -> list[str]:
        """This hub's lab networks that no lab is on, except ``keep``, removed; their names.
        Runtimes without networks of their own: none."""
        return []

    # this hub's id, set by the platform when the hub starts: tools run after it carry
    # ``tool_labels`` ('' for a process without a hub, e.g. a command-line tool)
    owner = ""

    def tool_labels(self) -> dict[str, str]:
        return {TOOL_HUB_LABEL: self.owner, TOOL_RUN_LABEL: RUN_ID} if self.owner else {}

    @abstractmethod
    async def earlier_tools(self, hub_id: str) -> list[LabObject]:
        """The tool containers (pods) hub ``hub_id`` ran in an earlier run of its process, ended
        or still running (a killed hub's restore goes on in its container)."""

    @abstractmethod
    async def remove_tool(self, name: str) -> None:
        """Remove an ended tool container (pod); gone already is fine."""

    @abstractmethod
    async def inspect_container(self, name: str) -> dict | None:
        """The engine's inspect document, or None when there is no such container."""

    @abstractmethod
    async def restart_container(self, name: str, timeout: int) -> dict:
        """Stop gracefully (``timeout`` s, then kill) and start the same container; inspect after."""

    @abstractmethod
    async def volumes(self, names: list[str], with_sizes: bool = False) -> dict[str, VolumeInfo]: ...

    @abstractmethod
    async def remove_volume(self, name: str) -> None: ...

    async def ensure_shared_volume(self, name: str) -> bool:
        """Make the volume ``name`` unless it exists, for labs of several users at once (a group's
        project folder: ReadWriteMany on Kubernetes); True when it was made now. By default the
        engine makes a volume when a container first mounts it."""
        return False

    async def data_root(self) -> str | None:
        """Where the engine keeps its own data on its host (Docker's DockerRootDir), if it says."""
        return None

    async def volume_names(self, prefix: str) -> list[str]:
        """Names of the existing volumes that start with ``prefix`` (a user's named servers'
        volumes, whose server names the hub may have forgotten); none where it cannot list."""
        return []

    async def volume_sizes(self) -> dict[str, int]:
        """Every volume's size in bytes where the runtime can measure it (none by default:
        sizes then show as unknown)."""
        return {}

    # -- admin feature: GPU detection --------------------------------------------------------
    @abstractmethod
    async def probe_gpu(
        self,
        image: str,
        container_name: str,
        timeout: float = 30.0,
        runtime: str = "nvidia",
        command: tuple[str, ...] = ("nvidia-smi", "-L"),
    ) -> GpuProbe:
        """Run ``command`` in ``image`` with the engine runtime ``runtime``; bounded by ``timeout``
        seconds; the probe container is removed whatever happens."""

    # -- scheduled backups, restores, volume copies ------------------------------------------
    @abstractmethod
    async def run_tool(
        self, image: str, command: list[str], mounts: dict[str, tuple[str, str]], timeout: float = 3600.0
    ) -> ToolResult:
        """Run ``command`` in a throw-away container of ``image`` without network; ``mounts``
        maps a volume name or absolute host path to (path inside, "ro"|"rw"). The container is
        removed whatever happens."""

    async def run_tool_with_file(
        self,
        image: str,
        command: list[str],
        mounts: dict[str, tuple[str, str]],
        source: Path,
        at: str,
        timeout: float = 3600.0,
    ) -> ToolResult:
        """``run_tool`` with the hub's own file ``source`` placed at the absolute path ``at`` in
        the tool before ``command`` starts (the hub's state into the backup target, which the hub
        itself does not mount)."""
        raise EngineError(f"{type(self).__name__} cannot hand a file of the hub's to a tool")

    # -- capacity feature -------------------------------------------------------------------
    async def engine_memory(self) -> int | None:
        """The memory of the host the labs run on, in bytes (None: not one host, or unknown)."""
        return None

    async def check_lab_networks(self, labs: Labs, named: NamedServers) -> list[str]:
        """At hub start: the engine's networks that are no lab networks but take addresses meant
        for the labs' own networks (``labs``, ``named``: the hub's settings), for readiness.
        (Lab networks no lab is on are removed by the platform's reconcile step.) Runtimes
        without per-lab networks: none."""
        return []

    def readiness_warnings(self, detailed: bool) -> dict[str, str]:
        """What the engine side sees coming, for /hub/readiness (name -> text; e.g. lab networks
        that could not be made). ``detailed`` False: for anonymous callers, nothing that tells
        how many labs or users there are."""
        return {}

    # -- activity monitor -------------------------------------------------------------------
    @abstractmethod
    async def container_stats(self, names: list[str]) -> dict[str, ContainerStats | None]:
        """One resource sample per named container, all measured concurrently; None for a
        container that does not exist or is not running."""


@dataclass(frozen=True)
class ToolResult:  # scheduled backups
    exit_code: int
    output: str


@dataclass(frozen=True)
class GpuProbe:
    available: bool
    reason: str  # why not, or what was found


@dataclass(frozen=True)
class ContainerStats:  # activity monitor
    cpu_percent: float  # 100 = one full core
    memory_bytes: int  # in use, without reclaimable page cache
    memory_limit_bytes: int  # the container's limit, or the host's memory when it has none
