"""What one start of a lab gets, in no engine's terms: ``LabSpec``.

The policies feature builds it once per start from the user's effective policy, the site's lab
settings and the spawner's volumes; each backend renders it (``backends.docker.hostconfig``,
``backends.kubernetes.podspec``), both pure. The fingerprint is stored on the lab (a container's
or a pod's label), so Restart Server can tell whether the running lab is still what its user
should get.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

# Capabilities a JupyterLab never needs: raw sockets (ping spoofing, ARP games on the lab
# network), device nodes, audit log writes, chroot, file capabilities. Privileged labs keep all.
CAP_DROP = ("NET_RAW", "MKNOD", "AUDIT_WRITE", "SYS_CHROOT", "SETFCAP")
SPEC_LABEL = "stellars.lab-spec"  # the fingerprint, on the container or pod
ENGINE_SOCKET = "/var/run/docker.sock"  # the host's engine socket, mounted at the same place
ALL_GPUS = -1

# what a mount is to the lab: its user's own volume and the shared one are made by the backend
# when missing; a policy's volume or host path must exist (a host path is created by Docker); a
# group's project folder (read-write for members, read-only for its viewers) is made by the hub
# when the folder is created and before each start that mounts it (ReadWriteMany on Kubernetes)
OWN, SHARED, POLICY, PROJECT = "own", "shared", "policy", "project"


@dataclass(frozen=True)
class Mount:
    source: str  # a platform volume name (Docker's spelling) or an absolute host path
    target: str
    read_only: bool = False
    role: str = OWN

    @property
    def host_path(self) -> bool:
        return self.source.startswith("/")


@dataclass(frozen=True)
class LabSpec:
    image: str = ""  # what the lab runs: the chosen profile's image, else the site's ("": the spawner's own)
    memory_bytes: int = 0  # 0: no limit
    cpus: float = 0.0
    pids: int = 0
    gpu_count: int = 0  # ALL_GPUS: every GPU the engine offers (a pod: one)
    gpu_ids: tuple[str, ...] = ()  # chosen devices (Docker); a pod asks for as many as there are
    mounts: tuple[Mount, ...] = ()
    privileged: bool = False
    engine_socket: bool = False
    env: Mapping[str, str] = field(default_factory=dict)  # the policy's and the user's variables, limits

    def __post_init__(self):
        object.__setattr__(self, "env", MappingProxyType(dict(self.env)))

    @property
    def gpus(self) -> int:
        """How many GPUs the lab asks for (ALL_GPUS: all of them)."""
        return len(self.gpu_ids) if self.gpu_ids else self.gpu_count

    @property
    def fingerprint(self) -> str:
        content = {
            "image": self.image,
            "memory": self.memory_bytes,
            "cpus": self.cpus,
            "pids": self.pids,
            "gpus": [self.gpu_count, list(self.gpu_ids)],
            "mounts": sorted([m.source, m.target, m.read_only, m.role] for m in self.mounts),
            "privileged": self.privileged,
            "socket": self.engine_socket,
            "env": dict(self.env),
        }
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:16]

    @property
    def labels(self) -> dict[str, str]:
        return {SPEC_LABEL: self.fingerprint}

    def with_cpus_at_most(self, cpus: int | None) -> LabSpec:
        """More CPUs than the engine has means all of them (Docker refuses more)."""
        if not cpus or not self.cpus or self.cpus <= cpus:
            return self
        return replace(self, cpus=float(cpus))

    def environment(self, engine_names_devices: bool) -> dict[str, str]:
        """The lab's variables: this spec's, then the GPU flags. ``engine_names_devices``: the
        engine tells the lab which GPUs it got (Kubernetes' device plugin), so a value of ours
        would override its choice; otherwise the lab is told what was requested."""
        env = dict(self.env)
        env["ENABLE_GPU_SUPPORT"] = "1" if self.gpus else "0"
        if not self.gpus:
            # also hides GPUs on an engine whose default runtime is NVIDIA's
            env["NVIDIA_VISIBLE_DEVICES"] = "none"
            return env
        env["NVIDIA_DRIVER_CAPABILITIES"] = "compute,utility"
        if not engine_names_devices:
            env["NVIDIA_VISIBLE_DEVICES"] = ",".join(self.gpu_ids) if self.gpu_ids else "all"
        return env

    def describe(self) -> str:
        """One log line: limits and privileges (never the variables' values)."""
        parts = [
            f"memory {self.memory_bytes // 1048576} MiB" if self.memory_bytes else "memory unlimited",
            f"{self.cpus:g} CPUs" if self.cpus else "CPUs unlimited",
            f"pids {self.pids}" if self.pids else "pids unlimited",
        ]
        if self.privileged:
            parts.append("PRIVILEGED")
        if self.engine_socket:
            parts.append("engine socket")
        if self.gpus:
            parts.append("all GPUs" if self.gpus == ALL_GPUS else f"{self.gpus} GPU(s)")
        return ", ".join(parts) + f" (spec {self.fingerprint})"


def build(
    *,
    image: str = "",
    memory_mb: int = 0,
    cpus: float = 0.0,
    pids: int = 0,
    gpus: str | list = "none",
    policy_mounts: Iterable[Mapping] = (),
    project_mounts: Iterable[Mapping] = (),
    volumes: Iterable[Mount] = (),
    engine_socket: bool = False,
    privileged: bool = False,
    env: Mapping[str, str] | None = None,
    user_env: Mapping[str, str] | None = None,
) -> LabSpec:
    """A start's spec from an effective policy's values (``gpus``: "none", "all" or device ids;
    ``policy_mounts`` and the groups' ``project_mounts``: {"source", "target", "mode"}) and the
    lab's own ``volumes``."""
    variables = dict(user_env or {})
    variables.update(env or {})  # a group's value wins over the user's own
    if memory_mb:
        variables["MEM_LIMIT"] = str(memory_mb * 1024 * 1024)  # read by the lab's resource monitor
    if cpus:
        variables["CPU_LIMIT"] = str(cpus)
    mounts = list(volumes)
    mounts += [Mount(m["source"], m["target"], m["mode"] != "rw", POLICY) for m in policy_mounts]
    mounts += [Mount(m["source"], m["target"], m["mode"] != "rw", PROJECT) for m in project_mounts]
    return LabSpec(
        image=image,
        memory_bytes=memory_mb * 1024 * 1024,
        cpus=float(cpus),
        pids=pids,
        gpu_count=ALL_GPUS if gpus == "all" else 0,
        gpu_ids=tuple(gpus) if isinstance(gpus, list) else (),
        mounts=tuple(mounts),
        privileged=privileged,
        engine_socket=engine_socket,
        env=variables,
    )
