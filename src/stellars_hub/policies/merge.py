"""A user's effective lab: the bounded defaults, then their groups' policies merged (the most
generous limit, the union of mounts and variables, any grant of the socket or privileged mode),
then their own variables underneath the groups'."""

from __future__ import annotations

from dataclasses import dataclass, field

from .model import CULLING_FIELDS, LIMIT_FIELDS
from .profiles import offered


@dataclass(frozen=True)
class Defaults:
    """What a lab gets when none of its user's groups says otherwise (the operator's settings)."""

    memory_mb: int
    cpus: float
    pids: int
    gpus: str  # "all" or "none": the GPU setting of the hub


@dataclass
class Effective:
    memory_mb: int = 0  # 0 = no limit
    cpus: float = 0.0
    pids: int = 0
    gpus: str | list = "none"
    env: dict = field(default_factory=dict)
    user_env: dict = field(default_factory=dict)
    mounts: list = field(default_factory=list)
    docker_sock: bool = False
    privileged: bool = False
    quota_gb: float | None = None
    idle_timeout_seconds: int | None = None  # None: no group sets it (the site's culling settings apply)
    max_age_seconds: int | None = None
    sources: dict = field(default_factory=dict)  # field -> group names that gave the value
    conflicts: list = field(default_factory=list)  # stored policies that disagree (saved before a check)
    # a lab per need and group project folders (profiles.py, projects.py)
    profiles: list = field(default_factory=list)  # offered, each with its "groups"; the first is the default
    projects: list = field(default_factory=list)  # {"group", "source", "target", "mode"}

    def as_json(self) -> dict:
        return {
            k: getattr(self, k)
            for k in (
                "memory_mb",
                "cpus",
                "pids",
                "gpus",
                "env",
                "user_env",
                "mounts",
                "docker_sock",
                "privileged",
                "quota_gb",
                "idle_timeout_seconds",
                "max_age_seconds",
                "sources",
                "conflicts",
                "profiles",
                "projects",
            )
        }


def _more_generous(a, b) -> bool:
    """True when limit ``a`` gives more than ``b`` (0 is no limit, the most of all)."""
    if a == 0:
        return b != 0
    return b != 0 and a > b


def _gpu_rank(value) -> int:
    return 2 if value == "all" else 1 if isinstance(value, list) else 0


def merge(defaults: Defaults, policies: dict[str, dict], user_env: dict | None = None) -> Effective:
    """``policies``: group name -> stored policy, for the groups the user is in."""
    eff = Effective(memory_mb=defaults.memory_mb, cpus=defaults.cpus, pids=defaults.pids, gpus=defaults.gpus)
    for name in LIMIT_FIELDS + CULLING_FIELDS:
        givers = {g: p[name] for g, p in policies.items() if p.get(name) is not None}
        if not givers:
            continue
        best = None
        for value in givers.values():
            if best is None or _more_generous(value, best):
                best = value
        setattr(eff, name, best)
        eff.sources[name] = sorted(g for g, v in givers.items() if v == best)

    gpu_givers = {g: p["gpus"] for g, p in sorted(policies.items()) if p.get("gpus") is not None}
    if gpu_givers:
        rank = max(_gpu_rank(v) for v in gpu_givers.values())
        if rank == 2:
            eff.gpus = "all"
        elif rank == 1:
            ids: list = []
            for v in gpu_givers.values():
                for i in v if isinstance(v, list) else []:
                    if i not in ids:
                        ids.append(i)
            eff.gpus = ids
        else:
            eff.gpus = "none"
        eff.sources["gpus"] = sorted(g for g, v in gpu_givers.items() if _gpu_rank(v) == rank)

    quotas = {g: p["quota_gb"] for g, p in policies.items() if p.get("quota_gb") is not None}
    if quotas:
        eff.quota_gb = max(quotas.values())
        eff.sources["quota_gb"] = sorted(g for g, v in quotas.items() if v == eff.quota_gb)

    env_from: dict[str, str] = {}
    mounts_by_target: dict[str, dict] = {}
    for group in sorted(policies):
        policy = policies[group]
        for key, value in policy.get("env", {}).items():
            if key in eff.env and eff.env[key] != value:
                eff.conflicts.append(
                    f"variable {key}: groups {env_from[key]} and {group} give different values; {env_from[key]}'s is used"
                )
                continue
            eff.env.setdefault(key, value)
            env_from.setdefault(key, group)
        for mount in policy.get("mounts", []):
            seen = mounts_by_target.get(mount["target"])
            if seen is None:
                mounts_by_target[mount["target"]] = {**mount, "groups": [group]}
            elif seen["source"] != mount["source"]:
                eff.conflicts.append(
                    f"mount {mount['target']}: groups {seen['groups'][0]} and {group} mount different sources; {seen['groups'][0]}'s is used"
                )
            else:
                seen["groups"].append(group)
                if mount["mode"] == "rw":
                    seen["mode"] = "rw"  # the more generous access
        for flag in ("docker_sock", "privileged"):
            if policy.get(flag):
                setattr(eff, flag, True)
                eff.sources.setdefault(flag, []).append(group)
    eff.mounts = [mounts_by_target[t] for t in sorted(mounts_by_target)]
    if env_from:
        eff.sources["env"] = sorted(set(env_from.values()))
    eff.user_env = {k: v for k, v in (user_env or {}).items() if k not in eff.env}
    eff.profiles = offered(policies)
    return eff


def effective_for(user_orm, read_policy, defaults: Defaults, user_env: dict | None = None) -> Effective:
    """The effective lab of a hub user (orm.User): ``read_policy(group)`` gives a group's policy."""
    policies = {}
    for group in user_orm.groups:
        policy = read_policy(group)
        if policy is not None:
            policies[group.name] = policy
    return merge(defaults, policies, user_env)
