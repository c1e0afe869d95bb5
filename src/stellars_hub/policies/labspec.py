"""An effective lab turned into what the engine is asked for: binds, host config, environment,
and a fingerprint label so a restart can tell whether the running container is out of date."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from ..admin.groups import ENGINE_SOCKET
from .merge import Effective

# Capabilities a JupyterLab never needs: raw sockets (ping spoofing, ARP games on the lab
# network), device nodes, audit log writes, chroot, file capabilities. Privileged labs keep all.
CAP_DROP = ("NET_RAW", "MKNOD", "AUDIT_WRITE", "SYS_CHROOT", "SETFCAP")
SECURITY_OPT = ("no-new-privileges:true",)
SPEC_LABEL = "stellars.lab-spec"  # fingerprint of binds + host config + environment


@dataclass(frozen=True)
class LabSpec:
    binds: dict
    host_config: dict
    env: dict
    fingerprint: str

    @property
    def labels(self) -> dict:
        return {SPEC_LABEL: self.fingerprint}


def gpu_request(gpus) -> list[dict]:
    if gpus == "all":
        return [{"Driver": "nvidia", "Count": -1, "Capabilities": [["gpu"]]}]
    if isinstance(gpus, list) and gpus:
        return [{"Driver": "nvidia", "DeviceIDs": list(gpus), "Capabilities": [["gpu"]]}]
    return []


def build(eff: Effective) -> LabSpec:
    host: dict = {}
    if eff.memory_mb:
        host["mem_limit"] = eff.memory_mb * 1024 * 1024
        host["memswap_limit"] = host["mem_limit"]  # no swap on top: over the limit means out of memory
    if eff.cpus:
        host["nano_cpus"] = int(round(eff.cpus * 1e9))
    if eff.pids:
        host["pids_limit"] = eff.pids
    if eff.privileged:
        host["privileged"] = True
    else:
        host["security_opt"] = list(SECURITY_OPT)
        host["cap_drop"] = list(CAP_DROP)
    host["device_requests"] = gpu_request(eff.gpus)  # always set: an empty list means no GPU

    binds: dict = {}
    for mount in eff.mounts:
        binds[mount["source"]] = {"bind": mount["target"], "mode": mount["mode"]}
    if eff.docker_sock:
        binds[ENGINE_SOCKET] = {"bind": ENGINE_SOCKET, "mode": "rw"}

    env = dict(eff.user_env)
    env.update(eff.env)  # a group's value wins over the user's own
    if eff.memory_mb:
        env["MEM_LIMIT"] = str(eff.memory_mb * 1024 * 1024)  # read by the lab's resource monitor
    if eff.cpus:
        env["CPU_LIMIT"] = str(eff.cpus)
    gpus = eff.gpus
    env["ENABLE_GPU_SUPPORT"] = "1" if gpus != "none" else "0"
    if gpus == "all" or isinstance(gpus, list):
        env["NVIDIA_VISIBLE_DEVICES"] = "all" if gpus == "all" else ",".join(gpus)
    elif "gpus" in eff.sources:
        # a policy took GPUs away: "none" also hides them on an engine whose default runtime is NVIDIA's
        env["NVIDIA_VISIBLE_DEVICES"] = "none"
    if gpus != "none":
        env["NVIDIA_DRIVER_CAPABILITIES"] = "compute,utility"

    digest = hashlib.sha256(json.dumps([binds, host, env], sort_keys=True).encode()).hexdigest()[:16]
    return LabSpec(binds=binds, host_config=host, env=env, fingerprint=digest)
