"""A tool pod: what ``run_tool`` runs on Kubernetes (backups, restores, volume copies), the
counterpart of Docker's throw-away container: the lab image's shell, the claims (or host paths)
it names mounted read-only where it only reads, never restarted, no service account token, and
labelled so the deployment's NetworkPolicy gives it no network."""

from __future__ import annotations

import json

from .podspec import claim_name

TOOL_LABEL = "stellars.jupyterhub/tool"
VOLUMES_ANNOTATION = "stellars.jupyterhub/volumes"  # the platform's names of the claims it mounts
# a container waiting for one of these never starts by itself: the tool fails at once
CANNOT_START = frozenset(
    {"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull", "CreateContainerConfigError"}
)


def manifest(
    name: str,
    image: str,
    command: list[str],
    mounts: dict[str, tuple[str, str]],
    node: str | None = None,
    labels: dict[str, str] | None = None,
) -> dict:
    """``mounts``: a platform volume name (its claim) or an absolute host path -> (path, "ro"|"rw");
    ``node``: where it must run (the node that holds a claim a running lab uses); ``labels``: the
    runtime's own (the hub that runs it)."""
    volumes, volume_mounts = [], []
    for i, (source, (target, mode)) in enumerate(sorted(mounts.items())):
        vol = f"tool-{i}"
        read_only = mode != "rw"
        if source.startswith("/"):
            volumes.append({"name": vol, "hostPath": {"path": source, "type": "DirectoryOrCreate"}})
        else:
            volumes.append(
                {"name": vol, "persistentVolumeClaim": {"claimName": claim_name(source), "readOnly": read_only}}
            )
        volume_mounts.append({"name": vol, "mountPath": target, "readOnly": read_only})
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "labels": {TOOL_LABEL: "1", "app.kubernetes.io/managed-by": "stellars-jupyterhub-ds", **(labels or {})},
            "annotations": {VOLUMES_ANNOTATION: json.dumps(sorted(s for s in mounts if not s.startswith("/")))},
        },
        "spec": {
            "restartPolicy": "Never",
            "automountServiceAccountToken": False,
            "enableServiceLinks": False,
            "containers": [
                {
                    "name": "tool",
                    "image": image,
                    "imagePullPolicy": "IfNotPresent",
                    "command": command,
                    "securityContext": {"runAsUser": 0},  # as Docker's tool containers: files of every owner
                    "volumeMounts": volume_mounts,
                }
            ],
            "volumes": volumes,
            **({"affinity": _on_node(node)} if node else {}),
        },
    }


def volumes_of(annotations: dict | None) -> tuple[str, ...]:
    """The platform volumes a tool pod mounts, from its annotation (none on a pod without it)."""
    try:
        return tuple(json.loads((annotations or {}).get(VOLUMES_ANNOTATION, "[]")))
    except ValueError:
        return ()


def exit_code(status) -> int | None:
    """How a tool pod's container ended (a pod's status object); None while it runs."""
    for container in (status.container_statuses or []) if status else []:
        ended = container.state.terminated if container.state else None
        if ended is not None:
            return ended.exit_code
    return None


def _on_node(node: str) -> dict:
    """Scheduled on that node (by the scheduler, which also binds any claim still waiting for a pod)."""
    term = {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}}}
