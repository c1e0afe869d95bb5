"""The policies feature's hub wiring: one pre-spawn step that gives each start the lab its user's
groups (and own variables) entitle them to, computed afresh so nothing from an earlier start stays.

JupyterHub's ``Spawner.group_overrides`` is not used: it applies each group's overrides in turn
(the last one wins for a limit, not the most generous) and merges dictionaries into the spawner's
own traits in place, so on a spawner object reused across starts a variable or mount of a group
the user has left would survive.
"""

from __future__ import annotations

import logging

from ..lab import spec as labspec
from ..lab.config import Labs
from ..lab.mixin import LabSpawnerMixin
from ..settings import Settings
from . import model, store
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

    async def spec_for(self, spawner, cpus: int | None = None) -> labspec.LabSpec:
        """What this start of ``spawner``'s lab gets: its user's effective policy over the site's
        defaults, with the spawner's own volumes; at most ``cpus`` CPUs (the engine's)."""
        eff = await self.effective(spawner.user.orm_user, spawner.gpu_enabled)
        spec = labspec.build(
            memory_mb=eff.memory_mb,
            cpus=eff.cpus,
            pids=eff.pids,
            gpus=eff.gpus,
            policy_mounts=eff.mounts,
            volumes=spawner.lab_volumes(),
            engine_socket=eff.docker_sock,
            privileged=eff.privileged,
            env=eff.env,
            user_env=eff.user_env,
        )
        return spec.with_cpus_at_most(cpus)

    async def pre_spawn(self, spawner, runtime) -> None:
        if not isinstance(spawner, LabSpawnerMixin):
            return  # a spawner of another kind: not a platform lab
        # a fresh spec every start (never merged into the configured traits)
        spawner.lab_spec = await self.spec_for(spawner, await runtime.cpu_count())
        spawner.log.info("Lab of %s: %s", spawner.user.name, spawner.lab_spec.describe())


def policies_for(platform) -> Policies:
    """The hub's one Policies object."""
    from ..lab.config import lab_environment

    reserved = lab_environment(platform.settings(Labs))  # the platform's own lab variables
    return platform.shared("policies", lambda: Policies(platform.settings, reserved, platform.data_dir))
