"""Group policies: per-group lab resources and privileges, the bounded default every lab gets,
and the user's own environment variables. Public: ``effective_for`` (what a user's next lab gets),
``effective_of`` (the same for a spawner about to start)."""

from .merge import Effective, effective_for  # noqa: F401


async def outdated_reason(platform, spawner, container_info: dict | None) -> str | None:
    """Why the running container no longer matches what its user's lab should get now (group
    policies, own variables, limits), or None when it matches. Used by Restart Server: the
    engine's restart (Docker) and the kubelet's (a pod's spec never changes) keep the old settings.
    Both backends label the lab with the fingerprint (a container's label, a pod's label)."""
    from ..lab.mixin import LabSpawnerMixin
    from ..lab.spec import SPEC_LABEL
    from . import hub

    if container_info is None or not isinstance(spawner, LabSpawnerMixin):
        return None  # no lab, or a spawner the policies do not shape
    spec = await hub.policies_for(platform).spec_for(spawner, await platform.runtime.cpu_count())
    running = (container_info.get("Config") or {}).get("Labels") or {}
    if running.get(SPEC_LABEL) == spec.fingerprint:
        return None
    if SPEC_LABEL not in running:
        return "the lab was created before its policy was recorded"
    return "the lab's policy (image, resources, privileges, mounts or variables) changed since it was created"


async def check_host_paths(platform, spawner) -> None:
    """Conflict when a host path the running lab mounts no longer leads where a policy may
    mount from: the engine follows the path again when it restarts the container in place."""
    from ..lab.mixin import LabSpawnerMixin
    from . import hub

    if not isinstance(spawner, LabSpawnerMixin):
        return
    policies = hub.policies_for(platform)
    await policies.check_lab_mounts(spawner, await policies.spec_for(spawner))


async def storage_against_quota(platform, user, used_bytes: int | None) -> dict:
    """Use of the user's own volumes against their groups' soft quota (for Manage Volumes)."""
    from . import hub, quota

    eff = await hub.policies_for(platform).effective(user.orm_user, False)
    return quota.status(user.name, used_bytes, eff.quota_gb, eff.sources.get("quota_gb", []))


async def effective_of(platform, spawner):
    """The effective policy of ``spawner``'s user for this start (limits, GPUs, culling, ...)."""
    from ..lab.mixin import LabSpawnerMixin
    from . import hub

    gpu_enabled = spawner.gpu_enabled if isinstance(spawner, LabSpawnerMixin) else False
    return await hub.policies_for(platform).effective(spawner.user.orm_user, gpu_enabled)


async def project_folders(platform) -> list[dict]:
    """Every group project folder: ``{"group", "volume", "kept"}`` (kept: its group was deleted;
    the folder stays until an admin removes it). For backups and reports."""
    from . import hub

    rows = await hub.policies_for(platform).store.project_folders()
    return [{"group": r["group_name"], "volume": r["volume"], "kept": r["group_id"] is None} for r in rows]


def project_lock(volume: str) -> str:
    """The operation lock of a project folder's volume (its removal, its backups)."""
    from .projectapi import lock_key

    return lock_key(volume)
