"""Each server start's own idle timeout and maximum age, fixed when it starts (like the rest of
its lab: a policy changed later applies at the next start) and kept in session.sqlite, where the
culler process reads them too.

``culling_limits`` is the one rule, from effective values: a group policy's
``idle_timeout_seconds`` / ``max_age_seconds`` (the most generous of the user's groups, merged
like every policy limit; 0 = no limit) win; without one, a lab with GPUs gets the site's GPU
defaults (``JUPYTERHUB_IDLE_CULLER_GPU_*``, shorter where idle GPUs are costly); otherwise the
site's ``JUPYTERHUB_IDLE_CULLER_TIMEOUT`` / ``_MAX_AGE``. A caller with other effective values
(a profile of its own, say) hands them to the same function.
"""

from __future__ import annotations

from dataclasses import dataclass

from .config import IdleCuller
from .store import store_for


@dataclass(frozen=True)
class Limits:
    timeout: int  # seconds idle before a stop; 0: never for idleness
    max_age: int  # seconds; 0: no age limit
    source: str  # where they come from, for people: "default", "GPU default", "group ml"


def culling_limits(
    culler: IdleCuller,
    *,
    idle_timeout: int | None,
    max_age: int | None,
    gpus: bool,
    timeout_from: list[str] | None = None,
    max_age_from: list[str] | None = None,
) -> Limits:
    """The limits of a start from its effective values (None: no group sets it)."""
    parts = []
    if idle_timeout is not None:
        timeout = idle_timeout
        parts.append("idle timeout from " + _groups(timeout_from))
    elif gpus and culler.gpu_timeout:
        timeout = culler.gpu_timeout
        parts.append("GPU default")
    else:
        timeout = culler.timeout
    if max_age is not None:
        age = max_age
        parts.append("maximum age from " + _groups(max_age_from))
    elif gpus and culler.gpu_max_age:
        age = culler.gpu_max_age
        if "GPU default" not in parts:
            parts.append("GPU default")
    else:
        age = culler.max_age
    return Limits(timeout, age, "; ".join(parts) or "default")


def _groups(names: list[str] | None) -> str:
    names = sorted(names or [])
    return ("group " if len(names) == 1 else "groups ") + ", ".join(names) if names else "a group policy"


async def record_for_start(platform, spawner) -> Limits | None:
    """The pre-spawn step: this start's limits from its user's groups and its GPUs, recorded
    against the start (``orm_spawner.started`` is set before pre-spawn steps run)."""
    from ..policies import effective_of

    culler = platform.settings(IdleCuller)
    started = spawner.orm_spawner.started
    if not culler.enabled or started is None:
        return None
    eff = await effective_of(platform, spawner)
    spec = getattr(spawner, "lab_spec", None)
    gpus = bool(spec.gpus) if spec is not None else eff.gpus not in ("none", [])
    limits = culling_limits(
        culler,
        idle_timeout=eff.idle_timeout_seconds,
        max_age=eff.max_age_seconds,
        gpus=gpus,
        timeout_from=eff.sources.get("idle_timeout_seconds"),
        max_age_from=eff.sources.get("max_age_seconds"),
    )
    await store_for(platform).set_limits(
        spawner.user.name, started, limits.timeout, limits.max_age, limits.source, spawner.name or ""
    )
    return limits
