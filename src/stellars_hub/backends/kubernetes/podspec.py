"""A ``LabSpec`` in the terms KubeSpawner builds a pod from (pure: values of its traits).

- memory and CPU limits become the lab container's limits; its requests are a fraction of them
  (labs are idle most of the time; memory is reserved more, as it cannot be taken back); a spec
  without a limit keeps the site's configured one;
- GPUs become an ``nvidia.com/gpu`` limit: Kubernetes hands out a count, never chosen devices
  ("all" is one GPU, chosen ids ask for as many GPUs as ids);
- the image is the spec's (a chosen profile's), else the site's;
- mounts become volumes: the user's own and the shared volume their claims, a policy's host path
  a ``hostPath`` volume (on the node the pod runs on), a policy's named volume the claim of that
  name (never one of a lab's own claims), a group's project folder its ReadWriteMany claim (made
  by the hub);
- privileged mode becomes the container's security context; an unprivileged lab drops the same
  capabilities as on Docker;
- the process limit has no per-pod equivalent (the kubelet's ``--pod-max-pids`` bounds every pod).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from typing import Any

from ...lab.spec import ALL_GPUS, CAP_DROP, OWN, PROJECT, SHARED, LabSpec, Mount
from ...naming import CONTAINER_PREFIX

GPU_RESOURCE = "nvidia.com/gpu"
INIT_CONTAINER = "volume-init"
INIT_ROOT = "/stellars-init"
# DNS-1123 subdomain: what a claim name must be
_CLAIM_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
# users' lab claims (jupyterlab-<escaped name>-<key>), the shared claim and the hub's own
PLATFORM_CLAIM_PREFIXES = (CONTAINER_PREFIX, "jupyterhub-")


def claim_name(volume_name: str) -> str:
    """Docker-style volume name -> persistent volume claim name.

    Escaped user names never contain ``_`` (naming.escape_name keeps only [a-z0-9-]), so the
    only ``_`` is the one before the key and the mapping cannot merge two users' volumes.
    """
    return volume_name.replace("_", "-")


@dataclass(frozen=True)
class PodSite:
    """What the site configured on the spawner, which a spec is rendered on top of."""

    mem_limit: int | None = None
    mem_guarantee: int | None = None
    cpu_limit: float | None = None
    cpu_guarantee: float | None = None
    extra_limits: dict = field(default_factory=dict)
    memory_fraction: float = 0.5
    cpu_fraction: float = 0.1
    security_context: dict | None = None  # None: the site's own callable decides
    image: str = ""
    image_pull_policy: str | None = None
    initialise_volumes: bool = True


@dataclass(frozen=True)
class PodVolume:
    volume: dict  # the pod's volume
    mount: dict  # the lab container's volume mount
    claim: str | None  # the claim it needs (None: a host path)
    made_here: bool  # a claim the spawner creates when missing (the lab's own and the shared one)


def gpu_count(spec: LabSpec) -> int:
    return 1 if spec.gpus == ALL_GPUS else spec.gpus


def pod_volumes(spec: LabSpec) -> list[PodVolume]:
    """Every mount of the spec as a pod volume; a policy's named volume must be a valid claim name
    that is not one of the labs' own (ValueError)."""
    found = []
    for i, m in enumerate(spec.mounts):
        name = f"lab-{i}" if m.role in (OWN, SHARED) else f"{m.role}-{i}"
        mount = {"name": name, "mountPath": m.target, "readOnly": m.read_only}
        if m.host_path:
            # created on the node when missing, as Docker creates a missing bind source
            found.append(
                PodVolume(
                    {"name": name, "hostPath": {"path": m.source, "type": "DirectoryOrCreate"}}, mount, None, False
                )
            )
            continue
        claim = claim_name(m.source)
        if m.role not in (OWN, SHARED, PROJECT):
            _check_policy_claim(m, claim)
        volume = {"name": name, "persistentVolumeClaim": {"claimName": claim, "readOnly": m.read_only}}
        found.append(PodVolume(volume, mount, claim, m.role in (OWN, SHARED)))
    return found


def _check_policy_claim(m: Mount, claim: str) -> None:
    if not _CLAIM_NAME.match(claim):
        raise ValueError(
            f"a group policy mounts volume {m.source!r}; on Kubernetes that is the claim {claim!r}, "
            "which is not a valid claim name (lower-case letters, digits, - and .)"
        )
    if claim.startswith(PLATFORM_CLAIM_PREFIXES):
        raise ValueError(
            f"a group policy mounts volume {m.source!r}: the claim {claim} is a lab's own storage or the "
            "platform's (the shared claim, the hub's), which a policy may not hand to anyone else"
        )


def _guarantee(configured, limit, fraction: float):
    """The site's own guarantee (never above the limit), else ``fraction`` of the limit."""
    if not limit:
        return configured
    if configured:
        return min(configured, limit)
    return fraction * limit


def resources(spec: LabSpec, site: PodSite) -> dict[str, Any]:
    """Limits and requests of this start: the spec's where it gives one, else the site's."""
    mem_limit = spec.memory_bytes or site.mem_limit
    cpu_limit = spec.cpus or site.cpu_limit
    mem_guarantee = _guarantee(site.mem_guarantee, mem_limit, site.memory_fraction)
    cpu_guarantee = _guarantee(site.cpu_guarantee, cpu_limit, site.cpu_fraction)
    extra = {k: v for k, v in site.extra_limits.items() if k != GPU_RESOURCE}
    if gpu_count(spec):
        extra[GPU_RESOURCE] = str(gpu_count(spec))
    return {
        "mem_limit": int(mem_limit) if mem_limit else None,
        "mem_guarantee": int(mem_guarantee) if mem_guarantee else None,
        "cpu_limit": cpu_limit or None,
        # millicores: the finest CPU unit a pod can ask for
        "cpu_guarantee": max(0.001, round(cpu_guarantee, 3)) if cpu_guarantee else None,
        "extra_resource_limits": extra,
    }


def security_context(configured: dict, privileged: bool) -> dict:
    """The lab container's security context from the site's (a dict) and this start's privileges."""
    if privileged:
        # Kubernetes refuses privileged with allowPrivilegeEscalation false (KubeSpawner's default)
        return {**configured, "privileged": True, "allowPrivilegeEscalation": True}
    context = {k: v for k, v in configured.items() if k != "privileged"}
    context.setdefault("capabilities", {"drop": list(CAP_DROP)})  # as unprivileged Docker labs
    return context


def image(spec: LabSpec, site: PodSite) -> str:
    """What the lab runs: the spec's image (a chosen profile's), else the site's."""
    return spec.image or site.image


def volume_init_container(volumes: list[PodVolume], site: PodSite, lab_image: str = "") -> dict:
    """Copy the image's content at each mount point into a lab claim that is still empty, and give
    the claim's root the owner and mode of that mount point in the image (what Docker does for a
    fresh named volume)."""
    lines, mounts = [], []
    for v in volumes:
        if not v.made_here:
            continue
        path, target = shlex.quote(v.mount["mountPath"]), f"{INIT_ROOT}/{v.mount['name']}"
        lines.append(
            # empty, or holding only a new file system's lost+found
            f'if [ -d {path} ] && [ -z "$(ls -A {target} | grep -vx lost+found)" ]; then '
            f"cp -a {path}/. {target}/ && chown --reference={path} {target} && chmod --reference={path} {target}; fi"
        )
        mounts.append({"name": v.mount["name"], "mountPath": target})
    return {
        "name": INIT_CONTAINER,
        "image": lab_image or site.image,  # the content copied is the lab's own image's
        "imagePullPolicy": site.image_pull_policy,
        "command": ["sh", "-c", "set -e\n" + "\n".join(lines)],
        "securityContext": {"runAsUser": 0},
        "volumeMounts": mounts,
    }


def render(spec: LabSpec, site: PodSite) -> dict[str, Any]:
    """This start's additions to KubeSpawner's traits (the caller adds them to the site's own):
    image, volumes, mounts, init containers, resources, labels and, unless the site decides it with a
    callable, the security context. The engine socket is not a mount here: the spawner refuses a
    lab that should get it."""
    volumes = pod_volumes(spec)
    lab_image = image(spec, site)
    traits: dict[str, Any] = {
        "image": lab_image,
        "volumes": [v.volume for v in volumes],
        "volume_mounts": [v.mount for v in volumes],
        "init_containers": [volume_init_container(volumes, site, lab_image)] if site.initialise_volumes else [],
        "extra_labels": spec.labels,
        **resources(spec, site),
    }
    if site.security_context is not None:
        traits["container_security_context"] = security_context(site.security_context, spec.privileged)
    return traits


def environment(spec: LabSpec) -> dict[str, str]:
    """The lab's variables; the device plugin names the pod's GPUs itself."""
    return spec.environment(engine_names_devices=True)
