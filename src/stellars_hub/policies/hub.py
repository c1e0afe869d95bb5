"""The policies feature's hub wiring: one pre-spawn step that gives each start the lab its user's
groups (and own variables) entitle them to, computed afresh so nothing from an earlier start stays.

JupyterHub's ``Spawner.group_overrides`` is not used: it applies each group's overrides in turn
(the last one wins for a limit, not the most generous) and merges dictionaries into the spawner's
own traits in place, so on a spawner object reused across starts a variable or mount of a group
the user has left would survive.
"""

from __future__ import annotations

import json
import logging

from ..errors import Conflict
from ..lab import spec as labspec
from ..lab.config import Labs
from ..lab.mixin import LabSpawnerMixin
from ..settings import Settings
from ..web import audit
from . import model, profiles, projects, realpath, store
from .config import GroupPolicies
from .merge import Defaults, Effective, effective_for

log = logging.getLogger(__name__)


class Policies:
    """Everything the handlers and the pre-spawn step share (one per hub)."""

    def __init__(self, platform, s: Settings, platform_names, policy_store: store.PolicyStore):
        self.platform = platform
        self.labs = s(Labs)  # the labs' defaults, which a policy may raise
        self.platform_names = frozenset(platform_names)
        self.host_paths = model.host_path_roots(s(GroupPolicies).host_paths)
        dropped = model.dropped_roots(s(GroupPolicies).host_paths)
        if dropped:
            log.warning(
                "JUPYTERHUB_POLICY_HOST_PATHS: %s ignored: they are, hold or lie in the container engine's own "
                "data or sockets, which no lab may mount",
                ", ".join(dropped),
            )
        self._data_root: str | None = None
        self._reported: set[tuple[str, str]] = set()
        self.store = policy_store

    def defaults(self, gpu_enabled: bool) -> Defaults:
        return Defaults(
            memory_mb=self.labs.memory_limit,
            cpus=self.labs.cpu_limit,
            pids=self.labs.pids_limit,
            gpus="all" if gpu_enabled else "none",
        )

    def validate(self, body) -> dict:
        policy = model.validate(body, host_paths=self.host_paths, platform_names=self.platform_names)
        if body.get(profiles.FIELD):  # bounded by the group's own limits, else the site's defaults
            policy[profiles.FIELD] = profiles.validate_profiles(body[profiles.FIELD], policy, self.defaults(False))
        return policy

    def checked_policy(self, group, stored: dict[str, tuple[int, dict]]) -> dict | None:
        """A group's policy as saved through the policy API (``stored``: the store's rows), with
        its built-in privilege, re-validated against today's settings (a host path no longer
        allowed): a policy that no longer passes is ignored (and logged), never applied
        half-understood. A row of an earlier group of the same name is not this group's."""
        row = stored.get(group.name)
        policy = store.with_built_in(group.name, row[1] if row and row[0] == group.id else None)
        if policy is None:
            return None
        try:
            return self.validate(policy)
        except model.PolicyError as exc:
            log.warning("Ignoring the policy of group %s: %s (fix it on the Policies page)", group.name, exc)
            return store.BUILT_IN.get(group.name)

    async def stored(self) -> dict[str, tuple[int, dict]]:
        return await self.store.group_policies()

    async def effective(self, user_orm, gpu_enabled: bool) -> Effective:
        user_env = await self.store.env(user_orm.name)
        stored = await self.stored()
        eff = effective_for(
            user_orm, lambda group: self.checked_policy(group, stored), self.defaults(gpu_enabled), user_env
        )
        groups = {g.name: g.id for g in user_orm.groups}
        eff.projects = projects.mounts_for(groups, await self.store.project_folders())
        return eff

    def report_ignored(self, groups) -> None:
        """Policy keys written into a group's JupyterHub properties have no effect: say so in the
        log and the audit, once per group and content."""
        for group in groups:
            keys = store.ignored_keys(group)
            seen = (group.name, json.dumps({k: (group.properties or {})[k] for k in keys}, sort_keys=True, default=str))
            if not keys or seen in self._reported:
                continue
            self._reported.add(seen)
            log.warning(
                "Group %s's JupyterHub properties carry policy keys (%s): ignored. Policies are set only "
                "through the Policies page or PUT /hub/api/groups/%s/policy",
                group.name,
                ", ".join(keys),
                group.name,
            )
            audit.record_for(self.platform, "(hub)", f"group:{group.name}", "policy-ignored", "refused", keys=keys)

    async def spec_for(self, spawner, cpus: int | None = None) -> labspec.LabSpec:
        """What this start of ``spawner``'s lab gets: its user's effective policy over the site's
        defaults, with the spawner's own volumes; at most ``cpus`` CPUs (the engine's)."""
        eff = await self.effective(spawner.user.orm_user, spawner.gpu_enabled)
        # the start's profile: refused (400) unless offered to the user, whatever the request said
        profile = profiles.choose(eff.profiles, spawner.user_options)
        chosen = profiles.applied({"memory_mb": eff.memory_mb, "cpus": eff.cpus, "gpus": eff.gpus}, profile)
        spec = labspec.build(
            image=profile["image"] if profile else spawner.image,
            memory_mb=chosen["memory_mb"],
            cpus=chosen["cpus"],
            pids=eff.pids,
            gpus=chosen["gpus"],
            policy_mounts=eff.mounts,
            project_mounts=eff.projects,
            volumes=spawner.lab_volumes(self.platform.volume_names),
            engine_socket=eff.docker_sock,
            privileged=eff.privileged,
            env=eff.env,
            user_env=eff.user_env,
        )
        return spec.with_cpus_at_most(cpus)

    async def check_real_paths(self, mounts, image: str | None = None) -> None:
        """PolicyError unless every host path of ``mounts`` ({"source", ...}) really lies in an
        allowed directory on the engine's host (see realpath.py)."""
        if not any(m["source"].startswith("/") for m in mounts):
            return
        runtime = self.platform.runtime
        if self._data_root is None:
            try:
                self._data_root = await runtime.data_root() or ""
            except Exception as exc:  # the check below needs the engine anyway and says so
                log.warning("Could not read the engine's data directory: %s", exc)
        await realpath.check(runtime, image or self.labs.image, list(mounts), self.host_paths, self._data_root or None)

    async def check_lab_mounts(self, spawner, spec: labspec.LabSpec) -> None:
        """Conflict (the lab must not start or restart) when a host path it would mount does
        not really lie in an allowed directory (any more)."""
        mounts = [{"source": m.source} for m in spec.mounts if m.role == labspec.POLICY]
        try:
            await self.check_real_paths(mounts, getattr(spawner, "image", None))
        except model.PolicyError as exc:
            log.warning("Refusing to start the lab of %s: %s", spawner.user.name, exc)
            raise Conflict(
                f"a group policy of {spawner.user.name} mounts a host path that is not allowed ({exc}); "
                "ask your administrator to fix the policy"
            ) from None

    async def ensure_project_volumes(self, volumes: list[str]) -> list[str]:
        """Make the project folders' volumes that do not exist (shared access, writable by every
        lab's user); the ones made now."""
        if not volumes:
            return []
        runtime = self.platform.runtime
        existing = await runtime.volumes(volumes)
        made = []
        for volume in volumes:
            if existing.get(volume) is not None and existing[volume].exists:
                continue
            await runtime.ensure_shared_volume(volume)
            result = await runtime.run_tool(
                self.labs.image, ["chmod", projects.FOLDER_MODE, "/volume"], {volume: ("/volume", "rw")}, timeout=300
            )
            if result.exit_code != 0:
                raise Conflict(f"the project folder {volume} could not be prepared: {result.output.strip()[-300:]}")
            log.info("Project folder volume %s made", volume)
            made.append(volume)
        return made

    async def pre_spawn(self, spawner, runtime) -> None:
        if not isinstance(spawner, LabSpawnerMixin):
            return  # a spawner of another kind: not a platform lab
        self.report_ignored(spawner.user.orm_user.groups)
        # a fresh spec every start (never merged into the configured traits)
        spec = await self.spec_for(spawner, await runtime.cpu_count())
        # at every start: a link made in an allowed directory since the policy was saved
        await self.check_lab_mounts(spawner, spec)
        # the groups' project folders exist before a lab mounts them (the engine would make a
        # missing one root-owned; Kubernetes would wait for a claim nobody makes)
        await self.ensure_project_volumes([m.source for m in spec.mounts if m.role == labspec.PROJECT])
        spawner.lab_spec = spec
        spawner.log.info("Lab of %s: %s", spawner.user.name, spawner.lab_spec.describe())


def policies_for(platform) -> Policies:
    """The hub's one Policies object."""
    from ..lab.config import lab_environment

    reserved = lab_environment(platform.settings(Labs))  # the platform's own lab variables
    return platform.shared(
        "policies", lambda: Policies(platform, platform.settings, reserved, store.store_for(platform))
    )
