"""A ``LabSpec`` in the Docker engine's terms: image, binds, host config, environment and labels
(pure: the spawner passes the result to DockerSpawner's create call)."""

from __future__ import annotations

from dataclasses import dataclass

from ...lab.spec import ALL_GPUS, CAP_DROP, ENGINE_SOCKET, LabSpec

SECURITY_OPT = ("no-new-privileges:true",)  # setuid programs cannot raise privileges


@dataclass(frozen=True)
class DockerLab:
    image: str  # "": the spawner's configured image
    binds: dict  # source -> {"bind": path, "mode": "ro" | "rw"} (DockerSpawner's volumes)
    host_config: dict  # docker-py create_host_config keywords
    env: dict
    labels: dict


def device_requests(spec: LabSpec) -> list[dict]:
    """The engine's GPU request; an empty list asks for none."""
    if spec.gpu_ids:
        return [{"Driver": "nvidia", "DeviceIDs": list(spec.gpu_ids), "Capabilities": [["gpu"]]}]
    if spec.gpu_count:
        count = -1 if spec.gpu_count == ALL_GPUS else spec.gpu_count
        return [{"Driver": "nvidia", "Count": count, "Capabilities": [["gpu"]]}]
    return []


def render(spec: LabSpec) -> DockerLab:
    host: dict = {}
    if spec.memory_bytes:
        host["mem_limit"] = spec.memory_bytes
        host["memswap_limit"] = spec.memory_bytes  # no swap on top: over the limit means out of memory
    if spec.cpus:
        host["nano_cpus"] = int(round(spec.cpus * 1e9))
    if spec.pids:
        host["pids_limit"] = spec.pids
    if spec.privileged:
        host["privileged"] = True
    else:
        host["security_opt"] = list(SECURITY_OPT)
        host["cap_drop"] = list(CAP_DROP)
    host["device_requests"] = device_requests(spec)
    binds = {m.source: {"bind": m.target, "mode": "ro" if m.read_only else "rw"} for m in spec.mounts}
    if spec.engine_socket:
        binds[ENGINE_SOCKET] = {"bind": ENGINE_SOCKET, "mode": "rw"}
    return DockerLab(spec.image, binds, host, spec.environment(engine_names_devices=False), spec.labels)
