"""A start's lab as pod settings: the policies feature's Docker-shaped spec (``start_host_config``,
``start_binds``, ``start_env``, ``start_labels``) in the terms KubeSpawner builds a pod from.

- memory and CPU limits become the lab container's limits; its requests are a fraction of them
  (labs are idle most of the time; memory is reserved more, as it cannot be taken back);
- GPUs become an ``nvidia.com/gpu`` limit: Kubernetes hands out a count, never chosen devices;
- the policy's mounts become volumes: a host path a ``hostPath`` volume (on the node the pod runs
  on), a named volume the persistent volume claim of that name;
- privileged mode becomes the container's security context; an unprivileged lab drops the same
  capabilities as on Docker;
- the process limit has no per-pod equivalent (the kubelet's ``--pod-max-pids`` bounds every pod).

Everything here is computed from the configured values and this start's spec, so nothing from an
earlier start survives on a reused spawner.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..admin.groups import ENGINE_SOCKET
from ..policies.labspec import CAP_DROP
from . import GPU_RESOURCE, PLATFORM_CLAIM_PREFIXES, claim_name

# DNS-1123 subdomain: what a claim name must be
_CLAIM_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")


@dataclass(frozen=True)
class PolicyMount:
    volume: dict  # the pod's volume
    mount: dict  # the lab container's volume mount
    claim: str | None = None  # the claim it needs (None: a host path)


@dataclass
class Resources:
    mem_limit: int | None = None
    mem_guarantee: int | None = None
    cpu_limit: float | None = None
    cpu_guarantee: float | None = None
    extra_limits: dict = field(default_factory=dict)


def gpu_count(host_config: dict, gpu_enabled: bool) -> int:
    """GPUs this start asks for. A policy's choice (``device_requests``, set on every start the
    policies feature shapes) wins; "all" is one GPU (a pod asks for a count, and one is what the
    hub's own GPU setting gives); chosen device ids ask for as many GPUs as ids."""
    if "device_requests" not in host_config:
        return 1 if gpu_enabled else 0
    count = 0
    for request in host_config["device_requests"] or []:
        ids = request.get("DeviceIDs") or request.get("device_ids")
        count += len(ids) if ids else 1
    return count


def _guarantee(configured, limit, fraction: float):
    """The site's own guarantee (never above the limit), else ``fraction`` of the limit."""
    if not limit:
        return configured
    if configured:
        return min(configured, limit)
    return fraction * limit


def resources(
    host_config: dict,
    configured: Resources,
    *,
    gpus: int,
    memory_fraction: float,
    cpu_fraction: float,
) -> Resources:
    """Limits and requests of this start: the policy's where it gives one, else the configured."""
    mem_limit = host_config.get("mem_limit") or configured.mem_limit
    cpu_limit = host_config["nano_cpus"] / 1e9 if host_config.get("nano_cpus") else configured.cpu_limit
    mem_guarantee = _guarantee(configured.mem_guarantee, mem_limit, memory_fraction)
    cpu_guarantee = _guarantee(configured.cpu_guarantee, cpu_limit, cpu_fraction)
    extra = {k: v for k, v in configured.extra_limits.items() if k != GPU_RESOURCE}
    if gpus:
        extra[GPU_RESOURCE] = str(gpus)
    return Resources(
        mem_limit=int(mem_limit) if mem_limit else None,
        mem_guarantee=int(mem_guarantee) if mem_guarantee else None,
        cpu_limit=cpu_limit or None,
        # millicores: the finest CPU unit a pod can ask for
        cpu_guarantee=max(0.001, round(cpu_guarantee, 3)) if cpu_guarantee else None,
        extra_limits=extra,
    )


def policy_mounts(binds: dict) -> list[PolicyMount]:
    """The policy's mounts (``start_binds``) as pod volumes. The engine socket is not among them:
    the spawner refuses a lab that should get it."""
    found = []
    for i, (source, bind) in enumerate(sorted(binds.items())):
        if source == ENGINE_SOCKET:
            continue
        name = f"policy-{i}"
        read_only = bind.get("mode", "ro") != "rw"
        mount = {"name": name, "mountPath": bind["bind"], "readOnly": read_only}
        if source.startswith("/"):
            # created on the node when missing, as Docker creates a missing bind source
            volume = {"name": name, "hostPath": {"path": source, "type": "DirectoryOrCreate"}}
            found.append(PolicyMount(volume, mount))
            continue
        claim = claim_name(source)
        if claim.startswith(PLATFORM_CLAIM_PREFIXES):
            raise ValueError(f"a group policy mounts volume {source!r}, the platform's claim {claim!r} on Kubernetes")
        if not _CLAIM_NAME.match(claim):
            raise ValueError(
                f"a group policy mounts volume {source!r}; on Kubernetes that is the claim {claim!r}, "
                "which is not a valid claim name (lower-case letters, digits, - and .)"
            )
        volume = {"name": name, "persistentVolumeClaim": {"claimName": claim, "readOnly": read_only}}
        found.append(PolicyMount(volume, mount, claim))
    return found


def security_context(configured: dict, privileged: bool) -> dict:
    """The lab container's security context from the site's (a dict) and this start's privileges."""
    if privileged:
        # Kubernetes refuses privileged with allowPrivilegeEscalation false (KubeSpawner's default)
        return {**configured, "privileged": True, "allowPrivilegeEscalation": True}
    context = {k: v for k, v in configured.items() if k != "privileged"}
    context.setdefault("capabilities", {"drop": list(CAP_DROP)})  # as unprivileged Docker labs
    return context


def lab_env(env: dict, gpus: int) -> dict:
    """The lab's environment with this start's GPU flags. With GPUs the device plugin names the
    devices the pod got (a NVIDIA_VISIBLE_DEVICES of our own would override its choice and could
    hand out every GPU of the node); without, none are visible even on a node whose default
    container runtime is NVIDIA's."""
    env = dict(env)
    env["ENABLE_GPU_SUPPORT"] = "1" if gpus else "0"
    if gpus:
        env.pop("NVIDIA_VISIBLE_DEVICES", None)
        env["NVIDIA_DRIVER_CAPABILITIES"] = "compute,utility"
    else:
        env["NVIDIA_VISIBLE_DEVICES"] = "none"
        env.pop("NVIDIA_DRIVER_CAPABILITIES", None)
    return env
