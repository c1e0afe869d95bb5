"""A group's policy: what its members' labs get. Validation turns a request body into the stored
form or raises PolicyError naming the field; nothing is stored until the whole policy is valid.

Stored form (every key optional; a missing or null key means "this group does not set it"):
    memory_mb: int (0 = no limit), cpus: float (0 = no limit), pids: int (0 = no limit),
    gpus: "none" | "all" | [device ids], env: {NAME: value},
    mounts: [{"source": volume name or host path, "target": path in the lab, "mode": "ro"|"rw"}],
    docker_sock: bool, privileged: bool, quota_gb: float (soft storage quota),
    idle_timeout_seconds, max_age_seconds: int (idle culling; 0 = no limit),
    profiles: [{"name", "image", "description", "memory_mb", "cpus", "gpus"}] (profiles.py)
"""

from __future__ import annotations

import posixpath
import re

from .. import naming
from ..errors import BadRequest

LIMIT_FIELDS = ("memory_mb", "cpus", "pids")
CULLING_FIELDS = ("idle_timeout_seconds", "max_age_seconds")  # idle culling of the members' labs
# "profiles": a lab per need (profiles.py)
FIELDS = (
    *LIMIT_FIELDS,
    "gpus",
    "env",
    "mounts",
    "docker_sock",
    "privileged",
    "quota_gb",
    "profiles",
    *CULLING_FIELDS,
)
PROJECTS_MOUNT = "/mnt/groups"  # the groups' project folders (projects.py), never a policy's mount

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
VOLUME_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
GPU_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$")
MAX_ENV = 64
MAX_ENV_VALUE = 4096
MAX_MOUNTS = 20

# Names the lab itself or the platform sets: a policy or a user setting them would break the lab
# or impersonate the hub (JUPYTERHUB_API_TOKEN, JPY_API_TOKEN, ...).
RESERVED_PREFIXES = ("JUPYTERHUB_", "JPY_")
PLATFORM_NAMES = frozenset(
    {
        "ENABLE_GPU_SUPPORT",
        "NVIDIA_VISIBLE_DEVICES",
        "NVIDIA_DRIVER_CAPABILITIES",
        "MEM_LIMIT",
        "CPU_LIMIT",
        "HOME",
        "PATH",
        "USER",
        "SHELL",
        "HOSTNAME",
        "LD_PRELOAD",
        "LD_LIBRARY_PATH",
    }
)
# Mount targets that already hold something the lab needs, or the host's engine socket.
RESERVED_TARGETS = frozenset(
    {
        "/",
        "/proc",
        "/sys",
        "/dev",
        "/etc",
        "/usr",
        "/bin",
        "/sbin",
        "/lib",
        "/var/run",
        "/run",
        "/tmp",
        "/var/run/docker.sock",
        naming.SHARED_MOUNT,
        naming.NOTEBOOK_DIR,
    }
    | {v.mount for v in naming.USER_VOLUMES}
)
# Volumes a policy may never hand out: other users' lab volumes and the hub's own. On Kubernetes
# a volume is the claim of its name with "_" written as "-" (and claims are lower case): the
# claims of users' labs, the shared claim and the hub's all start with one of these.
PROTECTED_VOLUME_PREFIXES = (naming.CONTAINER_PREFIX, "jupyterhub_")
PROTECTED_CLAIM_PREFIXES = (naming.CONTAINER_PREFIX, "jupyterhub-")
# Host paths that are the engine itself: its data (every container's and volume's files) and its
# sockets. Never mountable, nor any directory that contains them; the engine's own data directory
# (``docker info``) is added where it lives elsewhere.
PROTECTED_HOST_PATHS = (
    "/var/lib/docker",
    "/var/lib/containerd",
    "/run/containerd",
    "/run/docker",
    "/run/docker.sock",
    "/var/run/docker",
    "/var/run/docker.sock",
    "/var/run/containerd",
)


class PolicyError(BadRequest, ValueError):
    """Invalid input; ``field`` names the part of the request that is wrong (400)."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(f"{field}: {message}")


def reserved_env_name(name: str, platform_names: frozenset[str] | set[str] = frozenset()) -> str | None:
    """Why ``name`` may not be set by a policy or a user, or None when it may."""
    if name.upper().startswith(RESERVED_PREFIXES):
        return f"{name} is reserved for JupyterHub (names starting with {' or '.join(RESERVED_PREFIXES)})"
    if name in PLATFORM_NAMES or name in platform_names:
        return f"{name} is set by the platform for every lab"
    return None


def validate_env(raw, field: str, platform_names=frozenset()) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise PolicyError(field, "must be an object of NAME: value")
    if len(raw) > MAX_ENV:
        raise PolicyError(field, f"at most {MAX_ENV} variables")
    env = {}
    for name, value in raw.items():
        if not isinstance(name, str) or not ENV_NAME.match(name):
            raise PolicyError(
                f"{field}.{name}", "not a valid variable name (letters, digits, _; not starting with a digit)"
            )
        why = reserved_env_name(name, platform_names)
        if why:
            raise PolicyError(f"{field}.{name}", why)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or "\0" in value or len(value) > MAX_ENV_VALUE:
            raise PolicyError(f"{field}.{name}", f"the value must be text of at most {MAX_ENV_VALUE} characters")
        env[name] = value
    return env


def _number(raw, field, *, integer, minimum, maximum):
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise PolicyError(field, "must be a number (0 = no limit) or null")
    if integer and int(raw) != raw:
        raise PolicyError(field, "must be a whole number")
    if raw != 0 and not minimum <= raw <= maximum:
        raise PolicyError(field, f"must be 0 (no limit) or between {minimum} and {maximum}")
    return int(raw) if integer else float(raw)


def _gpus(raw):
    if raw in ("none", "all"):
        return raw
    if isinstance(raw, list) and raw:
        ids = []
        for item in raw:
            item = str(item) if isinstance(item, int) and not isinstance(item, bool) else item
            if not isinstance(item, str) or not GPU_ID.match(item):
                raise PolicyError("gpus", f"{item!r} is not a GPU device id (an index such as 0 or a GPU-... UUID)")
            if item not in ids:
                ids.append(item)
        return ids
    raise PolicyError("gpus", 'must be "none", "all", a non-empty list of device ids, or null')


def _under(path: str, roots) -> bool:
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


def engine_path(path: str, protected=PROTECTED_HOST_PATHS) -> str | None:
    """The protected path ``path`` is, lies in or contains (None: it touches none)."""
    for p in protected:
        if _under(path, [p]) or _under(p, [path]):
            return p
    return None


def platform_volume(source: str) -> bool:
    """Whether a named volume is (or on Kubernetes, names the claim of) a user's lab volume, the
    shared volume or the hub's own."""
    return source.startswith(PROTECTED_VOLUME_PREFIXES) or source.replace("_", "-").lower().startswith(
        PROTECTED_CLAIM_PREFIXES
    )


def _mounts(raw, host_paths: list[str]):
    if not isinstance(raw, list):
        raise PolicyError("mounts", "must be a list of {source, target, mode}")
    if len(raw) > MAX_MOUNTS:
        raise PolicyError("mounts", f"at most {MAX_MOUNTS} mounts")
    mounts, targets = [], set()
    for i, item in enumerate(raw):
        field = f"mounts[{i}]"
        if not isinstance(item, dict):
            raise PolicyError(field, "must be an object {source, target, mode}")
        source, target, mode = item.get("source"), item.get("target"), item.get("mode", "ro")
        if not isinstance(source, str) or not source:
            raise PolicyError(f"{field}.source", "a named volume or an absolute host path is required")
        if source.startswith("/"):
            if posixpath.normpath(source) != source or "/../" in source + "/":
                raise PolicyError(f"{field}.source", f"{source} is not a normalised absolute path")
            engine = engine_path(source)
            if engine:
                raise PolicyError(f"{field}.source", f"host path {source} reaches the container engine's own {engine}")
            if not _under(source, host_paths):
                allowed = ", ".join(host_paths) or "none (JUPYTERHUB_POLICY_HOST_PATHS is empty)"
                raise PolicyError(f"{field}.source", f"host path {source} is not under an allowed directory: {allowed}")
        elif not VOLUME_NAME.match(source):
            raise PolicyError(f"{field}.source", f"{source!r} is neither a volume name nor an absolute path")
        elif platform_volume(source):
            raise PolicyError(f"{field}.source", f"volume {source} belongs to a user's lab or to the hub")
        if not isinstance(target, str) or not target.startswith("/") or posixpath.normpath(target) != target:
            raise PolicyError(f"{field}.target", "must be a normalised absolute path in the lab")
        if target in RESERVED_TARGETS or _under(target, ["/proc", "/sys", "/dev", "/etc", "/usr"]):
            raise PolicyError(f"{field}.target", f"{target} is used by the lab or the system")
        if _under(target, [PROJECTS_MOUNT]):
            raise PolicyError(f"{field}.target", f"{target}: {PROJECTS_MOUNT} holds the groups' project folders")
        if target in targets:
            raise PolicyError(f"{field}.target", f"{target} is mounted twice")
        if mode not in ("ro", "rw"):
            raise PolicyError(f"{field}.mode", 'must be "ro" or "rw"')
        targets.add(target)
        mounts.append({"source": source, "target": target, "mode": mode})
    return mounts


def validate(body, *, host_paths: list[str], platform_names=frozenset()) -> dict:
    """The stored form of ``body`` (a JSON object), or PolicyError naming the first bad field
    (``profiles`` apart: profiles.validate_profiles, bounded by the rest of the policy)."""
    if not isinstance(body, dict):
        raise PolicyError("policy", "the request body must be a JSON object")
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise PolicyError(unknown[0], f"unknown field; a policy has {', '.join(FIELDS)}")
    policy: dict = {}
    bounds = {"memory_mb": (True, 64, 4194304), "pids": (True, 16, 4194304), "cpus": (False, 0.01, 1024)}
    for field, (integer, lo, hi) in bounds.items():
        if body.get(field) is not None:
            policy[field] = _number(body[field], field, integer=integer, minimum=lo, maximum=hi)
    for field in CULLING_FIELDS:
        if body.get(field) is not None:
            policy[field] = _number(body[field], field, integer=True, minimum=10, maximum=31536000)
    if body.get("quota_gb") is not None:
        policy["quota_gb"] = _number(body["quota_gb"], "quota_gb", integer=False, minimum=0.001, maximum=1e6)
    if body.get("gpus") is not None:
        policy["gpus"] = _gpus(body["gpus"])
    if body.get("env"):
        policy["env"] = validate_env(body["env"], "env", platform_names)
    if body.get("mounts"):
        policy["mounts"] = _mounts(body["mounts"], host_paths)
    for flag in ("docker_sock", "privileged"):
        value = body.get(flag)
        if value is not None and not isinstance(value, bool):
            raise PolicyError(flag, "must be true, false or null")
        if value:
            policy[flag] = True
    return policy


def redacted(policy: dict) -> dict:
    """A policy as the audit log and the hub's log may show it: the variables' names, never their
    values (a group's variable may carry a secret such as an API key)."""
    return {**policy, "env": sorted(policy["env"])} if policy.get("env") else dict(policy)


def masked_env(env: dict) -> dict:
    """Variables as a caller without the right to set them sees them: names, values null."""
    return dict.fromkeys(env)


def host_path_roots(setting: str) -> list[str]:
    """JUPYTERHUB_POLICY_HOST_PATHS as a list of normalised absolute directories, without those
    that are, lie in or contain the engine's own paths (``dropped_roots`` names them)."""
    return [r for r in _roots(setting) if not engine_path(r)]


def dropped_roots(setting: str) -> list[str]:
    return [r for r in _roots(setting) if engine_path(r)]


def _roots(setting: str) -> list[str]:
    roots = []
    for part in setting.split(","):
        part = part.strip()
        if part.startswith("/"):
            roots.append(posixpath.normpath(part))
    return roots
