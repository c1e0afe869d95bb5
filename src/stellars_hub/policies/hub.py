"""The policies feature's hub wiring: one pre-spawn step that gives each start the lab its user's
groups (and own variables) entitle them to, computed afresh so nothing from an earlier start stays.

JupyterHub's ``Spawner.group_overrides`` is not used: it applies each group's overrides in turn
(the last one wins for a limit, not the most generous) and merges dictionaries into the spawner's
own traits in place, so on a spawner object reused across starts a variable or mount of a group
the user has left would survive.
"""

from __future__ import annotations

import logging

from ..lab.config import Labs
from ..settings import Settings
from . import labspec, model, store
from .config import GroupPolicies
from .merge import Defaults, Effective, effective_for

log = logging.getLogger(__name__)


class Policies:
    """Everything the handlers and the pre-spawn step share (one per hub)."""

    def __init__(self, s: Settings, platform_names, data_dir):
        self.labs = s(Labs)  # the labs' defaults, which a policy may raise
        self.platform_names = frozenset(platform_names)
        self.host_paths = model.host_path_roots(s(GroupPolicies).host_paths)
        self.store = store.store_for(data_dir)
        self._engine_cpus: int | None = None

    def defaults(self, gpu_enabled: bool) -> Defaults:
        return Defaults(
            memory_mb=self.labs.memory_limit,
            cpus=self.labs.cpu_limit,
            pids=self.labs.pids_limit,
            gpus="all" if gpu_enabled else "none",
        )

    def validate(self, body) -> dict:
        return model.validate(body, host_paths=self.host_paths, platform_names=self.platform_names)

    def checked_policy(self, group) -> dict | None:
        """A group's policy, re-validated: a property edited by hand in the admin panel that no
        longer passes is ignored (and logged), never applied half-understood."""
        policy = store.read(group)
        if policy is None:
            return None
        try:
            return self.validate(policy)
        except model.PolicyError as exc:
            log.warning("Ignoring the policy of group %s: %s (fix it on the Policies page)", group.name, exc)
            return store.BUILT_IN.get(group.name)

    async def effective(self, user_orm, gpu_enabled: bool) -> Effective:
        user_env = await self.store.env(user_orm.name)
        return effective_for(user_orm, self.checked_policy, self.defaults(gpu_enabled), user_env)

    async def spec_for(self, spawner) -> labspec.LabSpec:
        return labspec.build(await self.effective(spawner.user.orm_user, spawner.gpu_enabled))

    async def engine_cpus(self, spawner) -> int | None:
        """The engine's CPU count (it refuses a CPU limit above it), asked once per hub."""
        if self._engine_cpus is None:
            try:
                self._engine_cpus = int((await spawner.docker("info"))["NCPU"])
            except Exception as exc:  # the start itself will report an engine that is down
                log.warning("Could not read the engine's CPU count: %s", exc)
        return self._engine_cpus

    async def pre_spawn(self, spawner) -> None:
        from ..spawner import StellarsSpawner

        spec = await self.spec_for(spawner)
        # the Kubernetes spawner reads only the privileges (and refuses the engine socket); the
        # engine's CPU count is a Docker question
        ncpu = await self.engine_cpus(spawner) if isinstance(spawner, StellarsSpawner) else None
        if ncpu and spec.host_config.get("nano_cpus", 0) > ncpu * 10**9:
            spec.host_config["nano_cpus"] = ncpu * 10**9  # more CPUs than the host has means all of them
        # fresh objects every start (never merged into the configured traits)
        spawner.start_binds = spec.binds
        spawner.start_host_config = spec.host_config
        spawner.start_env = spec.env
        spawner.start_labels = spec.labels
        spawner.log.info("Lab of %s: %s", spawner.user.name, describe(spec))


def describe(spec: labspec.LabSpec) -> str:
    h = spec.host_config
    parts = [
        f"memory {h['mem_limit'] // 1048576} MiB" if h.get("mem_limit") else "memory unlimited",
        f"{h['nano_cpus'] / 1e9:g} CPUs" if h.get("nano_cpus") else "CPUs unlimited",
        f"pids {h['pids_limit']}" if h.get("pids_limit") else "pids unlimited",
    ]
    if h.get("privileged"):
        parts.append("PRIVILEGED")
    if labspec.ENGINE_SOCKET in spec.binds:
        parts.append("engine socket")
    if h.get("device_requests"):
        parts.append("GPUs")
    return ", ".join(parts) + f" (spec {spec.fingerprint})"


def policies_for(platform) -> Policies:
    """The hub's one Policies object."""
    from ..spawner import lab_environment

    reserved = lab_environment(platform.settings(Labs))  # the platform's own lab variables
    return platform.shared("policies", lambda: Policies(platform.settings, reserved, platform.data_dir))
